/* SPDX-License-Identifier: GPL-2.0 */
/* What relay.c (dispatch, copy, splice) and relay_sockmap.c share.  The
 * rest of the helper sees the relay through flow.h.
 */
#ifndef RELAY_H
#define RELAY_H

#include <sys/types.h>

#include "flow.h"

/* The helper's buffer of a direction in copy mode, and the least a paused
 * sockmap direction keeps.
 */
#define BUF_SIZE 65536
/* Rounds of read+write per event, so one busy flow cannot starve others. */
#define PUMP_ROUNDS 8

/* relay.c */
/* Records which socket err came from (f->fail_side) and returns err. */
int relay_fail(struct flow *f, int side, int err);
/* Sends what the helper holds for d->dst: the bytes sent, 0 when dst's
 * send buffer is full, or a negative errno.
 */
ssize_t relay_send_held(struct flow *f, struct dir *d);
/* shutdown(d->dst, SHUT_WR): the FIN of d->src passed on. */
int relay_pass_fin_on(struct flow *f, struct dir *d);
int relay_grow_buf(struct dir *d, size_t size);
void relay_release_buf(struct dir *d);
/* The largest size d's buffer may grow to now: at least BUF_SIZE, more
 * while the buffers past BUF_SIZE of all flows stay under their bound.
 */
size_t relay_buf_limit(const struct dir *d);

/* relay_sockmap.c: the sockmap mode. */
void sockmap_init(const struct fwd_config *config);
enum sockmap_start {
	SOCKMAP_STARTED, /* both sockets in the map: the verdict relays */
	SOCKMAP_NOT_STARTED, /* nothing changed: another mode may take the flow */
	SOCKMAP_CLIENT_ONLY, /* only recv() sees the client's bytes now: copy */
};
enum sockmap_start sockmap_start(struct flow *f, uint64_t now);
int sockmap_pump(struct flow *f, struct dir *d, uint64_t now);
int sockmap_check(struct flow *f, uint64_t now);
uint64_t sockmap_next_check(const struct flow *f);
void sockmap_kick(struct flow *f, uint64_t cookie, uint64_t now);
void sockmap_refresh_active(struct flow *f);

#endif
