// SPDX-License-Identifier: GPL-2.0
/* The event loop: one epoll_wait() at a time, each ready descriptor handed
 * to its owner by its kind, then the timer's tick when it is due.  The
 * loop owns epfd, the tick and the clock, and handles the signals; the
 * layers below (flow.c, listen.c, status.c, resolve.c) register their
 * descriptors and ask for ticks, and the relay under them returns what it
 * wants instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"
#include "resolve.h"

/* The timer looks at every flow at least once a second (idle timeout). */
#define TICK_MAX_MS 1000
#define EVENTS_PER_WAIT 256

int epfd = -1;

static uint64_t next_tick_ms = UINT64_MAX;

static struct {
	enum fwd_kind kind; /* first: epoll data points here */
	int fd;
} signal_source = { .kind = KIND_SIGNAL, .fd = -1 };

/* SIGTERM: no more accepts, running flows finish until the deadline. */
static bool stopping;
static uint64_t stop_deadline;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tick_at(uint64_t when_ms)
{
	if (when_ms < next_tick_ms)
		next_tick_ms = when_ms;
}

int loop_init(void)
{
	int err;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd >= 0)
		return 0;
	err = -errno;
	fprintf(stderr, "sockfwd: epoll_create1: %s\n", strerror(-err));
	return err;
}

int loop_watch_signals(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &signal_source };
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal_source.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_source.fd < 0) {
		err = -errno;
		fprintf(stderr, "sockfwd: signalfd: %s\n", strerror(-err));
		return err;
	}
	epoll_ctl(epfd, EPOLL_CTL_ADD, signal_source.fd, &ev);
	return 0;
}

static void handle_signals(int drain_timeout_ms)
{
	struct signalfd_siginfo si;

	while (read(signal_source.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			counters_log();
		} else if (si.ssi_signo == SIGHUP) {
			if (!stopping)
				listeners_reload();
		} else if (!stopping) {
			stopping = true;
			stop_deadline = now_ms() + (uint64_t)drain_timeout_ms;
			listeners_close();
			logmsg("stopping: %d flows to finish within %d ms", flow_count(),
			       drain_timeout_ms);
		}
	}
}

static void dispatch(struct epoll_event *ev, int drain_timeout_ms)
{
	enum fwd_kind *kind = ev->data.ptr;

	switch (*kind) {
	case KIND_LISTENER:
		flow_accept(ev->data.ptr);
		break;
	case KIND_SIGNAL:
		handle_signals(drain_timeout_ms);
		break;
	case KIND_EVENTS:
		kmaps_events_read();
		break;
	case KIND_STATUS:
		status_event(ev->data.ptr, ev->events);
		break;
	case KIND_RESOLVER:
		resolve_event();
		break;
	case KIND_FLOW:
		flow_event(ev->data.ptr, ev->events);
		break;
	}
}

/* How long epoll_wait() may sleep: until the tick or the stop deadline. */
static int wait_ms(uint64_t now)
{
	uint64_t next = next_tick_ms;

	if (stopping && stop_deadline < next)
		next = stop_deadline;
	return next <= now ? 0 : next - now > TICK_MAX_MS ? TICK_MAX_MS : (int)(next - now);
}

int loop_run(int drain_timeout_ms)
{
	struct epoll_event events[EVENTS_PER_WAIT];
	uint64_t now;
	int n, i;

	for (;;) {
		now = now_ms();
		if (now >= next_tick_ms) {
			next_tick_ms = now + TICK_MAX_MS;
			flow_tick(now);
		}
		if (stopping && flow_count() == 0)
			return 0;
		if (stopping && now >= stop_deadline) {
			flow_abort_all("shutdown deadline");
			flow_reap();
			return 0;
		}
		n = epoll_wait(epfd, events, EVENTS_PER_WAIT, wait_ms(now));
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "sockfwd: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++)
			dispatch(&events[i], drain_timeout_ms);
		flow_reap();
		listeners_reap();
	}
}
