// SPDX-License-Identifier: GPL-2.0
/* The counters (counters.h), and how SIGUSR1 and --status print them. */
#include <stdio.h>

#include "fwd.h"

struct fwd_counters counters;

void counters_format(char *out, size_t size, bool status_only)
{
	size_t len = 0;

	out[0] = '\0';
#define FWD_COUNTER_TEXT(name, where)                                             \
	if ((!status_only || (where) == COUNTER_STATUS) && len < size)            \
		len += (size_t)snprintf(out + len, size - len, " " #name "=%llu", \
					(unsigned long long)counters.name);
	FWD_COUNTERS(FWD_COUNTER_TEXT)
#undef FWD_COUNTER_TEXT
}

void counters_log(void)
{
	char text[1024];

	counters_format(text, sizeof(text), false);
	logmsg("counters%s map_entries=%d", text, kmaps_available() ? kmaps_peers_count() : -1);
}
