/* SPDX-License-Identifier: GPL-2.0 */
/* The helper's counters: one list gives the fields of struct fwd_counters,
 * the line SIGUSR1 logs ("counters accepted=N active=N ...", in this
 * order) and the header of the --status answer (the STATUS ones, in this
 * order).
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTER_LOG 0 /* SIGUSR1 only */
#define COUNTER_STATUS 1 /* SIGUSR1 and --status */

/* A refused client (reset at once) counts in accepted and in one refused_
 * counter; a client of a --socks5-server listener refused in its handshake
 * (socks5_server.c), in failed and in one socks5_ counter.  sockmap, splice
 * and copy count the flows that ended in that mode; fallbacks, those that
 * did not get the mode they tried first.
 */
#define FWD_COUNTERS(X)                       \
	X(accepted, COUNTER_STATUS)           \
	X(active, COUNTER_LOG)                \
	X(closed, COUNTER_LOG)                \
	X(failed, COUNTER_LOG)                \
	X(resets, COUNTER_LOG)                \
	X(refused_max, COUNTER_STATUS)        \
	X(refused_per_ip, COUNTER_STATUS)     \
	X(refused_allow, COUNTER_STATUS)      \
	X(refused_fds, COUNTER_STATUS)        \
	X(idle_closed, COUNTER_STATUS)        \
	X(refused_loop, COUNTER_STATUS)       \
	X(socks5_malformed, COUNTER_STATUS)   \
	X(socks5_unsupported, COUNTER_STATUS) \
	X(socks5_no_method, COUNTER_STATUS)   \
	X(socks5_auth_failed, COUNTER_STATUS) \
	X(bytes_up, COUNTER_LOG)              \
	X(bytes_down, COUNTER_LOG)            \
	X(sockmap, COUNTER_LOG)               \
	X(splice, COUNTER_LOG)                \
	X(copy, COUNTER_LOG)                  \
	X(fallbacks, COUNTER_LOG)             \
	X(pauses, COUNTER_LOG)                \
	X(resumes, COUNTER_LOG)               \
	X(overlap_cut, COUNTER_LOG)

#define FWD_COUNTER_FIELD(name, where) uint64_t name;
struct fwd_counters {
	FWD_COUNTERS(FWD_COUNTER_FIELD)
};
#undef FWD_COUNTER_FIELD

extern struct fwd_counters counters;

/* " name=N" for each counter (status_only: the STATUS ones), into out. */
void counters_format(char *out, size_t size, bool status_only);
/* The SIGUSR1 line, with the SOCKHASH's entries (-1: maps not open). */
void counters_log(void);

#endif
