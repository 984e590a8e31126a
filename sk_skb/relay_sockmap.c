// SPDX-License-Identifier: GPL-2.0
/* The sockmap mode: the verdict program (sockfwd.bpf.c) redirects each
 * direction's bytes in the kernel; the helper passes FIN on once every
 * redirected byte has left, raises the redirect limit as the peer's queue
 * drains, and moves the bytes itself while a direction is paused.
 *
 * A direction's state (struct dir, d->ks; KS_NONE outside this mode), with
 * the control word the helper last wrote for the program (sockfwd.h):
 *
 *                          sockmap_start()
 *              nothing passed |        | bytes passed before both
 *                             v        v entries were in place
 *    +-----------------> KS_KERNEL ---------> KS_PASS <-----------------+
 *    |                  [REDIRECT]    (1)     [PASS]                    |
 *    |                                           |                      |
 *    | (3)                                       | (2)              (4) |
 *    |                                           v                      |
 *    +------------------------------------- KS_RESUMING ----------------+
 *                                           [RESUME gen]
 *
 *   (1) the program stopped at the redirect limit (it passed a byte), or
 *       src holds a byte the program passed (a redirect failed)
 *   (2) the redirect queue is empty, the passed bytes are copied to dst
 *       and they are all the program passed: RESUME with gen + 1
 *   (3) the program redirected since (state.resumed_gen == gen)
 *   (4) the program passed more bytes before it resumed
 *
 * In every state, a FIN from src (recv() returns 0) sets d->eof; the FIN
 * goes on to dst (d->shut) only once the bytes the program passed have all
 * been read (else d->fin_wait) and every redirected byte has entered dst's
 * send queue (else d->fin_held).  Redirected bytes are never overtaken:
 * the program passes every skb after a passed one until the helper has
 * read them all, and the helper writes to dst only once the redirect queue
 * is empty (d->drained).
 */
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "relay.h"
#include "sockfwd.h"

#define TCP_STATE_ESTABLISHED 1 /* tcpi_state; not in the uapi headers */
/* Largest copy of passed bytes with --rcvbuf 0 (autotuned receive buffers). */
#define COPY_MAX_AUTOTUNED (4 << 20)
/* How often the helper looks at a direction: soon while something is
 * pending, every few ms while bytes flow (to raise the redirect limit as
 * the queue drains), backing off while idle.  The program enforces the
 * limit itself and wakes us through the event ring when it pauses.
 */
#define CHECK_PENDING_MS 1
#define CHECK_ACTIVE_MS 4
#define CHECK_IDLE_MAX_MS 1000

static const struct fwd_config *config;

void sockmap_init(const struct fwd_config *settings)
{
	config = settings;
}

static const char *dir_name(const struct dir *d)
{
	return d->src_side ? "down" : "up";
}

/* Redirected bytes from d->src that have not yet entered dst's TCP send
 * queue, i.e. still sit in the kernel's redirect queue for dst.
 * dst's stream so far = bytes_acked + SIOCOUTQ; minus what the helper
 * wrote itself (handshake, paused copies), the rest came by redirect.
 */
static int redirect_backlog(struct flow *f, struct dir *d, int64_t *backlog, uint64_t *redirected)
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

static void schedule_check(struct dir *d, uint64_t now, uint64_t interval)
{
	d->interval = interval;
	d->next_check = now + interval;
}

/* Twice the last interval, up to CHECK_IDLE_MAX_MS: nothing moved. */
static void check_later(struct dir *d, uint64_t now)
{
	schedule_check(d, now,
		       d->interval * 2 > CHECK_IDLE_MAX_MS ? CHECK_IDLE_MAX_MS :
							     d->interval * 2 + 1);
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
static uint64_t redirect_limit(uint64_t entered)
{
	return entered + config->queue_limit < entered ? UINT64_MAX : entered + config->queue_limit;
}

/* KS_KERNEL -> KS_PASS: bytes the program passes stay in src's receive
 * queue, where TCP's window holds the sender back, and go the paused way.
 */
static int pause_direction(struct flow *f, struct dir *d, const char *why, uint64_t now)
{
	int err = write_ctl(d, SOCKFWD_PASS, d->consumed, 0);

	if (err)
		return relay_fail(f, d->src_side, err);
	d->ks = KS_PASS;
	d->drained = false;
	counters.pauses++;
	if (config->verbose)
		logmsg("%s %s: paused, %s", f->client_text, dir_name(d), why);
	schedule_check(d, now, CHECK_PENDING_MS);
	return 0;
}

/* KS_RESUMING -> KS_KERNEL: the program redirected since our RESUME. */
static void note_resumed(struct flow *f, struct dir *d)
{
	d->ks = KS_KERNEL;
	counters.resumes++;
	if (config->verbose)
		logmsg("%s %s: redirecting again after %llu bytes copied", f->client_text,
		       dir_name(d), (unsigned long long)d->consumed);
}

/* The program paused the socket with this cookie, or found its stream
 * corrupt: look at that direction now, whatever its state.
 */
void sockmap_kick(struct flow *f, uint64_t cookie, uint64_t now)
{
	int i;

	for (i = 0; i < 2; i++)
		if (f->d[i].src_cookie == cookie && f->d[i].ks != KS_NONE)
			schedule_check(&f->d[i], now, 0);
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
	int size = config->sndbuf;

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
 * the helper, and so the buffer the helper needs to copy it in one peek.
 */
static void set_rcvbuf(int fd)
{
	int size = config->rcvbuf;

	if (size <= 0)
		return;
	/* Without CAP_NET_ADMIN, SO_RCVBUF silently stops at
	 * net.core.rmem_max (208 KiB on a stock Debian): the window is
	 * smaller and pauses come sooner, nothing worse.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* One socket of the flow, before any insert: what its stream holds so far,
 * its cookie, and the program's entries for it.
 */
static int prepare_socket(struct flow *f, int side)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);
	int queued = 0, outq = 0, err;

	if (getsockopt(f->fd[side], IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return -errno;
	/* The kernel refuses a socket past ESTABLISHED.  Refused for the
	 * upstream, the second insert, the client would already have its
	 * program and the flow could only go on by copy: a server that
	 * closes its side at once (CLOSE_WAIT here) did that in 1 of 5 runs.
	 * Checking first leaves only a narrow race.
	 */
	if (side == 1 && info.tcpi_state != TCP_STATE_ESTABLISHED)
		return -EOPNOTSUPP;
	/* Nothing is redirected yet, so the stream sent so far is what the
	 * helper wrote; what bytes_acked + SIOCOUTQ count beyond it is the
	 * SYN of a socket we connect()ed.  Counted as a byte, it would let
	 * the FIN overtake the last redirected byte when that byte is alone
	 * in its skb.
	 */
	if (ioctl(f->fd[side], SIOCOUTQ, &outq) == 0 &&
	    info.tcpi_bytes_acked + (uint64_t)outq > f->written[side])
		f->acked_extra[side] = info.tcpi_bytes_acked + (uint64_t)outq - f->written[side];
	/* Logged: proves the early-bytes path ran. */
	if (ioctl(f->fd[side], SIOCINQ, &queued) == 0)
		f->early_bytes += (uint64_t)queued;
	err = kmaps_cookie(f->fd[side], &f->cookie[side]);
	if (!err)
		err = kmaps_prepare(f->cookie[side], redirect_limit(0));
	return err;
}

/* Both sockets are in the map: the direction from side starts. */
static void start_direction(struct flow *f, int side, uint64_t now)
{
	struct dir *d = &f->d[side];
	struct sockfwd_state state;
	char byte;

	set_sndbuf(f->fd[side]);
	set_rcvbuf(f->fd[side]);
	/* Bytes that arrived before the socket had its program are still in
	 * its receive queue; nothing runs the verdict on them until more data
	 * comes.  recv() on a socket with a verdict program runs it on them
	 * first (tcp_bpf calls tcp_data_ready() with the socket locked);
	 * MSG_PEEK takes nothing.
	 */
	recv(f->fd[side], &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	d->src_cookie = f->cookie[side];
	d->gen = 1;
	if (kmaps_state(d->src_cookie, &state) == 0 && state.passed == 0) {
		/* Nothing was passed, so with both entries in place the RESUME
		 * rule (passed == consumed == 0) already redirects every byte;
		 * make it plain.
		 */
		write_ctl(d, SOCKFWD_REDIRECT, 0, redirect_limit(0));
		d->ks = KS_KERNEL;
	} else {
		/* Bytes came while only the peer's entry existed: they wait in
		 * the socket for us, and nothing was redirected yet.
		 */
		write_ctl(d, SOCKFWD_PASS, 0, 0);
		d->ks = KS_PASS;
	}
	schedule_check(d, now, CHECK_PENDING_MS);
}

static enum sockmap_start not_started(struct flow *f, int err)
{
	int i;

	snprintf(f->fallback_text, sizeof(f->fallback_text), "sockmap insert: %s", strerror(-err));
	for (i = 0; i < 2; i++) {
		if (f->cookie[i])
			kmaps_forget(f->cookie[i]);
		f->cookie[i] = 0;
	}
	return SOCKMAP_NOT_STARTED;
}

/* Order matters: the entry keyed by the upstream's cookie holds the client
 * socket, so inserting it gives the client socket its verdict program; if
 * the client is no longer ESTABLISHED (already sent FIN: CLOSE_WAIT) the
 * kernel refuses (EOPNOTSUPP) and nothing has changed yet.
 */
enum sockmap_start sockmap_start(struct flow *f, uint64_t now)
{
	int i, err;

	/* Checked per flow: the program may be detached and attached again
	 * while the helper runs, and a socket inserted meanwhile would keep a
	 * psock without it for good.
	 */
	if (!kmaps_verdict_attached()) {
		snprintf(f->fallback_text, sizeof(f->fallback_text),
			 "sockmap: no verdict program attached");
		return SOCKMAP_NOT_STARTED;
	}
	for (i = 0; i < 2; i++) {
		err = prepare_socket(f, i);
		if (err)
			return not_started(f, err);
	}
	err = kmaps_insert(f->cookie[1], f->fd[0]);
	if (err)
		return not_started(f, err);
	err = kmaps_insert(f->cookie[0], f->fd[1]);
	if (err) {
		/* The client socket has a verdict program now: its bytes are
		 * passed to its own queue and only recv() sees them.
		 */
		kmaps_set_ctl(f->cookie[0], SOCKFWD_PASS, 1, 0, 0);
		snprintf(f->fallback_text, sizeof(f->fallback_text), "sockmap insert: %s",
			 strerror(-err));
		return SOCKMAP_CLIENT_ONLY;
	}
	for (i = 0; i < 2; i++)
		start_direction(f, i, now);
	return SOCKMAP_STARTED;
}

/* A recv() on src that got no byte (n <= 0): the FIN, nothing yet, or an
 * error.
 */
static int note_fin_or_error(struct flow *f, struct dir *d, ssize_t n, uint64_t now)
{
	if (n == 0) {
		d->eof = true;
		schedule_check(d, now, 0);
	} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
		d->rdhup = false;
	} else {
		return relay_fail(f, d->src_side, -errno);
	}
	return 0;
}

/* KS_KERNEL, and src signalled: its FIN, or bytes the program passed because
 * the redirect failed.  Such bytes must not be overtaken by later ones, so
 * the direction pauses and they go the paused way.
 */
static int pause_if_src_has_bytes(struct flow *f, struct dir *d, uint64_t now)
{
	char byte;
	ssize_t n = recv(d->src, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0)
		return pause_direction(f, d, "bytes passed to the source", now);
	return note_fin_or_error(f, d, n, now);
}

/* How many passed bytes to copy in one peek: all the program passed, up to
 * what src's receive buffer holds and what the buffer may grow to; at
 * least one, which finds a FIN or a byte counted just now.
 */
static size_t copy_size(const struct dir *d, uint64_t waiting)
{
	/* The kernel doubles the receive buffer: that is what may wait. */
	size_t max = config->rcvbuf > 0 ? 2 * (size_t)config->rcvbuf : COPY_MAX_AUTOTUNED;
	size_t size = waiting > max ? max : (size_t)waiting;

	if (size > relay_buf_limit(d))
		size = relay_buf_limit(d);
	return size == 0 ? 1 : size;
}

/* Paused: copy the passed bytes from the head of src without taking them
 * (MSG_PEEK), as many as the program says it passed.  *copied false when
 * there is nothing (yet).
 */
static int copy_passed_bytes(struct flow *f, struct dir *d, uint64_t now, bool *copied)
{
	struct sockfwd_state state;
	size_t size;
	ssize_t n;
	int err;

	*copied = false;
	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return relay_fail(f, d->src_side, err);
	if (state.trim_failed)
		return relay_fail(f, d->src_side, -EILSEQ);
	d->passed = state.passed;
	size = copy_size(d, state.passed - d->consumed);
	err = relay_grow_buf(d, size < BUF_SIZE ? BUF_SIZE : size);
	if (err)
		return relay_fail(f, d->src_side, err);
	n = recv(d->src, d->buf, size, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0)
		return note_fin_or_error(f, d, n, now);
	if (d->ks == KS_RESUMING) {
		/* Passed after we named the end of the passed bytes.  If the
		 * program has redirected since (up to its limit, then passed
		 * these), they must wait for that to drain: a pause.  Looked
		 * at after the peek, as once it passes a byte it redirects
		 * none until we have read it.
		 */
		err = kmaps_state(d->src_cookie, &state);
		if (err)
			return relay_fail(f, d->src_side, err);
		if (state.resumed_gen == d->gen) {
			note_resumed(f, d);
			return pause_direction(f, d, "bytes passed after the resume", now);
		}
		/* Nothing redirected: this generation can no longer resume,
		 * the next request names anew.
		 */
		d->ks = KS_PASS;
	}
	d->len = d->peeked = (size_t)n;
	d->off = 0;
	*copied = true;
	return 0;
}

/* dst has every copied byte.  If they are all the program passed, tell it
 * to redirect from the next skb on, while they still fill src's receive
 * window so that no skb can come between them and that word.  Taking them
 * out of src first reopened the window, the sender refilled it at once and
 * busy flows never went back to the kernel (8 iperf3 streams ran through
 * the helper for good).
 */
static int request_resume(struct flow *f, struct dir *d, uint64_t now)
{
	struct sockfwd_state state;
	int err;

	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return relay_fail(f, d->src_side, err);
	if (d->ks != KS_PASS || state.passed != d->consumed + d->peeked)
		return 0;
	d->gen++;
	/* Drained, and nothing redirected since: the queue is empty. */
	err = write_ctl(d, SOCKFWD_RESUME, d->consumed + d->peeked,
			redirect_limit(state.redirected));
	if (err)
		return relay_fail(f, d->src_side, err);
	d->ks = KS_RESUMING;
	schedule_check(d, now, CHECK_PENDING_MS);
	if (config->verbose)
		logmsg("%s resume requested, gen %u consumed %llu", dir_name(d), d->gen,
		       (unsigned long long)(d->consumed + d->peeked));
	return 0;
}

/* The copied bytes, which dst has, out of src: that reopens its window. */
static int remove_copied_bytes(struct flow *f, struct dir *d)
{
	size_t left = d->peeked;
	ssize_t n;

	while (left > 0) {
		n = recv(d->src, d->buf, left, MSG_DONTWAIT);
		if (n <= 0) /* they were there a moment ago and nobody else reads */
			return relay_fail(f, d->src_side, n < 0 ? -errno : -EPIPE);
		left -= (size_t)n;
	}
	d->consumed += d->peeked;
	d->peeked = 0;
	return 0;
}

int sockmap_pump(struct flow *f, struct dir *d, uint64_t now)
{
	bool copied = true;
	ssize_t n;
	int round, err = 0;

	if (d->ks == KS_KERNEL)
		return d->rdhup || d->fin_wait ? pause_if_src_has_bytes(f, d, now) : 0;
	/* Writing while redirected bytes wait for dst would put ours first. */
	if (!d->drained)
		return 0;
	for (round = 0; round < PUMP_ROUNDS && copied; round++) {
		if (d->len == 0 && d->peeked == 0) {
			if (d->eof)
				break;
			err = copy_passed_bytes(f, d, now, &copied);
			if (err || !copied)
				break;
		}
		if (d->len > 0) {
			n = relay_send_held(f, d);
			if (n < 0)
				return (int)n;
			if (n == 0)
				break;
		}
		if (d->len == 0 && d->peeked > 0) {
			err = request_resume(f, d, now);
			if (!err)
				err = remove_copied_bytes(f, d);
			if (err)
				return err;
		}
	}
	if (err)
		return err;
	if (d->len == 0 && d->peeked == 0 && (d->ks == KS_RESUMING || d->eof || !copied))
		relay_release_buf(d);
	return 0;
}

/* The verdict stamps each skb it sees with bpf_ktime_get_ns(), which is
 * CLOCK_MONOTONIC, the clock of the loop's now.
 */
static void note_kernel_activity(struct flow *f, const struct sockfwd_state *state)
{
	uint64_t ms = state->last_ns / 1000000;

	if (ms > f->active_ms)
		f->active_ms = ms;
}

void sockmap_refresh_active(struct flow *f)
{
	struct sockfwd_state state;
	int i;

	for (i = 0; i < 2; i++)
		if (f->cookie[i] && !kmaps_state(f->cookie[i], &state))
			note_kernel_activity(f, &state);
}

/* src sent FIN: pass it on once the last redirected byte and the last byte
 * the helper holds have entered dst's send queue, in that order.
 */
static int check_fin(struct flow *f, struct dir *d, uint64_t now)
{
	uint64_t redirected;
	int64_t backlog;
	int err;

	err = redirect_backlog(f, d, &backlog, &redirected);
	if (err)
		return relay_fail(f, d->dst_side, err);
	/* recv() says EOF as soon as the FIN is in and its message queue is
	 * empty, even with passed bytes still in the psock's backlog behind
	 * bytes redirected to this socket: the program's count of passed
	 * bytes tells.
	 */
	if (d->passed > d->consumed) {
		d->eof = false;
		d->fin_wait = true;
		schedule_check(d, now, CHECK_PENDING_MS);
		return 0;
	}
	if (backlog > 0) {
		/* Said once: tests wait for it to know the helper has looked,
		 * and kept the FIN back.
		 */
		if (config->verbose && !d->fin_held)
			logmsg("%s %s: FIN held, %lld redirected bytes still queued",
			       f->client_text, dir_name(d), (long long)backlog);
		d->fin_held = true;
		schedule_check(d, now, CHECK_PENDING_MS);
		return 0;
	}
	d->drained = true;
	if (d->len == 0)
		return relay_pass_fin_on(f, d);
	schedule_check(d, now, CHECK_PENDING_MS);
	return 0;
}

/* KS_KERNEL: pause if the program stopped at the limit, else raise the
 * limit by what has left the queue.
 */
static int check_redirecting(struct flow *f, struct dir *d, uint64_t now)
{
	struct sockfwd_state state;
	uint64_t redirected, entered;
	int64_t backlog;
	int err;

	/* The queue grows only with what is redirected: an idle direction
	 * costs one map lookup, not three syscalls (10,000 idle flows).
	 */
	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return relay_fail(f, d->src_side, err);
	note_kernel_activity(f, &state);
	if (state.passed != d->consumed)
		return pause_direction(f, d, "the program stopped at the queue limit", now);
	if (state.redirected == d->last_redirected && !state.trim_failed) {
		check_later(d, now);
		return 0;
	}
	err = redirect_backlog(f, d, &backlog, &redirected);
	if (err)
		return relay_fail(f, d->dst_side, err);
	/* What has left the queue may be replaced, up to the limit. */
	entered = redirected - (uint64_t)(backlog > 0 ? backlog : 0);
	/* Redirecting, the helper has read every passed byte: REDIRECT and
	 * RESUME say the same (sockfwd.h).
	 */
	if (redirect_limit(entered) > d->limit) {
		err = write_ctl(d, SOCKFWD_REDIRECT, d->consumed, redirect_limit(entered));
		if (err)
			return relay_fail(f, d->src_side, err);
	}
	schedule_check(d, now, CHECK_ACTIVE_MS);
	d->last_redirected = redirected;
	return 0;
}

/* KS_PASS: the helper may write to dst once the redirect queue is empty. */
static int check_paused(struct flow *f, struct dir *d, uint64_t now)
{
	uint64_t redirected;
	int64_t backlog;
	int err;

	if (!d->drained) {
		err = redirect_backlog(f, d, &backlog, &redirected);
		if (err)
			return relay_fail(f, d->dst_side, err);
		d->drained = backlog <= 0;
	}
	schedule_check(d, now, d->drained ? CHECK_IDLE_MAX_MS : CHECK_PENDING_MS);
	return 0;
}

/* KS_RESUMING: has the program taken the direction back? */
static int check_resuming(struct flow *f, struct dir *d, uint64_t now)
{
	struct sockfwd_state state;
	int err;

	err = kmaps_state(d->src_cookie, &state);
	if (err)
		return relay_fail(f, d->src_side, err);
	if (state.resumed_gen == d->gen) {
		note_resumed(f, d);
		schedule_check(d, now, CHECK_ACTIVE_MS);
	} else {
		check_later(d, now);
	}
	return 0;
}

static int check_direction(struct flow *f, struct dir *d, uint64_t now)
{
	if (d->ks == KS_NONE || d->shut || now < d->next_check)
		return 0;
	if (d->eof)
		return check_fin(f, d, now);
	switch (d->ks) {
	case KS_KERNEL:
		return check_redirecting(f, d, now);
	case KS_PASS:
		return check_paused(f, d, now);
	case KS_RESUMING:
		return check_resuming(f, d, now);
	default:
		return 0;
	}
}

/* The timer's turn: each direction whose time has come. */
int sockmap_check(struct flow *f, uint64_t now)
{
	int i, err;

	for (i = 0; i < 2; i++) {
		err = check_direction(f, &f->d[i], now);
		if (err)
			return err;
	}
	return 0;
}

uint64_t sockmap_next_check(const struct flow *f)
{
	uint64_t next = UINT64_MAX;
	int i;

	for (i = 0; i < 2; i++)
		if (f->d[i].ks != KS_NONE && !f->d[i].shut && f->d[i].next_check < next)
			next = f->d[i].next_check;
	return next;
}
