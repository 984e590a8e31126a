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
#define TCP_STATE_ESTABLISHED 1 /* tcpi_state; not in the uapi headers */
/* Largest peek with --rcvbuf 0 (autotuned receive buffers). */
#define PEEK_MAX_AUTOTUNED (4 << 20)
/* Paused directions' buffers beyond BUF_SIZE, all flows together.  Over
 * it a direction moves BUF_SIZE at a time: slower to hand back to the
 * program, never stuck.
 */
#define PEEK_MEM_MAX ((size_t)64 << 20)
#define PIPE_SIZE (256 * 1024)
/* How often the helper looks at a sockmap direction: soon while something
 * is pending, every few ms while bytes flow (to raise the redirect limit as
 * the queue drains), backing off while idle.  The program enforces the
 * limit itself and wakes us through the event ring when it pauses.
 */
#define CHECK_PENDING_MS 1
#define CHECK_ACTIVE_MS 4
#define CHECK_IDLE_MAX_MS 1000
/* Rounds of read+write per event, so one busy flow cannot starve others. */
#define PUMP_ROUNDS 8

static size_t peek_mem;

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

/* The direction's control block as the program reads it (sockfwd.h). */
static int write_ctl(struct dir *d, uint32_t mode, uint64_t consumed, uint64_t limit)
{
	int err = kmaps_set_ctl(d->src_cookie, mode, d->gen, consumed, limit);

	if (!err)
		d->limit = limit;
	return err;
}

/* Redirect up to --queue-limit bytes beyond what has left the queue. */
static uint64_t limit_from(uint64_t entered)
{
	return entered + cfg.queue_limit < entered ? UINT64_MAX : entered + cfg.queue_limit;
}

/* Redirecting -> paused: bytes the program passes stay in src's receive
 * queue, where TCP's window holds the sender back, and go the paused way.
 */
static int pause_dir(struct flow *f, struct dir *d, const char *why)
{
	int err = write_ctl(d, SOCKFWD_PASS, d->consumed, 0);

	if (err)
		return fail(f, d->src_side, err);
	d->ks = KS_PASS;
	d->drained = false;
	counters.pauses++;
	if (cfg.verbose)
		logmsg("%s %s: paused, %s", f->client_text, d->src_side ? "down" : "up", why);
	set_check(d, now_ms(), CHECK_PENDING_MS);
	return 0;
}

/* The program redirected since our RESUME: the direction is the kernel's. */
static void resumed(struct flow *f, struct dir *d)
{
	d->ks = KS_KERNEL;
	counters.resumes++;
	if (cfg.verbose)
		logmsg("%s %s: redirecting again after %llu bytes copied", f->client_text,
		       d->src_side ? "down" : "up", (unsigned long long)d->consumed);
}

void relay_kick(struct flow *f, uint64_t cookie)
{
	int i;

	/* Any state: the word may also say the stream is corrupt. */
	for (i = 0; i < 2; i++)
		if (f->d[i].src_cookie == cookie && f->d[i].ks != KS_NONE)
			set_check(&f->d[i], now_ms(), 0);
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

/* Receive buffer of sockmap sockets (--rcvbuf).  Redirected bytes leave it
 * at once, so it costs nothing while the program redirects and lets the
 * window reach a few MiB (the default, never autotuned without reads, kept
 * it at 64 KiB).  While a direction is paused it bounds what waits in src for
 * the helper, and so the buffer the helper needs to take it in one peek.
 */
static void set_rcvbuf(int fd)
{
	int size = cfg.rcvbuf;

	if (size <= 0)
		return;
	/* Without CAP_NET_ADMIN, SO_RCVBUF silently stops at
	 * net.core.rmem_max (208 KiB on a stock Debian): the window is
	 * smaller and pauses come sooner, nothing worse.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
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
		if (getsockopt(f->fd[i], IPPROTO_TCP, TCP_INFO, &info, &len) < 0) {
			err = -errno;
			goto clean_fail;
		}
		/* The kernel refuses a socket past ESTABLISHED.  Refused for the
		 * upstream, the second insert, the client would already have
		 * its program and the flow could only go on by copy: a server
		 * that closes its side at once (CLOSE_WAIT here) did that in 1
		 * of 5 runs.  Checking first leaves only a narrow race.
		 */
		if (i == 1 && info.tcpi_state != TCP_STATE_ESTABLISHED) {
			err = -EOPNOTSUPP;
			goto clean_fail;
		}
		if (ioctl(f->fd[i], SIOCOUTQ, &outq) == 0 &&
		    info.tcpi_bytes_acked + (uint64_t)outq > f->written[i])
			f->acked_extra[i] = info.tcpi_bytes_acked + (uint64_t)outq - f->written[i];

		/* Logged: proves the early-bytes path ran. */
		if (ioctl(f->fd[i], SIOCINQ, &queued) == 0)
			f->early_bytes += (uint64_t)queued;
		err = kmaps_cookie(f->fd[i], &f->cookie[i]);
		if (!err)
			err = kmaps_prepare(f->cookie[i], limit_from(0));
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
		kmaps_set_ctl(f->cookie[0], SOCKFWD_PASS, 1, 0, 0);
		snprintf(f->fallback_text, sizeof(f->fallback_text), "sockmap insert: %s",
			 strerror(-err));
		return SOCKMAP_PARTIAL;
	}
	for (i = 0; i < 2; i++) {
		struct dir *d = &f->d[i];

		set_sndbuf(f->fd[i]);
		set_rcvbuf(f->fd[i]);

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
			write_ctl(d, SOCKFWD_REDIRECT, 0, limit_from(0));
			d->ks = KS_KERNEL;
		} else {
			/* Bytes came while only the peer's entry existed: they wait
			 * in the socket for us, and nothing was redirected yet.
			 */
			write_ctl(d, SOCKFWD_PASS, 0, 0);
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

static size_t beyond_base(size_t cap)
{
	return cap > BUF_SIZE ? cap - BUF_SIZE : 0;
}

static int grow_buf(struct dir *d, size_t size)
{
	char *buf;

	if (d->cap >= size)
		return 0;
	buf = realloc(d->buf, size);
	if (!buf)
		return -ENOMEM;
	peek_mem += beyond_base(size) - beyond_base(d->cap);
	d->buf = buf;
	d->cap = size;
	return 0;
}

static void release_buf(struct dir *d)
{
	peek_mem -= beyond_base(d->cap);
	free(d->buf);
	d->buf = NULL;
	d->cap = 0;
	d->off = 0;
}

/* Sends what the helper holds for dst: the bytes sent, 0 when dst's send
 * buffer is full, or a negative errno.
 */
static ssize_t send_held(struct flow *f, struct dir *d)
{
	ssize_t n = send(d->dst, d->buf + d->off, d->len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : fail(f, d->dst_side, -errno);
	d->off += (size_t)n;
	d->len -= (size_t)n;
	d->bytes += (uint64_t)n;
	f->written[d->dst_side] += (uint64_t)n;
	return n;
}

static int pump_copy(struct flow *f, struct dir *d)
{
	bool src_idle = false;
	ssize_t n;
	int round, err;

	for (round = 0; round < PUMP_ROUNDS; round++) {
		bool progress = false;

		if (d->len == 0 && !d->eof) {
			err = grow_buf(d, BUF_SIZE);
			if (err)
				return fail(f, d->src_side, err);
			n = recv(d->src, d->buf, BUF_SIZE, MSG_DONTWAIT);
			if (n > 0) {
				d->len = (size_t)n;
				d->off = 0;
				progress = true;
			} else if (n == 0) {
				d->eof = true;
			} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
				src_idle = true;
			} else {
				return fail(f, d->src_side, -errno);
			}
		}
		if (d->len > 0) {
			n = send_held(f, d);
			if (n < 0)
				return (int)n;
			if (n > 0)
				progress = true;
		}
		if (!progress)
			break;
	}
	/* An idle flow keeps no buffer: 10,000 idle flows cost no 1.3 GB. */
	if (d->len == 0 && (src_idle || d->eof))
		release_buf(d);
	return 0;
}

/* A recv() on src in sockmap mode that got no byte (N <= 0): the FIN,
 * nothing yet, or an error.
 */
static int no_byte_from_src(struct flow *f, struct dir *d, ssize_t n)
{
	if (n == 0) {
		d->eof = true;
		set_check(d, now_ms(), 0);
	} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
		d->rdhup = false;
	} else {
		return fail(f, d->src_side, -errno);
	}
	return 0;
}

/* Redirecting, src signalled: its FIN, or bytes the program passed because
 * the redirect failed.  Such bytes must not be overtaken by later ones, so
 * the direction pauses and they go the paused way.
 */
static int look_at_src(struct flow *f, struct dir *d)
{
	char byte;
	ssize_t n = recv(d->src, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0)
		return pause_dir(f, d, "bytes passed to the source");
	return no_byte_from_src(f, d, n);
}

/* Paused: copy the passed bytes from the head of src without taking them,
 * as many as the program says it passed.  0 when there is nothing (yet).
 */
static int peek_passed(struct flow *f, struct dir *d, bool *got)
{
	struct sockfwd_state state;
	size_t size, room, peek_max;
	uint64_t waiting;
	ssize_t n;
	int err;

	*got = false;
	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return fail(f, d->src_side, err);
	if (state.trim_failed)
		return fail(f, d->src_side, -EILSEQ);
	d->passed = state.passed;
	waiting = state.passed - d->consumed;
	room = peek_mem >= PEEK_MEM_MAX ? 0 : PEEK_MEM_MAX - peek_mem;
	/* The kernel doubles the receive buffer: that is what may wait. */
	peek_max = cfg.rcvbuf > 0 ? 2 * (size_t)cfg.rcvbuf : PEEK_MAX_AUTOTUNED;
	size = waiting > peek_max ? peek_max : (size_t)waiting;
	if (size > BUF_SIZE + beyond_base(d->cap) + room)
		size = BUF_SIZE + beyond_base(d->cap) + room;
	/* Nothing passed: one byte finds a FIN, or a byte counted just now. */
	if (size == 0)
		size = 1;
	err = grow_buf(d, size < BUF_SIZE ? BUF_SIZE : size);
	if (err)
		return fail(f, d->src_side, err);
	n = recv(d->src, d->buf, size, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0)
		return no_byte_from_src(f, d, n);
	if (d->ks == KS_RESUMING) {
		/* Passed after we named the end of the passed bytes.  If the
		 * program has redirected since (up to its limit, then passed
		 * these), they must wait for that to drain: a pause.  Looked
		 * at after the peek, as once it passes a byte it redirects
		 * none until we have read it.
		 */
		err = kmaps_state(d->src_cookie, &state);
		if (err)
			return fail(f, d->src_side, err);
		if (state.resumed_gen == d->gen) {
			resumed(f, d);
			return pause_dir(f, d, "bytes passed after the resume");
		}
		/* Nothing redirected: this generation can no longer resume,
		 * the next take names anew.
		 */
		d->ks = KS_PASS;
	}
	d->len = d->peeked = (size_t)n;
	d->off = 0;
	*got = true;
	return 0;
}

/* dst has every peeked byte.  If they are all the program passed, tell it
 * to redirect from the next skb on, while they still fill src's receive
 * window so that no skb can come between them and that word; then take
 * them out of src.  Taking them first reopened the window, the sender
 * refilled it at once and busy flows never went back to the kernel (8
 * iperf3 streams ran through the helper for good).
 */
static int take_peeked(struct flow *f, struct dir *d)
{
	struct sockfwd_state state;
	size_t left = d->peeked;
	ssize_t n;
	int err;

	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return fail(f, d->src_side, err);
	if (d->ks == KS_PASS && state.passed == d->consumed + d->peeked) {
		d->gen++;
		/* Drained, and nothing redirected since: the queue is empty. */
		err = write_ctl(d, SOCKFWD_RESUME, d->consumed + d->peeked,
				limit_from(state.redirected));
		if (err)
			return fail(f, d->src_side, err);
		d->ks = KS_RESUMING;
		set_check(d, now_ms(), CHECK_PENDING_MS);
		if (cfg.verbose)
			logmsg("%s resume requested, gen %u consumed %llu",
			       d->src_side ? "down" : "up", d->gen,
			       (unsigned long long)(d->consumed + d->peeked));
	}
	while (left > 0) {
		n = recv(d->src, d->buf, left, MSG_DONTWAIT);
		if (n <= 0) /* they were there a moment ago and nobody else reads */
			return fail(f, d->src_side, n < 0 ? -errno : -EPIPE);
		left -= (size_t)n;
	}
	d->consumed += d->peeked;
	d->peeked = 0;
	return 0;
}

static int pump_sockmap(struct flow *f, struct dir *d)
{
	bool got = true;
	ssize_t n;
	int round, err = 0;

	if (d->ks == KS_KERNEL)
		return d->rdhup || d->fin_wait ? look_at_src(f, d) : 0;
	/* Writing while redirected bytes wait for dst would put ours first. */
	if (!d->drained)
		return 0;
	for (round = 0; round < PUMP_ROUNDS && got; round++) {
		if (d->len == 0 && d->peeked == 0) {
			if (d->eof)
				break;
			err = peek_passed(f, d, &got);
			if (err || !got)
				break;
		}
		if (d->len > 0) {
			n = send_held(f, d);
			if (n < 0)
				return (int)n;
			if (n == 0)
				break;
		}
		if (d->len == 0 && d->peeked > 0) {
			err = take_peeked(f, d);
			if (err)
				return err;
		}
	}
	if (err)
		return err;
	if (d->len == 0 && d->peeked == 0 && (d->ks == KS_RESUMING || d->eof || !got))
		release_buf(d);
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

/* Bytes the helper moved, or took from a source: progress for --idle-timeout. */
static uint64_t helper_progress(const struct flow *f)
{
	return f->d[0].bytes + f->d[0].consumed + f->d[1].bytes + f->d[1].consumed;
}

int relay_pump(struct flow *f)
{
	uint64_t before = helper_progress(f);
	int i, err;

	for (i = 0; i < 2; i++) {
		struct dir *d = &f->d[i];

		if (d->shut)
			continue;
		if (f->mode == MODE_SPLICE)
			err = pump_splice(f, d);
		else if (f->mode == MODE_SOCKMAP)
			err = pump_sockmap(f, d);
		else
			err = pump_copy(f, d);
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
	if (helper_progress(f) != before)
		f->active_ms = now_ms();
	flow_update_events(f);
	return 0;
}

/* The verdict stamps each skb it sees with bpf_ktime_get_ns(), which is
 * CLOCK_MONOTONIC as now_ms() reads it.
 */
static void note_kernel_activity(struct flow *f, const struct sockfwd_state *state)
{
	uint64_t ms = state->last_ns / 1000000;

	if (ms > f->active_ms)
		f->active_ms = ms;
}

void relay_refresh_active(struct flow *f)
{
	struct sockfwd_state state;
	int i;

	for (i = 0; i < 2; i++)
		if (f->mode == MODE_SOCKMAP && f->cookie[i] && !kmaps_state(f->cookie[i], &state))
			note_kernel_activity(f, &state);
}

static int check_dir(struct flow *f, struct dir *d, uint64_t now)
{
	struct sockfwd_state state;
	uint64_t redirected, entered;
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
			/* Said once: tests wait for it to know the helper has
			 * looked, and kept the FIN back.
			 */
			if (cfg.verbose && !d->fin_held)
				logmsg("%s %s: FIN held, %lld redirected bytes still queued",
				       f->client_text, d->src_side ? "down" : "up",
				       (long long)backlog);
			d->fin_held = true;
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
		note_kernel_activity(f, &state);
		if (state.passed != d->consumed)
			return pause_dir(f, d, "the program stopped at the queue limit");
		if (state.redirected == d->last_redirected && !state.trim_failed) {
			set_check(d, now,
				  d->interval * 2 > CHECK_IDLE_MAX_MS ? CHECK_IDLE_MAX_MS :
									d->interval * 2 + 1);
			break;
		}
		err = kernel_backlog(f, d, &backlog, &redirected);
		if (err)
			return fail(f, d->dst_side, err);
		/* What has left the queue may be replaced, up to the limit. */
		entered = redirected - (uint64_t)(backlog > 0 ? backlog : 0);
		/* Redirecting, the helper has read every passed byte: REDIRECT
		 * and RESUME say the same (sockfwd.h).
		 */
		if (limit_from(entered) > d->limit) {
			err = write_ctl(d, SOCKFWD_REDIRECT, d->consumed, limit_from(entered));
			if (err)
				return fail(f, d->src_side, err);
		}
		set_check(d, now, CHECK_ACTIVE_MS);
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
			resumed(f, d);
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
		else if (f->mode == MODE_SOCKMAP)
			/* Peeked bytes stay readable: only ask for more once they
			 * are taken, and the timer watches the drain.
			 */
			events |= in->drained && in->len == 0 && in->peeked == 0 ? EPOLLIN : 0;
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

/* Bytes each way so far, for --status: no counter or log touched. */
void relay_bytes(const struct flow *f, uint64_t *up, uint64_t *down)
{
	struct sockfwd_state state;
	uint64_t total[2];
	int i;

	for (i = 0; i < 2; i++) {
		total[i] = f->d[i].bytes;
		if (f->cookie[i] && !kmaps_state(f->cookie[i], &state))
			total[i] += state.redirected;
	}
	*up = total[0];
	*down = total[1];
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
