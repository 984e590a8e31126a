/* SPDX-License-Identifier: GPL-2.0 */
/* The egress half of the EDNS echo rule: a query to a protected resolver
 * whose additional section starts with an OPT record is remembered by what
 * its answer will carry back (resolver, client port, transaction ID), so
 * the ingress programs can tell an answer that drops the OPT record.
 *
 * Besides what classify.h needs, the includer defines
 *   void query_record(const struct query_key *key);
 */
#ifndef CLEAN_DNS_RECORD_QUERY_H
#define CLEAN_DNS_RECORD_QUERY_H

#include "classify.h"

static __always_inline int record_query(void *ctx, const __u8 *data, const __u8 *data_end,
					enum first_header first)
{
	struct hdr_cursor nh = { .pos = data };
	struct packet_facts pkt;
	struct query_key key;
	const struct udphdr *udph;
	const __u8 *dns, *opt;
	__u16 flags;
	__u32 off;
	int l4, compressed;

	l4 = parse_to_transport(&nh, data_end, first, &pkt);
	if (l4 != IPPROTO_UDP || pkt.is_fragment)
		return COUNT_NONE;
	udph = (const void *)nh.pos;
	if ((const __u8 *)(udph + 1) > data_end || udph->dest != bpf_htons(DNS_PORT))
		return COUNT_NONE;
	if (fill_addresses(&pkt, data_end))
		return COUNT_NONE;
	if (!(resolver_rules(&pkt.dst) & RULE_EDNS_ECHO))
		return COUNT_NONE;

	dns = (const __u8 *)(udph + 1);
	if (dns + DNS_HDR_LEN > data_end)
		return COUNT_NONE;
	flags = load_be16(dns + 2);
	if ((flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)) || load_be16(dns + 4) != 1 ||
	    load_be16(dns + 6) != 0 || load_be16(dns + 8) != 0 || load_be16(dns + 10) == 0)
		return COUNT_NONE;

	off = name_end(ctx, data, dns, DNS_READ_MAX, data_end, DNS_HDR_LEN, &compressed);
	if (!off || compressed)
		return COUNT_NONE;

	/* root label, QTYPE, QCLASS, then the first additional record */
	opt = dns + (off + 4);
	if (opt + 3 > data_end)
		return COUNT_NONE;
	if (opt[0] != 0 || load_be16(opt + 1) != DNS_TYPE_OPT)
		return COUNT_NONE;

	__builtin_memcpy(key.resolver, pkt.dst.addr, 16);
	key.client_port = udph->source;
	__builtin_memcpy(&key.txid, dns, 2);
	query_record(&key);
	return COUNT_queries_edns_recorded;
}

#endif
