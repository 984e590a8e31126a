// SPDX-License-Identifier: GPL-2.0
/* hop-poison: a censor that tries to teach clean-dns's hop-count rule its
 * own TTL, for the clean-dns attack tests.
 *
 * Runs on the censor's router and watches the client-facing Ethernet
 * interface with an AF_PACKET socket, like dns-inject.  What it sends goes
 * to the client from a resolver's address and port 53, with this router's
 * TTL (64):
 *   --unsolicited  for each UDP query to a resolver, one PSH|ACK segment
 *                  with data to the client's port 9, outside any
 *                  connection (what a filter that learns from "any TCP from
 *                  port 53" would take for the resolver's TTL);
 *   --in-window    for each TCP SYN to a resolver's port 53, a SYN-ACK that
 *                  acknowledges it and a data segment after it, both in
 *                  window (an on-path censor sees the ISN), racing the
 *                  resolver's own.
 * One line per segment sent goes to stdout ("lie N kind=... client=...").
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns-forge.h"

#define TCP_HEADER_LEN 20
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define LIE_PAYLOAD_LEN 14 /* a length prefix and a DNS header */
#define LIE_PACKET_MAX (IPV6_HEADER_LEN + TCP_HEADER_LEN + LIE_PAYLOAD_LEN)
#define WATCH_FRAME_MAX 65536

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct poisoner {
	int sock, ifindex;
	bool unsolicited, in_window;
	struct ip_address resolvers[RESOLVERS_MAX];
	int resolver_count;
	unsigned long lies;
};

/* What a watched packet says: who talks to which resolver, how. */
struct seen {
	struct ip_address client, resolver;
	uint8_t proto;
	uint16_t client_port, resolver_port;
	uint8_t tcp_flags;
	uint32_t seq;
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

/* IPv4 or IPv6 (no extension headers), then the ports. */
static int seen_parse(const uint8_t *ip, size_t len, struct seen *s)
{
	const uint8_t *l4;

	memset(s, 0, sizeof(*s));
	if (len >= IPV4_HEADER_LEN && ip[0] >> 4 == 4) {
		if ((get_be16(ip + 6) & 0x3fff) || (size_t)(ip[0] & 0xf) * 4 + 20 > len)
			return -1;
		s->client.family = s->resolver.family = AF_INET;
		memcpy(&s->client.v4, ip + 12, 4);
		memcpy(&s->resolver.v4, ip + 16, 4);
		s->proto = ip[9];
		l4 = ip + (ip[0] & 0xf) * 4;
	} else if (len >= IPV6_HEADER_LEN + 20 && ip[0] >> 4 == 6) {
		s->client.family = s->resolver.family = AF_INET6;
		memcpy(&s->client.v6, ip + 8, 16);
		memcpy(&s->resolver.v6, ip + 24, 16);
		s->proto = ip[6];
		l4 = ip + IPV6_HEADER_LEN;
	} else {
		return -1;
	}
	s->client_port = get_be16(l4);
	s->resolver_port = get_be16(l4 + 2);
	if (s->proto == IPPROTO_TCP) {
		s->seq = get_be32(l4 + 4);
		s->tcp_flags = l4[13];
	}
	return 0;
}

/* A TCP segment from SRC:53 to DST:DPORT with FLAGS, SEQ, ACK and, with
 * PSH, a small payload; returns the IP packet's length.
 */
static size_t segment_build(const struct ip_address *src, const struct ip_address *dst,
			    uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, uint8_t *out)
{
	size_t ip_len = src->family == AF_INET ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
	size_t payload = flags & TCP_FLAG_PSH ? LIE_PAYLOAD_LEN : 0;
	size_t tcp_len = TCP_HEADER_LEN + payload;
	uint8_t *tcp = out + ip_len;
	uint32_t sum;

	memset(out, 0, ip_len + tcp_len);
	sum = ip_header_write(out, src, dst, IPPROTO_TCP, tcp_len, random_nonzero_id(), false);
	put_be16(tcp, DNS_PORT);
	put_be16(tcp + 2, dport);
	put_be32(tcp + 4, seq);
	put_be32(tcp + 8, ack);
	tcp[12] = (TCP_HEADER_LEN / 4) << 4;
	tcp[13] = flags;
	put_be16(tcp + 14, 65535);
	if (payload) {
		put_be16(tcp + TCP_HEADER_LEN, DNS_HEADER_LEN);
		put_be16(tcp + TCP_HEADER_LEN + 4, 0x8180);
	}
	put_be16(tcp + 16, checksum_fold(checksum_add(sum, tcp, tcp_len)));
	return ip_len + tcp_len;
}

/* Sends one lie back along the link the watched FRAME came in on. */
static void lie(struct poisoner *p, const uint8_t *frame, const struct seen *s, const char *kind,
		uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = p->ifindex,
		.sll_halen = ETH_ALEN,
	};
	uint8_t out[ETH_HLEN + LIE_PACKET_MAX];
	char client[INET6_ADDRSTRLEN], resolver[INET6_ADDRSTRLEN];
	size_t len;

	memcpy(out, frame + ETH_ALEN, ETH_ALEN);
	memcpy(out + ETH_ALEN, frame, ETH_ALEN);
	memcpy(out + 2 * ETH_ALEN, frame + 2 * ETH_ALEN, 2);
	memcpy(to.sll_addr, out, ETH_ALEN);
	to.sll_protocol = s->client.family == AF_INET ? htons(ETH_P_IP) : htons(ETH_P_IPV6);
	len = segment_build(&s->resolver, &s->client, dport, flags, seq, ack, out + ETH_HLEN);
	if (sendto(p->sock, out, ETH_HLEN + len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fprintf(stderr, "hop-poison: send: %s\n", strerror(errno));
		return;
	}
	p->lies++;
	printf("lie %lu kind=%s client=%s#%u resolver=%s ttl=64\n", p->lies, kind,
	       ip_address_text(&s->client, client, sizeof(client)), dport,
	       ip_address_text(&s->resolver, resolver, sizeof(resolver)));
	fflush(stdout);
}

static bool is_resolver(const struct poisoner *p, const struct ip_address *a)
{
	int i;

	for (i = 0; i < p->resolver_count; i++)
		if (ip_address_equal(&p->resolvers[i], a))
			return true;
	return false;
}

static void on_frame(struct poisoner *p, const uint8_t *frame, size_t len)
{
	uint16_t ethertype;
	uint32_t server_isn;
	struct seen s;

	if (len < ETH_HLEN)
		return;
	ethertype = get_be16(frame + 2 * ETH_ALEN);
	if ((ethertype != ETH_P_IP && ethertype != ETH_P_IPV6) ||
	    seen_parse(frame + ETH_HLEN, len - ETH_HLEN, &s) || s.resolver_port != DNS_PORT ||
	    !is_resolver(p, &s.resolver))
		return;
	if (p->unsolicited && s.proto == IPPROTO_UDP)
		lie(p, frame, &s, "unsolicited", 9, TCP_FLAG_PSH | TCP_FLAG_ACK, (uint32_t)random(),
		    (uint32_t)random());
	if (p->in_window && s.proto == IPPROTO_TCP &&
	    (s.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN) {
		server_isn = (uint32_t)random();
		lie(p, frame, &s, "synack", s.client_port, TCP_FLAG_SYN | TCP_FLAG_ACK, server_isn,
		    s.seq + 1);
		lie(p, frame, &s, "data", s.client_port, TCP_FLAG_PSH | TCP_FLAG_ACK,
		    server_isn + 1, s.seq + 1);
	}
}

static int open_socket(struct poisoner *p, const char *ifname)
{
	struct sockaddr_ll at = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1;

	p->ifindex = (int)if_nametoindex(ifname);
	if (!p->ifindex) {
		fprintf(stderr, "hop-poison: %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	p->sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	at.sll_ifindex = p->ifindex;
	if (p->sock < 0 || bind(p->sock, (struct sockaddr *)&at, sizeof(at)) < 0 ||
	    setsockopt(p->sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		fprintf(stderr, "hop-poison: packet socket on %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: hop-poison -i IFACE -r RESOLVER [-r RESOLVER...] "
		     "[--unsolicited] [--in-window]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "unsolicited", no_argument, NULL, 'u' },
		{ "in-window", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t frame[WATCH_FRAME_MAX];
	struct poisoner p = { .sock = -1 };
	const char *ifname = NULL;
	struct pollfd pfd;
	ssize_t n;
	int opt;

	while ((opt = getopt_long(argc, argv, "i:r:", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'r':
			if (p.resolver_count == RESOLVERS_MAX ||
			    ip_address_parse(optarg, &p.resolvers[p.resolver_count])) {
				fprintf(stderr, "hop-poison: bad resolver '%s'\n", optarg);
				return 2;
			}
			p.resolver_count++;
			break;
		case 'u':
			p.unsolicited = true;
			break;
		case 'w':
			p.in_window = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || !p.resolver_count || (!p.unsolicited && !p.in_window)) {
		usage(stderr);
		return 2;
	}
	if (open_socket(&p, ifname))
		return 1;
	signal(SIGTERM, on_stop_signal);
	signal(SIGINT, on_stop_signal);
	srandom((unsigned int)getpid());
	printf("listening on %s\n", ifname);
	fflush(stdout);
	pfd.fd = p.sock;
	pfd.events = POLLIN;
	while (!stop_requested) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recv(p.sock, frame, sizeof(frame), 0);
		if (n > 0)
			on_frame(&p, frame, (size_t)n);
	}
	printf("total %lu\n", p.lies);
	close(p.sock);
	return 0;
}
