// SPDX-License-Identifier: GPL-2.0
/* The helper's log (log.h).  stderr is line-buffered (main.c), so each
 * line reaches the journal, or a test's log file, whole and at once.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void logmsg(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sockfwd: %s\n", line);
}
