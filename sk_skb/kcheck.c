// SPDX-License-Identifier: GPL-2.0
/* What this kernel's sockmap does with the behaviours relay_sockmap.c relies on,
 * probed once at start through the pinned maps and the attached verdict,
 * with two TCP pairs over loopback arranged as a flow is:
 *
 *   a --> b ==verdict==> c --> d      (b and c in the SOCKHASH, peers)
 *
 *   early_bytes    bytes already in b when it joins the map reach d once a
 *                  recv(MSG_PEEK) on b runs the verdict on them.  5.10 left
 *                  them in b until more came ("stall"): a client that speaks
 *                  first, then waits, waited for ever.
 *   backlog_retry  bytes redirected to c while c's send buffer and d's
 *                  window are full go on once d reads ("stall" if not): the
 *                  redirect queue retries when the destination has room.
 *   fin            after a's FIN, poll() on b reports POLLRDHUP and recv()
 *                  on b returns 0: the helper's only sign of the end.
 *                  Kernels without the upstream fix "bpf, sockmap: Handle
 *                  fin correctly" (2023) returned EAGAIN ("eagain").
 *
 * Children of a listener in the map are not probed: sockfwd never maps a
 * listener, so what the kernel does there cannot reach its flows.
 * Each step waits at most PROBE_WAIT_MS; the whole took 13-21 ms here (the
 * retry step most: 8 KiB through the smallest buffers).
 */
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fwd.h"
#include "sockfwd.h"

#define PROBE_WAIT_MS 200
#define EARLY_BYTES 1000
#define RETRY_BYTES (8 << 10) /* far more than c's send buffer and d's window */

struct probe {
	int l1, l2, a, b, c, d;
	uint64_t cookie_b, cookie_c;
	uint64_t deadline;
	uint8_t buf[RETRY_BYTES];
};

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

static bool wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now = now_ms();

	return now < deadline && poll(&p, 1, (int)(deadline - now)) == 1 && (p.revents & events);
}

/* A listener on 127.0.0.1 with a kernel-chosen port; rcvbuf > 0 sets the
 * receive buffer its children inherit (and so the window they offer).
 */
static int listen_loopback(int rcvbuf, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) < 0 || listen(fd, 2) < 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects to l and accepts: *client and *server, or -1. */
static int pair_open(int l, const struct sockaddr_in *sin, uint64_t deadline, int *client,
		     int *server)
{
	*client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*client < 0)
		return -1;
	if (connect(*client, (const struct sockaddr *)sin, sizeof(*sin)) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	if (!wait_fd(l, POLLIN, deadline) || !wait_fd(*client, POLLOUT, deadline))
		return -1;
	*server = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return *server < 0 ? -1 : 0;
}

static int probe_open(struct probe *p)
{
	struct sockaddr_in sin1, sin2;
	int small = 1; /* the kernel's smallest buffer */

	p->a = p->b = p->c = p->d = -1;
	p->l1 = listen_loopback(0, &sin1);
	p->l2 = listen_loopback(small, &sin2);
	if (p->l1 < 0 || p->l2 < 0 || pair_open(p->l1, &sin1, p->deadline, &p->a, &p->b) ||
	    pair_open(p->l2, &sin2, p->deadline, &p->c, &p->d))
		return -1;
	setsockopt(p->c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (kmaps_cookie(p->b, &p->cookie_b) || kmaps_cookie(p->c, &p->cookie_c))
		return -1;
	return 0;
}

static void probe_close(struct probe *p)
{
	int *fds[] = { &p->l1, &p->l2, &p->a, &p->b, &p->c, &p->d };
	size_t i;

	/* Closing b and c drops their SOCKHASH entries; the hashes are ours. */
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (p->cookie_b)
		kmaps_forget(p->cookie_b);
	if (p->cookie_c)
		kmaps_forget(p->cookie_c);
}

/* Sends len bytes of p->buf from fd; false if they did not all go. */
static bool send_within(int fd, const uint8_t *buf, size_t len, uint64_t deadline)
{
	ssize_t n;

	while (len > 0) {
		if (!wait_fd(fd, POLLOUT, deadline))
			return false;
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			return false;
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	return true;
}

/* Reads exactly the len bytes in want from fd; false if others or fewer came. */
static bool recv_within(int fd, const uint8_t *want, size_t len, uint64_t deadline)
{
	uint8_t got[4096];
	ssize_t n;

	while (len > 0) {
		if (!wait_fd(fd, POLLIN, deadline))
			return false;
		n = recv(fd, got, len < sizeof(got) ? len : sizeof(got), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN) || (n > 0 && memcmp(got, want, n)))
			return false;
		if (n > 0) {
			want += n;
			len -= (size_t)n;
		}
	}
	return true;
}

/* Bytes wait in b (FIONREAD says so), then b and c enter the map as
 * relay_sockmap.c's sockmap_start puts them there, and a MSG_PEEK runs the verdict.
 */
static const char *probe_early_bytes(struct probe *p)
{
	int queued = 0, err;
	char peek;

	fill(p->buf, EARLY_BYTES, 1);
	if (!send_within(p->a, p->buf, EARLY_BYTES, p->deadline))
		return "unknown";
	while (ioctl(p->b, FIONREAD, &queued) == 0 && queued < EARLY_BYTES) {
		if (now_ms() >= p->deadline)
			return "unknown";
		usleep(100);
	}
	err = kmaps_prepare(p->cookie_b, UINT64_MAX);
	if (!err)
		err = kmaps_prepare(p->cookie_c, UINT64_MAX);
	if (!err)
		err = kmaps_insert(p->cookie_c, p->b);
	if (!err)
		err = kmaps_insert(p->cookie_b, p->c);
	if (err)
		return "unknown";
	recv(p->b, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
	return recv_within(p->d, p->buf, EARLY_BYTES, p->deadline) ? "ok" : "stall";
}

/* Bytes redirected to c that have not entered its send queue: its stream
 * so far is bytes_acked + SIOCOUTQ, less the SYN that bytes_acked counts.
 */
static bool redirect_queue_holds(struct probe *p, uint64_t redirected)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);
	int outq;

	if (getsockopt(p->c, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
	    ioctl(p->c, SIOCOUTQ, &outq) < 0)
		return false;
	return info.tcpi_bytes_acked - 1 + (uint64_t)outq < redirected;
}

/* d reads nothing until RETRY_BYTES are redirected: c's send buffer (the
 * smallest) and d's window (the smallest) fill, the rest waits in c's
 * redirect queue.  Then d reads: all of it must come.
 */
static const char *probe_backlog_retry(struct probe *p)
{
	struct sockfwd_state state;
	uint64_t before;

	if (kmaps_state(p->cookie_b, &state))
		return "unknown";
	before = state.redirected;
	fill(p->buf, RETRY_BYTES, 2);
	if (!send_within(p->a, p->buf, RETRY_BYTES, p->deadline))
		return "stall";
	while (!kmaps_state(p->cookie_b, &state) && state.redirected - before < RETRY_BYTES &&
	       now_ms() < p->deadline)
		usleep(100);
	/* Else c had room for all, and nothing had to wait: not a test. */
	if (state.redirected - before < RETRY_BYTES || !redirect_queue_holds(p, state.redirected))
		return "unknown";
	return recv_within(p->d, p->buf, RETRY_BYTES, p->deadline) ? "ok" : "stall";
}

static const char *probe_fin(struct probe *p)
{
	ssize_t n;
	char byte;

	shutdown(p->a, SHUT_WR);
	if (!wait_fd(p->b, POLLRDHUP, p->deadline))
		return "unseen";
	n = recv(p->b, &byte, 1, MSG_DONTWAIT);
	if (n == 0)
		return "ok";
	return n < 0 && errno == EAGAIN ? "eagain" : "unknown";
}

/* Probes with the maps open and the verdict attached; otherwise says why
 * not in k->why and leaves every fact "unknown".
 */
void kcheck_run(struct kfacts *k)
{
	static struct probe p;
	uint64_t start = now_ms();
	struct utsname uts;

	k->early_bytes = k->backlog_retry = k->fin = "unknown";
	snprintf(k->release, sizeof(k->release), "%s", uname(&uts) ? "?" : uts.release);
	k->why[0] = '\0';
	if (!kmaps_available()) {
		snprintf(k->why, sizeof(k->why), "not probed: maps not used");
		return;
	}
	if (!kmaps_verdict_attached()) {
		snprintf(k->why, sizeof(k->why), "not probed: no verdict program attached");
		return;
	}
	memset(&p, 0, sizeof(p));
	p.deadline = start + PROBE_WAIT_MS;
	if (probe_open(&p)) {
		snprintf(k->why, sizeof(k->why), "not probed: loopback pairs: %s", strerror(errno));
	} else {
		k->early_bytes = probe_early_bytes(&p);
		/* Each step gets its own time: one that stalls spends it all. */
		p.deadline = now_ms() + PROBE_WAIT_MS;
		if (!strcmp(k->early_bytes, "ok"))
			k->backlog_retry = probe_backlog_retry(&p);
		p.deadline = now_ms() + PROBE_WAIT_MS;
		if (!strcmp(k->early_bytes, "ok"))
			k->fin = probe_fin(&p);
		snprintf(k->why, sizeof(k->why), "probed in %llu ms",
			 (unsigned long long)(now_ms() - start));
	}
	probe_close(&p);
}

/* Where nothing could be probed: the kernels sockfwd was tried on.  In the
 * kernel matrix (tests/kernels, TCG, 2026-11-25) 5.10 (Debian 11,
 * 5.10.0-32) left bytes that reached a socket before it joined the map in
 * its receive queue, and flows stalled: 1000 bytes then silence in 1 of 1
 * boots; the first 8 MiB-each-way transfer after boot in 1 of 1 with 1
 * vCPU and 3 of 3 with 2 (the target's first 64 KiB stuck in the helper's
 * socket).  6.1 and 6.12 passed every run; 5.11-6.0 were not tried.
 */
static const char *version_unsafe(const struct kfacts *k, char *why, size_t size)
{
	int major, minor;

	if (sscanf(k->release, "%d.%d", &major, &minor) != 2)
		return NULL;
	if (major > 6 || (major == 6 && minor >= 1))
		return NULL;
	snprintf(why, size,
		 "kernel %s not probed and older than 6.1, where bytes that arrive "
		 "before a socket joins the map wait there for more",
		 k->release);
	return why;
}

/* Why sockmap is not safe with these facts (in WHY), or NULL.  A fact found
 * wrong rules it out; when none could be probed, the version decides.
 */
const char *kcheck_sockmap_unsafe(const struct kfacts *k, char *why, size_t size)
{
	if (strcmp(k->early_bytes, "ok") && strcmp(k->early_bytes, "unknown"))
		snprintf(why, size, "kernel %s: bytes queued before a socket joins the map: %s",
			 k->release, k->early_bytes);
	else if (strcmp(k->backlog_retry, "ok") && strcmp(k->backlog_retry, "unknown"))
		snprintf(why, size, "kernel %s: redirects to a full destination: %s", k->release,
			 k->backlog_retry);
	else if (strcmp(k->fin, "ok") && strcmp(k->fin, "unknown"))
		snprintf(why, size, "kernel %s: FIN on a socket in the map: %s", k->release,
			 k->fin);
	else if (!strcmp(k->early_bytes, "unknown") || !strcmp(k->backlog_retry, "unknown") ||
		 !strcmp(k->fin, "unknown"))
		return version_unsafe(k, why, size);
	else
		return NULL;
	return why;
}
