/* SPDX-License-Identifier: GPL-2.0 */
/* One forwarded connection: the client socket, the upstream socket (proxy
 * or target) and the two directions between them.
 */
#ifndef FLOW_H
#define FLOW_H

#include "fwd.h"
#include "socks5_server.h"

/* PH_SOCKS_SERVER and PH_RESOLVE come first on a --socks5-server listener,
 * before PH_CONNECT.
 */
enum flow_phase {
	PH_CONNECT,
	PH_GREETING,
	PH_AUTH,
	PH_REQUEST,
	PH_RELAY,
	PH_SOCKS_SERVER,
	PH_RESOLVE
};

/* Where a sockmap direction stands (see sockfwd.h for the kernel side). */
enum kstate {
	KS_NONE, /* not in sockmap mode */
	KS_KERNEL, /* the verdict redirects; the helper only watches */
	KS_PASS, /* paused: the helper moves the passed bytes */
	KS_RESUMING, /* asked the program to redirect again */
};

struct dir {
	int src, dst;
	int src_side, dst_side; /* 0 client, 1 upstream */
	uint64_t src_cookie;
	/* Bytes the helper holds: copy mode and sockmap while paused. */
	char *buf;
	size_t cap, len, off;
	/* Paused sockmap direction: bytes copied from the head of src with
	 * MSG_PEEK, still queued there until dst has them all.
	 */
	size_t peeked;
	/* splice mode */
	int pipe_r, pipe_w;
	size_t in_pipe;
	bool eof; /* src has sent FIN and we have everything before it */
	bool shut; /* FIN passed on to dst */
	bool rdhup; /* epoll said src's peer closed; read to confirm */
	bool fin_wait; /* FIN seen, passed bytes still on their way */
	bool fin_held; /* FIN seen, redirected bytes still queued for dst */
	uint64_t bytes; /* moved by the helper */
	/* sockmap */
	enum kstate ks;
	bool drained; /* while paused: no redirected byte is left queued */
	uint32_t gen;
	uint64_t consumed; /* bytes the helper read from src in sockmap mode */
	uint64_t limit; /* redirect limit last written to the control block */
	uint64_t passed; /* bytes the program passed to src, last seen */
	uint64_t last_redirected;
	uint64_t next_check, interval;
};

struct endpoint {
	enum fwd_kind kind; /* first: epoll data points here */
	struct flow *flow;
	uint32_t events; /* registered with epoll */
	bool registered;
};

struct flow {
	struct endpoint ep[2]; /* 0 client, 1 upstream */
	int fd[2];
	uint64_t written[2]; /* every byte the helper wrote to fd[i] */
	/* tcpi_bytes_acked counts the SYN of a socket we connect() (1), not
	 * of one we accept (0): measured when the flow enters the maps.
	 */
	uint64_t acked_extra[2];
	struct fwd_listener *listener;
	/* The listener's -t, or the original destination (--transparent). */
	struct fwd_hostport target;
	struct sockaddr_storage client; /* counted by limits_take() */
	/* Last time a byte moved either way, for --idle-timeout: bytes the
	 * helper moved, or the verdict's last_ns in sockmap mode.
	 */
	uint64_t active_ms;
	enum flow_phase phase;
	enum fwd_mode mode;
	uint8_t out[600];
	size_t out_len, out_off;
	uint8_t reply[300];
	size_t reply_have, reply_want;
	uint64_t start_ms, deadline_ms;
	struct dir d[2]; /* 0 client->upstream, 1 upstream->client */
	char client_text[64];
	char fallback_text[80];
	int fail_side; /* which socket an error of relay_pump came from */
	uint64_t cookie[2]; /* 0 when not in the maps */
	uint64_t early_bytes; /* queued before the sockets entered the map */
	struct socks5_server_hs srv; /* --socks5-server listeners */
	bool dead;
	struct flow *prev, *next;
};

/* relay.c: the relay phase, whatever the mode (sockmap in relay_sockmap.c).
 * It calls nothing above it: after relay_start, relay_pump, relay_check
 * and relay_kick the caller asks relay_done, relay_wanted (epoll events)
 * and relay_next_check (when to call relay_check) what it wants now.
 */
void relay_start(struct flow *f, uint64_t now);
int relay_pump(struct flow *f, uint64_t now);
int relay_check(struct flow *f, uint64_t now);
/* The program paused the socket with this cookie: look at it now. */
void relay_kick(struct flow *f, uint64_t cookie, uint64_t now);
uint32_t relay_wanted(const struct flow *f, int side);
bool relay_fd_finished(const struct flow *f, int side);
uint64_t relay_next_check(const struct flow *f);
void relay_final_bytes(struct flow *f, uint64_t *up, uint64_t *down);
void relay_bytes(const struct flow *f, uint64_t *up, uint64_t *down);
/* f->active_ms brought up to date from the maps (sockmap mode). */
void relay_refresh_active(struct flow *f);
void relay_release(struct flow *f);
bool relay_done(const struct flow *f);

/* flow.c */
void flow_update_events(struct flow *f);
void flow_close(struct flow *f, const char *reason, int reset_side);
/* A plain close of the client (after the SOCKS5 reply owed to it). */
void flow_fail(struct flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* f->target is known: open the upstream socket and connect. */
void flow_open_upstream(struct flow *f);

#define RESET_NONE -1
#define RESET_BOTH 2

#endif
