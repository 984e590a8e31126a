/* SPDX-License-Identifier: GPL-2.0 */
/* A second opinion on every drop, written differently from xdp/parse.h on
 * purpose: no label or parameter limits, size_t cursors, and the message
 * read forward to its last byte the way RFC 1035 lays it out (header,
 * question, answer, the optional OPT record).  What it reports is the
 * bytes' facts; clean-dns-fuzz.c holds each drop reason against them.  If
 * the two readings ever disagree about a drop, one of them is wrong.
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

/* The name at *OFF, before END: plain labels ended by the root, or ended by
 * a compression pointer when POINTER_OK.  Advances *OFF past it; *LEN is
 * its length on the wire, *POINTER whether it ended in one.  Returns 0 when
 * it runs past END, uses a reserved label type, or spells out more than
 * the 255 bytes a name may have.
 */
static inline int oracle_name(const struct oracle_view *v, size_t end, size_t *off, int pointer_ok,
			      size_t *len, int *pointer)
{
	size_t start = *off, at = *off;

	*pointer = 0;
	for (;;) {
		uint8_t label;

		if (at >= end || at - start >= 255)
			return 0;
		label = v->p[at];
		if (label == 0) {
			at += 1;
			break;
		}
		if ((label & 0xc0) == 0xc0) {
			if (!pointer_ok || at + 2 > end)
				return 0;
			at += 2;
			*pointer = 1;
			break;
		}
		if (label & 0xc0)
			return 0;
		at += 1 + (size_t)label;
	}
	*len = at - start;
	*off = at;
	return 1;
}

struct oracle_packet {
	int is_ipv4;
	uint16_t ipv4_id, ipv4_frag_off;
	uint8_t ttl;
	uint32_t flow_label;
	uint8_t src[16]; /* IPv4-mapped for IPv4 */
	uint16_t client_port; /* the UDP destination port, host order */
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
		pkt->src[10] = pkt->src[11] = 0xff;
		memcpy(pkt->src + 12, frame + ip + 12, 4);
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
		memcpy(pkt->src, frame + ip + 8, 16);
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
	pkt->client_port = (uint16_t)(frame[l4 + 2] << 8 | frame[l4 + 3]);
	v = (uint16_t)(frame[l4 + 4] << 8 | frame[l4 + 5]);
	if (v < 8 || l4 + v > ip_end)
		return 0;
	pkt->dns.p = frame + l4 + 8;
	pkt->dns.len = v - 8u;
	return 1;
}

/* A response with the shape every rule needs, read to its last byte. */
struct oracle_message {
	uint16_t id, flags, ar;
	size_t qname_len;
	uint16_t qtype;
	size_t owner_len;
	int owner_pointer; /* the owner name ended in a compression pointer */
	uint16_t type, rdlength;
	size_t rdata_off; /* into the message */
	int opt; /* an OPT record follows the answer */
};

/* One question, one answer, no authority records, and either nothing after
 * the answer or one OPT record (root name, TYPE 41) whose RDATA ends the
 * message.  Returns 0 for anything else.
 */
static inline int oracle_message(const struct oracle_view *dns, struct oracle_message *m)
{
	uint16_t qd, an, ns, opt_type, opt_len;
	size_t off = 12;
	int pointer;

	memset(m, 0, sizeof(*m));
	if (!oracle_u16(dns, 0, &m->id) || !oracle_u16(dns, 2, &m->flags) ||
	    !oracle_u16(dns, 4, &qd) || !oracle_u16(dns, 6, &an) || !oracle_u16(dns, 8, &ns) ||
	    !oracle_u16(dns, 10, &m->ar))
		return 0;
	if (qd != 1 || an != 1 || ns != 0 || m->ar > 1)
		return 0;

	/* Question: a plain name (there is nothing before it to point to). */
	if (!oracle_name(dns, dns->len, &off, 0, &m->qname_len, &pointer) ||
	    !oracle_u16(dns, off, &m->qtype) || off + 4 > dns->len)
		return 0;
	off += 4;

	/* Answer: owner name, TYPE, CLASS, TTL, RDLENGTH, RDATA. */
	if (!oracle_name(dns, dns->len, &off, 1, &m->owner_len, &m->owner_pointer))
		return 0;
	if (!oracle_u16(dns, off, &m->type) || !oracle_u16(dns, off + 8, &m->rdlength))
		return 0;
	off += 10;
	if (off + m->rdlength > dns->len)
		return 0;
	m->rdata_off = off;
	off += m->rdlength;

	if (m->ar == 0)
		return off == dns->len;
	/* OPT: root name, TYPE, CLASS (the UDP size), TTL (extended flags),
	 * RDLENGTH, then its options, up to the last byte.
	 */
	if (off + 11 > dns->len || dns->p[off] != 0 || !oracle_u16(dns, off + 1, &opt_type) ||
	    !oracle_u16(dns, off + 9, &opt_len) || opt_type != 41)
		return 0;
	m->opt = 1;
	return off + 11 + opt_len == dns->len;
}

/* The owner name written out where servers point (0xc00c): plain labels to
 * the root, as many bytes as the question name.
 */
static inline int oracle_owner_written_out(const struct oracle_message *m)
{
	return !m->owner_pointer && m->owner_len == m->qname_len;
}

/* Calls MATCH on each ipv4hint (SvcParamKey 4) and ipv6hint (6) address
 * of an HTTPS or SVCB record's RDATA (RFC 9460: SvcPriority, an
 * uncompressed TargetName, then key, length, value), in order, until it
 * returns non-zero; returns that.  Parameters after one that does not fit
 * the RDATA are not read; a hint whose length is not a multiple of its
 * address size is not a list of addresses.
 */
static inline int oracle_svc_hints(const struct oracle_view *dns, const struct oracle_message *m,
				   int (*match)(const uint8_t *addr, size_t addr_len))
{
	size_t off = m->rdata_off + 2, end = m->rdata_off + m->rdlength, name_len, i, addr_len;
	uint16_t key, len;
	int pointer, found;

	if (m->rdlength < 2 || !oracle_name(dns, end, &off, 0, &name_len, &pointer))
		return 0;
	while (off + 4 <= end) {
		key = (uint16_t)(dns->p[off] << 8 | dns->p[off + 1]);
		len = (uint16_t)(dns->p[off + 2] << 8 | dns->p[off + 3]);
		off += 4;
		if (off + len > end)
			return 0;
		addr_len = key == 4 ? 4 : key == 6 ? 16 : 0;
		if (addr_len && len % addr_len == 0)
			for (i = 0; i < len; i += addr_len) {
				found = match(dns->p + off + i, addr_len);
				if (found)
					return found;
			}
		off += len;
	}
	return 0;
}

#endif
