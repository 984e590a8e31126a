// SPDX-License-Identifier: GPL-2.0
/* dns-delay: a UDP and TCP relay that holds each query a fixed time.
 *
 * The test kernel has no netem, yet the clean-dns tests need the genuine
 * answer to lose the race against a censor's forgery by a wide, reliable
 * margin.  So the resolver reaches its authoritative server through this
 * relay: every UDP datagram from a client waits --delay ms before it goes
 * upstream, from a socket of its own per client address so the answer finds
 * its way back (answers are relayed at once).  TCP connections are relayed
 * byte for byte after the same delay on connect.
 *
 *   dns-delay --listen 127.0.0.1 --port 5300 --upstream 127.0.0.1 \
 *             --upstream-port 5301 --delay 100
 *
 * SIGTERM or SIGINT ends it with a line "relayed udp N tcp M".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <time.h>
#include <unistd.h>

#define DATAGRAM_MAX 65536
#define PENDING_MAX 64 /* queries held at once */
#define PENDING_DATA_MAX 4096 /* longer queries are dropped: DNS queries are short */
#define UDP_CLIENTS_MAX 64
#define TCP_PAIRS_MAX 16
#define POLL_MAX (1 + 1 + UDP_CLIENTS_MAX + 2 * TCP_PAIRS_MAX)

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* A client seen on the UDP socket and the socket its queries leave from. */
struct udp_client {
	struct sockaddr_storage address;
	socklen_t address_len;
	int upstream_fd;
	uint64_t last_used_ms;
};

struct pending_query {
	uint64_t due_ms;
	struct udp_client *client;
	size_t len;
	uint8_t data[PENDING_DATA_MAX];
};

/* A TCP connection, held until due_ms, then relayed both ways. */
struct tcp_pair {
	int client_fd;
	int upstream_fd;
	uint64_t due_ms;
};

struct relay {
	struct sockaddr_storage upstream;
	socklen_t upstream_len;
	unsigned int delay_ms;
	int udp_fd;
	int tcp_fd;
	struct udp_client clients[UDP_CLIENTS_MAX];
	struct pending_query pending[PENDING_MAX];
	struct tcp_pair pairs[TCP_PAIRS_MAX];
	unsigned long udp_relayed;
	unsigned long tcp_relayed;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int resolve_numeric(const char *host, const char *port, struct sockaddr_storage *out,
			   socklen_t *out_len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *result;
	int err;

	err = getaddrinfo(host, port, &hints, &result);
	if (err) {
		fprintf(stderr, "dns-delay: %s port %s: %s\n", host, port, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(out, result->ai_addr, result->ai_addrlen);
	*out_len = result->ai_addrlen;
	freeaddrinfo(result);
	return 0;
}

static int open_listener(const struct sockaddr_storage *address, socklen_t len, int type)
{
	int fd, err, one = 1;

	fd = socket(address->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)address, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static struct udp_client *udp_client_for(struct relay *relay, const struct sockaddr_storage *from,
					 socklen_t from_len)
{
	struct udp_client *client, *oldest = &relay->clients[0];
	int i;

	for (i = 0; i < UDP_CLIENTS_MAX; i++) {
		client = &relay->clients[i];
		if (client->upstream_fd >= 0 && client->address_len == from_len &&
		    !memcmp(&client->address, from, from_len))
			return client;
		if (client->upstream_fd < 0 || client->last_used_ms < oldest->last_used_ms)
			oldest = client;
	}
	/* Resolvers pick a fresh source port per query: reuse the least
	 * recently used slot.  A late answer to it is lost, as on the net.
	 */
	client = oldest;
	if (client->upstream_fd >= 0) {
		for (i = 0; i < PENDING_MAX; i++)
			if (relay->pending[i].client == client)
				relay->pending[i].client = NULL;
		close(client->upstream_fd);
	}
	client->upstream_fd =
		socket(relay->upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (client->upstream_fd < 0)
		return NULL;
	if (connect(client->upstream_fd, (struct sockaddr *)&relay->upstream, relay->upstream_len) <
	    0) {
		close(client->upstream_fd);
		client->upstream_fd = -1;
		return NULL;
	}
	memcpy(&client->address, from, from_len);
	client->address_len = from_len;
	return client;
}

static void receive_query(struct relay *relay)
{
	static uint8_t datagram[DATAGRAM_MAX];
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	struct pending_query *slot = NULL;
	ssize_t len;
	int i;

	len = recvfrom(relay->udp_fd, datagram, sizeof(datagram), 0, (struct sockaddr *)&from,
		       &from_len);
	if (len < 0 || len > PENDING_DATA_MAX)
		return;
	for (i = 0; i < PENDING_MAX && !slot; i++)
		if (!relay->pending[i].client)
			slot = &relay->pending[i];
	if (!slot) {
		fprintf(stderr, "dns-delay: more than %d queries held, dropping one\n",
			PENDING_MAX);
		return;
	}
	slot->client = udp_client_for(relay, &from, from_len);
	if (!slot->client)
		return;
	slot->client->last_used_ms = now_ms();
	slot->due_ms = slot->client->last_used_ms + relay->delay_ms;
	slot->len = (size_t)len;
	memcpy(slot->data, datagram, (size_t)len);
}

static void send_due_queries(struct relay *relay, uint64_t now)
{
	struct pending_query *query;
	int i;

	for (i = 0; i < PENDING_MAX; i++) {
		query = &relay->pending[i];
		if (!query->client || query->due_ms > now)
			continue;
		if (send(query->client->upstream_fd, query->data, query->len, 0) ==
		    (ssize_t)query->len)
			relay->udp_relayed++;
		query->client = NULL;
	}
}

static void relay_answer(struct relay *relay, struct udp_client *client)
{
	static uint8_t datagram[DATAGRAM_MAX];
	ssize_t len;

	len = recv(client->upstream_fd, datagram, sizeof(datagram), 0);
	if (len < 0)
		return;
	client->last_used_ms = now_ms();
	sendto(relay->udp_fd, datagram, (size_t)len, 0, (struct sockaddr *)&client->address,
	       client->address_len);
}

static void tcp_pair_close(struct tcp_pair *pair)
{
	if (pair->client_fd >= 0)
		close(pair->client_fd);
	if (pair->upstream_fd >= 0)
		close(pair->upstream_fd);
	pair->client_fd = -1;
	pair->upstream_fd = -1;
}

static void accept_connection(struct relay *relay)
{
	struct tcp_pair *pair = NULL;
	int fd, i;

	fd = accept4(relay->tcp_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < TCP_PAIRS_MAX && !pair; i++)
		if (relay->pairs[i].client_fd < 0)
			pair = &relay->pairs[i];
	if (!pair) {
		close(fd);
		return;
	}
	pair->client_fd = fd;
	pair->upstream_fd = socket(relay->upstream.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A blocking connect: the upstream is on this host and answers at once. */
	if (pair->upstream_fd < 0 || connect(pair->upstream_fd, (struct sockaddr *)&relay->upstream,
					     relay->upstream_len) < 0) {
		tcp_pair_close(pair);
		return;
	}
	pair->due_ms = now_ms() + relay->delay_ms;
	relay->tcp_relayed++;
}

/* Copy what is readable on FROM to TO; false when the pair is done. */
static bool tcp_copy(int from, int to)
{
	static uint8_t buffer[DATAGRAM_MAX];
	ssize_t len, sent, off;

	len = recv(from, buffer, sizeof(buffer), MSG_DONTWAIT);
	if (len < 0)
		return errno == EAGAIN || errno == EINTR;
	if (len == 0)
		return false;
	for (off = 0; off < len; off += sent) {
		sent = send(to, buffer + off, (size_t)(len - off), MSG_NOSIGNAL);
		if (sent <= 0)
			return false;
	}
	return true;
}

static int run(struct relay *relay)
{
	struct pollfd fds[POLL_MAX];
	struct udp_client *client_of[POLL_MAX];
	struct tcp_pair *pair_of[POLL_MAX];
	uint64_t now, next_due;
	int count, i, ready, timeout;

	while (!stop_requested) {
		now = now_ms();
		send_due_queries(relay, now);
		next_due = now + 200;
		for (i = 0; i < PENDING_MAX; i++)
			if (relay->pending[i].client && relay->pending[i].due_ms < next_due)
				next_due = relay->pending[i].due_ms;
		for (i = 0; i < TCP_PAIRS_MAX; i++)
			if (relay->pairs[i].client_fd >= 0 && relay->pairs[i].due_ms > now &&
			    relay->pairs[i].due_ms < next_due)
				next_due = relay->pairs[i].due_ms;
		timeout = (int)(next_due - now);

		count = 0;
		fds[count++] = (struct pollfd){ .fd = relay->udp_fd, .events = POLLIN };
		fds[count++] = (struct pollfd){ .fd = relay->tcp_fd, .events = POLLIN };
		for (i = 0; i < UDP_CLIENTS_MAX; i++) {
			if (relay->clients[i].upstream_fd < 0)
				continue;
			client_of[count] = &relay->clients[i];
			pair_of[count] = NULL;
			fds[count++] = (struct pollfd){ .fd = relay->clients[i].upstream_fd,
							.events = POLLIN };
		}
		for (i = 0; i < TCP_PAIRS_MAX; i++) {
			struct tcp_pair *pair = &relay->pairs[i];

			if (pair->client_fd < 0 || pair->due_ms > now)
				continue;
			client_of[count] = NULL;
			pair_of[count] = pair;
			fds[count++] = (struct pollfd){ .fd = pair->client_fd, .events = POLLIN };
			client_of[count] = NULL;
			pair_of[count] = pair;
			fds[count++] = (struct pollfd){ .fd = pair->upstream_fd, .events = POLLIN };
		}

		ready = poll(fds, (nfds_t)count, timeout);
		if (ready < 0 && errno != EINTR) {
			fprintf(stderr, "dns-delay: poll: %s\n", strerror(errno));
			return -errno;
		}
		if (ready <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			receive_query(relay);
		if (fds[1].revents & POLLIN)
			accept_connection(relay);
		for (i = 2; i < count; i++) {
			if (!fds[i].revents)
				continue;
			if (client_of[i]) {
				if (client_of[i]->upstream_fd == fds[i].fd)
					relay_answer(relay, client_of[i]);
				continue;
			}
			if (pair_of[i]->client_fd < 0)
				continue; /* closed by its other half in this round */
			if (!tcp_copy(fds[i].fd, fds[i].fd == pair_of[i]->client_fd ?
							 pair_of[i]->upstream_fd :
							 pair_of[i]->client_fd))
				tcp_pair_close(pair_of[i]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "upstream-port", required_argument, NULL, 'P' },
		{ "delay", required_argument, NULL, 'd' },
		{ 0 },
	};
	static struct relay relay;
	const char *listen_host = "127.0.0.1", *listen_port = "5300";
	const char *upstream_host = "127.0.0.1", *upstream_port = "5301";
	struct sigaction stop_action = { .sa_handler = on_stop_signal };
	struct sockaddr_storage listen_address;
	socklen_t listen_len;
	int opt, i, err;

	relay.delay_ms = 100;
	while ((opt = getopt_long(argc, argv, "l:p:u:P:d:", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen_host = optarg;
			break;
		case 'p':
			listen_port = optarg;
			break;
		case 'u':
			upstream_host = optarg;
			break;
		case 'P':
			upstream_port = optarg;
			break;
		case 'd':
			relay.delay_ms = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: dns-delay [--listen ADDR] [--port PORT] "
					"[--upstream ADDR] [--upstream-port PORT] [--delay MS]\n");
			return 2;
		}
	}
	if (resolve_numeric(listen_host, listen_port, &listen_address, &listen_len) ||
	    resolve_numeric(upstream_host, upstream_port, &relay.upstream, &relay.upstream_len))
		return 2;
	for (i = 0; i < UDP_CLIENTS_MAX; i++)
		relay.clients[i].upstream_fd = -1;
	for (i = 0; i < TCP_PAIRS_MAX; i++)
		tcp_pair_close(&relay.pairs[i]);

	relay.udp_fd = open_listener(&listen_address, listen_len, SOCK_DGRAM);
	relay.tcp_fd = open_listener(&listen_address, listen_len, SOCK_STREAM);
	if (relay.udp_fd < 0 || relay.tcp_fd < 0) {
		err = relay.udp_fd < 0 ? relay.udp_fd : relay.tcp_fd;
		fprintf(stderr, "dns-delay: listen on %s port %s: %s\n", listen_host, listen_port,
			strerror(-err));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &stop_action, NULL);
	sigaction(SIGINT, &stop_action, NULL);
	printf("relaying %s#%s to %s#%s after %u ms\n", listen_host, listen_port, upstream_host,
	       upstream_port, relay.delay_ms);

	err = run(&relay);
	printf("relayed udp %lu tcp %lu\n", relay.udp_relayed, relay.tcp_relayed);
	return err ? 1 : 0;
}
