/* SPDX-License-Identifier: GPL-2.0 */
/* A second opinion on every drop, written differently from classify.h on
 * purpose: it parses forward, walks the question name and the answer's
 * owner name label by label, and checks the fingerprint the drop claims
 * from the bytes.  classify.h reads the answer from the tail; if the two
 * readings ever disagree about a drop, one of them is wrong.
 */
#ifndef CDNS_FORGERY_ORACLE_H
#define CDNS_FORGERY_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct oracle_view {
	const uint8_t *p;
	size_t len;
};

static inline int oracle_u16(const struct oracle_view *v, size_t off, uint16_t *out)
{
	if (off + 2 > v->len)
		return 0;
	*out = (uint16_t)(v->p[off] << 8 | v->p[off + 1]);
	return 1;
}

/* Skips an uncompressed name at *off; returns 0 if it runs out or points. */
static inline int oracle_skip_plain_name(const struct oracle_view *v, size_t *off, size_t *name_len)
{
	size_t start = *off;

	while (*off < v->len) {
		uint8_t label = v->p[*off];

		if (label == 0) {
			(*off)++;
			*name_len = *off - start;
			return 1;
		}
		if (label & 0xc0)
			return 0;
		*off += 1 + label;
	}
	return 0;
}

struct oracle_packet {
	int is_ipv4;
	uint16_t ipv4_id, ipv4_frag_off;
	uint8_t ttl;
	uint32_t flow_label;
	struct oracle_view dns; /* the UDP payload, per the UDP length */
};

/* Link layer, IP, UDP from port 53: fills PKT or returns 0. */
static inline int oracle_parse(const uint8_t *frame, size_t len, int l3, struct oracle_packet *pkt)
{
	size_t off = 0, ip, l4 = 0, ip_end;
	uint16_t proto = 0, v;
	uint8_t next;
	int i;

	memset(pkt, 0, sizeof(*pkt));
	if (!l3) {
		if (len < 14)
			return 0;
		proto = (uint16_t)(frame[12] << 8 | frame[13]);
		off = 14;
		for (i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
			if (off + 4 > len)
				return 0;
			proto = (uint16_t)(frame[off + 2] << 8 | frame[off + 3]);
			off += 4;
		}
		if (proto == 0x8864) {
			if (off + 8 > len || frame[off] != 0x11 || frame[off + 1] != 0)
				return 0;
			v = (uint16_t)(frame[off + 6] << 8 | frame[off + 7]);
			proto = v == 0x0021 ? 0x0800 : v == 0x0057 ? 0x86dd : 0;
			off += 8;
		}
	} else if (len > 0) {
		proto = frame[0] >> 4 == 4 ? 0x0800 : frame[0] >> 4 == 6 ? 0x86dd : 0;
	}
	ip = off;
	if (proto == 0x0800) {
		size_t ihl;

		if (ip + 20 > len || frame[ip] >> 4 != 4)
			return 0;
		ihl = (size_t)(frame[ip] & 0xf) * 4;
		if (ihl < 20 || ip + ihl > len)
			return 0;
		ip_end = ip + (size_t)(frame[ip + 2] << 8 | frame[ip + 3]);
		pkt->is_ipv4 = 1;
		pkt->ipv4_id = (uint16_t)(frame[ip + 4] << 8 | frame[ip + 5]);
		pkt->ipv4_frag_off = (uint16_t)(frame[ip + 6] << 8 | frame[ip + 7]);
		pkt->ttl = frame[ip + 8];
		if (frame[ip + 9] != 17 || (pkt->ipv4_frag_off & 0x3fff))
			return 0;
		l4 = ip + ihl;
	} else if (proto == 0x86dd) {
		if (ip + 40 > len || frame[ip] >> 4 != 6)
			return 0;
		ip_end = ip + 40 + (size_t)(frame[ip + 4] << 8 | frame[ip + 5]);
		pkt->flow_label = (uint32_t)(frame[ip + 1] & 0xf) << 16 |
				  (uint32_t)frame[ip + 2] << 8 | frame[ip + 3];
		pkt->ttl = frame[ip + 7];
		next = frame[ip + 6];
		l4 = ip + 40;
		for (i = 0; i < 8 && next != 17; i++) {
			if (l4 + 2 > len)
				return 0;
			if (next == 0 || next == 43 || next == 60)
				v = (uint16_t)((frame[l4 + 1] + 1) * 8);
			else if (next == 51)
				v = (uint16_t)((frame[l4 + 1] + 2) * 4);
			else
				return 0;
			next = frame[l4];
			l4 += v;
		}
		if (next != 17)
			return 0;
	} else {
		return 0;
	}
	if (ip_end > len || l4 + 8 > ip_end)
		return 0;
	if (frame[l4] != 0 || frame[l4 + 1] != 53)
		return 0;
	v = (uint16_t)(frame[l4 + 4] << 8 | frame[l4 + 5]);
	if (v < 8 || l4 + v > ip_end)
		return 0;
	pkt->dns.p = frame + l4 + 8;
	pkt->dns.len = v - 8u;
	return 1;
}

struct oracle_answer {
	int name_is_pointer_to_question; /* 0xc00c */
	int name_written_out; /* the question name, spelled out */
	uint16_t type, rdlength;
	const uint8_t *rdata;
};

/* Header says one question and one answer; parses both forward. */
static inline int oracle_answer(const struct oracle_view *dns, struct oracle_answer *a)
{
	size_t off = 12, qname_off = 12, qname_len, name_len;
	uint16_t qd, an;

	memset(a, 0, sizeof(*a));
	if (!oracle_u16(dns, 4, &qd) || !oracle_u16(dns, 6, &an) || qd != 1 || an != 1)
		return 0;
	if (!oracle_skip_plain_name(dns, &off, &qname_len))
		return 0;
	off += 4; /* QTYPE, QCLASS */
	if (off + 2 > dns->len)
		return 0;
	/* The owner name: labels, ended by the root or by a pointer (a pointer
	 * alone being the usual 0xc00c).
	 */
	{
		size_t start = off;
		int pointer = 0;

		while (off < dns->len) {
			uint8_t label = dns->p[off];

			if (label == 0) {
				off++;
				break;
			}
			if ((label & 0xc0) == 0xc0) {
				if (off + 2 > dns->len)
					return 0;
				pointer = 1;
				off += 2;
				break;
			}
			if (label & 0xc0)
				return 0;
			off += 1 + label;
		}
		if (off > dns->len)
			return 0;
		name_len = off - start;
		a->name_is_pointer_to_question = pointer && name_len == 2 &&
						 dns->p[start + 1] == 0x0c;
		/* clean-dns's fingerprint: plain labels, the question's length */
		a->name_written_out = !pointer && name_len == qname_len;
		(void)qname_off;
	}
	if (!oracle_u16(dns, off, &a->type) || !oracle_u16(dns, off + 8, &a->rdlength))
		return 0;
	off += 10;
	if (off + a->rdlength > dns->len)
		return 0;
	a->rdata = dns->p + off;
	return 1;
}

#endif
