// SPDX-License-Identifier: GPL-2.0
/* Moving bytes once the upstream connection is ready, in one of three modes:
 *   sockmap: the verdict program redirects; the helper only passes FIN on
 *            (after every redirected byte has left), bounds the peer's
 *            redirect queue and copies while a direction is paused
 *            (relay_sockmap.c);
 *   splice:  socket -> pipe -> socket, no copy to user space;
 *   copy:    recv()/send() through a buffer.
 * Here: the choice of mode, the dispatch to it, copy and splice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"
#include "sockfwd.h"

/* Paused sockmap directions' buffers beyond BUF_SIZE, all flows together.
 * Over it a direction moves BUF_SIZE at a time: slower to hand back to the
 * program, never stuck.
 */
#define BUF_EXTRA_MAX ((size_t)64 << 20)
#define PIPE_SIZE (256 * 1024)

static const struct fwd_config *config;
/* Bytes of all directions' buffers beyond BUF_SIZE. */
static size_t buf_extra_total;

void relay_init(const struct fwd_config *settings)
{
	config = settings;
	sockmap_init(settings);
}

int relay_fail(struct flow *f, int side, int err)
{
	f->fail_side = side;
	return err;
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

void relay_start(struct flow *f, uint64_t now)
{
	enum fwd_mode want = config->mode;
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
			switch (sockmap_start(f, now)) {
			case SOCKMAP_STARTED:
				f->mode = MODE_SOCKMAP;
				return;
			case SOCKMAP_CLIENT_ONLY:
				counters.fallbacks++;
				return; /* copy: only recv() can read the client now */
			case SOCKMAP_NOT_STARTED:
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

/* What a buffer of cap bytes holds beyond BUF_SIZE. */
static size_t buf_extra(size_t cap)
{
	return cap > BUF_SIZE ? cap - BUF_SIZE : 0;
}

int relay_grow_buf(struct dir *d, size_t size)
{
	char *buf;

	if (d->cap >= size)
		return 0;
	buf = realloc(d->buf, size);
	if (!buf)
		return -ENOMEM;
	buf_extra_total += buf_extra(size) - buf_extra(d->cap);
	d->buf = buf;
	d->cap = size;
	return 0;
}

void relay_release_buf(struct dir *d)
{
	buf_extra_total -= buf_extra(d->cap);
	free(d->buf);
	d->buf = NULL;
	d->cap = 0;
	d->off = 0;
}

size_t relay_buf_limit(const struct dir *d)
{
	size_t room = buf_extra_total >= BUF_EXTRA_MAX ? 0 : BUF_EXTRA_MAX - buf_extra_total;

	return BUF_SIZE + buf_extra(d->cap) + room;
}

ssize_t relay_send_held(struct flow *f, struct dir *d)
{
	ssize_t n = send(d->dst, d->buf + d->off, d->len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 :
								 relay_fail(f, d->dst_side, -errno);
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
			err = relay_grow_buf(d, BUF_SIZE);
			if (err)
				return relay_fail(f, d->src_side, err);
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
				return relay_fail(f, d->src_side, -errno);
			}
		}
		if (d->len > 0) {
			n = relay_send_held(f, d);
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
		relay_release_buf(d);
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
				return relay_fail(f, d->src_side, -errno);
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
				return relay_fail(f, d->dst_side, -errno);
			}
		}
		if (!progress)
			break;
	}
	return 0;
}

int relay_pass_fin_on(struct flow *f, struct dir *d)
{
	if (shutdown(d->dst, SHUT_WR) < 0 && errno != ENOTCONN)
		return relay_fail(f, d->dst_side, -errno);
	d->shut = true;
	return 0;
}

/* Bytes the helper moved, or took from a source: progress for --idle-timeout. */
static uint64_t helper_progress(const struct flow *f)
{
	return f->d[0].bytes + f->d[0].consumed + f->d[1].bytes + f->d[1].consumed;
}

int relay_pump(struct flow *f, uint64_t now)
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
			err = sockmap_pump(f, d, now);
		else
			err = pump_copy(f, d);
		if (err)
			return err;
		/* In sockmap mode FIN waits for relay_check to see the redirect
		 * queue empty: shutting down now would lose what is queued.
		 */
		if (d->eof && f->mode != MODE_SOCKMAP && d->len == 0 && d->in_pipe == 0) {
			err = relay_pass_fin_on(f, d);
			if (err)
				return err;
		}
	}
	if (helper_progress(f) != before)
		f->active_ms = now;
	return 0;
}

/* Only the sockmap mode has anything to do on the timer. */
int relay_check(struct flow *f, uint64_t now)
{
	int err;

	if (f->mode != MODE_SOCKMAP)
		return 0;
	err = sockmap_check(f, now);
	return err ? err : relay_pump(f, now);
}

uint64_t relay_next_check(const struct flow *f)
{
	return f->mode == MODE_SOCKMAP ? sockmap_next_check(f) : UINT64_MAX;
}

void relay_kick(struct flow *f, uint64_t cookie, uint64_t now)
{
	if (f->mode == MODE_SOCKMAP)
		sockmap_kick(f, cookie, now);
}

void relay_refresh_active(struct flow *f)
{
	if (f->mode == MODE_SOCKMAP)
		sockmap_refresh_active(f);
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
			/* Copied bytes stay readable until they are removed
			 * from src: only ask for more after that, and the timer
			 * watches the drain.
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
			if (config->verbose)
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

		relay_release_buf(d);
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
