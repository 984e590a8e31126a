// SPDX-License-Identifier: GPL-2.0
/* Moving bytes once the upstream connection is ready, in one of three modes:
 *   sockmap: the verdict program redirects; the helper only passes FIN on
 *            (after every redirected byte has left), bounds the peer's
 *            redirect queue and copies while a direction is paused;
 *   splice:  socket -> pipe -> socket, no copy to user space;
 *   copy:    recv()/send() through a buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow.h"
#include "sockfwd.h"

#define BUF_SIZE 65536
#define PIPE_SIZE (256 * 1024)
/* How often the helper looks at a sockmap direction: soon while something
 * is pending, every few ms while bytes flow (the queue grows at most by
 * rate x interval past the limit), backing off while idle.
 */
#define CHECK_PENDING_MS 1
#define CHECK_ACTIVE_MS 4
#define CHECK_IDLE_MAX_MS 1000
/* Rounds of read+write per event, so one busy flow cannot starve others. */
#define PUMP_ROUNDS 8

static int fail(struct flow *f, int side, int err)
{
	f->fail_side = side;
	return err;
}

/* Redirected bytes from d->src that have not yet entered dst's TCP send
 * queue, i.e. still sit in the kernel's redirect queue for dst.
 * dst's stream so far = bytes_acked + SIOCOUTQ; minus what the helper
 * wrote itself (handshake, paused copies), the rest came by redirect.
 */
static int kernel_backlog(struct flow *f, struct dir *d, int64_t *backlog, uint64_t *redirected)
{
	struct sockfwd_state state;
	struct tcp_info info;
	socklen_t len = sizeof(info);
	uint64_t entered;
	int outq, err;

	/* Taking src's socket lock waits out a verdict running on it, so the
	 * counters read next include every byte it has seen.
	 */
	if (getsockopt(d->src, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return -errno;
	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return err;
	/* Old bytes the program could not cut went out twice: say so with a
	 * reset rather than deliver a corrupt stream.
	 */
	if (state.trim_failed)
		return -EILSEQ;
	*redirected = state.redirected;
	d->passed = state.passed;
	/* bytes_acked first: an ACK between the two calls can only make the
	 * sum smaller, never claim a byte that has not entered.
	 */
	len = sizeof(info);
	if (getsockopt(d->dst, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return -errno;
	if (ioctl(d->dst, SIOCOUTQ, &outq) < 0)
		return -errno;
	entered = info.tcpi_bytes_acked + (uint64_t)outq - f->written[d->dst_side] -
		  f->acked_extra[d->dst_side];
	*backlog = (int64_t)(*redirected - entered);
	return 0;
}

static void set_check(struct dir *d, uint64_t now, uint64_t interval)
{
	d->interval = interval;
	d->next_check = now + interval;
	tick_at(d->next_check);
}

static void dir_init(struct flow *f, int i)
{
	struct dir *d = &f->d[i];

	memset(d, 0, sizeof(*d));
	d->src_side = i;
	d->dst_side = 1 - i;
	d->src = f->fd[i];
	d->dst = f->fd[1 - i];
	d->pipe_r = d->pipe_w = -1;
}

static int setup_pipes(struct flow *f)
{
	int i, p[2];

	for (i = 0; i < 2; i++) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
			return -errno;
		f->d[i].pipe_r = p[0];
		f->d[i].pipe_w = p[1];
		/* Bigger than the 64 KiB default: fewer splice calls per MB.
		 * Failure only costs speed.
		 */
		fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
	}
	return 0;
}

/* The kernel sends redirected bytes from a work item that stops whenever
 * the destination's send buffer is half full and waits for write space:
 * with the autotuned buffer (4 MiB at most) a single stream ran at 4 Gbit/s
 * here, with 16 MiB at 11.  Raising it past net.core.wmem_max takes
 * CAP_NET_ADMIN (SO_SNDBUFFORCE); without it we keep autotuning.
 */
static void set_sndbuf(int fd)
{
	static bool warned;
	int size = cfg.sndbuf;

	if (size <= 0 || setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) == 0)
		return;
	if (!warned)
		logmsg("cannot raise send buffers (%s): sockmap throughput limited; see --sndbuf",
		       strerror(errno));
	warned = true;
}

enum { SOCKMAP_OK, SOCKMAP_CLEAN_FAIL, SOCKMAP_PARTIAL };

/* Order matters: the entry keyed by the upstream's cookie holds the client
 * socket, so inserting it gives the client socket its verdict program; if
 * the client is no longer ESTABLISHED (already sent FIN: CLOSE_WAIT) the
 * kernel refuses (EOPNOTSUPP) and nothing has changed yet.
 */
static int sockmap_setup(struct flow *f)
{
	struct sockfwd_state state;
	int i, err;
	char peek;

	/* Checked per flow: the program may be detached and attached again
	 * while the helper runs.
	 */
	if (!kmaps_verdict_attached()) {
		snprintf(f->fallback_text, sizeof(f->fallback_text),
			 "sockmap: no verdict program attached");
		return SOCKMAP_CLEAN_FAIL;
	}
	for (i = 0; i < 2; i++) {
		struct tcp_info info;
		socklen_t len = sizeof(info);
		int queued = 0, outq = 0;

		/* Nothing is redirected yet, so the stream sent so far is what
		 * the helper wrote; what bytes_acked + SIOCOUTQ count beyond it
		 * is the SYN.  Counted as a byte, it let the FIN overtake the
		 * last redirected byte when that byte was alone in its skb
		 * (found by the soak test: "server-first" flows lost their one
		 * up byte, sockfwd logged up=1 close=eof).
		 */
		if (getsockopt(f->fd[i], IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
		    ioctl(f->fd[i], SIOCOUTQ, &outq) == 0 &&
		    info.tcpi_bytes_acked + (uint64_t)outq > f->written[i])
			f->acked_extra[i] = info.tcpi_bytes_acked + (uint64_t)outq - f->written[i];

		/* Logged: proves the early-bytes path ran. */
		if (ioctl(f->fd[i], SIOCINQ, &queued) == 0)
			f->early_bytes += (uint64_t)queued;
		err = kmaps_cookie(f->fd[i], &f->cookie[i]);
		if (!err)
			err = kmaps_prepare(f->cookie[i]);
		if (err)
			goto clean_fail;
	}
	err = kmaps_insert(f->cookie[1], f->fd[0]);
	if (err)
		goto clean_fail;
	err = kmaps_insert(f->cookie[0], f->fd[1]);
	if (err) {
		/* The client socket has a verdict program now: its bytes are
		 * passed to its own queue and only recv() sees them.
		 */
		kmaps_set_ctl(f->cookie[0], SOCKFWD_PASS, 1, 0);
		snprintf(f->fallback_text, sizeof(f->fallback_text), "sockmap insert: %s",
			 strerror(-err));
		return SOCKMAP_PARTIAL;
	}
	for (i = 0; i < 2; i++) {
		struct dir *d = &f->d[i];

		set_sndbuf(f->fd[i]);

		/* Bytes that arrived before the socket had its program are still
		 * in its receive queue; nothing runs the verdict on them until
		 * more data comes.  recv() on a socket with a verdict program
		 * runs it on them first (tcp_bpf calls tcp_data_ready() with the
		 * socket locked); MSG_PEEK takes nothing.
		 */
		recv(f->fd[i], &peek, 1, MSG_PEEK | MSG_DONTWAIT);
		d->src_cookie = f->cookie[i];
		d->gen = 1;
		err = kmaps_state(d->src_cookie, &state);
		if (!err && state.passed == 0) {
			/* Nothing was passed, so with both entries in place the
			 * RESUME rule (passed == consumed == 0) already redirects
			 * every byte; make it plain.
			 */
			kmaps_set_ctl(d->src_cookie, SOCKFWD_REDIRECT, d->gen, 0);
			d->ks = KS_KERNEL;
		} else {
			/* Bytes came while only the peer's entry existed: they wait
			 * in the socket for us, and nothing was redirected yet.
			 */
			kmaps_set_ctl(d->src_cookie, SOCKFWD_PASS, d->gen, 0);
			d->ks = KS_PASS;
		}
		set_check(d, now_ms(), CHECK_PENDING_MS);
	}
	return SOCKMAP_OK;

clean_fail:
	snprintf(f->fallback_text, sizeof(f->fallback_text), "sockmap insert: %s", strerror(-err));
	for (i = 0; i < 2; i++) {
		if (f->cookie[i])
			kmaps_forget(f->cookie[i]);
		f->cookie[i] = 0;
	}
	return SOCKMAP_CLEAN_FAIL;
}

void relay_start(struct flow *f)
{
	enum fwd_mode want = cfg.mode;
	int err;

	f->phase = PH_RELAY;
	dir_init(f, 0);
	dir_init(f, 1);
	f->mode = MODE_COPY;
	if (want == MODE_AUTO || want == MODE_SOCKMAP) {
		if (!kmaps_available()) {
			if (want == MODE_SOCKMAP)
				snprintf(f->fallback_text, sizeof(f->fallback_text),
					 "sockmap: maps not loaded");
		} else {
			switch (sockmap_setup(f)) {
			case SOCKMAP_OK:
				f->mode = MODE_SOCKMAP;
				return;
			case SOCKMAP_PARTIAL:
				counters.fallbacks++;
				return; /* copy: only recv() can read the client now */
			default:
				counters.fallbacks++;
				break;
			}
		}
	}
	if (want != MODE_COPY) {
		err = setup_pipes(f);
		if (!err) {
			f->mode = MODE_SPLICE;
			return;
		}
		snprintf(f->fallback_text, sizeof(f->fallback_text), "pipe: %s", strerror(-err));
	}
}

static void release_buf(struct dir *d)
{
	free(d->buf);
	d->buf = NULL;
	d->off = 0;
}

/* Paused sockmap direction whose redirected bytes have left: ask to go
 * back to redirecting as soon as the helper holds nothing.  The program only
 * does so at an skb that finds every passed byte read (passed == consumed),
 * so asking early is safe; waiting for the source to go idle kept a busy
 * flow on the slow path for good.
 */
static void maybe_resume(struct dir *d)
{
	if (d->ks != KS_PASS || !d->drained || d->len || d->eof)
		return;
	d->gen++;
	if (kmaps_set_ctl(d->src_cookie, SOCKFWD_RESUME, d->gen, d->consumed))
		return;
	d->ks = KS_RESUMING;
	set_check(d, now_ms(), CHECK_PENDING_MS);
	if (cfg.verbose)
		logmsg("%s resume requested, gen %u consumed %llu", d->src_side ? "down" : "up",
		       d->gen, (unsigned long long)d->consumed);
}

static int pump_copy(struct flow *f, struct dir *d)
{
	bool sockmap = f->mode == MODE_SOCKMAP;
	bool may_read = !sockmap || d->ks != KS_KERNEL || d->rdhup || d->fin_wait;
	bool may_write = !sockmap || d->drained;
	bool src_idle = false;
	ssize_t n;
	int round;

	for (round = 0; round < PUMP_ROUNDS; round++) {
		bool progress = false;

		if (d->len == 0 && !d->eof && may_read) {
			if (!d->buf) {
				d->buf = malloc(BUF_SIZE);
				if (!d->buf)
					return fail(f, d->src_side, -ENOMEM);
			}
			n = recv(d->src, d->buf, BUF_SIZE, MSG_DONTWAIT);
			if (n > 0) {
				d->len = (size_t)n;
				d->off = 0;
				progress = true;
				if (sockmap) {
					d->consumed += (uint64_t)n;
					if (d->ks == KS_KERNEL) {
						/* Passed although we redirect: the
						 * redirect failed.  Keep order: hold
						 * them until the queue drained.
						 */
						kmaps_set_ctl(d->src_cookie, SOCKFWD_PASS, d->gen,
							      d->consumed);
						d->ks = KS_PASS;
						d->drained = false;
						may_write = false;
						set_check(d, now_ms(), CHECK_PENDING_MS);
					} else if (d->ks == KS_RESUMING) {
						/* Passed after we asked to resume: in
						 * this generation nothing was redirected,
						 * so ask again with the new count.
						 */
						d->ks = KS_PASS;
					}
				}
			} else if (n == 0) {
				d->eof = true;
				if (sockmap)
					set_check(d, now_ms(), 0);
			} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
				src_idle = true;
				d->rdhup = false;
			} else {
				return fail(f, d->src_side, -errno);
			}
		}
		if (d->len > 0 && may_write) {
			n = send(d->dst, d->buf + d->off, d->len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				d->off += (size_t)n;
				d->len -= (size_t)n;
				d->bytes += (uint64_t)n;
				f->written[d->dst_side] += (uint64_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				return fail(f, d->dst_side, -errno);
			}
		}
		if (!progress)
			break;
	}
	/* An idle flow keeps no buffer: 10,000 idle flows cost no 1.3 GB. */
	if (d->len == 0 && (src_idle || d->eof))
		release_buf(d);
	if (sockmap)
		maybe_resume(d);
	return 0;
}

static int pump_splice(struct flow *f, struct dir *d)
{
	const unsigned int flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
	ssize_t n;
	int round;

	for (round = 0; round < PUMP_ROUNDS; round++) {
		bool progress = false;

		if (d->in_pipe == 0 && !d->eof) {
			n = splice(d->src, NULL, d->pipe_w, NULL, PIPE_SIZE, flags);
			if (n > 0) {
				d->in_pipe = (size_t)n;
				progress = true;
			} else if (n == 0) {
				d->eof = true;
			} else if (errno != EAGAIN) {
				return fail(f, d->src_side, -errno);
			}
		}
		if (d->in_pipe > 0) {
			n = splice(d->pipe_r, NULL, d->dst, NULL, d->in_pipe, flags);
			if (n > 0) {
				d->in_pipe -= (size_t)n;
				d->bytes += (uint64_t)n;
				f->written[d->dst_side] += (uint64_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN) {
				return fail(f, d->dst_side, -errno);
			}
		}
		if (!progress)
			break;
	}
	return 0;
}

static int pass_fin_on(struct flow *f, struct dir *d)
{
	if (shutdown(d->dst, SHUT_WR) < 0 && errno != ENOTCONN)
		return fail(f, d->dst_side, -errno);
	d->shut = true;
	return 0;
}

int relay_pump(struct flow *f)
{
	int i, err;

	for (i = 0; i < 2; i++) {
		struct dir *d = &f->d[i];

		if (d->shut)
			continue;
		err = f->mode == MODE_SPLICE ? pump_splice(f, d) : pump_copy(f, d);
		if (err)
			return err;
		/* In sockmap mode FIN waits for relay_check to see the redirect
		 * queue empty: shutting down now would lose what is queued.
		 */
		if (d->eof && f->mode != MODE_SOCKMAP && d->len == 0 && d->in_pipe == 0) {
			err = pass_fin_on(f, d);
			if (err)
				return err;
		}
	}
	flow_update_events(f);
	return 0;
}

static int check_dir(struct flow *f, struct dir *d, uint64_t now)
{
	struct sockfwd_state state;
	uint64_t redirected;
	int64_t backlog;
	int err;

	if (d->ks == KS_NONE || d->shut || now < d->next_check)
		return 0;
	if (d->eof) {
		/* FIN only after the last redirected byte and the last byte we
		 * hold have entered dst's send queue, in that order.
		 */
		err = kernel_backlog(f, d, &backlog, &redirected);
		if (err)
			return fail(f, d->dst_side, err);
		/* recv() says EOF as soon as the FIN is in and its message
		 * queue is empty, even with passed bytes still in the psock's
		 * backlog behind bytes redirected to this socket: the program's
		 * count of passed bytes tells.
		 */
		if (d->passed > d->consumed) {
			d->eof = false;
			d->fin_wait = true;
			set_check(d, now, CHECK_PENDING_MS);
			return 0;
		}
		if (backlog > 0) {
			set_check(d, now, CHECK_PENDING_MS);
			return 0;
		}
		d->drained = true;
		if (d->len == 0)
			return pass_fin_on(f, d);
		set_check(d, now, CHECK_PENDING_MS);
		return 0;
	}
	switch (d->ks) {
	case KS_KERNEL:
		/* The queue grows only with what is redirected: an idle direction
		 * costs one map lookup, not three syscalls (10,000 idle flows).
		 */
		err = kmaps_state(d->src_cookie, &state);
		if (err)
			return fail(f, d->src_side, err);
		if (state.redirected == d->last_redirected && !state.trim_failed) {
			set_check(d, now,
				  d->interval * 2 > CHECK_IDLE_MAX_MS ? CHECK_IDLE_MAX_MS :
									d->interval * 2 + 1);
			break;
		}
		err = kernel_backlog(f, d, &backlog, &redirected);
		if (err)
			return fail(f, d->dst_side, err);
		if (backlog > (int64_t)cfg.queue_limit) {
			/* The peer does not keep up: leave its bytes in the source
			 * socket, where they count against its receive buffer and
			 * TCP's window slows the sender down.
			 */
			err = kmaps_set_ctl(d->src_cookie, SOCKFWD_PASS, d->gen, d->consumed);
			if (err)
				return fail(f, d->src_side, err);
			d->ks = KS_PASS;
			d->drained = false;
			counters.pauses++;
			if (cfg.verbose)
				logmsg("%s %s: paused, %lld bytes queued for redirect",
				       f->client_text, d->src_side ? "down" : "up",
				       (long long)backlog);
			set_check(d, now, CHECK_PENDING_MS);
		} else {
			set_check(d, now, CHECK_ACTIVE_MS);
		}
		d->last_redirected = redirected;
		break;
	case KS_PASS:
		if (!d->drained) {
			err = kernel_backlog(f, d, &backlog, &redirected);
			if (err)
				return fail(f, d->dst_side, err);
			d->drained = backlog <= 0;
		}
		set_check(d, now, d->drained ? CHECK_IDLE_MAX_MS : CHECK_PENDING_MS);
		break;
	case KS_RESUMING:
		err = kmaps_state(d->src_cookie, &state);
		if (err)
			return fail(f, d->src_side, err);
		if (state.resumed_gen == d->gen) {
			d->ks = KS_KERNEL;
			counters.resumes++;
			if (cfg.verbose)
				logmsg("%s %s: redirecting again after %llu bytes copied",
				       f->client_text, d->src_side ? "down" : "up",
				       (unsigned long long)d->consumed);
			set_check(d, now, CHECK_ACTIVE_MS);
		} else {
			set_check(d, now,
				  d->interval * 2 > CHECK_IDLE_MAX_MS ? CHECK_IDLE_MAX_MS :
									d->interval * 2 + 1);
		}
		break;
	default:
		break;
	}
	return 0;
}

int relay_check(struct flow *f, uint64_t now)
{
	int i, err;

	if (f->mode != MODE_SOCKMAP)
		return 0;
	for (i = 0; i < 2; i++) {
		err = check_dir(f, &f->d[i], now);
		if (err)
			return err;
	}
	return relay_pump(f);
}

uint64_t relay_next_check(const struct flow *f)
{
	uint64_t next = UINT64_MAX;
	int i;

	if (f->mode != MODE_SOCKMAP)
		return next;
	for (i = 0; i < 2; i++)
		if (f->d[i].ks != KS_NONE && !f->d[i].shut && f->d[i].next_check < next)
			next = f->d[i].next_check;
	return next;
}

uint32_t relay_wanted(const struct flow *f, int side)
{
	const struct dir *in = &f->d[side], *out = &f->d[1 - side];
	uint32_t events = 0;

	/* fin_wait: the FIN is in, reads say EOF until the last passed bytes
	 * arrive; the timer polls, as EPOLLIN would fire without end.
	 */
	if (!in->eof && !in->fin_wait) {
		if (f->mode == MODE_SPLICE)
			events |= in->in_pipe == 0 ? EPOLLIN : 0;
		else if (f->mode == MODE_SOCKMAP && in->ks == KS_KERNEL)
			/* Only FIN: EPOLLIN would wake us for every redirected skb. */
			events |= EPOLLRDHUP;
		else
			events |= in->len == 0 ? EPOLLIN : 0;
	}
	if (!out->shut) {
		if (f->mode == MODE_SPLICE)
			events |= out->in_pipe ? EPOLLOUT : 0;
		else if (out->len && (f->mode != MODE_SOCKMAP || out->drained))
			events |= EPOLLOUT;
	}
	return events;
}

/* Nothing more to read from this socket nor to write to it. */
bool relay_fd_finished(const struct flow *f, int side)
{
	return f->d[side].eof && f->d[1 - side].shut;
}

bool relay_done(const struct flow *f)
{
	return f->phase == PH_RELAY && f->d[0].shut && f->d[1].shut;
}

void relay_final_bytes(struct flow *f, uint64_t *up, uint64_t *down)
{
	struct sockfwd_state state;
	int i;

	for (i = 0; i < 2; i++) {
		uint64_t total = f->d[i].bytes;

		if (f->cookie[i] && !kmaps_state(f->cookie[i], &state)) {
			total += state.redirected;
			counters.overlap_cut += state.overlap_cut;
			if (cfg.verbose)
				logmsg("%s %s: redirected %llu passed %llu read %llu copied %llu "
				       "overlap_cut %llu",
				       f->client_text, i ? "down" : "up",
				       (unsigned long long)state.redirected,
				       (unsigned long long)state.passed,
				       (unsigned long long)f->d[i].consumed,
				       (unsigned long long)f->d[i].bytes,
				       (unsigned long long)state.overlap_cut);
		}
		if (i == 0)
			*up = total;
		else
			*down = total;
	}
}

void relay_release(struct flow *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct dir *d = &f->d[i];

		release_buf(d);
		if (d->pipe_r >= 0)
			close(d->pipe_r);
		if (d->pipe_w >= 0)
			close(d->pipe_w);
		d->pipe_r = d->pipe_w = -1;
		if (f->cookie[i])
			kmaps_forget(f->cookie[i]);
		f->cookie[i] = 0;
	}
}
