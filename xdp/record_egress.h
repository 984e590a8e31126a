/* SPDX-License-Identifier: GPL-2.0 */
/* The egress half of the stateful rules: what leaves for a protected
 * resolver and what its answers must then show.
 * - A UDP query is recorded by what its answer carries back (resolver,
 *   client port, transaction ID) with what the answer must echo: RD, an
 *   OPT record, the question's type (edns-echo, query-echo, aa-single).
 * - A TCP SYN to port 53 is recorded by resolver and client port with its
 *   ISN: only that connection's segments teach the hop count.
 * The censor on the path cannot add to either: it sees our packets but
 * does not send through this interface's egress.
 *
 * Besides what classify.h needs, the includer defines
 *   void query_record(const struct query_key *key, const struct query_state *state);
 *   void tcp_conn_record(const struct tcp_conn_key *key, __u32 isn);
 */
#ifndef CLEAN_DNS_RECORD_EGRESS_H
#define CLEAN_DNS_RECORD_EGRESS_H

#include "classify.h"

static __always_inline int record_syn(const struct hdr_cursor *nh, const __u8 *data_end,
				      const struct packet_facts *pkt)
{
	const __u8 *tcp = nh->pos;
	struct tcp_conn_key key = {};

	if (tcp + 20 > data_end || (tcp[13] & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return COUNT_NONE;
	if (!(resolver_rules(&pkt->dst) & RULE_HOP_COUNT))
		return COUNT_NONE;
	__builtin_memcpy(key.resolver, pkt->dst.addr, 16);
	__builtin_memcpy(&key.client_port, tcp, 2);
	tcp_conn_record(&key, load_be32(tcp + 4));
	return COUNT_hop_count_syns_recorded;
}

/* A standard query with one question and nothing in the answer or
 * authority sections; an OPT record, if any, comes first in the additional
 * section (where every stub and dig put it).
 */
static __always_inline int record_query(void *ctx, const __u8 *data, const __u8 *data_end,
					const struct hdr_cursor *nh, const struct packet_facts *pkt)
{
	const struct udphdr *udph = (const void *)nh->pos;
	struct query_state state = {};
	struct query_key key;
	const __u8 *dns, *question;
	__u32 off, dns_len;
	__u16 flags;
	int compressed;

	if ((const __u8 *)(udph + 1) > data_end)
		return COUNT_NONE;
	if (!(resolver_rules(&pkt->dst) & RULES_READING_QUERIES))
		return COUNT_NONE;
	/* Only what the datagram holds: the walk and reads below stop at
	 * its end, not at the frame's.
	 */
	dns_len = packet_len16(udph->len);
	if (pkt->ip_end > data_end || nh->pos + dns_len > pkt->ip_end ||
	    dns_len < sizeof(*udph) + DNS_HDR_LEN)
		return COUNT_NONE;
	dns_len -= sizeof(*udph);
	dns = (const __u8 *)(udph + 1);
	if (dns + DNS_HDR_LEN > data_end)
		return COUNT_NONE;
	flags = load_be16(dns + 2);
	if ((flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)) || load_be16(dns + 4) != 1 ||
	    load_be16(dns + 6) != 0 || load_be16(dns + 8) != 0)
		return COUNT_NONE;

	off = name_end(ctx, data, dns, dns_len, data_end, DNS_HDR_LEN, &compressed);
	if (!off || compressed || off > DNS_READ_MAX || off + 4 > dns_len)
		return COUNT_NONE;
	/* QTYPE, QCLASS, then the first additional record's root name and TYPE */
	question = dns + off;
	if (question + 4 > data_end)
		return COUNT_NONE;
	state.qtype = load_be16(question);
	if (flags & DNS_FLAG_RD)
		state.flags |= QUERY_RD;
	if (load_be16(dns + 10) != 0 && off + 7 <= dns_len && question + 7 <= data_end &&
	    question[4] == 0 && load_be16(question + 5) == DNS_TYPE_OPT)
		state.flags |= QUERY_EDNS;

	__builtin_memcpy(key.resolver, pkt->dst.addr, 16);
	key.client_port = udph->source;
	__builtin_memcpy(&key.txid, dns, 2);
	query_record(&key, &state);
	return COUNT_queries_recorded;
}

static __always_inline int record_egress(void *ctx, const __u8 *data, const __u8 *data_end,
					 enum first_header first)
{
	struct hdr_cursor nh = { .pos = data };
	struct packet_facts pkt;
	int l4;

	l4 = parse_dns_packet(&nh, data_end, first, 2, &pkt);
	if (l4 < 0 || pkt.is_fragment)
		return COUNT_NONE;
	if (l4 == IPPROTO_TCP)
		return record_syn(&nh, data_end, &pkt);
	return record_query(ctx, data, data_end, &nh, &pkt);
}

#endif
