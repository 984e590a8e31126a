/* SPDX-License-Identifier: GPL-2.0 */
/* Parsing for the clean-dns programs, from the link layer to the DNS
 * message: headers, names, and the one answer of a response.  No policy
 * and no state here; xdp/classify.h holds the rules.
 *
 * This file compiles both into the BPF programs and into host binaries (the
 * vector tests and the fuzzer), so it reads memory only through pointers it
 * has checked against data_end.  A name walk is a loop the verifier would
 * follow again for every way the code before it can end: BPF builds define
 * CLASSIFY_WALKS_OUT_OF_LINE and provide
 *   __u32 walk_name(void *ctx, __u32 dns_off, __u32 dns_len, __u32 name_off);
 * as a global function, verified once on its own, returning what
 * dns_name_end returns with "compressed" in bit 16.  Host builds walk inline.
 */
#ifndef CLEAN_DNS_PARSE_H
#define CLEAN_DNS_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "clean_dns_common.h"
#include "bytes.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

enum first_header {
	FIRST_ETHERNET, /* Ethernet, optionally VLAN/QinQ and PPPoE */
	FIRST_IP, /* no link layer: tun, ppp, wireguard, ipip */
};

#define VLAN_MAX_DEPTH 2
#define IPV6_EXT_MAX 6
#define PPP_PROTO_IPV4 0x0021
#define PPP_PROTO_IPV6 0x0057
#define IPV4_DF 0x4000
#define IPV4_MF_OFFSET 0x3fff
#define DNS_PORT 53
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define DNS_HDR_LEN 12
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_OPCODE 0x7800
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_RD 0x0100
#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_DNAME 39
#define DNS_TYPE_OPT 41
#define DNS_TYPE_SVCB 64
#define DNS_TYPE_HTTPS 65
/* QTYPEs from here to 255 (ANY, AXFR, ...) ask for more than one type. */
#define DNS_QTYPE_META_FIRST 128
#define DNS_QTYPE_META_LAST 255
#define DNS_CLASS_IN 1
/* Offsets into a DNS message stay below this: the walks and reads look no
 * further, and a longer message is never judged.  A single-answer forgery
 * is a few dozen bytes.
 */
#define DNS_READ_MAX 4096
#define DNS_READ_MASK 0x1fff

#ifdef __BPF__
#define opaque_to_compiler(var) asm volatile("" : "+r"(var))
#else
#define opaque_to_compiler(var) ((void)0)
#endif

/* A 16-bit length from the packet, for pointer arithmetic.  Verifiers
 * before 6.18 keep no bounds across a byte swap (BPF_END): 5.10, 6.1 and
 * 6.12 reject "math between pkt pointer and register with unbounded min
 * value" (tests/kernels).  The mask restores the bound; the barrier keeps
 * clang from dropping a mask it knows to be a no-op.
 */
static __always_inline __u32 packet_len16(__be16 raw)
{
	__u32 len = bpf_ntohs(raw);

	opaque_to_compiler(len);
	return len & 0xffff;
}

struct hdr_cursor {
	const __u8 *pos;
};

struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* RFC 2516 session header followed by the PPP protocol field. */
struct pppoe_session {
	__u8 version_type; /* 0x11 */
	__u8 code; /* 0x00 in session frames */
	__be16 session_id;
	__be16 length;
	__be16 ppp_proto;
};

/* What the rules know of a packet.  parse_ipv4/parse_ipv6 fill only what
 * every packet needs; fill_addresses the rest, once a packet turned out to
 * be DNS: most packets are not, and they should not pay for it.
 */
struct packet_facts {
	const __u8 *ip_hdr;
	const __u8 *ip_end; /* end of the datagram per its IP header */
	__u8 is_ipv4;
	__u8 is_fragment;
	/* from fill_addresses: */
	__u8 ttl; /* IPv4 TTL or IPv6 hop limit */
	__u16 ipv4_id;
	__u16 ipv4_frag_off; /* flags and offset, host order */
	__u32 flow_label; /* IPv6 */
	struct addr_key src; /* source address as an LPM key, /128 */
	struct addr_key dst;
};

/* Returns ETH_P_IP or ETH_P_IPV6 (host order), or 0 for anything else. */
static __always_inline int parse_link(struct hdr_cursor *nh, const __u8 *data_end)
{
	const struct ethhdr *eth = (const void *)nh->pos;
	__u16 proto;
	int i;

	if ((const __u8 *)(eth + 1) > data_end)
		return 0;
	proto = bpf_ntohs(eth->h_proto);
	nh->pos = (const __u8 *)(eth + 1);

	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		const struct vlan_tag *tag = (const void *)nh->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((const __u8 *)(tag + 1) > data_end)
			return 0;
		proto = bpf_ntohs(tag->encapsulated_proto);
		nh->pos = (const __u8 *)(tag + 1);
	}

	if (proto == ETH_P_PPP_SES) {
		const struct pppoe_session *pppoe = (const void *)nh->pos;

		if ((const __u8 *)(pppoe + 1) > data_end)
			return 0;
		if (pppoe->version_type != 0x11 || pppoe->code != 0)
			return 0;
		nh->pos = (const __u8 *)(pppoe + 1);
		switch (bpf_ntohs(pppoe->ppp_proto)) {
		case PPP_PROTO_IPV4:
			return ETH_P_IP;
		case PPP_PROTO_IPV6:
			return ETH_P_IPV6;
		}
		return 0;
	}
	return proto == ETH_P_IP || proto == ETH_P_IPV6 ? proto : 0;
}

/* Without a link layer the IP version nibble says what follows. */
static __always_inline int parse_l3_start(const struct hdr_cursor *nh, const __u8 *data_end)
{
	if (nh->pos + 1 > data_end)
		return 0;
	switch (nh->pos[0] >> 4) {
	case 4:
		return ETH_P_IP;
	case 6:
		return ETH_P_IPV6;
	}
	return 0;
}

/* Returns the transport protocol, or -1 when the header is not usable.
 * The version and IHL are read as a byte: the bitfields in linux/ip.h
 * follow the host's byte order, not the BPF target's.
 */
static __always_inline int parse_ipv4(struct hdr_cursor *nh, const __u8 *data_end,
				      struct packet_facts *pkt)
{
	const struct iphdr *iph = (const void *)nh->pos;
	__u32 hdr_len, tot_len;

	if ((const __u8 *)(iph + 1) > data_end)
		return -1;
	if (nh->pos[0] >> 4 != 4)
		return -1;
	hdr_len = (nh->pos[0] & 0x0f) * 4;
	if (hdr_len < sizeof(*iph) || nh->pos + hdr_len > data_end)
		return -1;
	tot_len = packet_len16(iph->tot_len);
	if (tot_len < hdr_len)
		return -1;

	pkt->ip_hdr = nh->pos;
	pkt->ip_end = nh->pos + tot_len;
	pkt->is_ipv4 = 1;
	pkt->is_fragment = (bpf_ntohs(iph->frag_off) & IPV4_MF_OFFSET) != 0;

	nh->pos += hdr_len;
	return iph->protocol;
}

/* Walks a bounded number of extension headers.  A fragment header ends the
 * walk: the caller passes every fragment.
 */
static __always_inline int parse_ipv6(struct hdr_cursor *nh, const __u8 *data_end,
				      struct packet_facts *pkt)
{
	const struct ipv6hdr *ip6h = (const void *)nh->pos;
	__u32 payload_len;
	__u8 next;
	int i;

	if ((const __u8 *)(ip6h + 1) > data_end)
		return -1;
	if (nh->pos[0] >> 4 != 6)
		return -1;
	payload_len = packet_len16(ip6h->payload_len);
	if (payload_len == 0) /* jumbogram: never DNS */
		return -1;

	pkt->ip_hdr = nh->pos;
	pkt->ip_end = (const __u8 *)(ip6h + 1) + payload_len;
	pkt->is_ipv4 = 0;
	pkt->is_fragment = 0;

	next = ip6h->nexthdr;
	nh->pos = (const __u8 *)(ip6h + 1);

	for (i = 0; i <= IPV6_EXT_MAX; i++) {
		const __u8 *ext = nh->pos;
		__u32 ext_len;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (i == IPV6_EXT_MAX || ext + 2 > data_end)
				return -1;
			ext_len = (ext[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (i == IPV6_EXT_MAX || ext + 2 > data_end)
				return -1;
			ext_len = (ext[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (ext + 1 > data_end)
				return -1;
			pkt->is_fragment = 1;
			return ext[0];
		default:
			return next;
		}
		next = ext[0];
		nh->pos = ext + ext_len;
	}
	return -1;
}

/* A name may have up to 127 labels, but the walks stop at 32: the
 * verifier follows every way two walks can end, and 128 x 128 was past its
 * limit.  A longer name is not judged by the rules that read the answer or
 * the question (it passes); injected answers are for everyday names.
 */
#define DNS_MAX_LABELS 32
#define DNS_NAME_MAX 255

/* Walks the name at OFF label by label.  Returns the offset just past it,
 * or 0 when it runs past the message, is longer than a name may be, or uses
 * a label type other than plain or a compression pointer.  *compressed
 * tells whether it ended in a pointer.  Offsets stay small bounded numbers,
 * so the verifier can follow the walk.
 */
static __always_inline __u32 dns_name_end(const __u8 *dns, __u32 dns_len, const __u8 *data_end,
					  __u32 off, int *compressed)
{
	const __u8 *label;
	__u32 start = off;
	int i;

	*compressed = 0;
	for (i = 0; i < DNS_MAX_LABELS; i++) {
		if (off > DNS_READ_MAX || off >= dns_len)
			return 0;
		/* A no-op after the check above, but the check may be made on
		 * another copy of the register than the one clang adds; hidden
		 * from the compiler, the mask stays and carries the bound.
		 */
		opaque_to_compiler(off);
		label = dns + (off & DNS_READ_MASK);
		if (label + 1 > data_end)
			return 0;
		if (label[0] == 0)
			return off + 1;
		if ((label[0] & 0xc0) == 0xc0) {
			*compressed = 1;
			return off + 2 <= dns_len ? off + 2 : 0;
		}
		if (label[0] & 0xc0)
			return 0;
		off += label[0] + 1;
		/* At least the root byte follows: 255 bytes in all at most. */
		if (off - start >= DNS_NAME_MAX)
			return 0;
	}
	return 0;
}

#ifdef CLASSIFY_WALKS_OUT_OF_LINE
/* The walk's result comes back as a number the verifier knows only the
 * bounds of, the same on every path, so what follows is verified once.
 */
static __always_inline __u32 name_end(void *ctx, const __u8 *data, const __u8 *dns, __u32 dns_len,
				      const __u8 *data_end, __u32 off, int *compressed)
{
	__u32 walked = walk_name(ctx, (__u32)(dns - data), dns_len, off);
	__u32 end = walked & 0xffff;

	*compressed = (walked >> 16) & 1;
	return end <= DNS_READ_MAX ? end : 0;
}
#else
static __always_inline __u32 name_end(void *ctx, const __u8 *data, const __u8 *dns, __u32 dns_len,
				      const __u8 *data_end, __u32 off, int *compressed)
{
	(void)ctx;
	(void)data;
	return dns_name_end(dns, dns_len, data_end, off, compressed);
}
#endif

/* The one answer of a response, as parsed forward. */
struct single_answer {
	__u32 type_off; /* offset of its TYPE field */
	__u32 rdata_end; /* offset just past its RDATA */
	__u16 type;
	__u16 qtype; /* the question's */
	int written_out; /* owner name spelled out, as long as the question's */
};

/* An OPT record at OFF that ends exactly at DNS_LEN: root name, TYPE,
 * CLASS, TTL, RDLENGTH (11 bytes), then its options.
 */
static __always_inline int opt_ends_message(const __u8 *dns, __u32 dns_len, const __u8 *data_end,
					    __u32 off)
{
	const __u8 *opt;

	if (off > DNS_READ_MAX || off + 11 > dns_len)
		return 0;
	opaque_to_compiler(off);
	opt = dns + (off & DNS_READ_MASK);
	if (opt + 11 > data_end)
		return 0;
	return opt[0] == 0 && load_be16(opt + 1) == DNS_TYPE_OPT &&
	       off + 11 + load_be16(opt + 9) == dns_len;
}

/* The one answer of a response with no authority records and nothing or
 * one OPT record after it, parsed forward: the question name, QTYPE,
 * QCLASS, the answer's owner name, then the record, which must end exactly
 * where the message (or the OPT record) does.  Any type: the censor forges
 * A and AAAA, and since 2026 HTTPS records (net4people bbs #598), and the
 * rules that do not read the RDATA hold for all of them.  Returns 0 when
 * the message is not shaped so.  written_out says whether the owner name is
 * spelled out, as long as the question name, where servers write the
 * pointer 0xc00c (older injectors: 2014 three-injectors study; genuine
 * servers compress).
 */
static __always_inline int locate_single_answer(void *ctx, const __u8 *data, const __u8 *dns,
						__u32 dns_len, const __u8 *data_end, __u16 ns_count,
						__u16 ar_count, struct single_answer *ans)
{
	const __u8 *question, *rr;
	__u32 qname_end, owner, type_off, rr_end;
	int compressed;

	if (ns_count != 0 || ar_count > 1 || dns_len > DNS_READ_MAX)
		return 0;
	qname_end = name_end(ctx, data, dns, dns_len, data_end, DNS_HDR_LEN, &compressed);
	if (!qname_end || compressed || qname_end > DNS_READ_MAX)
		return 0;
	/* The offsets are masked (a no-op after the checks) so that the 5.10
	 * verifier bounds the pointer whichever register copy clang checked.
	 */
	opaque_to_compiler(qname_end);
	question = dns + (qname_end & DNS_READ_MASK);
	if (question + 4 > data_end)
		return 0;
	ans->qtype = load_be16(question);
	owner = qname_end + 4;
	type_off = name_end(ctx, data, dns, dns_len, data_end, owner, &compressed);
	if (!type_off || type_off > DNS_READ_MAX || type_off + 10 > dns_len)
		return 0;
	opaque_to_compiler(type_off);
	rr = dns + (type_off & DNS_READ_MASK);
	if (rr + 10 > data_end)
		return 0;
	ans->type = load_be16(rr);
	rr_end = type_off + 10 + load_be16(rr + 8);
	if (ar_count == 1 ? !opt_ends_message(dns, dns_len, data_end, rr_end) : rr_end != dns_len)
		return 0;

	/* Written out: plain labels to the root, as long as the question name.
	 * (Comparing the bytes as well would multiply the verifier's states past
	 * its limit; no server writes out a different name of the same length
	 * in a single answer where it could point.)
	 */
	ans->written_out = !compressed && type_off - owner == qname_end - DNS_HDR_LEN;
	ans->type_off = type_off;
	ans->rdata_end = rr_end;
	return 1;
}

/* An IPv4 (LEN 4) or IPv6 (LEN 16) address at P as an LPM key. */
static __always_inline void address_key(const __u8 *p, int len, struct addr_key *key)
{
	key->prefixlen = 128;
	if (len == 16) {
		__builtin_memcpy(key->addr, p, 16);
		return;
	}
	__builtin_memset(key->addr, 0, 10);
	key->addr[10] = 0xff;
	key->addr[11] = 0xff;
	__builtin_memcpy(&key->addr[12], p, 4);
}

/* The located A or AAAA answer's address as a key for the known-forged
 * map; 0 for other types or lengths.  Constant lengths in each branch:
 * verifiers before 6.12 cannot bound "pointer + a length that is 4 or 16".
 */
static __always_inline int answer_address(const __u8 *dns, const __u8 *data_end,
					  const struct single_answer *ans, struct addr_key *answer)
{
	const __u8 *rdata;
	__u32 type_off = ans->type_off;

	if (type_off > DNS_READ_MAX)
		return 0;
	opaque_to_compiler(type_off);
	rdata = dns + (type_off & DNS_READ_MASK) + 10;
	if (ans->type == DNS_TYPE_A && ans->rdata_end == type_off + 10 + 4) {
		if (rdata + 4 > data_end)
			return 0;
		address_key(rdata, 4, answer);
		return 1;
	}
	if (ans->type == DNS_TYPE_AAAA && ans->rdata_end == type_off + 10 + 16) {
		if (rdata + 16 > data_end)
			return 0;
		address_key(rdata, 16, answer);
		return 1;
	}
	return 0;
}

/* The rest of the facts, for packets that matter. */
static __always_inline int fill_addresses(struct packet_facts *pkt, const __u8 *data_end)
{
	if (pkt->is_ipv4) {
		const struct iphdr *iph = (const void *)pkt->ip_hdr;

		if ((const __u8 *)(iph + 1) > data_end)
			return -1;
		pkt->ttl = iph->ttl;
		pkt->ipv4_id = bpf_ntohs(iph->id);
		pkt->ipv4_frag_off = bpf_ntohs(iph->frag_off);
		pkt->flow_label = 0;
		__builtin_memset(&pkt->src, 0, sizeof(pkt->src));
		__builtin_memset(&pkt->dst, 0, sizeof(pkt->dst));
		pkt->src.prefixlen = 128;
		pkt->src.addr[10] = 0xff;
		pkt->src.addr[11] = 0xff;
		__builtin_memcpy(&pkt->src.addr[12], &iph->saddr, 4);
		pkt->dst.prefixlen = 128;
		pkt->dst.addr[10] = 0xff;
		pkt->dst.addr[11] = 0xff;
		__builtin_memcpy(&pkt->dst.addr[12], &iph->daddr, 4);
	} else {
		const struct ipv6hdr *ip6h = (const void *)pkt->ip_hdr;
		const __u8 *first = pkt->ip_hdr;

		if ((const __u8 *)(ip6h + 1) > data_end)
			return -1;
		pkt->ttl = ip6h->hop_limit;
		pkt->ipv4_id = 0;
		pkt->ipv4_frag_off = 0;
		pkt->flow_label = (__u32)(first[1] & 0x0f) << 16 | (__u32)first[2] << 8 | first[3];
		pkt->src.prefixlen = 128;
		__builtin_memcpy(pkt->src.addr, &ip6h->saddr, 16);
		pkt->dst.prefixlen = 128;
		__builtin_memcpy(pkt->dst.addr, &ip6h->daddr, 16);
	}
	return 0;
}

/* Link layer and IP: returns the transport protocol with the cursor on its
 * header, or -1 for anything not understood.
 */
static __always_inline int parse_to_transport(struct hdr_cursor *nh, const __u8 *data_end,
					      enum first_header first, struct packet_facts *pkt)
{
	int l3 = first == FIRST_ETHERNET ? parse_link(nh, data_end) : parse_l3_start(nh, data_end);

	if (l3 == ETH_P_IP)
		return parse_ipv4(nh, data_end, pkt);
	if (l3 == ETH_P_IPV6)
		return parse_ipv6(nh, data_end, pkt);
	return -1;
}

/* The prologue both directions share: link layer and IP, then the DNS
 * port (PORT_AT 0: the source port, on ingress; 2: the destination port, on
 * egress), then the addresses.  Returns the transport protocol, or -1 for
 * what is not DNS; most packets end here, having cost a few loads.
 * Fragments come back with is_fragment set and no port checked: only the
 * first fragment has one.
 */
static __always_inline int parse_dns_packet(struct hdr_cursor *nh, const __u8 *data_end,
					    enum first_header first, int port_at,
					    struct packet_facts *pkt)
{
	int l4 = parse_to_transport(nh, data_end, first, pkt);

	if (l4 != IPPROTO_UDP && l4 != IPPROTO_TCP)
		return -1;
	if (!pkt->is_fragment &&
	    (nh->pos + port_at + 2 > data_end || load_be16(nh->pos + port_at) != DNS_PORT))
		return -1;
	if (fill_addresses(pkt, data_end))
		return -1;
	return l4;
}

#endif
