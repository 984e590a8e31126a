/* SPDX-License-Identifier: GPL-2.0 */
/* Forged DNS answers for the clean-dns tests: parse a DNS query out of an IP
 * packet and build the IP packet of a forged answer to it, with the
 * fingerprint of one censor style.  Shared by dns-inject (a censor on an
 * Ethernet link) and dns-tunwire (a censor on the far end of an L3 link).
 *
 * Each style carries exactly one of the fingerprints clean-dns knows, so a
 * test can match every drop counter to the forgeries of one style:
 *   ipid0    IPv4 ID 0, DF clear, flags 0x8180, answer name as 0xc00c pointer
 *   df       DF set, random non-zero ID, 0x8180, pointer
 *   aa       flags 0x8580 (AA), AN=1 NS=0, random non-zero ID, DF clear, pointer
 *   rawname  answer owner name written out in full, 0x8180, non-zero ID, DF clear
 *   gfw2025  two answers per query, one with DF and one without, random IDs,
 *            0x8180 to RD=1 queries and 0x8400 to RD=0 ones, pointer, AR=0,
 *            random TTL, address taken in turn from a pool
 *   cyclic   the 2025 injector pair that ignores the query's RD (net4people bbs
 *            #466): 0x8180 with DF and 0x8400 (AA, RD clear) without, else as
 *            gfw2025
 *   gfw2026  gfw2025, and since 2026 an HTTPS query gets a forged HTTPS record,
 *            "1 . alpn=h2 ipv4hint=<pool> ipv6hint=<pool>" (net4people #598);
 *            other types than AAAA and HTTPS get an A record, as before
 *   qr0      not an answer: the query itself sent back from the resolver's
 *            address (QR=0, same port and ID), as a censor teaching a
 *            stateful filter that the query is gone would
 * ipid0 and df are IPv4 header fields: those two styles leave IPv6 queries
 * alone rather than send a forgery with no fingerprint at all.
 */
#ifndef DNS_FORGE_H
#define DNS_FORGE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_PORT 53
#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX 255
#define IPV4_HEADER_LEN 20
#define IPV6_HEADER_LEN 40
#define UDP_HEADER_LEN 8
#define IP_DF_BIT 0x4000
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_RD 0x0100
#define DNS_OPCODE_MASK 0x7800
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT 41
#define DNS_TYPE_HTTPS 65
/* SvcPriority 1, TargetName ".", alpn=h2, ipv4hint, ipv6hint */
#define HTTPS_RDATA_LEN (2 + 1 + 7 + 8 + 20)
#define DNS_CLASS_IN 1
#define FORGERIES_PER_QUERY_MAX 2
#define RESOLVERS_MAX 8
#define FORGED_PACKET_MAX 600

enum forge_style {
	STYLE_IPID0,
	STYLE_DF,
	STYLE_AA,
	STYLE_RAWNAME,
	STYLE_GFW2025,
	STYLE_CYCLIC,
	STYLE_GFW2026,
	STYLE_QR0,
	STYLE_COUNT,
};

static const char *const forge_style_names[STYLE_COUNT] = {
	[STYLE_IPID0] = "ipid0",     [STYLE_DF] = "df",		  [STYLE_AA] = "aa",
	[STYLE_RAWNAME] = "rawname", [STYLE_GFW2025] = "gfw2025", [STYLE_CYCLIC] = "cyclic",
	[STYLE_GFW2026] = "gfw2026", [STYLE_QR0] = "qr0",
};

static inline int forge_style_parse(const char *name)
{
	int style;

	for (style = 0; style < STYLE_COUNT; style++)
		if (!strcmp(name, forge_style_names[style]))
			return style;
	return -1;
}

struct ip_address {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

static inline int ip_address_parse(const char *text, struct ip_address *address)
{
	memset(address, 0, sizeof(*address));
	if (inet_pton(AF_INET, text, &address->v4) == 1) {
		address->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &address->v6) == 1) {
		address->family = AF_INET6;
		return 0;
	}
	return -1;
}

static inline bool ip_address_equal(const struct ip_address *a, const struct ip_address *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
}

static inline const char *ip_address_text(const struct ip_address *address, char *text, size_t size)
{
	return inet_ntop(address->family, &address->v4, text, size) ? text : "?";
}

/* A UDP query to port 53, as read from the wire. */
struct dns_query {
	struct ip_address client;
	struct ip_address resolver;
	uint16_t client_port;
	uint16_t id;
	uint16_t flags;
	uint16_t qtype;
	const uint8_t *question; /* qname, qtype, qclass: copied into the answer */
	size_t question_len;
	size_t qname_len;
	bool edns; /* an OPT record follows the question (RFC 6891) */
	char name[DNS_NAME_MAX + 1]; /* qname in text, for the log */
};

/* The choices that make one forged answer. */
struct forgery {
	enum forge_style style;
	uint16_t ip_id;
	bool dont_fragment;
	uint16_t flags;
	bool name_written_out;
	uint32_t ttl;
	uint16_t answer_type; /* A, AAAA, HTTPS, or 0: no answer (qr0) */
	struct ip_address answer; /* A/AAAA; the ipv4hint of HTTPS */
	struct in6_addr answer_v6; /* the ipv6hint of HTTPS */
};

struct forge_config {
	struct in_addr answer_v4;
	struct in6_addr answer_v6;
	unsigned int pool_size; /* gfw2025: answers cycle over this many addresses */
	uint32_t ttl;
	unsigned int pool_next;
};

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t value)
{
	p[0] = value >> 8;
	p[1] = value & 0xff;
}

static inline void put_be32(uint8_t *p, uint32_t value)
{
	put_be16(p, value >> 16);
	put_be16(p + 2, value & 0xffff);
}

static inline uint32_t checksum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_be16(data + i);
	if (len & 1)
		sum += data[len - 1] << 8;
	return sum;
}

static inline uint16_t checksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Text form of an uncompressed DNS name; returns its wire length or 0. */
static inline size_t dns_name_parse(const uint8_t *name, size_t room, char *text)
{
	size_t pos = 0, out = 0;

	while (pos < room && pos <= DNS_NAME_MAX) {
		uint8_t label_len = name[pos];

		if (label_len == 0) {
			if (out)
				text[out - 1] = '\0'; /* drop the trailing dot */
			else
				strcpy(text, ".");
			return pos + 1;
		}
		if (label_len > 63 || pos + 1 + label_len >= room ||
		    out + label_len + 1 > DNS_NAME_MAX)
			return 0;
		memcpy(text + out, name + pos + 1, label_len);
		out += label_len;
		text[out++] = '.';
		pos += 1 + label_len;
	}
	return 0;
}

/* Parse a DNS query out of an IPv4 or IPv6 packet.  Only what a censor on a
 * router sees matters: unfragmented UDP to port 53, no IPv6 extension
 * headers, one question.
 */
static inline int dns_query_parse(const uint8_t *packet, size_t len, struct dns_query *query)
{
	const uint8_t *udp, *dns;
	size_t udp_len, dns_len;

	memset(query, 0, sizeof(*query));
	if (len < 1)
		return -1;
	if (packet[0] >> 4 == 4) {
		size_t header_len = (packet[0] & 0x0f) * 4;

		if (len < IPV4_HEADER_LEN || header_len < IPV4_HEADER_LEN || header_len > len ||
		    packet[9] != IPPROTO_UDP || (get_be16(packet + 6) & 0x3fff))
			return -1;
		query->client.family = AF_INET;
		memcpy(&query->client.v4, packet + 12, 4);
		query->resolver.family = AF_INET;
		memcpy(&query->resolver.v4, packet + 16, 4);
		udp = packet + header_len;
	} else if (packet[0] >> 4 == 6) {
		if (len < IPV6_HEADER_LEN || packet[6] != IPPROTO_UDP)
			return -1;
		query->client.family = AF_INET6;
		memcpy(&query->client.v6, packet + 8, 16);
		query->resolver.family = AF_INET6;
		memcpy(&query->resolver.v6, packet + 24, 16);
		udp = packet + IPV6_HEADER_LEN;
	} else {
		return -1;
	}
	if (udp + UDP_HEADER_LEN > packet + len || get_be16(udp + 2) != DNS_PORT)
		return -1;
	udp_len = packet + len - udp;
	dns = udp + UDP_HEADER_LEN;
	dns_len = udp_len - UDP_HEADER_LEN;
	if (dns_len < DNS_HEADER_LEN)
		return -1;
	query->client_port = get_be16(udp);
	query->id = get_be16(dns);
	query->flags = get_be16(dns + 2);
	if ((query->flags & (DNS_FLAG_QR | DNS_OPCODE_MASK)) || get_be16(dns + 4) != 1)
		return -1;
	query->question = dns + DNS_HEADER_LEN;
	query->qname_len = dns_name_parse(query->question, dns_len - DNS_HEADER_LEN, query->name);
	if (!query->qname_len || query->qname_len + 4 > dns_len - DNS_HEADER_LEN)
		return -1;
	query->question_len = query->qname_len + 4;
	query->qtype = get_be16(query->question + query->qname_len);
	/* EDNS as a resolver sees it: the first additional record is OPT,
	 * owner the root name.  Logged so a test can tell which forgeries
	 * answer EDNS queries (those clean-dns's edns-echo rule can catch).
	 */
	query->edns = get_be16(dns + 10) > 0 && !get_be16(dns + 6) && !get_be16(dns + 8) &&
		      query->question_len + 3 <= dns_len - DNS_HEADER_LEN &&
		      query->question[query->question_len] == 0 &&
		      get_be16(query->question + query->question_len + 1) == DNS_TYPE_OPT;
	return 0;
}

static inline uint16_t random_nonzero_id(void)
{
	return (uint16_t)(1 + random() % 0xffff);
}

/* The forgeries one query gets in STYLE; returns how many (at most
 * FORGERIES_PER_QUERY_MAX).
 */
static inline int forgeries_plan(enum forge_style style, const struct dns_query *query,
				 struct forge_config *config, struct forgery *out)
{
	int count = 1, i;

	if ((style == STYLE_IPID0 || style == STYLE_DF) && query->client.family != AF_INET)
		return 0;
	for (i = 0; i < FORGERIES_PER_QUERY_MAX; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].style = style;
		out[i].ip_id = random_nonzero_id();
		out[i].flags = 0x8180;
		out[i].ttl = config->ttl;
		out[i].answer.family = query->qtype == DNS_TYPE_AAAA ? AF_INET6 : AF_INET;
		out[i].answer_type = query->qtype == DNS_TYPE_AAAA ? DNS_TYPE_AAAA : DNS_TYPE_A;
		out[i].answer.v4 = config->answer_v4;
		if (out[i].answer.family == AF_INET6)
			out[i].answer.v6 = config->answer_v6;
		out[i].answer_v6 = config->answer_v6;
	}
	switch (style) {
	case STYLE_IPID0:
		out[0].ip_id = 0;
		break;
	case STYLE_DF:
		out[0].dont_fragment = true;
		break;
	case STYLE_AA:
		out[0].flags = 0x8580;
		break;
	case STYLE_RAWNAME:
		out[0].name_written_out = true;
		break;
	case STYLE_GFW2025:
	case STYLE_CYCLIC:
	case STYLE_GFW2026:
		/* Seen in 2025 from the GFW: a pair of answers per query, one
		 * with DF and one without, flags that ignore RA semantics for
		 * RD=0 queries (0x8400), TTLs and addresses that vary.
		 */
		count = 2;
		for (i = 0; i < count; i++) {
			unsigned int pool_size = config->pool_size ? config->pool_size : 1;
			unsigned int step = config->pool_next++ % pool_size;

			out[i].flags = (query->flags & DNS_FLAG_RD) ? 0x8180 : 0x8400;
			out[i].ttl = 60 + random() % 240;
			if (out[i].answer.family == AF_INET)
				out[i].answer.v4.s_addr =
					htonl(ntohl(config->answer_v4.s_addr) + step);
			else
				out[i].answer.v6.s6_addr[15] += step;
			out[i].answer_v6.s6_addr[15] += step;
			if (style == STYLE_GFW2026 && query->qtype == DNS_TYPE_HTTPS)
				out[i].answer_type = DNS_TYPE_HTTPS;
		}
		out[0].dont_fragment = true;
		if (style == STYLE_CYCLIC)
			out[1].flags = 0x8400;
		break;
	case STYLE_QR0:
		out[0].flags = query->flags;
		out[0].answer_type = 0;
		break;
	default:
		return 0;
	}
	return count;
}

/* Write the IP header of a packet carrying PAYLOAD_LEN bytes of PROTO from
 * SRC to DST into OUT (zeroed by the caller): IPv4 with ID and DF as given,
 * or IPv6 with flow label 0; TTL 64 either way.  Returns the sum the
 * transport checksum starts from (the pseudo-header).
 */
static inline uint32_t ip_header_write(uint8_t *out, const struct ip_address *src,
				       const struct ip_address *dst, uint8_t proto,
				       size_t payload_len, uint16_t ip_id, bool dont_fragment)
{
	if (src->family == AF_INET) {
		out[0] = 0x45;
		put_be16(out + 2, IPV4_HEADER_LEN + payload_len);
		put_be16(out + 4, ip_id);
		put_be16(out + 6, dont_fragment ? IP_DF_BIT : 0);
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, &src->v4, 4);
		memcpy(out + 16, &dst->v4, 4);
		put_be16(out + 10, checksum_fold(checksum_add(0, out, IPV4_HEADER_LEN)));
		return checksum_add(0, out + 12, 8) + proto + payload_len;
	}
	out[0] = 0x60;
	put_be16(out + 4, payload_len);
	out[6] = proto;
	out[7] = 64;
	memcpy(out + 8, &src->v6, 16);
	memcpy(out + 24, &dst->v6, 16);
	return checksum_add(0, out + 8, 32) + proto + payload_len;
}

static inline size_t forgery_rdata_len(const struct forgery *forgery)
{
	switch (forgery->answer_type) {
	case DNS_TYPE_A:
		return 4;
	case DNS_TYPE_AAAA:
		return 16;
	case DNS_TYPE_HTTPS:
		return HTTPS_RDATA_LEN;
	}
	return 0;
}

/* The answer record at OUT: owner name, TYPE, CLASS, TTL, RDATA. */
static inline void forgery_answer_write(const struct dns_query *query,
					const struct forgery *forgery, uint8_t *out,
					size_t name_len, size_t rdata_len)
{
	static const uint8_t https_head[] = { 0, 1, 0, 0, 1, 0, 3, 2, 'h', '2', 0, 4, 0, 4 };
	uint8_t *rdata;

	if (forgery->name_written_out) {
		memcpy(out, query->question, query->qname_len);
	} else {
		out[0] = 0xc0; /* pointer to the qname at offset 12 */
		out[1] = DNS_HEADER_LEN;
	}
	out += name_len;
	put_be16(out, forgery->answer_type);
	put_be16(out + 2, DNS_CLASS_IN);
	put_be32(out + 4, forgery->ttl);
	put_be16(out + 8, rdata_len);
	rdata = out + 10;
	if (forgery->answer_type != DNS_TYPE_HTTPS) {
		memcpy(rdata, &forgery->answer.v4, rdata_len);
		return;
	}
	memcpy(rdata, https_head, sizeof(https_head));
	memcpy(rdata + sizeof(https_head), &forgery->answer.v4, 4);
	put_be16(rdata + sizeof(https_head) + 4, 6); /* ipv6hint */
	put_be16(rdata + sizeof(https_head) + 6, 16);
	memcpy(rdata + sizeof(https_head) + 8, &forgery->answer_v6, 16);
}

/* Build the IP packet of FORGERY answering QUERY into OUT; returns its length. */
static inline size_t forgery_build(const struct dns_query *query, const struct forgery *forgery,
				   uint8_t *out, size_t room)
{
	size_t ip_len = query->client.family == AF_INET ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
	size_t rdata_len = forgery_rdata_len(forgery);
	size_t name_len = forgery->name_written_out ? query->qname_len : 2;
	size_t answer_len = forgery->answer_type ? name_len + 10 + rdata_len : 0;
	size_t dns_len = DNS_HEADER_LEN + query->question_len + answer_len;
	size_t udp_len = UDP_HEADER_LEN + dns_len;
	uint8_t *udp = out + ip_len, *dns = udp + UDP_HEADER_LEN, *answer;
	uint32_t sum;

	if (ip_len + udp_len > room)
		return 0;
	memset(out, 0, ip_len + UDP_HEADER_LEN + DNS_HEADER_LEN);

	put_be16(dns, query->id);
	put_be16(dns + 2, forgery->flags);
	put_be16(dns + 4, 1); /* QDCOUNT */
	put_be16(dns + 6, forgery->answer_type ? 1 : 0); /* NSCOUNT, ARCOUNT stay 0 */
	memcpy(dns + DNS_HEADER_LEN, query->question, query->question_len);
	answer = dns + DNS_HEADER_LEN + query->question_len;
	if (forgery->answer_type)
		forgery_answer_write(query, forgery, answer, name_len, rdata_len);

	put_be16(udp, DNS_PORT);
	put_be16(udp + 2, query->client_port);
	put_be16(udp + 4, udp_len);

	sum = ip_header_write(out, &query->resolver, &query->client, IPPROTO_UDP, udp_len,
			      forgery->ip_id, forgery->dont_fragment);
	sum = checksum_fold(checksum_add(sum, udp, udp_len));
	put_be16(udp + 6, sum ? sum : 0xffff); /* 0 means "no checksum" */
	return ip_len + udp_len;
}

static inline void forgery_print(FILE *out, unsigned long number, const struct dns_query *query,
				 const struct forgery *forgery)
{
	char client[INET6_ADDRSTRLEN], resolver[INET6_ADDRSTRLEN], answer[INET6_ADDRSTRLEN];
	bool v4 = query->client.family == AF_INET;
	char ip_id[8] = "-";

	if (v4)
		snprintf(ip_id, sizeof(ip_id), "%u", forgery->ip_id);

	fprintf(out,
		"forgery %lu style=%s client=%s#%u resolver=%s id=0x%04x qname=%s qtype=%u "
		"edns=%d answer=%s ipid=%s df=%d flags=0x%04x name=%s ttl=%u type=%u\n",
		number, forge_style_names[forgery->style],
		ip_address_text(&query->client, client, sizeof(client)), query->client_port,
		ip_address_text(&query->resolver, resolver, sizeof(resolver)), query->id,
		query->name, query->qtype, query->edns,
		ip_address_text(&forgery->answer, answer, sizeof(answer)), ip_id,
		v4 && forgery->dont_fragment, forgery->flags,
		forgery->name_written_out ? "full" : "pointer", forgery->ttl, forgery->answer_type);
}

#endif
