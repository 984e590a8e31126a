// SPDX-License-Identifier: GPL-2.0
/* dns-flood: a bounded burst of EDNS queries, to fill clean-dns's map of
 * queries in flight (cdns_queries, an LRU hash of 16384 entries keyed by
 * resolver, client port and transaction ID).
 *
 *   dns-flood --server 198.51.100.99 --count 20000 --sockets 4
 *
 * Each query carries an OPT record, so clean-dns's egress program records
 * it; the queries spread round-robin over --sockets UDP sockets (one client
 * port each) with transaction IDs counting up from a random start, so no
 * two share a key.  Nothing is read back: the server is meant to be an
 * address that never answers.  The burst stops after --count queries or
 * --seconds, whichever comes first, and prints "sent N".
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOCKETS_MAX 64
#define QUERY_MAX 512
#define QUERIES_PER_SOCKET_MAX 65536 /* distinct transaction IDs */
#define DNS_TYPE_A 1
#define DNS_TYPE_OPT 41
#define EDNS_UDP_SIZE 1232

static void usage(FILE *out)
{
	fprintf(out, "usage: dns-flood --server ADDR [--port N] --count N [--sockets N]\n"
		     "                 [--seconds N] [--zone NAME]\n");
}

static void put_be16(uint8_t *p, uint16_t value)
{
	p[0] = value >> 8;
	p[1] = value & 0xff;
}

/* "f<N>.<zone>" as wire labels; returns the length or 0 when it won't fit. */
static size_t put_name(uint8_t *out, size_t room, unsigned long n, const char *zone)
{
	char text[300];
	size_t pos = 0;
	char *label, *saveptr = NULL;

	snprintf(text, sizeof(text), "f%lu.%s", n, zone);
	for (label = strtok_r(text, ".", &saveptr); label; label = strtok_r(NULL, ".", &saveptr)) {
		size_t len = strlen(label);

		if (len > 63 || pos + 1 + len + 1 > room)
			return 0;
		out[pos++] = (uint8_t)len;
		memcpy(out + pos, label, len);
		pos += len;
	}
	out[pos++] = 0;
	return pos;
}

/* A query for NAME type A with RD and an OPT record; returns its length. */
static size_t build_query(uint8_t *out, uint16_t id, unsigned long n, const char *zone)
{
	size_t name_len, len;

	memset(out, 0, 12);
	put_be16(out, id);
	put_be16(out + 2, 0x0100); /* RD */
	put_be16(out + 4, 1); /* QDCOUNT */
	put_be16(out + 10, 1); /* ARCOUNT: the OPT record */
	name_len = put_name(out + 12, QUERY_MAX - 12 - 4 - 11, n, zone);
	if (!name_len)
		return 0;
	len = 12 + name_len;
	put_be16(out + len, DNS_TYPE_A);
	put_be16(out + len + 2, 1); /* IN */
	len += 4;
	/* OPT: root owner, type 41, UDP size as class, TTL 0, RDLENGTH 0 */
	out[len] = 0;
	put_be16(out + len + 1, DNS_TYPE_OPT);
	put_be16(out + len + 3, EDNS_UDP_SIZE);
	memset(out + len + 5, 0, 6);
	return len + 11;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "sockets", required_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 't' },
		{ "zone", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sockaddr_storage server = { 0 };
	socklen_t server_len = 0;
	const char *server_text = NULL, *zone = "flood.test";
	unsigned long count = 0, sent = 0, sockets = 1, i;
	unsigned int port = 53;
	double seconds = 10, start;
	int fds[SOCKETS_MAX], opt, status = 0;
	uint16_t first_id;
	uint8_t query[QUERY_MAX];
	size_t len;

	while ((opt = getopt_long(argc, argv, "s:p:n:k:t:z:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			server_text = optarg;
			break;
		case 'p':
			port = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			sockets = strtoul(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'z':
			zone = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!server_text || !count || !sockets || sockets > SOCKETS_MAX || !port || port > 65535 ||
	    count > sockets * QUERIES_PER_SOCKET_MAX || seconds <= 0) {
		usage(stderr);
		return 2;
	}
	if (inet_pton(AF_INET, server_text, &((struct sockaddr_in *)&server)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&server;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		server_len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, server_text, &((struct sockaddr_in6 *)&server)->sin6_addr) ==
		   1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&server;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		server_len = sizeof(*sin6);
	} else {
		fprintf(stderr, "dns-flood: not an address: %s\n", server_text);
		return 2;
	}

	for (i = 0; i < sockets; i++) {
		fds[i] = socket(server.ss_family, SOCK_DGRAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&server, server_len) < 0) {
			fprintf(stderr, "dns-flood: socket %lu: %s\n", i, strerror(errno));
			sockets = fds[i] < 0 ? i : i + 1;
			status = 1;
			goto out;
		}
	}

	srandom((unsigned int)(time(NULL) ^ getpid()));
	first_id = (uint16_t)random();
	start = now_seconds();
	for (sent = 0; sent < count; sent++) {
		/* Query n goes out of socket n % sockets with ID first + n / sockets. */
		len = build_query(query, (uint16_t)(first_id + sent / sockets), sent, zone);
		if (!len) {
			fprintf(stderr, "dns-flood: zone name too long: %s\n", zone);
			status = 2;
			break;
		}
		if (send(fds[sent % sockets], query, len, 0) < 0) {
			/* A refused send (ICMP unreachable reported on a
			 * connected socket) is worth a second try, once.
			 */
			if (errno != ECONNREFUSED || send(fds[sent % sockets], query, len, 0) < 0) {
				fprintf(stderr, "dns-flood: send: %s\n", strerror(errno));
				status = 1;
				break;
			}
		}
		if (sent % 256 == 0 && now_seconds() - start > seconds) {
			fprintf(stderr, "dns-flood: stopped after %.1f s\n", seconds);
			status = 1;
			break;
		}
	}
	printf("sent %lu sockets %lu seconds %.3f\n", sent, sockets, now_seconds() - start);
out:
	for (i = 0; i < sockets; i++)
		close(fds[i]);
	return status;
}
