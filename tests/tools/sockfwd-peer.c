// SPDX-License-Identifier: GPL-2.0
/* Test peer for sockfwd: connects or accepts, sends a reproducible byte
 * stream while receiving, and shapes the ending (half-close, reset, stall).
 *
 *   sockfwd-peer -c HOST:PORT | -l [ADDR]:PORT [options]
 *   sockfwd-peer -G BYTES [-s SEED]      write the stream to stdout
 *     -g BYTES  send this many bytes (stream of SEED) as soon as connected
 *     -s SEED   stream seed (default 1)
 *     -o FILE   write what is received there ("-" stdout; default discard)
 *     -H        after sending, keep the write side open until EOF is read
 *     -R        after sending (and -W), close with a reset (SO_LINGER 0)
 *     -W MS     wait this long after connecting before reading anything
 *     -w FILE   read nothing until FILE exists (a stalled receiver the test
 *               releases once it has measured)
 *     -D MS     wait this long after connecting before sending (an idle flow)
 *     -T MS     stop sending after MS, report how much went out
 *     -e        echo what is received (server), -m: accept many (fork each)
 *     -V        verify received bytes equal stream SEED (echo clients)
 *     -A        send only after EOF was received (answer a request)
 *     -r BYTES  stop reading after BYTES (then finish as if EOF came)
 *     -n COUNT  (client) make COUNT connections, -k PROCS at a time; with -z
 *               each sends a size drawn from [0, -g] and verifies the echo
 *     -P        report bytes sent every 250 ms on stderr ("progress sent=N")
 * Prints "sent=N received=M" on stderr and exits non-zero on a socket error
 * (the message names it), so tests can tell a reset from a clean close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "byte-stream.h"
#include "hostport.h"

#define CHUNK 65536

static uint64_t send_total, seed = 1;
static long wait_ms, delay_ms, send_ms = -1;
static bool keep_open, reset_end, echo, many, verify, after_eof, progress, random_size;
static uint64_t read_limit = UINT64_MAX;
static bool quiet;
static const char *out_path, *read_after_file;

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* One connection: send and receive at once until both are done. */
static int run(int fd)
{
	struct stream tx = { .state = seed }, check = { .state = seed };
	uint8_t *txbuf = malloc(CHUNK), *rxbuf = malloc(CHUNK), *expect = malloc(CHUNK);
	size_t tx_len = 0, tx_off = 0, echo_len = 0;
	uint64_t sent = 0, received = 0;
	bool rx_done = false, tx_done = false, shut = false;
	struct timespec start;
	long next_report = 0;
	FILE *out = NULL;
	int rc = 0;

	if (out_path)
		out = strcmp(out_path, "-") == 0 ? stdout : fopen(out_path, "w");
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!rx_done || !tx_done) {
		if (received >= read_limit)
			rx_done = true;
		struct pollfd pfd = { .fd = fd };
		bool idle = elapsed_ms(&start) < delay_ms;
		bool sending = !tx_done && !echo && (!after_eof || rx_done) && !idle;
		bool reading = !rx_done && elapsed_ms(&start) >= wait_ms &&
			       (!read_after_file || access(read_after_file, F_OK) == 0);
		ssize_t n;

		if (progress && elapsed_ms(&start) >= next_report) {
			fprintf(stderr, "progress sent=%llu\n", (unsigned long long)sent);
			next_report += 250;
		}

		if (sending && send_ms >= 0 && elapsed_ms(&start) >= send_ms) {
			/* time is up: report what went out */
			sending = false;
			tx_done = true;
		}
		if (!echo && sent >= send_total) {
			tx_done = true;
			sending = false;
		}
		if (!echo && !sending && !idle && (!after_eof || rx_done) && !shut && !keep_open &&
		    !reset_end) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (!echo && !sending && !idle && reset_end && elapsed_ms(&start) >= wait_ms)
			break;
		if (echo && echo_len)
			pfd.events |= POLLOUT;
		else if (reading)
			pfd.events |= POLLIN;
		if (sending)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, reading || sending || echo_len ? 100 : 10) < 0 && errno != EINTR)
			break;
		if (sending && (pfd.revents & (POLLOUT | POLLERR))) {
			if (tx_off == tx_len) {
				tx_len = send_total - sent < CHUNK ? send_total - sent : CHUNK;
				stream_fill(&tx, txbuf, tx_len);
				tx_off = 0;
			}
			n = send(fd, txbuf + tx_off, tx_len - tx_off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				fprintf(stderr, "sockfwd-peer: send: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			if (n > 0) {
				tx_off += (size_t)n;
				sent += (uint64_t)n;
			}
		}
		if (echo && echo_len && (pfd.revents & (POLLOUT | POLLERR))) {
			n = send(fd, rxbuf, echo_len, MSG_NOSIGNAL);
			if (n < 0) {
				fprintf(stderr, "sockfwd-peer: send: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			memmove(rxbuf, rxbuf + n, echo_len - (size_t)n);
			echo_len -= (size_t)n;
			sent += (uint64_t)n;
			continue;
		}
		if (reading && !echo_len && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(fd, rxbuf,
				 read_limit - received < CHUNK ? read_limit - received : CHUNK,
				 MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN) {
				fprintf(stderr, "sockfwd-peer: recv: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			if (n == 0) {
				rx_done = true;
				if (echo) {
					shutdown(fd, SHUT_WR);
					tx_done = true;
				}
			}
			if (n > 0) {
				if (verify) {
					stream_fill(&check, expect, (size_t)n);
					if (memcmp(expect, rxbuf, (size_t)n) != 0) {
						fprintf(stderr,
							"sockfwd-peer: mismatch near byte %llu\n",
							(unsigned long long)received);
						rc = 1;
						break;
					}
				}
				received += (uint64_t)n;
				if (out)
					fwrite(rxbuf, 1, (size_t)n, out);
				if (echo)
					echo_len = (size_t)n;
			}
		}
	}
	if (reset_end) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
	if (out)
		fflush(out);
	if (verify && received != sent) {
		fprintf(stderr, "sockfwd-peer: echo incomplete: sent %llu, received %llu\n",
			(unsigned long long)sent, (unsigned long long)received);
		rc = 1;
	}
	if (!quiet)
		fprintf(stderr, "sent=%llu received=%llu\n", (unsigned long long)sent,
			(unsigned long long)received);
	free(txbuf);
	free(rxbuf);
	free(expect);
	return rc;
}

/* COUNT connections from PROCS processes; the exit status says whether
 * every one of them completed and verified.
 */
static int run_many(const struct sockaddr_storage *ss, socklen_t len, long count, long procs)
{
	uint64_t max_size = send_total, base_seed = seed;
	long p, i, failed = 0;
	int status;

	for (p = 0; p < procs; p++) {
		if (fork() != 0)
			continue;
		quiet = true;
		for (i = p; i < count; i += procs) {
			struct stream pick = { .state = base_seed * 1000003 + (uint64_t)i };
			int fd = socket(ss->ss_family, SOCK_STREAM, 0);

			seed = base_seed + (uint64_t)i;
			send_total = random_size ? splitmix(&pick.state) % (max_size + 1) :
						   max_size;
			/* -V -H: the echo of every byte ends the exchange, then we close */
			if (verify && keep_open)
				read_limit = send_total;
			if (connect(fd, (const struct sockaddr *)ss, len) < 0 || run(fd) != 0)
				_exit(1);
		}
		_exit(0);
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	fprintf(stderr, "connections=%ld failed_procs=%ld\n", count, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *connect_to = NULL, *listen_on = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	int opt, fd, one = 1;
	long long gen = -1;
	long count = 0, procs = 1;

	while ((opt = getopt(argc, argv, "c:l:g:s:o:HRW:w:D:T:emVG:Ar:n:k:zP")) != -1) {
		switch (opt) {
		case 'c':
			connect_to = optarg;
			break;
		case 'l':
			listen_on = optarg;
			break;
		case 'g':
			send_total = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'H':
			keep_open = true;
			break;
		case 'R':
			reset_end = true;
			break;
		case 'W':
			wait_ms = atol(optarg);
			break;
		case 'w':
			read_after_file = optarg;
			break;
		case 'D':
			delay_ms = atol(optarg);
			break;
		case 'T':
			send_ms = atol(optarg);
			break;
		case 'e':
			echo = true;
			break;
		case 'm':
			many = true;
			break;
		case 'V':
			verify = true;
			break;
		case 'G':
			gen = strtoll(optarg, NULL, 0);
			break;
		case 'A':
			after_eof = true;
			break;
		case 'r':
			read_limit = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 'k':
			procs = atol(optarg);
			break;
		case 'z':
			random_size = true;
			break;
		case 'P':
			progress = true;
			break;
		default:
			return 2;
		}
	}
	if (gen >= 0) {
		struct stream s = { .state = seed };
		uint8_t *buf = malloc(CHUNK);

		while (gen > 0) {
			size_t n = gen < CHUNK ? (size_t)gen : CHUNK;

			stream_fill(&s, buf, n);
			if (fwrite(buf, 1, n, stdout) != n)
				return 1;
			gen -= (long long)n;
		}
		return 0;
	}
	if (!!connect_to == !!listen_on)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (parse_hostport(connect_to ? connect_to : listen_on, !connect_to, &ss, &len) < 0)
		return 2;
	if (connect_to && count > 0)
		return run_many(&ss, len, count, procs);
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (connect_to) {
		if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
			fprintf(stderr, "sockfwd-peer: connect %s: %s\n", connect_to,
				strerror(errno));
			return 1;
		}
		return run(fd);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		fprintf(stderr, "sockfwd-peer: listen %s: %s\n", listen_on, strerror(errno));
		return 1;
	}
	if (!many) {
		int c = accept(fd, NULL, NULL);

		close(fd);
		return c < 0 ? 1 : run(c);
	}
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			_exit(run(c));
		}
		close(c);
	}
}
