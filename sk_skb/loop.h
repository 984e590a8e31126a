/* SPDX-License-Identifier: GPL-2.0 */
/* The event loop (loop.c): it owns the epoll descriptor, the one timer,
 * the clock and the signals, and runs until a SIGTERM's drain is over.
 * What it watches registers in epfd with a pointer whose first member is
 * an enum fwd_kind (fwd.h), and asks for a tick with tick_at().
 */
#ifndef LOOP_H
#define LOOP_H

#include <stdint.h>

extern int epfd;

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t now_ms(void);
/* Ask for a tick (flow_tick) no later than this time. */
void tick_at(uint64_t when_ms);

/* epfd: 0, or -errno after a message. */
int loop_init(void);
/* From here on SIGTERM and SIGINT (stop accepting, drain), SIGUSR1 (log
 * the counters) and SIGHUP (read -c again) wait for the loop.
 */
int loop_watch_signals(void);
/* Until stopped and every flow has ended, or drain_timeout_ms after the
 * stop: 0, or 1 after a message when epoll fails.
 */
int loop_run(int drain_timeout_ms);

#endif
