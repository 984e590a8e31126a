/* SPDX-License-Identifier: GPL-2.0 */
/* Builds test frames layer by layer: link layer (Ethernet, VLAN tags,
 * PPPoE, or none), IPv4 or IPv6 with options and extension headers, UDP or
 * TCP, and a DNS message.  Lengths and the IPv4 header checksum are filled
 * in; UDP/TCP checksums are left 0 (for UDP over IPv4: none).
 */
#ifndef PACKET_BUILDER_H
#define PACKET_BUILDER_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 2048

struct dns_rr {
	bool name_written_out; /* owner name spelled out instead of 0xc00c */
	uint16_t type;
	uint8_t rdata[64];
	uint16_t rdlen;
};

struct dns_spec {
	uint16_t id;
	uint16_t flags;
	const char *qname; /* dotted, e.g. "google.com" */
	uint16_t qtype;
	uint16_t qd_count_override; /* 0: 1 */
	int an_count;
	struct dns_rr an[3];
	int ns_count; /* authority records: SOA-like filler */
	bool opt; /* a bare EDNS OPT record (RDLENGTH 0) */
	int opt_cookie; /* OPT with a cookie option instead */
	uint16_t udp_len_delta; /* added to the correct UDP length */
	int dns_len_override; /* >= 0: cut the DNS message to this */
};

struct frame_spec {
	bool no_link; /* starts at the IP header */
	int vlan_tags;
	uint16_t outer_vlan_proto; /* 0: 802.1Q */
	bool pppoe;
	uint16_t ppp_proto; /* 0: matches the IP version */
	uint16_t ethertype; /* non-zero: raw ethertype, no IP follows */
	int family; /* 4 or 6 */
	const char *src; /* source address text */
	const char *dst; /* NULL: 192.0.2.2 or 2001:db8:1::2 */
	uint8_t ttl; /* 0: 57 */
	uint32_t flow_label; /* IPv6; 0: 0x54321 */
	bool flow_label_zero;
	uint16_t ip_id;
	uint16_t frag_off; /* IPv4 flags+offset, host order */
	int ipv4_option_words;
	int ipv6_ext_headers; /* destination options headers before UDP */
	bool ipv6_routing;
	bool ipv6_fragment;
	uint8_t l4_proto; /* 0: UDP */
	uint8_t tcp_flags; /* 0: PSH|ACK */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t sport; /* 0: 53 */
	uint16_t dport; /* 0: 40000 */
	int trailing; /* bytes of link-layer padding after the datagram */
	struct dns_spec dns;
};

struct frame {
	uint8_t bytes[FRAME_MAX];
	size_t len;
};

static size_t put_qname(uint8_t *p, const char *name)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t label = dot ? (size_t)(dot - name) : strlen(name);

		p[n++] = (uint8_t)label;
		memcpy(p + n, name, label);
		n += label;
		name += label;
		if (*name == '.')
			name++;
	}
	p[n++] = 0;
	return n;
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return 2;
}

static size_t build_dns(uint8_t *p, const struct dns_spec *d)
{
	size_t n = 0;
	int i;

	n += put16(p + n, d->id);
	n += put16(p + n, d->flags);
	n += put16(p + n, d->qd_count_override ? d->qd_count_override : 1);
	n += put16(p + n, (uint16_t)d->an_count);
	n += put16(p + n, (uint16_t)d->ns_count);
	n += put16(p + n, (uint16_t)(d->opt || d->opt_cookie ? 1 : 0));
	n += put_qname(p + n, d->qname);
	n += put16(p + n, d->qtype);
	n += put16(p + n, 1);
	for (i = 0; i < d->an_count; i++) {
		const struct dns_rr *rr = &d->an[i];

		if (rr->name_written_out)
			n += put_qname(p + n, d->qname);
		else
			n += put16(p + n, 0xc00c);
		n += put16(p + n, rr->type);
		n += put16(p + n, 1);
		n += put16(p + n, 0);
		n += put16(p + n, 300);
		n += put16(p + n, rr->rdlen);
		memcpy(p + n, rr->rdata, rr->rdlen);
		n += rr->rdlen;
	}
	for (i = 0; i < d->ns_count; i++) {
		static const uint8_t ns_rr[] = { 0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01, 0x00,
						 0x00, 0x01, 0x2c, 0x00, 0x02, 0xc0, 0x0c };

		memcpy(p + n, ns_rr, sizeof(ns_rr));
		n += sizeof(ns_rr);
	}
	if (d->opt || d->opt_cookie) {
		p[n++] = 0;
		n += put16(p + n, 41);
		n += put16(p + n, 1232);
		n += put16(p + n, 0);
		n += put16(p + n, 0);
		if (d->opt_cookie) {
			n += put16(p + n, 12);
			n += put16(p + n, 10); /* COOKIE */
			n += put16(p + n, 8);
			memset(p + n, 0xab, 8);
			n += 8;
		} else {
			n += put16(p + n, 0);
		}
	}
	if (d->dns_len_override >= 0 && (size_t)d->dns_len_override < n)
		n = (size_t)d->dns_len_override;
	return n;
}

/* The stack drops IPv4 datagrams with a bad header checksum before
 * netfilter sees them, which matters when frames are sent for real.
 */
static uint16_t ipv4_header_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		if (i != 10)
			sum += (uint32_t)(hdr[i] << 8 | hdr[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Returns false if the source address does not parse. */
static bool build_frame(struct frame *f, const struct frame_spec *s)
{
	uint8_t *p;
	size_t n = 0, ip_start, l4_start, l4_len;
	uint16_t sport = s->sport ? s->sport : 53;
	uint16_t dport = s->dport ? s->dport : 40000;
	uint8_t ttl = s->ttl ? s->ttl : 57;
	uint32_t flow = s->flow_label_zero ? 0 : s->flow_label ? s->flow_label : 0x54321;
	uint8_t l4 = s->l4_proto ? s->l4_proto : 17;
	int i;

	memset(f, 0, sizeof(*f));
	p = f->bytes;
	if (!s->no_link) {
		static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
		uint16_t next;

		memcpy(p, macs, 12);
		n = 12;
		for (i = 0; i < s->vlan_tags; i++) {
			next = i == 0 && s->outer_vlan_proto ? s->outer_vlan_proto : 0x8100;
			n += put16(p + n, next);
			n += put16(p + n, (uint16_t)(100 + i));
		}
		if (s->ethertype) {
			n += put16(p + n, s->ethertype);
			memset(p + n, 0x5a, 46);
			f->len = n + 46;
			return true;
		}
		if (s->pppoe) {
			n += put16(p + n, 0x8864);
			p[n++] = 0x11;
			p[n++] = 0;
			n += put16(p + n, 0x1234);
			n += 2; /* length, filled below */
			n += put16(p + n, s->ppp_proto	 ? s->ppp_proto :
					  s->family == 4 ? 0x0021 :
							   0x0057);
		} else {
			n += put16(p + n, s->family == 4 ? 0x0800 : 0x86dd);
		}
	}

	ip_start = n;
	if (s->family == 4) {
		/* negative option words make a header shorter than legal */
		size_t hdr_len = (size_t)(20 + 4 * s->ipv4_option_words);
		struct in_addr src;

		if (inet_pton(AF_INET, s->src, &src) != 1)
			return false;
		p[n] = 0x40 | (uint8_t)(hdr_len / 4);
		put16(p + n + 4, s->ip_id);
		put16(p + n + 6, s->frag_off);
		p[n + 8] = ttl;
		p[n + 9] = l4;
		memcpy(p + n + 12, &src, 4);
		if (inet_pton(AF_INET, s->dst ? s->dst : "192.0.2.2", p + n + 16) != 1)
			return false;
		for (i = 20; i < (int)hdr_len; i++)
			p[n + i] = 1; /* NOP options */
		n += hdr_len;
	} else {
		struct in6_addr src;
		uint8_t *next_hdr = p + n + 6;

		if (inet_pton(AF_INET6, s->src, &src) != 1)
			return false;
		/* version 6, traffic class 0, then the 20-bit flow label */
		p[n] = 0x60;
		p[n + 1] = (uint8_t)(flow >> 16 & 0x0f);
		p[n + 2] = (uint8_t)(flow >> 8);
		p[n + 3] = (uint8_t)flow;
		p[n + 7] = ttl;
		memcpy(p + n + 8, &src, 16);
		if (inet_pton(AF_INET6, s->dst ? s->dst : "2001:db8:1::2", p + n + 24) != 1)
			return false;
		n += 40;
		for (i = 0; i < s->ipv6_ext_headers; i++) {
			*next_hdr = 60; /* destination options */
			next_hdr = p + n;
			p[n + 1] = 0; /* 8 bytes: PadN fills them */
			p[n + 2] = 1;
			p[n + 3] = 4;
			n += 8;
		}
		if (s->ipv6_routing) {
			*next_hdr = 43;
			next_hdr = p + n;
			p[n + 1] = 2; /* 24 bytes: type 0 segments left 0, one address */
			n += 24;
		}
		if (s->ipv6_fragment) {
			*next_hdr = 44;
			next_hdr = p + n;
			put16(p + n + 2, 0x0001); /* offset 0, M=1 */
			n += 8;
		}
		*next_hdr = l4;
	}

	l4_start = n;
	if (l4 == 17) {
		put16(p + n, sport);
		put16(p + n + 2, dport);
		n += 8;
	} else {
		put16(p + n, sport);
		put16(p + n + 2, dport);
		put16(p + n + 4, (uint16_t)(s->tcp_seq >> 16));
		put16(p + n + 6, (uint16_t)s->tcp_seq);
		put16(p + n + 8, (uint16_t)(s->tcp_ack >> 16));
		put16(p + n + 10, (uint16_t)s->tcp_ack);
		p[n + 12] = 0x50;
		p[n + 13] = s->tcp_flags ? s->tcp_flags : 0x18; /* PSH|ACK */
		n += 20;
	}
	n += build_dns(p + n, &s->dns);
	l4_len = n - l4_start;
	if (l4 == 17)
		put16(p + l4_start + 4, (uint16_t)(l4_len + s->dns.udp_len_delta));

	if (s->family == 4) {
		put16(p + ip_start + 2, (uint16_t)(n - ip_start));
		put16(p + ip_start + 10,
		      ipv4_header_checksum(p + ip_start, (p[ip_start] & 0xf) * 4u));
	} else
		put16(p + ip_start + 4, (uint16_t)(n - ip_start - 40));
	if (s->pppoe)
		put16(p + ip_start - 4, (uint16_t)(n - ip_start + 2));

	memset(p + n, 0, (size_t)s->trailing);
	f->len = n + (size_t)s->trailing;
	return true;
}

#endif
