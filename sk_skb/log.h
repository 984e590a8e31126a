/* SPDX-License-Identifier: GPL-2.0 */
/* The helper's log: one line on stderr, "sockfwd: " first. */
#ifndef LOG_H
#define LOG_H

void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
