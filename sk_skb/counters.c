// SPDX-License-Identifier: GPL-2.0
/* The counters as SIGUSR1 and --status print them (counters.h). */
#include <stdio.h>

#include "counters.h"

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
