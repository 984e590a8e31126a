// SPDX-License-Identifier: GPL-2.0
/* Name lookups for SOCKS5 requests that carry a domain name, without
 * blocking the event loop.  getaddrinfo() honours /etc/hosts, nsswitch and
 * /etc/resolv.conf, and blocks for as long as the resolver takes (seconds
 * when a server does not answer); getaddrinfo_a() would do the same in
 * threads of its own that we could not bound.  So: up to RESOLVE_THREADS
 * threads started as work comes, a queue of at most RESOLVE_QUEUE_MAX
 * lookups, and an eventfd that wakes the loop when answers are done.
 *
 * Ownership: the loop creates a request and queues it; a thread takes it,
 * fills the answer and moves it to the done list; the loop calls its done
 * function and frees it.  Only the loop reads or writes done and owner, so
 * a flow that ends while its lookup runs clears them (resolve_cancel) and
 * the answer, when it comes, touches nothing.  A request still queued is
 * freed at once.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "resolve.h"

#define RESOLVE_THREADS 4
/* Lookups waiting for a thread; past it a request is refused at once. */
#define RESOLVE_QUEUE_MAX 1024

struct resolve_request {
	struct resolve_request *next;
	char host[FWD_MAX_HOST];
	struct resolve_answer answer;
	/* loop only */
	resolve_done_fn done;
	void *owner;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static struct resolve_request *queue_head, *queue_tail, *done_list;
static int queued, threads, idle;

static struct {
	enum fwd_kind kind; /* first: epoll data points here */
	int fd;
} wakeup = { KIND_RESOLVER, -1 };

static void lookup(struct resolve_request *r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res,
			*ai;
	struct resolve_answer *a = &r->answer;

	a->gai_err = getaddrinfo(r->host, NULL, &hints, &res);
	if (a->gai_err == EAI_NONAME || a->gai_err == EAI_NODATA || a->gai_err == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides IPv6 in a namespace with only loopback v6. */
		hints.ai_flags = 0;
		a->gai_err = getaddrinfo(r->host, NULL, &hints, &res);
	}
	if (a->gai_err)
		return;
	for (ai = res; ai && a->naddr < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a->addr[0].ss))
			continue;
		memcpy(&a->addr[a->naddr].ss, ai->ai_addr, ai->ai_addrlen);
		a->addr[a->naddr++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (a->naddr == 0)
		a->gai_err = EAI_NODATA;
}

static void *worker(void *arg)
{
	struct resolve_request *r;
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		idle++;
		while (!queue_head)
			pthread_cond_wait(&work_ready, &lock);
		idle--;
		r = queue_head;
		queue_head = r->next;
		if (!queue_head)
			queue_tail = NULL;
		queued--;
		pthread_mutex_unlock(&lock);
		lookup(r);
		pthread_mutex_lock(&lock);
		r->next = done_list;
		done_list = r;
		/* The counter only grows: a full eventfd (2^64-1) cannot happen. */
		if (write(wakeup.fd, &one, sizeof(one)) < 0)
			continue;
	}
	return NULL;
}

/* The eventfd, registered with the loop on first use. */
static int wakeup_open(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &wakeup };

	if (wakeup.fd >= 0)
		return 0;
	wakeup.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wakeup.fd < 0)
		return -errno;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakeup.fd, &ev) < 0) {
		close(wakeup.fd);
		wakeup.fd = -1;
		return -errno;
	}
	return 0;
}

/* Under lock, before a request is queued: one more thread unless an idle
 * one is left for it.  An idle thread already signalled for a queued
 * request still counts in idle until it wakes, so idle threads are free
 * only beyond the queue's length.  Signals stay with the loop's signalfd:
 * a thread blocks them all.
 */
static void grow_pool(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;

	if (idle > queued || threads >= RESOLVE_THREADS)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 512 << 10);
	if (pthread_create(&tid, &attr, worker, NULL) == 0)
		threads++;
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

struct resolve_request *resolve_start(const char *host, resolve_done_fn done, void *owner)
{
	struct resolve_request *r;

	if (wakeup_open() < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->done = done;
	r->owner = owner;
	pthread_mutex_lock(&lock);
	grow_pool();
	if (queued >= RESOLVE_QUEUE_MAX || threads == 0) {
		pthread_mutex_unlock(&lock);
		free(r);
		return NULL;
	}
	if (queue_tail)
		queue_tail->next = r;
	else
		queue_head = r;
	queue_tail = r;
	queued++;
	pthread_cond_signal(&work_ready);
	pthread_mutex_unlock(&lock);
	return r;
}

void resolve_cancel(struct resolve_request *r)
{
	struct resolve_request **p;

	r->done = NULL;
	r->owner = NULL;
	pthread_mutex_lock(&lock);
	for (p = &queue_head; *p && *p != r; p = &(*p)->next)
		;
	if (*p) {
		/* Not taken by a thread yet: nobody else holds it. */
		*p = r->next;
		if (queue_tail == r) {
			for (queue_tail = queue_head; queue_tail && queue_tail->next;
			     queue_tail = queue_tail->next)
				;
		}
		queued--;
		free(r);
	}
	pthread_mutex_unlock(&lock);
}

const struct resolve_answer *resolve_answer(const struct resolve_request *r)
{
	return &r->answer;
}

void resolve_event(void)
{
	struct resolve_request *r, *next;
	uint64_t count;

	if (read(wakeup.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&lock);
	r = done_list;
	done_list = NULL;
	pthread_mutex_unlock(&lock);
	for (; r; r = next) {
		next = r->next;
		if (r->done)
			r->done(r->owner, r);
		free(r);
	}
}
