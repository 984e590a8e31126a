/* SPDX-License-Identifier: GPL-2.0 */
/* The clean-dns rules, top to bottom: what an ingress packet from a
 * protected resolver is judged by.  classify_frame returns the counter that
 * describes the packet; counters from COUNT_FIRST_DROP on mean "drop".
 * Parsing is in xdp/parse.h; what the egress program records is in
 * xdp/record_egress.h.
 *
 * The threat is an on-path censor: it reads every query and can send any
 * packet with the resolver's address, copying flags, TTLs and OPT records
 * as it learns.  Each rule below names what gives such a forgery away and
 * what the censor could do against it (docs/threat-model.md).
 *
 * Like parse.h this compiles into the BPF programs and into host binaries.
 * It reaches state only through functions the includer defines before
 * including it (the maps in clean_dns.bpf.c; tables in the host model):
 *
 *   __u32 resolver_rules(const struct addr_key *src);
 *	rule bits for a source address (0: not protected)
 *   int address_is_bogus(const struct addr_key *answer);
 *	the address is a known forged one
 *   const struct query_state *query_lookup(const struct query_key *key);
 *	the query recorded on egress, or NULL when none or expired
 *   void query_answered(const struct query_key *key);
 *	forget it: an answer was judged and passed
 *   int hop_count_expected(const struct addr_key *src);
 *	the TTL learned for the resolver, or -1 when unknown or expired
 *   __u32 hop_count_tolerance(void);
 *   void hop_count_learn(const struct addr_key *src, __u32 ttl);
 *   void hop_count_forget(const struct addr_key *src);
 *   struct tcp_conn *tcp_conn_lookup(const struct tcp_conn_key *key);
 *	a connection recorded from its SYN on egress, or NULL when none or
 *	older than TCP_CONN_MAX_AGE_SEC
 *
 * BPF builds (CLASSIFY_WALKS_OUT_OF_LINE) also provide, as global
 * functions verified once on their own,
 *   __u32 walk_name(void *ctx, __u32 dns_off, __u32 dns_len, __u32 name_off);
 *   __u32 walk_svc_hints(void *ctx, __u32 dns_off, __u32 rdata_off, __u32 rdata_end);
 * the second returning what svc_hints_bogus returns.
 *
 * Nothing is dropped unless it was parsed whole and matched a rule chosen
 * for its resolver: anything not understood is passed.
 */
#ifndef CLEAN_DNS_CLASSIFY_H
#define CLEAN_DNS_CLASSIFY_H

#include "parse.h"

/* SvcParams of an HTTPS or SVCB record that carry addresses (RFC 9460). */
#define SVC_KEY_IPV4HINT 4
#define SVC_KEY_IPV6HINT 6
#define SVC_PARAMS_MAX 16
#define SVC_HINTS_MAX 8

/* Each address of the hint list at OFF (LEN bytes of IPv4 or, with V6,
 * IPv6 addresses), looked up among the known forged ones.  The lengths are
 * constants in each branch: verifiers before 6.12 cannot bound "pointer +
 * a length that is 4 or 16".
 */
static __always_inline int svc_hint_bogus(const __u8 *dns, const __u8 *data_end, __u32 off,
					  __u32 len, int v6)
{
	struct addr_key key;
	const __u8 *p;
	int i;

	for (i = 0; i < SVC_HINTS_MAX; i++) {
		if ((__u32)(i + 1) * (v6 ? 16 : 4) > len || off > DNS_READ_MAX)
			return 0;
		opaque_to_compiler(off);
		p = dns + (off & DNS_READ_MASK);
		if (v6) {
			if (p + 16 > data_end)
				return 0;
			address_key(p, 16, &key);
			off += 16;
		} else {
			if (p + 4 > data_end)
				return 0;
			address_key(p, 4, &key);
			off += 4;
		}
		if (address_is_bogus(&key))
			return 1;
	}
	return 0;
}

/* The RDATA of an HTTPS or SVCB record, RDATA_OFF to RDATA_END: SvcPriority,
 * TargetName (never compressed), then SvcParams as key, length, value.
 * Returns 1 when an ipv4hint or ipv6hint address is a known forged one: the
 * 2026 injector answers "1 . alpn=h2 ipv4hint=<pool> ipv6hint=<pool>"
 * (net4people bbs #598).  Anything malformed returns 0.
 */
static __always_inline int svc_hints_bogus(const __u8 *dns, const __u8 *data_end, __u32 rdata_off,
					   __u32 rdata_end)
{
	const __u8 *param;
	__u32 off, key, len;
	int compressed, i;

	if (rdata_end > DNS_READ_MAX)
		return 0;
	off = dns_name_end(dns, rdata_end, data_end, rdata_off + 2, &compressed);
	if (!off || compressed)
		return 0;
	for (i = 0; i < SVC_PARAMS_MAX; i++) {
		if (off + 4 > rdata_end || off > DNS_READ_MAX)
			return 0;
		opaque_to_compiler(off);
		param = dns + (off & DNS_READ_MASK);
		if (param + 4 > data_end)
			return 0;
		key = load_be16(param);
		len = load_be16(param + 2);
		off += 4;
		if (off + len > rdata_end)
			return 0;
		if (key == SVC_KEY_IPV4HINT && len % 4 == 0 &&
		    svc_hint_bogus(dns, data_end, off, len, 0))
			return 1;
		if (key == SVC_KEY_IPV6HINT && len % 16 == 0 &&
		    svc_hint_bogus(dns, data_end, off, len, 1))
			return 1;
		off += len;
	}
	return 0;
}

/* The located answer's address (A, AAAA) or hints (HTTPS, SVCB) include a
 * known forged address.
 */
static __always_inline int answer_is_bogus(void *ctx, const __u8 *data, const __u8 *dns,
					   const __u8 *data_end, const struct single_answer *ans)
{
	struct addr_key answer;

	if (ans->type == DNS_TYPE_HTTPS || ans->type == DNS_TYPE_SVCB) {
#ifdef CLASSIFY_WALKS_OUT_OF_LINE
		(void)data_end;
		return walk_svc_hints(ctx, (__u32)(dns - data), ans->type_off + 10, ans->rdata_end);
#else
		(void)ctx;
		(void)data;
		return svc_hints_bogus(dns, data_end, ans->type_off + 10, ans->rdata_end);
#endif
	}
	return answer_address(dns, data_end, ans, &answer) && address_is_bogus(&answer);
}

/* A resolver's TCP segments show the TTL its genuine packets arrive with:
 * the injector forges UDP answers.  But it can forge TCP segments too, so
 * only a connection this host opened (its SYN recorded on egress) teaches,
 * only segments whose ACK acknowledges that SYN's ISN count, and only once
 * two of them agree.  An on-path censor sees the sequence numbers and can
 * forge in-window segments; then the resolver's own segments disagree with
 * its TTL and the connection teaches nothing (hop_count_conflict).  Should
 * the forged ones have come first and taught, the disagreement takes the
 * profile back: without one the rule is off, which passes forgeries but
 * never drops the resolver's answers.  RSTs teach nothing: the censor
 * resets TCP DNS with its own TTL (tests/test-clean-dns-stateful.sh).
 */
static __always_inline int learn_from_tcp(const struct hdr_cursor *nh, const __u8 *data_end,
					  const struct packet_facts *pkt)
{
	const __u8 *tcp = nh->pos;
	struct tcp_conn_key key = {};
	struct tcp_conn *conn;
	__u8 flags;

	/* The source port was checked by parse_dns_packet. */
	if (tcp + 20 > data_end)
		return COUNT_NONE;
	flags = tcp[13];
	if (!(flags & TCP_FLAG_ACK) || (flags & TCP_FLAG_RST))
		return COUNT_NONE;
	if (!(resolver_rules(&pkt->src) & RULE_HOP_COUNT))
		return COUNT_NONE;
	__builtin_memcpy(key.resolver, pkt->src.addr, 16);
	__builtin_memcpy(&key.client_port, tcp + 2, 2);
	conn = tcp_conn_lookup(&key);
	if (!conn || load_be32(tcp + 8) - (conn->isn + 1) > TCP_ACK_WINDOW)
		return COUNT_hop_count_unsolicited;
	if (conn->conflict)
		return COUNT_NONE;
	if (conn->segments == 0) {
		conn->ttl = pkt->ttl;
		conn->segments = 1;
		return COUNT_NONE;
	}
	if (conn->ttl != pkt->ttl) {
		conn->conflict = 1;
		if (conn->taught)
			hop_count_forget(&pkt->src);
		return COUNT_hop_count_conflict;
	}
	if (conn->segments < 255)
		conn->segments++;
	hop_count_learn(&pkt->src, pkt->ttl);
	conn->taught = 1;
	return COUNT_hop_count_learned;
}

/* A recursive resolver copies RD and the question from the query and
 * answers with the asked type or a CNAME/DNAME towards it.  The injector
 * answered every type with an A record until 2026 (a forged A answer to
 * an MX, TXT or HTTPS query), and one of the 2025 pair sets AA and clears
 * RD whatever the query asked (net4people bbs #466).  The type check needs
 * no state; RD and the question's type need the recorded query.
 */
static __always_inline int query_echo_verdict(__u16 flags, const struct single_answer *ans,
					      const struct query_state *query)
{
	if (ans->type != ans->qtype && ans->type != DNS_TYPE_CNAME && ans->type != DNS_TYPE_DNAME &&
	    (ans->qtype < DNS_QTYPE_META_FIRST || ans->qtype > DNS_QTYPE_META_LAST))
		return COUNT_drop_query_echo_type;
	if (!query)
		return COUNT_pass_clean;
	if (!(flags & DNS_FLAG_RD) != !(query->flags & QUERY_RD))
		return COUNT_drop_query_echo_rd;
	if (ans->qtype != query->qtype)
		return COUNT_drop_query_echo_qtype;
	return COUNT_pass_clean;
}

/* The rules that read only the IP header. */
static __always_inline int ip_header_verdict(const struct packet_facts *pkt, __u32 rules)
{
	if (!pkt->is_ipv4)
		return COUNT_pass_clean;
	/* IPv4 ID 0: the 2010s injectors (2014 three-injectors study,
	 * clean-dns-bpf).  Only for resolvers whose stack never sends ID 0;
	 * Linux before 3.x-era changes did on DF datagrams.
	 */
	if ((rules & RULE_IPID_ZERO) && pkt->ipv4_id == 0)
		return COUNT_drop_ipid_zero;
	/* DF alone (frag_off 0x4000) on forgeries, where e.g. 8.8.8.8 never
	 * sets DF on its answers.
	 */
	if ((rules & RULE_DF) && pkt->ipv4_frag_off == IPV4_DF)
		return COUNT_drop_df;
	return COUNT_pass_clean;
}

/* The hop count learned from the resolver's TCP: the censor sits fewer
 * hops away, so its packets arrive with another TTL.  A censor that
 * matched the TTL would pass (docs/threat-model.md).
 */
static __always_inline int hop_count_verdict(const struct packet_facts *pkt)
{
	int expected_ttl = hop_count_expected(&pkt->src);
	int tolerance = (int)hop_count_tolerance();

	if (expected_ttl >= 0 &&
	    (pkt->ttl > expected_ttl + tolerance || pkt->ttl + tolerance < expected_ttl))
		return COUNT_drop_hop_count;
	return COUNT_pass_clean;
}

static __always_inline int classify_response(void *ctx, const __u8 *data, const __u8 *dns,
					     __u32 dns_len, const __u8 *data_end,
					     const struct packet_facts *pkt,
					     const struct query_key *key, __u32 rules)
{
	const struct query_state *query = NULL;
	__u16 flags, qd_count, an_count, ns_count, ar_count;
	struct single_answer ans = {};
	int verdict;

	if (dns_len < DNS_HDR_LEN || dns + DNS_HDR_LEN > data_end)
		return COUNT_pass_malformed;
	flags = load_be16(dns + 2);
	qd_count = load_be16(dns + 4);
	an_count = load_be16(dns + 6);
	ns_count = load_be16(dns + 8);
	ar_count = load_be16(dns + 10);

	if (!(flags & DNS_FLAG_QR) || (flags & DNS_FLAG_OPCODE) || qd_count != 1) {
		/* No answer, but from the resolver's port 53 to a recorded
		 * query's port with its ID: the censor sending the query back.
		 * dig and glibc take it for an empty answer and stop waiting.
		 */
		if (!(flags & DNS_FLAG_QR) && (rules & RULE_QUERY_ECHO) && query_lookup(key))
			return COUNT_drop_query_echo_qr;
		return COUNT_pass_not_response;
	}
	/* Injectors answer with exactly one record; everything else passes,
	 * which is what keeps multi-record genuine answers safe.
	 */
	if (an_count == 0)
		return COUNT_pass_no_answer;
	if (an_count > 1)
		return COUNT_pass_multi_answer;
	/* Forgeries are well-formed: nothing is judged unless its one answer
	 * parses and ends where the message (or one OPT record) does.  The
	 * differential fuzzer found frames with a broken question or answer
	 * that rules reading only the headers would drop.
	 */
	if (!locate_single_answer(ctx, data, dns, dns_len, data_end, ns_count, ar_count, &ans))
		return COUNT_pass_other_answer;
	if (rules & RULES_READING_QUERIES)
		query = query_lookup(key);

	verdict = ip_header_verdict(pkt, rules);
	if (verdict != COUNT_pass_clean)
		return verdict;
	/* AA with one answer and no authority, flags 0x8580/0x8590/0x85a0
	 * seen for google.com: a recursive resolver's answer to an RD=1 query
	 * is never authoritative.  Answers to RD=0 queries may be, so AA
	 * without RD passes unless the recorded query had RD set (0x8400 to
	 * an RD=1 query, the 2025 cyclic injector).
	 */
	if ((rules & RULE_AA_SINGLE) && (flags & DNS_FLAG_AA) &&
	    ((flags & DNS_FLAG_RD) || (query && (query->flags & QUERY_RD))))
		return COUNT_drop_aa_single;
	if ((rules & RULE_NAME_UNCOMPRESSED) && ans.written_out)
		return COUNT_drop_name_uncompressed;
	/* Today's injector (Wallbleed, NDSS 2025; net4people reports, 2025)
	 * copies the genuine flags and compresses; its addresses come from
	 * small pools: known ones are listed in cdns_bogus.
	 */
	if ((rules & RULE_BOGUS_ADDR) && answer_is_bogus(ctx, data, dns, data_end, &ans))
		return COUNT_drop_bogus_addr;
	/* It does not echo the query's OPT record, where a public resolver
	 * answers every EDNS query with OPT.
	 */
	if ((rules & RULE_EDNS_ECHO) && ar_count == 0 && query && (query->flags & QUERY_EDNS))
		return COUNT_drop_edns_echo;
	if (rules & RULE_QUERY_ECHO) {
		verdict = query_echo_verdict(flags, &ans, query);
		if (verdict != COUNT_pass_clean)
			return verdict;
	}
	if (rules & RULE_HOP_COUNT) {
		verdict = hop_count_verdict(pkt);
		if (verdict != COUNT_pass_clean)
			return verdict;
	}
	/* Forged IPv6 answers carry flow label 0, where a Linux resolver
	 * labels its flows (net.ipv6.auto_flowlabels).
	 */
	if ((rules & RULE_FLOW_LABEL) && !pkt->is_ipv4 && pkt->flow_label == 0)
		return COUNT_drop_flow_label;
	return COUNT_pass_clean;
}

static __always_inline int classify_frame(void *ctx, const __u8 *data, const __u8 *data_end,
					  enum first_header first)
{
	struct hdr_cursor nh = { .pos = data };
	struct packet_facts pkt;
	struct query_key key;
	const struct udphdr *udph;
	const __u8 *dns;
	__u32 udp_len, rules;
	int l4, verdict;

	l4 = parse_dns_packet(&nh, data_end, first, 0, &pkt);
	if (l4 < 0)
		return COUNT_NONE;
	if (l4 == IPPROTO_TCP)
		return pkt.is_fragment ? COUNT_NONE : learn_from_tcp(&nh, data_end, &pkt);
	if (pkt.is_fragment)
		return resolver_rules(&pkt.src) ? COUNT_pass_fragment : COUNT_NONE;

	udph = (const void *)nh.pos;
	if ((const __u8 *)(udph + 1) > data_end)
		return COUNT_NONE;

	rules = resolver_rules(&pkt.src);
	if (!rules)
		return COUNT_pass_unprotected;
	/* A datagram the program cannot see whole (cut short, or not linear
	 * in the skb) is never dropped.
	 */
	if (pkt.ip_end > data_end)
		return COUNT_pass_malformed;
	udp_len = packet_len16(udph->len);
	if (udp_len < sizeof(*udph) || nh.pos + udp_len > pkt.ip_end)
		return COUNT_pass_malformed;
	dns = (const __u8 *)(udph + 1);
	if (dns + DNS_HDR_LEN > data_end)
		return COUNT_pass_malformed;

	__builtin_memcpy(key.resolver, pkt.src.addr, 16);
	key.client_port = udph->dest;
	__builtin_memcpy(&key.txid, dns, 2);
	verdict = classify_response(ctx, data, dns, udp_len - sizeof(*udph), data_end, &pkt, &key,
				    rules);
	/* The query's record goes only with an answer that was judged and
	 * passed: a packet with the query's port and ID that no rule looked at
	 * (a QR=0 packet, a second answer) must not clear the way for the
	 * next forgery.
	 */
	if (verdict == COUNT_pass_clean && (rules & RULES_READING_QUERIES))
		query_answered(&key);
	/* A resolver in observe mode: the verdict is counted, the answer
	 * passes.  Its query's record stays, as for a drop, so the genuine
	 * answer after the forgery is judged the same way.
	 */
	if ((rules & RULE_OBSERVE) && verdict >= COUNT_FIRST_DROP &&
	    verdict < COUNT_FIRST_WOULD_DROP)
		verdict += COUNT_OBSERVED;
	return verdict;
}

#endif
