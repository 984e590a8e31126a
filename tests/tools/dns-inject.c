// SPDX-License-Identifier: GPL-2.0
/* dns-inject: an on-path censor for the clean-dns tests.
 *
 * Runs on a router between client and resolver.  It watches the
 * client-facing Ethernet interface with an AF_PACKET socket and, for each
 * UDP query to one of the given resolvers, at once writes forged answers
 * back to the client as full Ethernet frames on the same socket.  Writing
 * the frame ourselves keeps the IPv4 ID and DF bits exactly as the style
 * wants them: a raw IP socket with IP_HDRINCL replaces an ID of 0.  The
 * query itself is left alone, so the router forwards it and the genuine
 * answer follows, later.
 *
 * With --tcp-reset SUFFIX it also answers DNS over TCP as censors do, for
 * names under SUFFIX: a RST to each end of the connection, built from the
 * query segment so both are in window (to the client on the packet socket,
 * to the resolver through a raw IP socket), with this router's TTL.
 *
 * One line per forgery goes to stdout, and "total N" when SIGTERM or SIGINT
 * ends the program, so a test can compare what was sent with what clean-dns
 * dropped.  --watch prints the DNS responses seen on the interface instead
 * (the fingerprint of a real server: IP TTL or hop limit, IPv4 ID and DF,
 * IPv6 flow label, DNS flags and counts) and forges nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns-forge.h"

#define FRAME_MAX 65536
#define STYLES_PER_QUERY_MAX 8
#define TCP_HEADER_LEN 20
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define RESET_PACKET_MAX (IPV6_HEADER_LEN + TCP_HEADER_LEN)

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct injector {
	int sock;
	int ifindex;
	bool watch_only;
	struct ip_address resolvers[RESOLVERS_MAX];
	int resolver_count;
	enum forge_style styles[STYLES_PER_QUERY_MAX];
	int style_count;
	struct forge_config config;
	unsigned long forgeries_sent;
	unsigned long forgeries_by_style[STYLE_COUNT];
	unsigned long responses_seen;
	const char *reset_suffix; /* --tcp-reset: names under it, or NULL */
	int raw4, raw6; /* raw IP sockets for the RST to the resolver */
	unsigned long resets_sent;
};

/* A DNS query over TCP (the segment that carries it), as --tcp-reset sees it. */
struct tcp_query {
	struct ip_address client, resolver;
	uint16_t client_port;
	uint32_t seq, ack; /* of the query segment */
	uint32_t payload_len;
	char name[DNS_NAME_MAX + 1];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dns-inject -i IFACE -r RESOLVER [-r RESOLVER...] [-s STYLE[,STYLE...]]\n"
		"                  [--answer4 ADDR] [--answer6 ADDR] [--pool N] [--ttl SECONDS]\n"
		"                  [--tcp-reset SUFFIX]\n"
		"       dns-inject -i IFACE --watch\n"
		"styles: ipid0 df aa rawname gfw2025 (each query gets the forgeries of every\n"
		"style listed, in order); defaults: ipid0, 203.0.113.66, 2001:db8:bad::66\n");
}

static int open_packet_socket(const char *ifname, struct injector *injector)
{
	struct sockaddr_ll bind_address = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	int sock, err, one = 1;

	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (sock < 0) {
		err = -errno;
		fprintf(stderr, "dns-inject: socket(AF_PACKET): %s\n", strerror(errno));
		return err;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) {
		err = -errno;
		fprintf(stderr, "dns-inject: %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		/* On an L3 link the censor sits at the far end of the wire:
		 * that is dns-tunwire --inject.
		 */
		err = -EINVAL;
		fprintf(stderr, "dns-inject: %s is not Ethernet; use dns-tunwire --inject\n",
			ifname);
		goto fail;
	}
	injector->ifindex = (int)if_nametoindex(ifname);
	bind_address.sll_protocol = htons(ETH_P_ALL);
	bind_address.sll_ifindex = injector->ifindex;
	if (bind(sock, (struct sockaddr *)&bind_address, sizeof(bind_address)) < 0) {
		err = -errno;
		fprintf(stderr, "dns-inject: bind to %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	/* Our own forgeries need not come back to us as input. */
	if (!injector->watch_only &&
	    setsockopt(sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		err = -errno;
		fprintf(stderr, "dns-inject: PACKET_IGNORE_OUTGOING: %s\n", strerror(errno));
		goto fail;
	}
	injector->sock = sock;
	return 0;
fail:
	close(sock);
	return err;
}

static bool is_watched_resolver(const struct injector *injector, const struct ip_address *address)
{
	int i;

	for (i = 0; i < injector->resolver_count; i++)
		if (ip_address_equal(&injector->resolvers[i], address))
			return true;
	return false;
}

static void send_forgeries(struct injector *injector, const uint8_t *query_frame,
			   const struct dns_query *query)
{
	struct sockaddr_ll destination = {
		.sll_family = AF_PACKET,
		.sll_ifindex = injector->ifindex,
		.sll_halen = ETH_ALEN,
	};
	struct forgery planned[FORGERIES_PER_QUERY_MAX];
	uint8_t frame[ETH_HLEN + FORGED_PACKET_MAX];
	int s, i, count;
	size_t ip_len;

	/* Back to where the query came from, from the MAC it was sent to. */
	memcpy(frame, query_frame + ETH_ALEN, ETH_ALEN);
	memcpy(frame + ETH_ALEN, query_frame, ETH_ALEN);
	memcpy(frame + 2 * ETH_ALEN, query_frame + 2 * ETH_ALEN, 2);
	memcpy(destination.sll_addr, frame, ETH_ALEN);
	destination.sll_protocol = query->client.family == AF_INET ? htons(ETH_P_IP) :
								     htons(ETH_P_IPV6);

	for (s = 0; s < injector->style_count; s++) {
		count = forgeries_plan(injector->styles[s], query, &injector->config, planned);
		for (i = 0; i < count; i++) {
			ip_len = forgery_build(query, &planned[i], frame + ETH_HLEN,
					       sizeof(frame) - ETH_HLEN);
			if (!ip_len)
				continue;
			if (sendto(injector->sock, frame, ETH_HLEN + ip_len, 0,
				   (struct sockaddr *)&destination, sizeof(destination)) < 0) {
				fprintf(stderr, "dns-inject: send: %s\n", strerror(errno));
				continue;
			}
			injector->forgeries_sent++;
			injector->forgeries_by_style[planned[i].style]++;
			forgery_print(stdout, injector->forgeries_sent, query, &planned[i]);
		}
	}
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

/* Parse a TCP segment to port 53 that carries (the start of) a DNS query:
 * two length bytes, then the message.  Returns 0 when it is one.
 */
static int tcp_query_parse(const uint8_t *packet, size_t len, struct tcp_query *query)
{
	const uint8_t *tcp, *end, *dns;
	size_t header_len, tcp_len;

	memset(query, 0, sizeof(*query));
	if (len >= IPV4_HEADER_LEN && packet[0] >> 4 == 4) {
		header_len = (packet[0] & 0x0f) * 4;
		if (header_len < IPV4_HEADER_LEN || packet[9] != IPPROTO_TCP ||
		    (get_be16(packet + 6) & 0x3fff) || get_be16(packet + 2) > len ||
		    get_be16(packet + 2) < header_len)
			return -1;
		query->client.family = query->resolver.family = AF_INET;
		memcpy(&query->client.v4, packet + 12, 4);
		memcpy(&query->resolver.v4, packet + 16, 4);
		tcp = packet + header_len;
		end = packet + get_be16(packet + 2);
	} else if (len >= IPV6_HEADER_LEN && packet[0] >> 4 == 6) {
		if (packet[6] != IPPROTO_TCP ||
		    (size_t)IPV6_HEADER_LEN + get_be16(packet + 4) > len)
			return -1;
		query->client.family = query->resolver.family = AF_INET6;
		memcpy(&query->client.v6, packet + 8, 16);
		memcpy(&query->resolver.v6, packet + 24, 16);
		tcp = packet + IPV6_HEADER_LEN;
		end = tcp + get_be16(packet + 4);
	} else {
		return -1;
	}
	if (tcp + TCP_HEADER_LEN > end || get_be16(tcp + 2) != DNS_PORT)
		return -1;
	tcp_len = (tcp[12] >> 4) * 4;
	if (tcp_len < TCP_HEADER_LEN || tcp + tcp_len > end)
		return -1;
	query->client_port = get_be16(tcp);
	query->seq = get_be32(tcp + 4);
	query->ack = get_be32(tcp + 8);
	query->payload_len = (uint32_t)(end - tcp - tcp_len);
	dns = tcp + tcp_len + 2;
	if (query->payload_len < 2 + DNS_HEADER_LEN || get_be16(dns + 4) != 1 ||
	    (get_be16(dns + 2) & DNS_FLAG_QR))
		return -1;
	return dns_name_parse(dns + DNS_HEADER_LEN, end - dns - DNS_HEADER_LEN, query->name) ? 0 :
											       -1;
}

/* NAME is SUFFIX or a name under it. */
static bool name_under(const char *name, const char *suffix)
{
	size_t name_len = strlen(name), suffix_len = strlen(suffix);

	if (name_len < suffix_len || strcasecmp(name + name_len - suffix_len, suffix))
		return false;
	return name_len == suffix_len || name[name_len - suffix_len - 1] == '.';
}

/* An IP packet holding a bare RST|ACK from SRC:SPORT to DST:DPORT; returns
 * its length.  TTL 64 and, over IPv6, flow label 0, like the forgeries.
 */
static size_t tcp_reset_build(const struct ip_address *src, uint16_t sport,
			      const struct ip_address *dst, uint16_t dport, uint32_t seq,
			      uint32_t ack, uint8_t *out)
{
	size_t ip_len = src->family == AF_INET ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
	uint8_t *tcp = out + ip_len;
	uint32_t sum;

	memset(out, 0, ip_len + TCP_HEADER_LEN);
	sum = ip_header_write(out, src, dst, IPPROTO_TCP, TCP_HEADER_LEN, random_nonzero_id(),
			      false);
	put_be16(tcp, sport);
	put_be16(tcp + 2, dport);
	put_be32(tcp + 4, seq);
	put_be32(tcp + 8, ack);
	tcp[12] = (TCP_HEADER_LEN / 4) << 4;
	tcp[13] = TCP_FLAG_RST | TCP_FLAG_ACK;
	put_be16(tcp + 16, checksum_fold(checksum_add(sum, tcp, TCP_HEADER_LEN)));
	return ip_len + TCP_HEADER_LEN;
}

/* --tcp-reset: both ends of a TCP query for a censored name get a RST in
 * window: the client at the sequence number it acknowledged, the resolver
 * just past the query.
 */
static void send_resets(struct injector *injector, const uint8_t *query_frame,
			const struct tcp_query *query)
{
	struct sockaddr_ll client_link = {
		.sll_family = AF_PACKET,
		.sll_ifindex = injector->ifindex,
		.sll_halen = ETH_ALEN,
	};
	struct sockaddr_storage resolver = { 0 };
	uint8_t frame[ETH_HLEN + RESET_PACKET_MAX], packet[RESET_PACKET_MAX];
	char client[INET6_ADDRSTRLEN], resolver_text[INET6_ADDRSTRLEN],
		hex[2 * RESET_PACKET_MAX + 1];
	size_t len, i;
	int raw;

	memcpy(frame, query_frame + ETH_ALEN, ETH_ALEN);
	memcpy(frame + ETH_ALEN, query_frame, ETH_ALEN);
	memcpy(frame + 2 * ETH_ALEN, query_frame + 2 * ETH_ALEN, 2);
	memcpy(client_link.sll_addr, frame, ETH_ALEN);
	client_link.sll_protocol = get_be16(frame + 2 * ETH_ALEN) == ETH_P_IP ? htons(ETH_P_IP) :
										htons(ETH_P_IPV6);
	len = tcp_reset_build(&query->resolver, DNS_PORT, &query->client, query->client_port,
			      query->ack, query->seq + query->payload_len, frame + ETH_HLEN);
	if (sendto(injector->sock, frame, ETH_HLEN + len, 0, (struct sockaddr *)&client_link,
		   sizeof(client_link)) < 0)
		fprintf(stderr, "dns-inject: send reset to client: %s\n", strerror(errno));
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", frame[ETH_HLEN + i]);

	len = tcp_reset_build(&query->client, query->client_port, &query->resolver, DNS_PORT,
			      query->seq + query->payload_len, query->ack, packet);
	if (query->resolver.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&resolver;

		sin->sin_family = AF_INET;
		sin->sin_addr = query->resolver.v4;
		raw = injector->raw4;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&resolver;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = query->resolver.v6;
		raw = injector->raw6;
	}
	if (sendto(raw, packet, len, 0, (struct sockaddr *)&resolver, sizeof(resolver)) < 0)
		fprintf(stderr, "dns-inject: send reset to resolver: %s\n", strerror(errno));
	injector->resets_sent++;
	printf("reset %lu client=%s#%u resolver=%s qname=%s to-client=%s\n", injector->resets_sent,
	       ip_address_text(&query->client, client, sizeof(client)), query->client_port,
	       ip_address_text(&query->resolver, resolver_text, sizeof(resolver_text)), query->name,
	       hex);
}

/* --watch: one line per DNS response, with the fields clean-dns looks at. */
static void print_response(struct injector *injector, const uint8_t *packet, size_t len)
{
	char source[INET6_ADDRSTRLEN], destination[INET6_ADDRSTRLEN], ip_id[8] = "-";
	char flow_label[8] = "-", qname[DNS_NAME_MAX + 1] = "?";
	const char *answer_name = "-";
	const uint8_t *udp, *dns, *end = packet + len;
	int family, dont_fragment = 0;
	unsigned int ttl;
	size_t qname_len;

	if (len < IPV4_HEADER_LEN)
		return;
	if (packet[0] >> 4 == 4) {
		family = AF_INET;
		if (packet[9] != IPPROTO_UDP || (get_be16(packet + 6) & 0x1fff))
			return;
		snprintf(ip_id, sizeof(ip_id), "%u", get_be16(packet + 4));
		dont_fragment = !!(get_be16(packet + 6) & IP_DF_BIT);
		ttl = packet[8];
		inet_ntop(AF_INET, packet + 12, source, sizeof(source));
		inet_ntop(AF_INET, packet + 16, destination, sizeof(destination));
		udp = packet + (packet[0] & 0x0f) * 4;
	} else if (packet[0] >> 4 == 6 && len >= IPV6_HEADER_LEN) {
		family = AF_INET6;
		if (packet[6] != IPPROTO_UDP)
			return;
		/* Linux labels its flows (net.ipv6.auto_flowlabels=1) */
		snprintf(flow_label, sizeof(flow_label), "0x%05x",
			 (packet[1] & 0x0f) << 16 | packet[2] << 8 | packet[3]);
		ttl = packet[7];
		inet_ntop(AF_INET6, packet + 8, source, sizeof(source));
		inet_ntop(AF_INET6, packet + 24, destination, sizeof(destination));
		udp = packet + IPV6_HEADER_LEN;
	} else {
		return;
	}
	dns = udp + UDP_HEADER_LEN;
	if (dns + DNS_HEADER_LEN > end || get_be16(udp) != DNS_PORT)
		return;
	if (!(get_be16(dns + 2) & DNS_FLAG_QR))
		return;
	qname_len = get_be16(dns + 4) == 1 ? dns_name_parse(dns + DNS_HEADER_LEN,
							    end - dns - DNS_HEADER_LEN, qname) :
					     0;
	if (qname_len && get_be16(dns + 6) > 0 && dns + DNS_HEADER_LEN + qname_len + 4 < end)
		answer_name = dns[DNS_HEADER_LEN + qname_len + 4] >= 0xc0 ? "pointer" : "full";
	injector->responses_seen++;
	printf("response %lu family=%d src=%s dst=%s ttl=%u ipid=%s df=%d flow=%s id=0x%04x "
	       "flags=0x%04x qd=%u an=%u ns=%u ar=%u name=%s qname=%s len=%zu\n",
	       injector->responses_seen, family == AF_INET ? 4 : 6, source, destination, ttl, ip_id,
	       dont_fragment, flow_label, get_be16(dns), get_be16(dns + 2), get_be16(dns + 4),
	       get_be16(dns + 6), get_be16(dns + 8), get_be16(dns + 10), answer_name, qname,
	       (size_t)(end - dns));
}

static void handle_frame(struct injector *injector, const uint8_t *frame, size_t len,
			 const struct sockaddr_ll *from)
{
	struct dns_query query;
	struct tcp_query tcp_query;
	uint16_t ethertype;

	if (len < ETH_HLEN)
		return;
	ethertype = get_be16(frame + 2 * ETH_ALEN);
	if (ethertype != ETH_P_IP && ethertype != ETH_P_IPV6)
		return;
	if (injector->watch_only) {
		print_response(injector, frame + ETH_HLEN, len - ETH_HLEN);
		return;
	}
	/* Only queries addressed to this router, not our own output. */
	if (from->sll_pkttype != PACKET_HOST)
		return;
	if (injector->reset_suffix &&
	    !tcp_query_parse(frame + ETH_HLEN, len - ETH_HLEN, &tcp_query) &&
	    is_watched_resolver(injector, &tcp_query.resolver) &&
	    name_under(tcp_query.name, injector->reset_suffix)) {
		send_resets(injector, frame, &tcp_query);
		return;
	}
	if (dns_query_parse(frame + ETH_HLEN, len - ETH_HLEN, &query))
		return;
	if (!is_watched_resolver(injector, &query.resolver))
		return;
	send_forgeries(injector, frame, &query);
}

static int run(struct injector *injector)
{
	static uint8_t frame[FRAME_MAX];
	struct pollfd pfd = { .fd = injector->sock, .events = POLLIN };
	struct sockaddr_ll from;
	socklen_t from_len;
	ssize_t len;
	int err;

	while (!stop_requested) {
		/* A bounded wait, so a signal between the check and poll()
		 * delays the exit by at most this much.
		 */
		err = poll(&pfd, 1, 200);
		if (err < 0 && errno != EINTR) {
			err = -errno;
			fprintf(stderr, "dns-inject: poll: %s\n", strerror(errno));
			return err;
		}
		if (err <= 0)
			continue;
		from_len = sizeof(from);
		len = recvfrom(injector->sock, frame, sizeof(frame), MSG_DONTWAIT,
			       (struct sockaddr *)&from, &from_len);
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err = -errno;
			fprintf(stderr, "dns-inject: recv: %s\n", strerror(errno));
			return err;
		}
		handle_frame(injector, frame, (size_t)len, &from);
	}
	return 0;
}

static int parse_styles(char *list, struct injector *injector)
{
	char *saveptr = NULL, *name;
	int style;

	injector->style_count = 0;
	for (name = strtok_r(list, ",", &saveptr); name; name = strtok_r(NULL, ",", &saveptr)) {
		style = forge_style_parse(name);
		if (style < 0 || injector->style_count == STYLES_PER_QUERY_MAX)
			return -1;
		injector->styles[injector->style_count++] = style;
	}
	return injector->style_count ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "style", required_argument, NULL, 's' },
		{ "answer4", required_argument, NULL, '4' },
		{ "answer6", required_argument, NULL, '6' },
		{ "pool", required_argument, NULL, 'p' },
		{ "ttl", required_argument, NULL, 't' },
		{ "watch", no_argument, NULL, 'w' },
		{ "tcp-reset", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct injector injector = {
		.sock = -1,
		.raw4 = -1,
		.raw6 = -1,
		.styles = { STYLE_IPID0 },
		.style_count = 1,
		.config = { .pool_size = 4, .ttl = 60 },
	};
	struct sigaction stop_action = { .sa_handler = on_stop_signal };
	const char *ifname = NULL;
	struct ip_address address;
	int opt, err, style;

	inet_pton(AF_INET, "203.0.113.66", &injector.config.answer_v4);
	inet_pton(AF_INET6, "2001:db8:bad::66", &injector.config.answer_v6);
	while ((opt = getopt_long(argc, argv, "i:r:s:wh", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'r':
			if (injector.resolver_count == RESOLVERS_MAX ||
			    ip_address_parse(optarg,
					     &injector.resolvers[injector.resolver_count])) {
				fprintf(stderr, "dns-inject: bad or too many resolvers: %s\n",
					optarg);
				return 2;
			}
			injector.resolver_count++;
			break;
		case 's':
			if (parse_styles(optarg, &injector)) {
				fprintf(stderr, "dns-inject: bad style list\n");
				return 2;
			}
			break;
		case '4':
		case '6':
			if (ip_address_parse(optarg, &address) ||
			    address.family != (opt == '4' ? AF_INET : AF_INET6)) {
				fprintf(stderr, "dns-inject: bad answer address: %s\n", optarg);
				return 2;
			}
			if (opt == '4')
				injector.config.answer_v4 = address.v4;
			else
				injector.config.answer_v6 = address.v6;
			break;
		case 'p':
			injector.config.pool_size = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			injector.config.ttl = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			injector.watch_only = true;
			break;
		case 'R':
			injector.reset_suffix = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || (!injector.resolver_count && !injector.watch_only)) {
		usage(stderr);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	srandom((unsigned int)(time(NULL) ^ getpid()));
	sigaction(SIGTERM, &stop_action, NULL);
	sigaction(SIGINT, &stop_action, NULL);

	err = open_packet_socket(ifname, &injector);
	if (err)
		return 1;
	if (injector.reset_suffix) {
		/* IPPROTO_RAW: we write the IP header (IP_HDRINCL implied). */
		injector.raw4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		injector.raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
		if (injector.raw4 < 0 || injector.raw6 < 0) {
			fprintf(stderr, "dns-inject: raw socket: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("listening iface=%s ifindex=%d mode=%s\n", ifname, injector.ifindex,
	       injector.watch_only ? "watch" : "inject");

	err = run(&injector);
	close(injector.sock);
	if (injector.raw4 >= 0)
		close(injector.raw4);
	if (injector.raw6 >= 0)
		close(injector.raw6);
	if (injector.watch_only) {
		printf("total responses %lu\n", injector.responses_seen);
	} else {
		for (style = 0; style < STYLE_COUNT; style++)
			if (injector.forgeries_by_style[style])
				printf("total style=%s %lu\n", forge_style_names[style],
				       injector.forgeries_by_style[style]);
		printf("total %lu\n", injector.forgeries_sent);
	}
	return err ? 1 : 0;
}
