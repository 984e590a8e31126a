// SPDX-License-Identifier: GPL-2.0
/* A connection's life: accept, non-blocking connect, SOCKS5 handshake,
 * relay (relay.c), close with one log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow.h"

static struct flow *flows, *graveyard;
static int nflows;
static uint64_t accept_retry_ms; /* listeners paused for lack of descriptors */
static int reserve_fd = -1; /* given up to refuse a client when out of them */

int flow_count(void)
{
	return nflows;
}

static void set_keepalive(int fd)
{
	int one = 1, idle = 60, intvl = 10, cnt = 6;

	/* Dead peers behind NAT or a crashed proxy must not hold flows forever. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

static void set_events(struct flow *f, int side, uint32_t events, bool finished)
{
	struct endpoint *ep = &f->ep[side];
	struct epoll_event ev = { .events = events, .data.ptr = ep };

	if (f->fd[side] < 0)
		return;
	if (finished) {
		/* Both ways done: only EPOLLHUP could come, over and over. */
		if (ep->registered)
			epoll_ctl(epfd, EPOLL_CTL_DEL, f->fd[side], NULL);
		ep->registered = false;
		return;
	}
	if (!ep->registered) {
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd[side], &ev) == 0) {
			ep->registered = true;
			ep->events = events;
		}
		return;
	}
	if (ep->events != events && epoll_ctl(epfd, EPOLL_CTL_MOD, f->fd[side], &ev) == 0)
		ep->events = events;
}

void flow_update_events(struct flow *f)
{
	int side;

	for (side = 0; side < 2; side++) {
		uint32_t events = 0;
		bool finished = false;

		switch (f->phase) {
		case PH_CONNECT:
			events = side == 1 ? EPOLLOUT : 0;
			break;
		case PH_GREETING:
		case PH_AUTH:
		case PH_REQUEST:
			if (side == 1)
				events = f->out_off < f->out_len ? EPOLLOUT : EPOLLIN;
			break;
		case PH_RELAY:
			events = relay_wanted(f, side);
			finished = relay_fd_finished(f, side);
			break;
		case PH_SOCKS_SERVER:
			events = side == 0 ? EPOLLIN : 0;
			break;
		case PH_RESOLVE:
			break;
		}
		set_events(f, side, events, finished);
	}
}

/* "[2001:db8::1]:80" for IPv6 literals, "host:80" otherwise; "-" for a
 * SOCKS5 client that has not asked for a target yet.
 */
static const char *hostport_text(const struct fwd_hostport *hp, char *out, size_t size)
{
	if (hp->port == 0) {
		snprintf(out, size, "-");
		return out;
	}
	snprintf(out, size, strchr(hp->host, ':') ? "[%s]:%u" : "%s:%u", hp->host, hp->port);
	return out;
}

static void log_close(struct flow *f, const char *reason)
{
	struct fwd_listener *l = f->listener;
	uint64_t up = 0, down = 0, dur = now_ms() - f->start_ms;
	char via[FWD_MAX_HOST + 32] = "", target[FWD_MAX_HOST + 16];

	if (f->phase == PH_RELAY)
		relay_final_bytes(f, &up, &down);
	counters.bytes_up += up;
	counters.bytes_down += down;
	if (l->proxy.present)
		snprintf(via, sizeof(via), " via=%s",
			 hostport_text(&l->proxy.server, target, sizeof(target)));
	hostport_text(&f->target, target, sizeof(target));
	logmsg("conn client=%s listen=%s target=%s%s mode=%s%s%s%s up=%llu down=%llu "
	       "early=%llu dur=%llu.%03llus close=%s",
	       f->client_text, l->listen_text, target, via,
	       f->phase == PH_RELAY ? mode_names[f->mode] : "none",
	       f->fallback_text[0] ? " fallback=\"" : "", f->fallback_text,
	       f->fallback_text[0] ? "\"" : "", (unsigned long long)up, (unsigned long long)down,
	       (unsigned long long)f->early_bytes, (unsigned long long)(dur / 1000),
	       (unsigned long long)(dur % 1000), reason);
}

/* The counter of relayed flows that ended in this mode. */
static uint64_t *ended_in(enum fwd_mode mode)
{
	return mode == MODE_SOCKMAP ? &counters.sockmap :
	       mode == MODE_SPLICE  ? &counters.splice :
				      &counters.copy;
}

/* reset_side: the socket to close with RST (SO_LINGER 0), or RESET_NONE. */
void flow_close(struct flow *f, const char *reason, int reset_side)
{
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };
	int side;

	log_close(f, reason);
	for (side = 0; side < 2; side++) {
		if (f->fd[side] < 0)
			continue;
		if (side == reset_side || reset_side == RESET_BOTH)
			setsockopt(f->fd[side], SOL_SOCKET, SO_LINGER, &abort_close,
				   sizeof(abort_close));
		/* close() drops the socket's SOCKHASH entries too. */
		close(f->fd[side]);
		f->fd[side] = -1;
	}
	if (f->phase == PH_RELAY)
		relay_release(f);
	if (f->listener->socks5_server)
		socks5_server_release(f);
	if (f->prev)
		f->prev->next = f->next;
	else
		flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	if (f->phase == PH_RELAY)
		(*ended_in(f->mode))++;
	counters.closed++;
	counters.active--;
	if (reset_side != RESET_NONE)
		counters.resets++;
	nflows--;
	limits_put(&f->client);
	f->listener->flows--;
	/* Freed after the epoll batch: a later event may still point here. */
	f->dead = true;
	f->next = graveyard;
	graveyard = f;
}

void flow_reap(void)
{
	struct flow *f;

	while (graveyard) {
		f = graveyard;
		graveyard = f->next;
		free(f);
	}
}

void flow_fail(struct flow *f, const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	counters.failed++;
	if (f->listener->socks5_server)
		socks5_server_failed(f);
	/* Unread bytes would turn our FIN into a reset; the client should see
	 * a plain close, as from a server that refuses.
	 */
	if (f->fd[0] >= 0) {
		char discard[4096];

		shutdown(f->fd[0], SHUT_WR);
		while (recv(f->fd[0], discard, sizeof(discard), MSG_DONTWAIT) > 0)
			;
	}
	flow_close(f, reason, RESET_NONE);
}

/* A socket failed: the other side learns it the same way, with a reset.
 * Duplicated bytes the verdict could not cut (-EILSEQ) reached one side
 * and may have reached either: both are reset, neither sees a clean end.
 */
static void flow_abort(struct flow *f, int side, int err)
{
	char reason[96];

	if (err == -EILSEQ) {
		flow_close(f, "overlap not cut: stream corrupt", RESET_BOTH);
		return;
	}
	snprintf(reason, sizeof(reason), "%s %s", side == 0 ? "client" : "upstream",
		 err == -ECONNRESET || err == ECONNRESET ? "reset" :
							   strerror(err < 0 ? -err : err));
	flow_close(f, reason, 1 - side);
}

static void send_out(struct flow *f)
{
	ssize_t n;

	while (f->out_off < f->out_len) {
		n = send(f->fd[1], f->out + f->out_off, f->out_len - f->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			return;
		f->out_off += (size_t)n;
		f->written[1] += (uint64_t)n;
	}
}

static void queue_out(struct flow *f, enum flow_phase phase, size_t len, size_t reply_want)
{
	f->phase = phase;
	f->out_len = len;
	f->out_off = 0;
	f->reply_have = 0;
	f->reply_want = reply_want;
	send_out(f);
}

/* The relay has run (err its result): the flow ends, or gets the epoll
 * events and the next look the relay wants now.
 */
static void after_relay(struct flow *f, int err)
{
	if (err) {
		flow_abort(f, f->fail_side, err);
		return;
	}
	if (relay_done(f)) {
		flow_close(f, "eof", RESET_NONE);
		return;
	}
	flow_update_events(f);
	tick_at(relay_next_check(f));
}

static void start_relay(struct flow *f)
{
	uint64_t now = now_ms();

	/* The first look for --idle-timeout; flow_tick keeps looking. */
	if (cfg.idle_timeout_s)
		tick_at(f->active_ms + (uint64_t)cfg.idle_timeout_s * 1000);
	/* Before relay_start: the reply counts in written[0] there. */
	if (f->listener->socks5_server) {
		int err = socks5_server_succeeded(f);

		if (err) {
			flow_fail(f, "socks5-server: reply: %s", strerror(-err));
			return;
		}
	}
	relay_start(f, now);
	after_relay(f, relay_pump(f, now));
}

/* A whole reply is in f->reply: act on it.  Returns false if f is gone. */
static bool handle_reply(struct flow *f)
{
	const struct fwd_proxy *proxy = &f->listener->proxy;
	enum socks5_stage stage = f->phase == PH_GREETING ? SOCKS5_STAGE_GREETING :
				  f->phase == PH_AUTH	  ? SOCKS5_STAGE_AUTH :
							    SOCKS5_STAGE_REQUEST;
	char reason[160];

	switch (socks5_parse_reply(stage, proxy->has_auth, f->reply, f->reply_have, &f->reply_want,
				   reason, sizeof(reason))) {
	case SOCKS5_SEND_AUTH:
		queue_out(f, PH_AUTH, socks5_auth_request(proxy, f->out), 2);
		return true;
	case SOCKS5_SEND_CONNECT:
		queue_out(f, PH_REQUEST, socks5_connect_request(&f->target, f->out), 5);
		return true;
	case SOCKS5_READ_MORE:
		return true;
	case SOCKS5_CONNECTED:
		start_relay(f);
		return false;
	default:
		if (stage == SOCKS5_STAGE_REQUEST && f->reply[0] == 5 && f->listener->socks5_server)
			socks5_server_proxy_refused(f, f->reply[1]);
		flow_fail(f, "%s", reason);
		return false;
	}
}

static void handshake_event(struct flow *f, uint32_t events)
{
	ssize_t n;

	if (events & EPOLLOUT)
		send_out(f);
	while (f->out_off == f->out_len && f->reply_have < f->reply_want) {
		n = recv(f->fd[1], f->reply + f->reply_have, f->reply_want - f->reply_have,
			 MSG_DONTWAIT);
		if (n == 0) {
			flow_fail(f, "socks5: proxy closed the connection");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			flow_fail(f, "socks5: %s", strerror(errno));
			return;
		}
		f->reply_have += (size_t)n;
		if (f->reply_have == f->reply_want && !handle_reply(f))
			return;
	}
	flow_update_events(f);
}

static void connected(struct flow *f)
{
	const struct fwd_proxy *proxy = &f->listener->proxy;

	if (proxy->present)
		queue_out(f, PH_GREETING, socks5_greeting(proxy, f->out), 2);
	else {
		start_relay(f);
		return;
	}
	flow_update_events(f);
}

/* Closes an accepted connection with a reset (SO_LINGER 0): the client
 * learns at once, and nothing of it waits in the accept queue.  One line
 * a second at most: a flood must not flood the log.
 */
static void refuse(int fd, const struct sockaddr_storage *ss, const char *why, uint64_t *counter)
{
	static uint64_t next_log_ms, unlogged;
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };
	char client[64];
	uint64_t now = now_ms();

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	close(fd);
	(*counter)++;
	if (now < next_log_ms) {
		unlogged++;
		return;
	}
	format_sockaddr((const struct sockaddr *)ss, client, sizeof(client));
	logmsg("refused client=%s: %s (reset; %llu more refused since the last such line)", client,
	       why, (unsigned long long)unlogged);
	unlogged = 0;
	next_log_ms = now + 1000;
}

/* Out of descriptors: accept() fails and the connection would wait in the
 * queue.  A descriptor kept in reserve is given up for the moment it takes
 * to accept and reset one; false if there is none to give.
 */
static bool refuse_without_fd(struct fwd_listener *l)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	int fd;

	if (reserve_fd < 0)
		return false;
	close(reserve_fd);
	fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (fd >= 0) {
		counters.accepted++;
		refuse(fd, &ss, "out of file descriptors", &counters.refused_fds);
	}
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && reserve_fd >= 0;
}

static void accept_failed(struct fwd_listener *l)
{
	if (errno == EMFILE || errno == ENFILE) {
		if (refuse_without_fd(l))
			return;
		/* No descriptor even in reserve: the listener would wake us
		 * again at once.  Stop accepting for a while.
		 */
		logmsg("accept on %s: %s (%d flows); pausing accepts", l->listen_text,
		       strerror(EMFILE), nflows);
		listeners_pause(true);
		accept_retry_ms = now_ms() + 100;
		tick_at(accept_retry_ms);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) {
		logmsg("accept on %s: %s", l->listen_text, strerror(errno));
	}
}

/* Why this client may not have a flow now, or NULL. */
static const char *refusal(const struct sockaddr_storage *ss, uint64_t **counter)
{
	int err;

	if (!limits_allowed(ss)) {
		*counter = &counters.refused_allow;
		return "not in --allow";
	}
	if (nflows >= cfg.max_conns) {
		*counter = &counters.refused_max;
		return "--max-conns reached";
	}
	err = limits_take(ss);
	if (err) {
		*counter = &counters.refused_per_ip;
		return err == -EUSERS ? "--max-conns-per-ip reached" : strerror(-err);
	}
	return NULL;
}

static struct flow *flow_new(struct fwd_listener *l, int cfd, const struct sockaddr_storage *ss,
			     const struct fwd_hostport *target)
{
	struct flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->ep[0].kind = f->ep[1].kind = KIND_FLOW;
	f->ep[0].flow = f->ep[1].flow = f;
	f->fd[0] = cfd;
	f->fd[1] = -1;
	f->listener = l;
	f->target = *target;
	l->flows++;
	f->client = *ss;
	f->start_ms = f->active_ms = now_ms();
	f->deadline_ms = f->start_ms + (uint64_t)cfg.connect_timeout_ms;
	f->phase = PH_CONNECT;
	format_sockaddr((const struct sockaddr *)ss, f->client_text, sizeof(f->client_text));
	f->next = flows;
	if (flows)
		flows->prev = f;
	flows = f;
	counters.active++;
	nflows++;
	return f;
}

/* Where a flow from l to target connects: the proxy, or the target. */
static const struct fwd_hostport *upstream_of(const struct fwd_listener *l,
					      const struct fwd_hostport *target)
{
	return l->proxy.present ? &l->proxy.server : target;
}

/* A socket for the upstream of a flow from l to target; -1 and errno. */
static int upstream_socket(const struct fwd_listener *l, const struct fwd_hostport *target)
{
	return socket(upstream_of(l, target)->addr.ss.ss_family,
		      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void flow_connect(struct flow *f, int ufd)
{
	const struct fwd_hostport *to = upstream_of(f->listener, &f->target);
	int err;

	tick_at(f->deadline_ms);
	set_keepalive(f->fd[0]);
	f->fd[1] = ufd;
	set_keepalive(ufd);
	err = cfg.has_mark ? transparent_mark(ufd, cfg.mark) : 0;
	if (err) {
		flow_fail(f, "SO_MARK: %s", strerror(-err));
		return;
	}
	if (connect(ufd, (const struct sockaddr *)&to->addr.ss, to->addr.len) == 0) {
		connected(f);
		return;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		if (f->listener->socks5_server && socks5_server_connect_failed(f, err))
			return;
		flow_fail(f, "connect %s:%u: %s", to->host, to->port, strerror(err));
		return;
	}
	flow_update_events(f);
}

void flow_open_upstream(struct flow *f)
{
	int ufd = upstream_socket(f->listener, &f->target);

	if (ufd < 0) {
		flow_fail(f, "socket: %s", strerror(errno));
		return;
	}
	f->phase = PH_CONNECT;
	flow_connect(f, ufd);
}

/* The reserve descriptor, taken while there are descriptors to take. */
void flow_init(void)
{
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* At most this many per listener event: the loop stays fair under a flood
 * (the listener, level-triggered, wakes us again).
 */
#define ACCEPT_BATCH 64

/* The target of a flow from l: its -t, or for a transparent listener the
 * original destination, refused (why set) when it is one of our listeners:
 * sockfwd would connect to itself, again and again.
 */
static const char *flow_target(const struct fwd_listener *l, int cfd, struct fwd_hostport *target,
			       uint64_t **counter)
{
	static char why[FWD_MAX_HOST + 80];
	char dst[FWD_MAX_HOST + 16];
	int err;

	if (!l->transparent) {
		/* A SOCKS5 client names its target later (port 0 till then). */
		*target = l->target;
		return NULL;
	}
	err = transparent_target(cfd, target);
	if (err) {
		snprintf(why, sizeof(why), "no original destination: %s", strerror(-err));
		*counter = &counters.failed;
		return why;
	}
	if (!listeners_own(&target->addr))
		return NULL;
	snprintf(why, sizeof(why), "original destination %s is sockfwd's own listener (a loop)",
		 hostport_text(target, dst, sizeof(dst)));
	*counter = &counters.refused_loop;
	return why;
}

void flow_accept(struct fwd_listener *l)
{
	struct fwd_hostport target;
	struct sockaddr_storage ss;
	const char *why;
	uint64_t *counter;
	socklen_t len;
	struct flow *f;
	int cfd, ufd, i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		memset(&ss, 0, sizeof(ss));
		len = sizeof(ss);
		cfd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			accept_failed(l);
			return;
		}
		counters.accepted++;
		/* Before refusal(): that takes a --max-conns-per-ip slot. */
		why = flow_target(l, cfd, &target, &counter);
		if (!why)
			why = refusal(&ss, &counter);
		if (why) {
			refuse(cfd, &ss, why, counter);
			continue;
		}
		/* Made before the flow: a client that meets the descriptor
		 * limit here is reset, as one that meets it in accept().  A
		 * SOCKS5 client's upstream waits for its request.
		 */
		ufd = l->socks5_server ? -1 : upstream_socket(l, &target);
		if (ufd < 0 && !l->socks5_server) {
			bool no_fd = errno == EMFILE || errno == ENFILE;

			limits_put(&ss);
			refuse(cfd, &ss, no_fd ? "out of file descriptors" : "out of memory",
			       no_fd ? &counters.refused_fds : &counters.refused_max);
			continue;
		}
		f = flow_new(l, cfd, &ss, &target);
		if (!f) {
			limits_put(&ss);
			if (ufd >= 0)
				close(ufd);
			refuse(cfd, &ss, "out of memory", &counters.refused_max);
			continue;
		}
		if (l->socks5_server)
			socks5_server_begin(f);
		else
			flow_connect(f, ufd);
	}
}

void flow_event(void *ptr, uint32_t events)
{
	struct endpoint *ep = ptr;
	struct flow *f = ep->flow;
	int side = ep == &f->ep[0] ? 0 : 1;
	int err;

	/* Closed by an earlier event of the same epoll_wait batch. */
	if (f->dead)
		return;

	if (f->phase == PH_CONNECT && side == 1) {
		err = sock_error(f->fd[1]);
		if (err) {
			const struct fwd_hostport *to = f->listener->proxy.present ?
								&f->listener->proxy.server :
								&f->target;

			if (f->listener->socks5_server && socks5_server_connect_failed(f, err))
				return;
			flow_fail(f, "connect %s:%u: %s", to->host, to->port, strerror(err));
		} else if (events & (EPOLLOUT | EPOLLHUP)) {
			connected(f);
		}
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		err = sock_error(f->fd[side]);
		if (err) {
			if (f->phase != PH_RELAY && side == 1)
				flow_fail(f, "upstream: %s", strerror(err));
			else
				flow_abort(f, side, err);
			return;
		}
	}
	if (f->phase == PH_SOCKS_SERVER) {
		socks5_server_event(f);
		return;
	}
	if (f->phase != PH_RELAY) {
		if (side == 1)
			handshake_event(f, events);
		return;
	}
	if (events & (EPOLLRDHUP | EPOLLHUP))
		f->d[side].rdhup = true;
	after_relay(f, relay_pump(f, now_ms()));
}

/* The program paused a socket at its redirect limit (kmaps events): a
 * scan, as pauses are rare next to the bytes that cause them.
 */
void flow_kick(uint64_t cookie)
{
	uint64_t now = now_ms();
	struct flow *f;

	for (f = flows; f; f = f->next) {
		if (f->phase == PH_RELAY && f->mode == MODE_SOCKMAP) {
			relay_kick(f, cookie, now);
			tick_at(relay_next_check(f));
		}
	}
}

/* --idle-timeout: no byte either way for that long.  The attacker is a
 * client that connects and then sends nothing, to hold a slot for good
 * (TCP keepalive does not help: its kernel answers the probes).
 */
static bool idle_expired(struct flow *f, uint64_t now)
{
	uint64_t limit = (uint64_t)cfg.idle_timeout_s * 1000;

	if (!limit || f->active_ms + limit > now)
		return false;
	relay_refresh_active(f);
	return f->active_ms + limit <= now;
}

/* One relayed flow's turn of the timer: idle, then the relay's checks. */
static void tick_relay(struct flow *f, uint64_t now)
{
	if (idle_expired(f, now)) {
		char reason[64];

		snprintf(reason, sizeof(reason), "idle timeout: no byte for %d s",
			 cfg.idle_timeout_s);
		counters.idle_closed++;
		flow_close(f, reason, RESET_BOTH);
		return;
	}
	if (relay_next_check(f) <= now)
		after_relay(f, relay_check(f, now));
	else
		tick_at(relay_next_check(f));
}

void flow_tick(uint64_t now)
{
	struct flow *f, *next;

	if (accept_retry_ms && now >= accept_retry_ms) {
		accept_retry_ms = 0;
		if (reserve_fd < 0)
			reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		listeners_pause(false);
	} else if (accept_retry_ms) {
		tick_at(accept_retry_ms);
	}
	for (f = flows; f; f = next) {
		next = f->next;
		if (f->phase == PH_RELAY) {
			tick_relay(f, now);
		} else if (now >= f->deadline_ms) {
			if (f->listener->socks5_server)
				socks5_server_error(f, ETIMEDOUT);
			flow_fail(f, "timeout: %s after %d ms",
				  f->phase == PH_CONNECT      ? "connect" :
				  f->phase == PH_SOCKS_SERVER ? "socks5 client handshake" :
				  f->phase == PH_RESOLVE      ? "resolve" :
								"socks5 handshake",
				  cfg.connect_timeout_ms);
		} else {
			tick_at(f->deadline_ms);
		}
	}
}

void flow_abort_all(const char *reason)
{
	while (flows)
		flow_close(flows, reason, RESET_BOTH);
}

/* One line per flow for --status: addresses, mode, bytes each way (the
 * verdict's counters included), age and time since the last byte.
 */
void flow_status(FILE *out, uint64_t now)
{
	static const char *const phase_name[] = { "connect", "socks5", "socks5", "socks5",
						  "relay",   "client", "resolve" };
	char target[FWD_MAX_HOST + 16];
	uint64_t up, down;
	struct flow *f;

	for (f = flows; f; f = f->next) {
		up = down = 0;
		if (f->phase == PH_RELAY) {
			relay_bytes(f, &up, &down);
			relay_refresh_active(f);
		}
		hostport_text(&f->target, target, sizeof(target));
		fprintf(out,
			"flow client=%s listen=%s target=%s phase=%s mode=%s up=%llu down=%llu "
			"age=%.3fs idle=%.3fs\n",
			f->client_text, f->listener->listen_text, target, phase_name[f->phase],
			f->phase == PH_RELAY ? mode_names[f->mode] : "none", (unsigned long long)up,
			(unsigned long long)down, (double)(now - f->start_ms) / 1000,
			(double)(now > f->active_ms ? now - f->active_ms : 0) / 1000);
	}
}
