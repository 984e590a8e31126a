// SPDX-License-Identifier: GPL-2.0
/* Benchmark helpers for sockfwd (bench/sockfwd.sh):
 *   sockfwd-bench rr -c HOST:PORT [-n COUNT] [-s SIZE]
 *       SIZE-byte request, SIZE-byte answer, COUNT times on one connection
 *       (the server is "sockfwd-peer -e"); prints the rate, mean, median and
 *       99th percentile round trip.
 *   sockfwd-bench connect -c HOST:PORT [-n COUNT] [-s SIZE]
 *       COUNT times: connect, one SIZE-byte exchange with the echo server,
 *       close; prints connections per second (handshakes included).
 *   sockfwd-bench hold-server -l ADDR:PORT
 *       accepts any number of connections and keeps them open until EOF.
 *   sockfwd-bench hold-client -c HOST:PORT -n N [-t SECONDS]
 *       opens N connections, prints "established=N" once all are up, holds
 *       them SECONDS (default: until SIGTERM) and closes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "hostport.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int exchange(int fd, char *buf, size_t size)
{
	return send(fd, buf, size, 0) == (ssize_t)size ? read_full(fd, buf, size) : -1;
}

static int run_rr(const struct sockaddr_storage *ss, socklen_t len, long count, size_t size)
{
	char *buf = calloc(1, size);
	double *rtt = calloc((size_t)count, sizeof(double));
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), one = 1, err = 1;
	double start, took, t;
	long i;

	if (!buf || !rtt || fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		fprintf(stderr, "sockfwd-bench: connect: %s\n", strerror(errno));
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* one warm-up exchange: the first goes through the relay's setup */
	if (exchange(fd, buf, size) < 0) {
		fprintf(stderr, "sockfwd-bench: warm-up exchange failed\n");
		goto out;
	}
	start = now_s();
	for (i = 0; i < count; i++) {
		t = now_s();
		if (exchange(fd, buf, size) < 0) {
			fprintf(stderr, "sockfwd-bench: exchange %ld failed\n", i);
			goto out;
		}
		rtt[i] = now_s() - t;
	}
	took = now_s() - start;
	qsort(rtt, (size_t)count, sizeof(double), cmp_double);
	printf("rr transactions=%ld seconds=%.3f per_second=%.0f mean_us=%.2f p50_us=%.2f p99_us=%.2f\n",
	       count, took, (double)count / took, took / (double)count * 1e6, rtt[count / 2] * 1e6,
	       rtt[count * 99 / 100] * 1e6);
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	free(rtt);
	free(buf);
	return err;
}

static int run_connect(const struct sockaddr_storage *ss, socklen_t len, long count, size_t size)
{
	char *buf = calloc(1, size);
	double start, took;
	long i;
	int fd;

	start = now_s();
	for (i = 0; i < count && buf; i++) {
		fd = socket(ss->ss_family, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0 ||
		    exchange(fd, buf, size) < 0) {
			fprintf(stderr, "sockfwd-bench: connection %ld: %s\n", i, strerror(errno));
			return 1;
		}
		close(fd);
	}
	took = now_s() - start;
	printf("connect connections=%ld seconds=%.3f per_second=%.0f\n", count, took,
	       (double)count / took);
	free(buf);
	return 0;
}

static int run_hold_server(const struct sockaddr_storage *ss, socklen_t len)
{
	int lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, events[256];
	int one = 1, n, i;
	char buf[4096];

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (const struct sockaddr *)ss, len) < 0 || listen(lfd, 4096) < 0) {
		fprintf(stderr, "sockfwd-bench: listen: %s\n", strerror(errno));
		return 1;
	}
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		n = epoll_wait(ep, events, 256, 200);
		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event cev = { .events = EPOLLIN,
								   .data.fd = c };

					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				}
				continue;
			}
			if (recv(fd, buf, sizeof(buf), 0) <= 0)
				close(fd);
		}
	}
	return 0;
}

static int run_hold_client(const struct sockaddr_storage *ss, socklen_t len, long count,
			   long hold_s)
{
	int *fds = calloc((size_t)count, sizeof(int));
	long i, up = 0;
	double deadline;

	for (i = 0; i < count; i++) {
		fds[i] = socket(ss->ss_family, SOCK_STREAM, 0);
		if (fds[i] < 0 || connect(fds[i], (const struct sockaddr *)ss, len) < 0) {
			fprintf(stderr, "sockfwd-bench: connection %ld: %s\n", i, strerror(errno));
			break;
		}
		up++;
	}
	printf("established=%ld\n", up);
	fflush(stdout);
	deadline = now_s() + (double)hold_s;
	while (!stop && (hold_s <= 0 || now_s() < deadline))
		usleep(100000);
	for (i = 0; i < up; i++)
		close(fds[i]);
	free(fds);
	return up == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "", *addr = NULL;
	struct sockaddr_storage ss;
	struct rlimit nofile;
	long count = 10000, hold_s = 0;
	size_t size = 64;
	socklen_t len;
	int opt;

	optind = 2;
	while ((opt = getopt(argc, argv, "c:l:n:s:t:")) != -1) {
		switch (opt) {
		case 'c':
		case 'l':
			addr = optarg;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 's':
			size = (size_t)atol(optarg);
			break;
		case 't':
			hold_s = atol(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!addr || parse_hostport(addr, strcmp(mode, "hold-server") == 0, &ss, &len) < 0)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "rr") == 0)
		return run_rr(&ss, len, count, size);
	if (strcmp(mode, "connect") == 0)
		return run_connect(&ss, len, count, size);
	if (strcmp(mode, "hold-server") == 0)
		return run_hold_server(&ss, len);
	if (strcmp(mode, "hold-client") == 0)
		return run_hold_client(&ss, len, count, hold_s);
	fprintf(stderr, "usage: sockfwd-bench rr|connect|hold-server|hold-client ...\n");
	return 2;
}
