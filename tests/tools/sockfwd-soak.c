// SPDX-License-Identifier: GPL-2.0
/* Soak traffic for sockfwd: many concurrent connections of random sizes
 * and endings, from a client namespace through sockfwd to a server in
 * another namespace, both ends in this one process so that each end can
 * check the other's view.  tests/soak/soak.sh injects the faults and says
 * when (FAULTS file); this program judges every connection:
 *
 *   complete     both directions arrived whole, byte for byte (and their
 *                64-bit hashes are equal to the sent ones);
 *   error        the client saw an error (refused, reset, ...);
 *   short        the client saw a clean EOF before the whole stream: a
 *                violation, unless the flow went through the proxy and the
 *                proxy was killed meanwhile or the server reset it (a SOCKS
 *                proxy turns both into a FIN: nothing the forwarder can see);
 *   corrupt      a byte differs or too many came: always a violation;
 *   stalled      no progress for --stall-ms: a violation.
 *
 *   sockfwd-soak --client-ns PATH --server-ns PATH --server ADDR:PORT
 *                --direct ADDR:PORT [--proxied ADDR:PORT] [--duration S]
 *                [--conns N] [--max-size BYTES] [--seed N] [--faults FILE]
 *                [--stall-ms MS] [--max-total N]
 * Prints a summary and "soak: PASS" or "soak: FAIL ..." (exit 1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "byte-stream.h"

#define MAGIC 0x534f414bU /* "SOAK" */
#define CHUNK 65536
#define MAX_FAULTS 256

/* How a connection ends. */
enum ending {
	END_CLIENT_FIRST, /* client sends all, shuts down; server answers after EOF */
	END_SERVER_FIRST, /* server sends all, shuts down; client answers after EOF */
	END_TOGETHER, /* both send at once, each shuts down when done */
	END_CLIENT_RST, /* client resets part way */
	END_SERVER_RST, /* server resets part way */
	END_COUNT
};
static const char *const ending_name[] = { "client-first", "server-first", "together", "client-rst",
					   "server-rst" };

enum outcome { OUT_RUNNING, OUT_COMPLETE, OUT_ERROR, OUT_SHORT, OUT_CORRUPT, OUT_STALLED };

/* One side of a connection. */
struct end {
	int fd;
	bool is_server;
	struct conn *conn;
	struct stream tx, rx;
	uint64_t tx_total, sent, rx_total, received;
	uint64_t tx_hash, rx_hash, want_rx_hash;
	bool got_eof, shut, error;
	int err;
	uint8_t header[8];
	size_t header_have;
};

struct conn {
	uint32_t id;
	bool proxied;
	enum ending ending;
	uint64_t up_size, down_size, rst_after;
	int64_t start_ms, end_ms, progress_ms;
	int64_t server_end_ms; /* the server's end may come after the client's */
	enum outcome outcome;
	struct end client, server;
	bool server_done;
	bool server_short; /* server saw a clean EOF before the whole up stream */
	char why[96];
};

static struct conn **conns;
static uint32_t nconns, conns_cap;
static int epfd, listen_fd;
static long servers_open; /* server ends accepted and not closed */
static struct sockaddr_storage direct_addr, proxied_addr;
static socklen_t direct_len, proxied_len;
static bool have_proxied;
static uint64_t rng_state = 1;
static uint8_t scratch[CHUNK], expect[CHUNK];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a, 64 bits: the "hash" both ends compare. */
static uint64_t hash_add(uint64_t h, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	return h;
}

#define HASH_INIT 0xcbf29ce484222325ULL

static uint64_t stream_hash(uint64_t seed, uint64_t len)
{
	struct stream s = { .state = seed };
	uint64_t h = HASH_INIT;

	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;

		stream_fill(&s, scratch, n);
		h = hash_add(h, scratch, n);
		len -= n;
	}
	return h;
}

static int parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *res;
	char host[256];
	const char *colon = strrchr(text, ':');

	if (!colon)
		return -1;
	if (text[0] == '[')
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text - 2), text + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int enter_ns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

static void watch(struct end *e, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };

	epoll_ctl(epfd, op, e->fd, &ev);
}

/* Sizes from 0 to max, spread over orders of magnitude. */
static uint64_t random_size(uint64_t max)
{
	uint64_t r = splitmix(&rng_state), bits = 1 + r % 23, cap = (1ULL << bits) - 1;
	uint64_t size = splitmix(&rng_state) & cap;

	return size > max ? max : size;
}

static void conn_finish(struct conn *c, enum outcome outcome, const char *why)
{
	if (c->outcome != OUT_RUNNING)
		return;
	c->outcome = outcome;
	c->end_ms = now_ms();
	snprintf(c->why, sizeof(c->why), "%s", why);
}

static void end_close(struct end *e, bool reset)
{
	if (e->fd < 0)
		return;
	if (reset) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	e->fd = -1;
	if (e->is_server)
		servers_open--;
}

/* Whether this end may send now, by the connection's ending. */
static bool may_send(const struct end *e)
{
	const struct conn *c = e->conn;

	if (!e->is_server && e->sent < 8)
		return true; /* the header names the connection to the server */
	if (c->ending == END_CLIENT_FIRST && e->is_server)
		return e->got_eof;
	if (c->ending == END_SERVER_FIRST && !e->is_server)
		return e->got_eof;
	return true;
}

static void end_update(struct end *e)
{
	uint32_t events = 0;

	if (e->fd < 0)
		return;
	if (!e->got_eof)
		events |= EPOLLIN;
	if (!e->shut && e->sent < e->tx_total && may_send(e))
		events |= EPOLLOUT;
	watch(e, events, EPOLL_CTL_MOD);
}

static void client_check_done(struct conn *c)
{
	struct end *e = &c->client;

	if (!e->got_eof || !e->shut)
		return;
	if (e->received < e->rx_total) {
		char why[96];

		snprintf(why, sizeof(why), "clean EOF after %llu of %llu bytes",
			 (unsigned long long)e->received, (unsigned long long)e->rx_total);
		conn_finish(c, OUT_SHORT, why);
	} else if (e->rx_hash != e->want_rx_hash) {
		conn_finish(c, OUT_CORRUPT, "hash of the received stream differs");
	} else {
		conn_finish(c, OUT_COMPLETE, "");
	}
	end_close(e, false);
}

/* Send what may be sent; the reset endings stop half way. */
static void end_send(struct end *e)
{
	struct conn *c = e->conn;
	bool resets = (c->ending == END_CLIENT_RST && !e->is_server) ||
		      (c->ending == END_SERVER_RST && e->is_server);

	while (!e->shut && may_send(e)) {
		uint64_t left = e->tx_total - e->sent;
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t got;

		if (resets && e->sent >= c->rst_after) {
			if (!e->is_server)
				conn_finish(c, OUT_ERROR, "client reset (intended)");
			end_close(e, true);
			return;
		}
		if (left == 0) {
			shutdown(e->fd, SHUT_WR);
			e->shut = true;
			break;
		}
		/* the header first, then the stream */
		if (!e->is_server && e->sent < 8) {
			uint32_t hdr[2] = { htonl(MAGIC), htonl(c->id) };

			got = send(e->fd, (uint8_t *)hdr + e->sent, 8 - e->sent,
				   MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			struct stream peek = e->tx;

			stream_fill(&peek, scratch, n);
			got = send(e->fd, scratch, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (got > 0) {
				stream_fill(&e->tx, scratch, (size_t)got);
				e->tx_hash = hash_add(e->tx_hash, scratch, (size_t)got);
			}
		}
		if (got < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				e->error = true;
				e->err = errno;
			}
			break;
		}
		e->sent += (uint64_t)got;
		c->progress_ms = now_ms();
	}
}

static struct conn *server_lookup(struct end *e)
{
	uint32_t magic, id;

	memcpy(&magic, e->header, 4);
	memcpy(&id, e->header + 4, 4);
	magic = ntohl(magic);
	id = ntohl(id);
	if (magic != MAGIC || id >= nconns || conns[id]->server.fd >= 0 || conns[id]->server_done)
		return NULL;
	return conns[id];
}

static void server_end(struct end *e, bool clean_eof)
{
	struct conn *c = e->conn;

	if (c) {
		c->server_done = true;
		c->server_end_ms = now_ms();
		if (clean_eof && e->received < e->rx_total)
			c->server_short = true;
		if (e->received == e->rx_total && e->rx_hash != e->want_rx_hash)
			conn_finish(c, OUT_CORRUPT, "server: hash of the received stream differs");
	}
	end_close(e, false);
	if (!c)
		free(e);
}

/* Returns the end to go on with (a server end moves into its conn once
 * the header names it), or NULL when it is gone.
 */
static struct end *end_recv(struct end *e)
{
	for (;;) {
		ssize_t n;

		if (e->is_server && !e->conn) {
			n = recv(e->fd, e->header + e->header_have, 8 - e->header_have,
				 MSG_DONTWAIT);
			if (n <= 0) {
				if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
					return e;
				server_end(e, false);
				return NULL;
			}
			e->header_have += (size_t)n;
			if (e->header_have < 8)
				continue;
			struct conn *c = server_lookup(e);

			if (!c) {
				fprintf(stderr, "soak: server: bad header\n");
				server_end(e, false);
				return NULL;
			}
			c->server.fd = e->fd;
			c->server.received = 0;
			free(e);
			e = &c->server;
			watch(e, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
			continue;
		}
		n = recv(e->fd, scratch, CHUNK, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				e->error = true;
				e->err = errno;
			}
			return e;
		}
		if (n == 0) {
			e->got_eof = true;
			return e;
		}
		e->conn->progress_ms = now_ms();
		if (e->received + (uint64_t)n > e->rx_total) {
			if (!e->is_server)
				conn_finish(e->conn, OUT_CORRUPT, "more bytes than were sent");
			e->error = true;
			e->err = EPROTO;
			return e;
		}
		stream_fill(&e->rx, expect, (size_t)n);
		if (memcmp(expect, scratch, (size_t)n) != 0) {
			conn_finish(e->conn, OUT_CORRUPT,
				    e->is_server ? "server: a byte differs" : "a byte differs");
			e->error = true;
			e->err = EPROTO;
			return e;
		}
		e->rx_hash = hash_add(e->rx_hash, scratch, (size_t)n);
		e->received += (uint64_t)n;
	}
}

static void end_event(struct end *e, uint32_t events)
{
	struct conn *c;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		e = end_recv(e);
	if (!e || !e->conn)
		return; /* gone, or its header is not complete */
	c = e->conn;
	if (e->fd < 0)
		return;
	if (!e->error)
		end_send(e);
	if (e->fd < 0)
		return;
	if (e->error) {
		if (e->is_server) {
			server_end(e, false);
		} else {
			char why[96];

			snprintf(why, sizeof(why), "client error: %s", strerror(e->err));
			if (e->err != EPROTO)
				conn_finish(c, OUT_ERROR, why);
			end_close(e, true);
		}
		return;
	}
	if (e->is_server) {
		if (e->got_eof && e->shut)
			server_end(e, true);
		else if (e->got_eof && e->received < e->rx_total)
			server_end(e, true); /* short: stop here */
		else
			end_update(e);
		return;
	}
	client_check_done(c);
	if (c->outcome == OUT_RUNNING)
		end_update(e);
}

static void end_init(struct end *e, struct conn *c, bool is_server, uint64_t tx_seed,
		     uint64_t tx_total, uint64_t rx_seed, uint64_t rx_total)
{
	e->fd = -1;
	e->is_server = is_server;
	e->conn = c;
	e->tx.state = tx_seed;
	e->rx.state = rx_seed;
	e->tx_total = tx_total;
	e->rx_total = rx_total;
	e->tx_hash = e->rx_hash = HASH_INIT;
	e->want_rx_hash = stream_hash(rx_seed, rx_total);
}

static int conn_start(uint64_t max_size)
{
	struct conn *c;
	int fd;

	if (nconns == conns_cap) {
		uint32_t cap = conns_cap ? conns_cap * 2 : 1024;
		struct conn **grown = realloc(conns, cap * sizeof(*conns));

		if (!grown)
			return -1;
		conns = grown;
		conns_cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->id = nconns;
	conns[nconns++] = c;
	c->proxied = have_proxied && splitmix(&rng_state) % 2;
	c->ending = (enum ending)(splitmix(&rng_state) % END_COUNT);
	c->up_size = random_size(max_size);
	c->down_size = random_size(max_size);
	c->start_ms = c->progress_ms = now_ms();
	/* The client's stream is the 8-byte header and up_size bytes; the
	 * server checks the part after the header.
	 */
	end_init(&c->client, c, false, 2 * (uint64_t)c->id + 1, c->up_size + 8,
		 2 * (uint64_t)c->id + 2, c->down_size);
	end_init(&c->server, c, true, 2 * (uint64_t)c->id + 2, c->down_size,
		 2 * (uint64_t)c->id + 1, c->up_size);
	/* The header is not part of the client's stream: send it, then start
	 * the stream where its seed begins.
	 */
	c->client.tx_total = c->up_size + 8;
	c->rst_after = c->ending == END_CLIENT_RST ? 8 + splitmix(&rng_state) % (c->up_size + 1) :
						     splitmix(&rng_state) % (c->down_size + 1);
	fd = socket(c->proxied ? proxied_addr.ss_family : direct_addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_finish(c, OUT_ERROR, "socket");
		return 0;
	}
	c->client.fd = fd;
	if (connect(fd, (struct sockaddr *)(c->proxied ? &proxied_addr : &direct_addr),
		    c->proxied ? proxied_len : direct_len) < 0 &&
	    errno != EINPROGRESS) {
		char why[96];

		snprintf(why, sizeof(why), "client error: connect: %s", strerror(errno));
		conn_finish(c, OUT_ERROR, why);
		close(fd);
		c->client.fd = -1;
		return 0;
	}
	watch(&c->client, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
	return 0;
}

struct fault {
	char kind[32];
	int64_t start, end;
};
static struct fault faults[MAX_FAULTS];
static int nfaults;

static void read_faults(const char *path)
{
	char line[256];
	bool done = false;
	int i;
	FILE *file;

	/* The driver writes "done" after its last fault; wait for it a while. */
	for (i = 0; i < 300 && !done; i++) {
		file = fopen(path, "r");
		nfaults = 0;
		while (file && fgets(line, sizeof(line), file)) {
			struct fault *f = &faults[nfaults];
			long long start, end;

			if (strncmp(line, "done", 4) == 0)
				done = true;
			else if (nfaults < MAX_FAULTS &&
				 sscanf(line, "%31s %lld %lld", f->kind, &start, &end) == 3) {
				f->start = start;
				f->end = end;
				nfaults++;
			}
		}
		if (file)
			fclose(file);
		if (!done)
			usleep(100000);
	}
	if (!done)
		fprintf(stderr, "soak: %s has no 'done' line; judging with what is there\n", path);
}

/* A proxied flow with either end still open when the proxy was killed. */
static bool proxy_excuse(const struct conn *c)
{
	int i;

	if (!c->proxied)
		return false;
	if (c->ending == END_SERVER_RST)
		return true; /* the proxy passes the server's reset on as a FIN */
	for (i = 0; i < nfaults; i++)
		if (strcmp(faults[i].kind, "proxy-kill") == 0 &&
		    (c->end_ms >= faults[i].start || c->server_end_ms >= faults[i].start) &&
		    c->start_ms <= faults[i].end + 3000)
			return true;
	return false;
}

static void usage(void)
{
	fprintf(stderr, "usage: sockfwd-soak --client-ns PATH --server-ns PATH --server ADDR:PORT "
			"--direct ADDR:PORT [--proxied ADDR:PORT] [--duration S] [--conns N] "
			"[--max-size BYTES] [--seed N] [--faults FILE] [--stall-ms MS] "
			"[--max-total N]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "client-ns", required_argument, NULL, 'C' },
		{ "server-ns", required_argument, NULL, 'S' },
		{ "server", required_argument, NULL, 's' },
		{ "direct", required_argument, NULL, 'd' },
		{ "proxied", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 't' },
		{ "conns", required_argument, NULL, 'n' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'r' },
		{ "faults", required_argument, NULL, 'f' },
		{ "stall-ms", required_argument, NULL, 'w' },
		{ "max-total", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *client_ns = NULL, *server_ns = NULL, *server = NULL, *direct = NULL;
	const char *proxied = NULL, *faults_path = NULL;
	long duration = 60, conns_wanted = 200, stall_ms = 15000, max_total = 1000000;
	uint64_t max_size = 4 << 20;
	struct sockaddr_storage ss;
	socklen_t len;
	int64_t start, stop, drain_end;
	long active, i;
	int opt, one = 1;
	unsigned long count[6] = { 0 }, by_ending[END_COUNT][6] = { { 0 } };
	unsigned long complete_direct[END_COUNT] = { 0 };
	unsigned long excused = 0, violations = 0, server_short_direct = 0,
		      server_short_proxied = 0;
	unsigned long hashes_equal = 0, refused_or_reset = 0, lost_by_proxy = 0;
	uint32_t first_running = 0;
	uint64_t bytes = 0;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'C':
			client_ns = optarg;
			break;
		case 'S':
			server_ns = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'd':
			direct = optarg;
			break;
		case 'p':
			proxied = optarg;
			break;
		case 't':
			duration = atol(optarg);
			break;
		case 'n':
			conns_wanted = atol(optarg);
			break;
		case 'm':
			max_size = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			rng_state = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			faults_path = optarg;
			break;
		case 'w':
			stall_ms = atol(optarg);
			break;
		case 'T':
			max_total = atol(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!client_ns || !server_ns || !server || !direct || duration <= 0 || conns_wanted <= 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	/* The listening socket lives in the server's namespace, the client
	 * sockets in the client's: a socket keeps the namespace it was made in.
	 */
	if (enter_ns(server_ns) < 0 || parse_addr(server, &ss, &len) < 0) {
		fprintf(stderr, "soak: server namespace or address: %s\n", strerror(errno));
		return 2;
	}
	listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&ss, len) < 0 || listen(listen_fd, 4096) < 0) {
		fprintf(stderr, "soak: listen %s: %s\n", server, strerror(errno));
		return 2;
	}
	if (enter_ns(client_ns) < 0 || parse_addr(direct, &direct_addr, &direct_len) < 0 ||
	    (proxied && parse_addr(proxied, &proxied_addr, &proxied_len) < 0)) {
		fprintf(stderr, "soak: client namespace or addresses: %s\n", strerror(errno));
		return 2;
	}
	have_proxied = proxied != NULL;
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
	}
	start = now_ms();
	stop = start + duration * 1000;
	drain_end = 0;
	printf("soak: %ld s, %ld connections at a time, sizes 0..%llu, seed %llu\n", duration,
	       conns_wanted, (unsigned long long)max_size, (unsigned long long)rng_state);
	fflush(stdout);
	for (;;) {
		struct epoll_event events[256];
		int64_t now = now_ms();
		int n, k;

		active = 0;
		while (first_running < nconns && conns[first_running]->outcome != OUT_RUNNING)
			first_running++;
		for (i = first_running; i < (long)nconns; i++) {
			struct conn *c = conns[i];

			if (c->outcome == OUT_RUNNING) {
				if (now - c->progress_ms > stall_ms) {
					char why[96];

					snprintf(why, sizeof(why),
						 "no progress for %ld ms (sent %llu of %llu, got "
						 "%llu of %llu)",
						 stall_ms, (unsigned long long)c->client.sent,
						 (unsigned long long)c->client.tx_total,
						 (unsigned long long)c->client.received,
						 (unsigned long long)c->client.rx_total);
					conn_finish(c, OUT_STALLED, why);
					end_close(&c->client, true);
					continue;
				}
				active++;
			}
		}
		if (now < stop && (long)nconns < max_total) {
			for (; active < conns_wanted && (long)nconns < max_total; active++)
				if (conn_start(max_size) < 0)
					return 2;
		} else {
			if (!drain_end)
				drain_end = now + stall_ms + 5000;
			/* the servers too: a client may be done before its
			 * server has read the last bytes
			 */
			if ((active == 0 && servers_open == 0) || now > drain_end)
				break;
		}
		n = epoll_wait(epfd, events, 256, 50);
		for (k = 0; k < n; k++) {
			struct end *e = events[k].data.ptr;

			if (!e) {
				int fd;

				while ((fd = accept4(listen_fd, NULL, NULL,
						     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct end *s = calloc(1, sizeof(*s));

					if (!s) {
						close(fd);
						continue;
					}
					s->fd = fd;
					s->is_server = true;
					servers_open++;
					watch(s, EPOLLIN, EPOLL_CTL_ADD);
				}
				continue;
			}
			end_event(e, events[k].events);
		}
	}
	/* Servers still open (their client gave up): close them. */
	for (i = 0; i < (long)nconns; i++)
		end_close(&conns[i]->server, false);
	if (faults_path)
		read_faults(faults_path);

	for (i = 0; i < (long)nconns; i++) {
		struct conn *c = conns[i];
		bool bad = false;

		if (c->outcome == OUT_RUNNING)
			conn_finish(c, OUT_STALLED, "still running at the end");
		count[c->outcome]++;
		by_ending[c->ending][c->outcome]++;
		if (c->outcome == OUT_COMPLETE && !c->proxied)
			complete_direct[c->ending]++;
		switch (c->outcome) {
		case OUT_COMPLETE:
			/* the server's view of the up stream must be whole too */
			if (c->ending == END_SERVER_RST && !c->proxied) {
				/* direct, the server's reset reaches the client as one */
				bad = true;
				snprintf(c->why, sizeof(c->why),
					 "server reset, client saw a clean close");
			} else if (c->server.received == c->up_size &&
				   c->server.rx_hash == c->server.want_rx_hash &&
				   c->client.tx_hash == c->server.rx_hash) {
				hashes_equal++;
				bytes += c->up_size + c->down_size;
			} else if (proxy_excuse(c)) {
				lost_by_proxy++; /* TCP cannot tell the client */
			} else {
				bad = true;
				snprintf(c->why, sizeof(c->why),
					 "client done but server got %llu of %llu bytes",
					 (unsigned long long)c->server.received,
					 (unsigned long long)c->up_size);
			}
			break;
		case OUT_ERROR:
			refused_or_reset++;
			break;
		case OUT_SHORT:
			if (proxy_excuse(c))
				excused++;
			else
				bad = true;
			break;
		default:
			bad = true;
		}
		/* Up direction: a server may see a clean EOF early only when
		 * the client meant to stop (it reset) or a proxy was in between.
		 */
		if (c->server_short && c->ending != END_CLIENT_RST && c->outcome != OUT_ERROR) {
			if (c->proxied) {
				server_short_proxied++;
			} else {
				server_short_direct++;
				bad = true;
				if (!c->why[0])
					snprintf(c->why, sizeof(c->why),
						 "server: clean EOF after %llu of %llu bytes",
						 (unsigned long long)c->server.received,
						 (unsigned long long)c->up_size);
			}
		}
		if (bad) {
			violations++;
			if (violations <= 20)
				printf("soak: VIOLATION conn %u %s %s up=%llu down=%llu: %s "
				       "(start +%lld ms, end +%lld ms)\n",
				       c->id, c->proxied ? "proxied" : "direct",
				       ending_name[c->ending], (unsigned long long)c->up_size,
				       (unsigned long long)c->down_size, c->why,
				       (long long)(c->start_ms - start),
				       (long long)(c->end_ms - start));
		}
	}
	printf("soak: connections=%u complete=%lu error=%lu short=%lu (excused %lu) corrupt=%lu "
	       "stalled=%lu bytes_verified=%llu\n",
	       nconns, count[OUT_COMPLETE], count[OUT_ERROR], count[OUT_SHORT], excused,
	       count[OUT_CORRUPT], count[OUT_STALLED], (unsigned long long)bytes);
	for (i = 0; i < END_COUNT; i++)
		printf("soak:   %-12s complete=%lu (direct %lu) error=%lu short=%lu corrupt=%lu "
		       "stalled=%lu\n",
		       ending_name[i], by_ending[i][OUT_COMPLETE], complete_direct[i],
		       by_ending[i][OUT_ERROR], by_ending[i][OUT_SHORT], by_ending[i][OUT_CORRUPT],
		       by_ending[i][OUT_STALLED]);
	for (i = 0; i < nfaults; i++)
		printf("soak: fault %s at +%lld ms for %lld ms\n", faults[i].kind,
		       (long long)(faults[i].start - start),
		       (long long)(faults[i].end - faults[i].start));
	printf("soak: invariant: every completed transfer hashes equal: %lu of %lu %s (and %lu whose "
	       "up stream a dying or resetting proxy lost after the client was done, excused)\n",
	       hashes_equal, count[OUT_COMPLETE] - lost_by_proxy,
	       hashes_equal == count[OUT_COMPLETE] - lost_by_proxy ? "ok" : "FAIL", lost_by_proxy);
	printf("soak: invariant: every interrupted transfer ends with an error on the client: "
	       "%lu errors, %lu silently short (and %lu through a dying or resetting proxy, "
	       "excused), %lu corrupt, %lu stalled\n",
	       count[OUT_ERROR], count[OUT_SHORT] - excused, excused, count[OUT_CORRUPT],
	       count[OUT_STALLED]);
	printf("soak: server saw a clean EOF before the whole stream: %lu direct (violations), %lu "
	       "proxied (the proxy turns resets into FIN)\n",
	       server_short_direct, server_short_proxied);
	if (violations) {
		printf("soak: FAIL %lu violations\n", violations);
		return 1;
	}
	if (count[OUT_COMPLETE] == 0) {
		printf("soak: FAIL no transfer completed\n");
		return 1;
	}
	printf("soak: PASS\n");
	return 0;
}
