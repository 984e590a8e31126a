// SPDX-License-Identifier: GPL-2.0
/* Runs the clean-dns packet vector table through BPF_PROG_TEST_RUN on the
 * built objects: every row a frame, the verdict it must get and the one
 * counter it must move; then stateful scenarios, where egress queries,
 * TCP segments and configuration set up what later answers are judged by.
 *
 *   clean-dns-vectors [-v] BUILD_DIR             run the table
 *   clean-dns-vectors --probe BUILD_DIR ADDR...  print the rules each
 *                                                source address gets
 *   clean-dns-vectors --write-frames DIR         write sample frames
 *   clean-dns-vectors --write-corpus DIR         seeds for tests/fuzz
 */
#include <time.h>
#include <linux/pkt_cls.h>
#include "cdns-harness.h"
#include "packet-builder.h"

/* Rows start from defaults (V4, DNS_RESPONSE) and override some fields. */
#pragma GCC diagnostic ignored "-Woverride-init"

static const char *const counter_names[] = {
#define NAME(n) #n,
	CLEAN_DNS_COUNTERS(NAME)
#undef NAME
};

/* One program under test, on the shared maps. */
struct loaded_prog {
	const char *label;
	const struct cdns_objects *objects;
	int prog_fd;
	bool is_tc;
};

struct vector {
	const char *name;
	struct frame_spec frame;
	bool drop;
	int counter; /* COUNT_NONE: no counter moves */
};

static bool verbose;
static int passed, failed;

#define LABEL61 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LABEL63 LABEL61 "aa"

/* DNS answers used by the rows. */
#define A_RDATA(a, b, c, d) .rdata = { a, b, c, d }, .rdlen = 4
#define AAAA_GOOGLE                                                                                \
	.rdata = { 0x2a, 0x00, 0x14, 0x50, 0x40, 0x01, 0x08, 0x1c, 0, 0, 0, 0, 0, 0, 0x20, 0x0e }, \
	.rdlen = 16

#define ANSWER_A(...)                                             \
	{                                                         \
		.type = 1, A_RDATA(142, 250, 72, 14), __VA_ARGS__ \
	}
#define ANSWER_AAAA(...)                             \
	{                                            \
		.type = 28, AAAA_GOOGLE, __VA_ARGS__ \
	}
#define ANSWER_CNAME(...)                                                   \
	{                                                                   \
		.type = 5, .rdata = { 0xc0, 0x0c }, .rdlen = 2, __VA_ARGS__ \
	}
/* "1 . alpn=h2 ipv4hint=a.b.c.d ipv6hint=2001:db8:bad::66", as the 2026
 * injector answers HTTPS queries (net4people bbs #598).
 */
#define HTTPS_RDATA(a, b, c, d)                                                                    \
	.rdata = { 0, 1, 0,  0,	   1, 0,    3,	  2,	'h',  '2', 0, 4, 0, 4, a, b, c, d, 0,      \
		   6, 0, 16, 0x20, 1, 0x0d, 0xb8, 0x0b, 0xad, 0,   0, 0, 0, 0, 0, 0, 0, 0, 0x66 }, \
	.rdlen = 38
#define ANSWER_HTTPS(a, b, c, d, ...)                            \
	{                                                        \
		.type = 65, HTTPS_RDATA(a, b, c, d), __VA_ARGS__ \
	}

#define DNS_RESPONSE(fl, ...)                                                                \
	{                                                                                    \
		.id = 0x1234, .flags = fl, .qname = "google.com", .qtype = 1, .an_count = 1, \
		.an = { ANSWER_A() }, .dns_len_override = -1, __VA_ARGS__                    \
	}

#define V4(...) .family = 4, .src = "8.8.8.8", .ip_id = 0x4d2e, __VA_ARGS__
#define V6(...) .family = 6, .src = "2001:4860:4860::8888", __VA_ARGS__

/* The injector's answer captured in the wild (issue 5, Wallbleed-era):
 * rsf.org -> 31.13.91.33, TTL 236, flags 0x8180, c00c, no OPT.
 */
static const uint8_t wild_rsf_org[] = { 0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00,
					0x00, 0x00, 0x00, 0x03, 0x72, 0x73, 0x66, 0x03, 0x6f,
					0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
					0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0xec, 0x00,
					0x04, 0x1f, 0x0d, 0x5b, 0x21 };

/* clang-format off */
static const struct vector vectors[] = {
	/* Fast path: not DNS answers at all. */
	{ "UDP not from port 53", { V4(.sport = 5353, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
	{ "TCP from port 53 with every fingerprint, no connection of ours: teaches nothing",
	  { V4(.ip_id = 0, .frag_off = 0x4000, .l4_proto = 6,
	       .dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_hop_count_unsolicited },
	{ "ARP frame", { .ethertype = 0x0806 }, false, COUNT_NONE },
	{ "IPv4 header length below 5 words",
	  { V4(.ipv4_option_words = -1, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },

	/* Each rule on its own, from 8.8.8.8 (all rules by default). */
	{ "genuine single answer with EDNS", { V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "genuine single answer without EDNS", { V4(.dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "forged: IPv4 ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "forged: DF set", { V4(.frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_df },
	{ "near miss: IPv4 ID 1 is not ID 0", { V4(.ip_id = 1, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "near miss: IPv4 ID 0xffff", { V4(.ip_id = 0xffff, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "near miss: IPv4 ID 0x0100 (one byte zero)", { V4(.ip_id = 0x0100, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "near miss: the reserved bit alone is not DF", { V4(.frag_off = 0x8000, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "near miss: DF with MF is a fragment, never judged", { V4(.frag_off = 0x6000, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_fragment },
	{ "near miss: DF with an offset is a fragment", { V4(.frag_off = 0x4001, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_fragment },
	{ "near miss: TC set, AA clear (0x8380)", { V4(.dns = DNS_RESPONSE(0x8380)) }, false, COUNT_pass_clean },
	{ "near miss: RA clear, AA clear (0x8100)", { V4(.dns = DNS_RESPONSE(0x8100)) }, false, COUNT_pass_clean },
	{ "near miss: AA and RA, RD clear, nothing recorded (0x8480)", { V4(.dns = DNS_RESPONSE(0x8480)) }, false, COUNT_pass_clean },
	{ "forged: AA with RD, RA clear (0x8500)", { V4(.dns = DNS_RESPONSE(0x8500)) }, true, COUNT_drop_aa_single },
	{ "DF with the reserved bit is not DF alone",
	  { V4(.frag_off = 0xc000, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "forged: AA single answer 0x8580", { V4(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "forged: AA single answer 0x8590", { V4(.dns = DNS_RESPONSE(0x8590)) }, true, COUNT_drop_aa_single },
	{ "forged: AA single answer 0x85a0", { V4(.dns = DNS_RESPONSE(0x85a0)) }, true, COUNT_drop_aa_single },
	{ "AA answer to an RD=0 query (0x8400) is authoritative, passes",
	  { V4(.dns = DNS_RESPONSE(0x8400)) }, false, COUNT_pass_clean },
	{ "AA with an authority record passes", { V4(.dns = DNS_RESPONSE(0x8580, .ns_count = 1)) }, false, COUNT_pass_other_answer },
	{ "forged: A answer name written out",
	  { V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "forged: AAAA answer name written out",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "forged: name written out, then a bare OPT",
	  { V4(.dns = DNS_RESPONSE(0x8180, .opt = true, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "forged: name written out, then an OPT with a cookie",
	  { V4(.dns = DNS_RESPONSE(0x8180, .opt_cookie = 1, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "genuine answer with an OPT carrying a cookie", { V4(.dns = DNS_RESPONSE(0x8180, .opt_cookie = 1)) }, false, COUNT_pass_clean },
	{ "forged: name written out in a single CNAME answer (any type is judged)",
	  { V4(.dns = DNS_RESPONSE(0x8180,
				   .an = { { .type = 5, .name_written_out = true, .rdata = { 0xc0, 0x0c }, .rdlen = 2 } })) },
	  true, COUNT_drop_name_uncompressed },
	{ "genuine single CNAME answer to an A query", { V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_CNAME() })) }, false, COUNT_pass_clean },
	{ "genuine single DNAME answer to an A query",
	  { V4(.dns = DNS_RESPONSE(0x8180, .an = { { .type = 39, .rdata = { 0xc0, 0x0c }, .rdlen = 2 } })) }, false, COUNT_pass_clean },
	{ "genuine single TXT answer to a TXT query",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 16, .an = { { .type = 16, .rdata = { 2, 'o', 'k' }, .rdlen = 3 } })) }, false, COUNT_pass_clean },
	{ "genuine HTTPS answer with hints", { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 65, .an = { ANSWER_HTTPS(198, 51, 100, 80) })) }, false, COUNT_pass_clean },
	{ "forged: A answer to an MX query (pre-2026 injector)",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 15, .an = { ANSWER_A() })) }, true, COUNT_drop_query_echo_type },
	{ "forged: A answer to an HTTPS query", { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 65, .an = { ANSWER_A() })) }, true, COUNT_drop_query_echo_type },
	{ "forged: AAAA answer to an A query", { V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_AAAA() })) }, true, COUNT_drop_query_echo_type },
	{ "A answer to an ANY query passes", { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 255, .an = { ANSWER_A() })) }, false, COUNT_pass_clean },
	{ "A answer to qtype 127 (not a meta type) is judged",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 127, .an = { ANSWER_A() })) }, true, COUNT_drop_query_echo_type },
	{ "A answer to qtype 128 (meta range) passes", { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 128, .an = { ANSWER_A() })) }, false, COUNT_pass_clean },
	{ "forged HTTPS answer (2026) with ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .qtype = 65, .an = { ANSWER_HTTPS(203, 0, 113, 66) })) }, true, COUNT_drop_ipid_zero },
	{ "forged HTTPS answer with AA", { V4(.dns = DNS_RESPONSE(0x8580, .qtype = 65, .an = { ANSWER_HTTPS(203, 0, 113, 66) })) }, true, COUNT_drop_aa_single },
	{ "genuine AAAA answer", { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA() })) }, false, COUNT_pass_clean },
	{ "genuine AAAA whose address ends like an A record",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 28,
				   .an = { { .type = 28, .rdlen = 16,
					     .rdata = { 0x20, 0, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 1, 2, 3, 4 } } })) },
	  false, COUNT_pass_clean },
	{ "forged: first rule in order wins (ID 0 + DF + AA + raw name)",
	  { V4(.ip_id = 0, .frag_off = 0x4000,
	       .dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_ipid_zero },

	/* A name is at most 255 bytes with its root byte (RFC 1035). */
	{ "forged AA with a 255-byte question name is judged",
	  { V4(.dns = DNS_RESPONSE(0x8580, .qname = LABEL63 "." LABEL63 "." LABEL63 "." LABEL61)) }, true, COUNT_drop_aa_single },
	{ "forged AA with a 256-byte question name is not",
	  { V4(.dns = DNS_RESPONSE(0x8580, .qname = LABEL63 "." LABEL63 "." LABEL63 "." LABEL61 "b")) }, false, COUNT_pass_other_answer },

	/* What always passes. */
	{ "two answers with every fingerprint pass",
	  { V4(.ip_id = 0, .frag_off = 0x4000,
	       .dns = DNS_RESPONSE(0x8580, .an_count = 2,
				   .an = { ANSWER_A(.name_written_out = true), ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_pass_multi_answer },
	{ "NXDOMAIN with ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8183, .an_count = 0, .ns_count = 1)) }, false, COUNT_pass_no_answer },
	{ "NODATA with AA", { V4(.dns = DNS_RESPONSE(0x8580, .an_count = 0)) }, false, COUNT_pass_no_answer },
	{ "TC=1 answer with no records", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8380, .an_count = 0)) }, false, COUNT_pass_no_answer },
	{ "query from port 53 (QR=0) with ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x0100)) }, false, COUNT_pass_not_response },
	{ "opcode NOTIFY", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0xa180)) }, false, COUNT_pass_not_response },
	{ "two questions", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .qd_count_override = 2)) }, false, COUNT_pass_not_response },

	/* Per-resolver rule choice: defaults and map entries set up below. */
	{ "unprotected source with ID 0", { V4(.src = "192.0.2.99", .ip_id = 0, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_unprotected },
	{ "1.1.1.1 default: ID 0 alone is no rule for it", { V4(.src = "1.1.1.1", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "1.1.1.1 default: AA forgery", { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "9.9.9.9 default: raw name forgery",
	  { V4(.src = "9.9.9.9", .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "map 198.51.100.53 = aa-single: ID 0 passes", { V4(.src = "198.51.100.53", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "map 198.51.100.53 = aa-single: AA forgery", { V4(.src = "198.51.100.53", .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "map 203.0.113.0/24 = ipid-zero: 203.0.113.7 ID 0", { V4(.src = "203.0.113.7", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "map 8.8.4.4 = none: default switched off", { V4(.src = "8.8.4.4", .ip_id = 0, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_unprotected },
	{ "map 2001:db8:53::/48 = name-uncompressed",
	  { V6(.src = "2001:db8:53::1", .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "the captured 2025 forgery from 8.8.8.8 (seed rules cannot see it)",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qname = "rsf.org", .an = { ANSWER_A() })) },
	  false, COUNT_pass_clean },
	{ "the captured 2025 forgery with ID 0",
	  { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .qname = "rsf.org", .an = { ANSWER_A() })) },
	  true, COUNT_drop_ipid_zero },

	/* Link layers. */
	{ "802.1Q: forged ID 0", { .vlan_tags = 1, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "QinQ 802.1ad + 802.1Q: forged AA", { .vlan_tags = 2, .outer_vlan_proto = 0x88a8, V4(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "QinQ: genuine", { .vlan_tags = 2, .outer_vlan_proto = 0x88a8, V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "three VLAN tags: not parsed", { .vlan_tags = 3, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
	{ "PPPoE session IPv4: forged ID 0", { .pppoe = true, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "PPPoE session IPv6: forged AA", { .pppoe = true, V6(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "VLAN + PPPoE IPv4: forged raw name",
	  { .vlan_tags = 1, .pppoe = true, V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "PPPoE LCP frame", { .pppoe = true, .ppp_proto = 0xc021, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
	{ "PPPoE discovery frame", { .ethertype = 0x8863 }, false, COUNT_NONE },

	/* IPv4 options and IPv6 extension headers. */
	{ "IPv4 with 4 option words: forged ID 0", { V4(.ipv4_option_words = 4, .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "IPv4 with 10 option words (IHL 15): genuine", { V4(.ipv4_option_words = 10, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "IPv6: genuine", { V6(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "IPv6: forged AA", { V6(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6: forged AAAA raw name",
	  { V6(.dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "IPv6 + 2 destination options headers: forged AA", { V6(.ipv6_ext_headers = 2, .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6 + routing header: forged AA", { V6(.ipv6_routing = true, .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6 + 6 extension headers (the limit): forged AA", { V6(.ipv6_ext_headers = 6, .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6 + 7 extension headers: not parsed", { V6(.ipv6_ext_headers = 7, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_NONE },
	{ "IPv6 unprotected source", { V6(.src = "2001:db8::99", .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_unprotected },

	/* Fragments are never judged. */
	{ "IPv4 first fragment (MF) with ID 0", { V4(.ip_id = 0, .frag_off = 0x2000, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_fragment },
	{ "IPv4 later fragment (offset 185)", { V4(.ip_id = 0, .frag_off = 185, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_fragment },
	{ "IPv4 fragment from an unprotected source", { V4(.src = "192.0.2.99", .frag_off = 0x2000, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_NONE },
	{ "IPv6 fragment header", { V6(.ipv6_fragment = true, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_fragment },

	/* Lengths that do not add up. */
	{ "UDP length beyond the IP payload", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .udp_len_delta = 1)) }, false, COUNT_pass_malformed },
	{ "UDP length below its header", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .udp_len_delta = (uint16_t)-40)) }, false, COUNT_pass_malformed },
	{ "DNS message shorter than its header", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .dns_len_override = 11)) }, false, COUNT_pass_malformed },
	{ "forged raw name followed by link-layer padding",
	  { V4(.trailing = 20, .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "UDP length shorter than the IP payload: the record runs past the UDP end",
	  { V4(.dns = DNS_RESPONSE(0x8180, .udp_len_delta = (uint16_t)-4, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_pass_other_answer },
};
/* clang-format on */

/* Rows for the sections without a link layer. */
/* clang-format off */
static const struct vector l3_vectors[] = {
	{ "L3 IPv4: forged ID 0", { .no_link = true, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "L3 IPv4: genuine", { .no_link = true, V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "L3 IPv6: forged AA", { .no_link = true, V6(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "L3 IPv6: genuine", { .no_link = true, V6(.dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "L3 IPv4 options: forged raw name",
	  { .no_link = true, V4(.ipv4_option_words = 2, .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "L3 section given an Ethernet frame", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
};
/* clang-format on */

/* The same configuration the table's "map" rows expect. */
static int configure(const struct cdns_maps *m)
{
	int err = 0;

	err = err ?: cdns_add_resolver(m, "198.51.100.53", 32, RULE_AA_SINGLE);
	err = err ?: cdns_add_resolver(m, "203.0.113.0", 24, RULE_IPID_ZERO);
	err = err ?: cdns_add_resolver(m, "8.8.4.4", 32, 0);
	err = err ?: cdns_add_resolver(m, "2001:db8:53::", 48, RULE_NAME_UNCOMPRESSED);
	err = err ?: cdns_add_resolver(m, "2001:db8:54::", 48, RULE_FLOW_LABEL | RULE_EDNS_ECHO);
	if (err)
		fprintf(stderr, "configure resolvers: %s\n", strerror(-err));
	return err;
}

static int expected_retval(const struct loaded_prog *lp, bool drop)
{
	if (lp->is_tc)
		return drop ? TC_ACT_SHOT : TC_ACT_OK;
	return drop ? XDP_DROP : XDP_PASS;
}

static void report(bool ok, const struct loaded_prog *lp, const char *name, const char *why)
{
	if (ok)
		passed++;
	else
		failed++;
	if (!ok || verbose)
		printf("%s %s: %s%s%s\n", ok ? "ok    " : "not ok", lp->label, name,
		       why ? " -- " : "", why ? why : "");
}

/* Checks one frame's verdict and that exactly the expected counter (and
 * "inspected") moved by one, or nothing moved.
 */
static void check_frame(const struct loaded_prog *lp, const char *name, const struct frame *f,
			bool drop, int counter)
{
	uint64_t before[COUNT_MAX], after[COUNT_MAX];
	char why[256];
	int ret, i;

	if (cdns_read_counters(&lp->objects->maps, before)) {
		report(false, lp, name, "cannot read counters");
		return;
	}
	ret = cdns_run(lp->prog_fd, f->bytes, f->len);
	if (ret < 0) {
		snprintf(why, sizeof(why), "test run failed: %s", strerror(-ret));
		report(false, lp, name, why);
		return;
	}
	if (ret != expected_retval(lp, drop)) {
		snprintf(why, sizeof(why), "verdict %d, want %s", ret, drop ? "drop" : "pass");
		report(false, lp, name, why);
		return;
	}
	if (cdns_read_counters(&lp->objects->maps, after)) {
		report(false, lp, name, "cannot read counters");
		return;
	}
	for (i = 0; i < COUNT_MAX; i++) {
		uint64_t want = 0;

		if (counter != COUNT_NONE &&
		    (i == counter || (i == COUNT_inspected && counter < COUNT_FIRST_EVENT)))
			want = 1;
		if (after[i] - before[i] != want) {
			snprintf(why, sizeof(why),
				 "counter %s moved by %llu, want %llu (expected %s)",
				 counter_names[i], (unsigned long long)(after[i] - before[i]),
				 (unsigned long long)want,
				 counter == COUNT_NONE ? "none" : counter_names[counter]);
			report(false, lp, name, why);
			return;
		}
	}
	report(true, lp, name, NULL);
}

static void run_table(const struct loaded_prog *lp, const struct vector *rows, size_t n)
{
	struct frame f;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!build_frame(&f, &rows[i].frame)) {
			report(false, lp, rows[i].name, "bad source address in the row");
			continue;
		}
		check_frame(lp, rows[i].name, &f, rows[i].drop, rows[i].counter);
	}
}

/* Every prefix of a forged and of a genuine frame: a datagram seen in
 * part is never dropped.  Until the UDP header is whole nothing is known to
 * be DNS (no counter); from then on it is counted as malformed.
 */
static void run_truncations(const struct loaded_prog *lp, const struct vector *row,
			    size_t udp_header_end)
{
	struct frame full, cut;
	char name[160];
	/* BPF_PROG_TEST_RUN refuses XDP frames shorter than ETH_HLEN, and skbs
	 * whose IP header it cannot pull.
	 */
	size_t len, min_len = lp->is_tc ? udp_header_end - 8 : 14;

	if (!build_frame(&full, &row->frame)) {
		report(false, lp, row->name, "bad source address in the row");
		return;
	}
	for (len = min_len; len < full.len; len++) {
		cut = full;
		cut.len = len;
		snprintf(name, sizeof(name), "%s cut to %zu of %zu bytes", row->name, len,
			 full.len);
		check_frame(lp, name, &cut, false,
			    len < udp_header_end ? COUNT_NONE : COUNT_pass_malformed);
	}
}

/* clang-format off */
static const struct vector truncated_rows[] = {
	{ "forged IPv4 (ID 0, AA, raw name)",
	  { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, 0 },
	{ "genuine IPv4 with EDNS", { V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, 0 },
	{ "forged IPv6 (AA, raw name)",
	  { V6(.dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) }, false, 0 },
};
/* clang-format on */

static void run_eth_suite(const struct loaded_prog *lp)
{
	run_table(lp, vectors, sizeof(vectors) / sizeof(vectors[0]));
	run_truncations(lp, &truncated_rows[0], 14 + 20 + 8);
	run_truncations(lp, &truncated_rows[1], 14 + 20 + 8);
	run_truncations(lp, &truncated_rows[2], 14 + 40 + 8);
}

/* A query as a stub resolver sends it: from the client's port 40000 to
 * port 53, transaction 0x1234 (what DNS_RESPONSE answers), with dig's
 * default EDNS cookie option unless told otherwise.
 */
#define QUERY(...)                                                                \
	{                                                                         \
		.id = 0x1234, .flags = 0x0100, .qname = "google.com", .qtype = 1, \
		.dns_len_override = -1, .opt_cookie = 1, __VA_ARGS__              \
	}
#define QUERY_V4(to, ...) \
	.family = 4, .src = "192.0.2.2", .dst = to, .sport = 40000, .dport = 53, __VA_ARGS__
#define QUERY_V6(to, ...) \
	.family = 6, .src = "2001:db8:1::2", .dst = to, .sport = 40000, .dport = 53, __VA_ARGS__
/* A TCP connection to a resolver's port 53: our SYN (egress, ISN 1000),
 * the resolver's SYN-ACK and its answer segment (ACK 1001 and 1031: a
 * 30-byte query), each from the resolver with a TTL.
 */
#define SYN_V4(to, ...)                                                                         \
	.family = 4, .src = "192.0.2.2", .dst = to, .sport = 40000, .dport = 53, .l4_proto = 6, \
	.tcp_flags = 0x02, .tcp_seq = 1000, .dns = { .qname = "", .dns_len_override = 0 },      \
	__VA_ARGS__
#define SYN_V6(to, ...)                                                              \
	.family = 6, .src = "2001:db8:1::2", .dst = to, .sport = 40000, .dport = 53, \
	.l4_proto = 6, .tcp_flags = 0x02, .tcp_seq = 1000,                           \
	.dns = { .qname = "", .dns_len_override = 0 }, __VA_ARGS__
#define SYNACK_V4(from, ttl_, ...)                                                       \
	V4(.src = from, .ttl = ttl_, .l4_proto = 6, .tcp_flags = 0x12, .tcp_seq = 90000, \
	   .tcp_ack = 1001, .dns = { .qname = "", .dns_len_override = 0 }, __VA_ARGS__)
#define SYNACK_V6(from, ttl_, ...)                                                       \
	V6(.src = from, .ttl = ttl_, .l4_proto = 6, .tcp_flags = 0x12, .tcp_seq = 90000, \
	   .tcp_ack = 1001, .dns = { .qname = "", .dns_len_override = 0 }, __VA_ARGS__)
#define DATA_V4(from, ttl_, ...)                                                       \
	V4(.src = from, .ttl = ttl_, .l4_proto = 6, .tcp_seq = 90001, .tcp_ack = 1031, \
	   .dns = DNS_RESPONSE(0x8180), __VA_ARGS__)
#define DATA_V6(from, ttl_, ...)                                                       \
	V6(.src = from, .ttl = ttl_, .l4_proto = 6, .tcp_seq = 90001, .tcp_ack = 1031, \
	   .dns = DNS_RESPONSE(0x8180), __VA_ARGS__)
/* Today's injector: flags copied from a genuine answer, 0xc00c, no OPT. */
#define FORGED_2025(from, ...) .family = 4, .src = from, .ip_id = 0x2b1c, __VA_ARGS__

enum step_prog { EGRESS, EGRESS_L3, INGRESS_XDP, INGRESS_XDP_L3, INGRESS_TC };

static const char *const step_prog_names[] = {
	[EGRESS] = "clean_dns_eg",	 [EGRESS_L3] = "clean_dns_eg_l3",
	[INGRESS_XDP] = "clean_dns_eth", [INGRESS_XDP_L3] = "clean_dns_l3",
	[INGRESS_TC] = "clean_dns_tc",
};

struct step {
	enum step_prog prog;
	const char *what;
	struct frame_spec frame;
	bool drop;
	int counter;
};

#define SCENARIO_STEPS 16

struct scenario {
	const char *name;
	int (*setup)(const struct cdns_maps *m);
	struct step steps[SCENARIO_STEPS];
};

static int setup_bogus(const struct cdns_maps *m)
{
	int err = 0;

	err = err ?: cdns_add_bogus(m, "31.13.91.33", 32);
	err = err ?: cdns_add_bogus(m, "2001::", 32);
	return err;
}

static int setup_tolerance_zero(const struct cdns_maps *m)
{
	struct clean_dns_settings s = { .set_mask = SETTING_HOP_TOLERANCE, .hop_tolerance = 0 };

	return cdns_set(m, &s);
}

static int setup_max_age_zero(const struct cdns_maps *m)
{
	struct clean_dns_settings s = { .set_mask = SETTING_HOP_MAX_AGE, .hop_max_age_sec = 0 };

	return cdns_set(m, &s);
}

static int setup_query_max_age_zero(const struct cdns_maps *m)
{
	struct clean_dns_settings s = { .set_mask = SETTING_QUERY_MAX_AGE, .query_max_age_ms = 0 };

	return cdns_set(m, &s);
}

/* Observe mode for every resolver, with a forged-address pool listed. */
static int setup_observe_all(const struct cdns_maps *m)
{
	struct clean_dns_settings s = { .set_mask = SETTING_MODE, .mode = MODE_OBSERVE };

	return cdns_set(m, &s) ?: cdns_add_bogus(m, "203.0.113.66", 32);
}

/* Back to enforcing after observing: the mode is set, to enforce. */
static int setup_enforce_again(const struct cdns_maps *m)
{
	struct clean_dns_settings s = { .set_mask = SETTING_MODE, .mode = MODE_ENFORCE };

	return cdns_set(m, &s);
}

/* One resolver observed (every rule), the others enforced. */
static int setup_observe_one(const struct cdns_maps *m)
{
	return cdns_add_resolver(m, "198.51.100.153", 32, RULES_ALL | RULE_OBSERVE) ?:
		       cdns_add_resolver(m, "2001:db8:55::53", 128, RULES_ALL | RULE_OBSERVE);
}

static int setup_bogus_pool(const struct cdns_maps *m)
{
	int err = 0;

	err = err ?: cdns_add_bogus(m, "203.0.113.66", 32);
	err = err ?: cdns_add_bogus(m, "2001:db8:bad::", 48);
	return err;
}

/* 1.1.1.1 and the IPv6 default 2606:4700:4700::1111 get only the rules every
 * recursive resolver allows, so these rows show the stateful rules alone.
 */
/* clang-format off */
static const struct scenario scenarios[] = {
	{ "2025 injector vs an EDNS query", NULL, {
		{ EGRESS, "query with EDNS cookie recorded",
		  { QUERY_V4("1.1.1.1", .dns = QUERY()) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "forgery without DF, no OPT",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_edns_echo },
		{ INGRESS_XDP, "forgery with DF, no OPT",
		  { FORGED_2025("1.1.1.1", .frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_edns_echo },
		{ INGRESS_XDP, "genuine answer with OPT",
		  { V4(.src = "1.1.1.1", .frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "a late forgery after the genuine answer is not judged",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	} },
	{ "EDNS rule on the tc ingress program, bare OPT query", NULL, {
		{ EGRESS, "query with a bare OPT recorded",
		  { QUERY_V4("1.1.1.1", .dns = QUERY(.opt_cookie = 0, .opt = true)) }, false, COUNT_queries_recorded },
		{ INGRESS_TC, "forgery, no OPT",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_edns_echo },
		{ INGRESS_TC, "genuine NXDOMAIN with OPT (no answer: not judged)",
		  { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8183, .an_count = 0, .opt = true)) }, false, COUNT_pass_no_answer },
		{ INGRESS_TC, "so the record stays: a late forgery is still dropped",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_edns_echo },
	} },
	{ "EDNS over IPv6 and on L3 devices", NULL, {
		{ EGRESS, "IPv6 query recorded",
		  { QUERY_V6("2606:4700:4700::1111", .dns = QUERY()) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "IPv6 forgery, no OPT",
		  { V6(.src = "2606:4700:4700::1111", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_edns_echo },
		{ EGRESS_L3, "query on an L3 device recorded",
		  { .no_link = true, QUERY_V4("1.1.1.1", .sport = 40001, .dns = QUERY(.id = 0x7777)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP_L3, "L3 forgery, no OPT",
		  { .no_link = true, FORGED_2025("1.1.1.1", .dport = 40001, .dns = DNS_RESPONSE(0x8180, .id = 0x7777)) }, true, COUNT_drop_edns_echo },
	} },
	{ "what the EDNS rule must leave alone", NULL, {
		{ EGRESS, "query without EDNS is recorded too",
		  { QUERY_V4("1.1.1.1", .dns = QUERY(.opt_cookie = 0)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "answer without OPT to a query without EDNS",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ EGRESS, "query to an unprotected resolver is not recorded",
		  { QUERY_V4("192.0.2.53", .dns = QUERY()) }, false, COUNT_NONE },
		{ EGRESS, "query from port 53 to port 53 (a server's) is recorded by its destination",
		  { QUERY_V4("1.1.1.1", .sport = 53, .dns = QUERY(.id = 0x5353)) }, false, COUNT_queries_recorded },
		{ EGRESS, "a response leaving for port 53 is not a query",
		  { QUERY_V4("1.1.1.1", .dns = QUERY(.flags = 0x8180)) }, false, COUNT_NONE },
		{ EGRESS, "query recorded",
		  { QUERY_V4("1.1.1.1", .dns = QUERY()) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "answer to another client port",
		  { FORGED_2025("1.1.1.1", .dport = 40002, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "answer with another transaction ID",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .id = 0x4321)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "answer from another resolver",
		  { FORGED_2025("1.0.0.1", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "two answers without OPT",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .an_count = 2, .an = { ANSWER_A(), ANSWER_A() })) }, false, COUNT_pass_multi_answer },
	} },
	{ "attack: a QR=0 packet with the query's port and ID", NULL, {
		{ EGRESS, "EDNS query recorded", { QUERY_V4("1.1.1.1", .dns = QUERY()) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "the censor's QR=0 packet from the resolver (clients take it for an answer)",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x0100)) }, true, COUNT_drop_query_echo_qr },
		{ INGRESS_XDP, "a QR=0 packet with another ID passes",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x0100, .id = 0x4444)) }, false, COUNT_pass_not_response },
		{ INGRESS_XDP, "a QR=0 packet from a resolver without query-echo passes",
		  { V4(.src = "198.51.100.53", .dns = DNS_RESPONSE(0x0100)) }, false, COUNT_pass_not_response },
		{ INGRESS_XDP, "a two-answer packet with the query's port and ID",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .an_count = 2, .an = { ANSWER_A(), ANSWER_A() })) }, false, COUNT_pass_multi_answer },
		{ INGRESS_XDP, "neither removed the record: the forgery is dropped",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_edns_echo },
	} },
	{ "attack: port and ID reused after the record expired", setup_query_max_age_zero, {
		{ EGRESS, "EDNS query recorded, never answered", { QUERY_V4("1.1.1.1", .dns = QUERY()) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "a later answer without OPT, same port and ID: the record is too old to count",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "an RD=0 answer: nothing recorded to echo",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8080)) }, false, COUNT_pass_clean },
	} },
	{ "query-echo: RD and the question's type", NULL, {
		{ EGRESS, "RD=1 query without EDNS", { QUERY_V4("1.1.1.1", .dns = QUERY(.opt_cookie = 0)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "forged: RD cleared (0x8080)", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8080)) }, true, COUNT_drop_query_echo_rd },
		{ INGRESS_XDP, "forged: question type AAAA, answer AAAA, but the query asked A",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA() })) }, true, COUNT_drop_query_echo_qtype },
		{ INGRESS_XDP, "genuine: RD echoed, type A", { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ EGRESS, "RD=0 query", { QUERY_V4("1.1.1.1", .dns = QUERY(.flags = 0, .opt_cookie = 0)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "forged: RD set on the answer to an RD=0 query",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_query_echo_rd },
		{ INGRESS_XDP, "genuine: RD=0 answer from cache (0x8080)", { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8080)) }, false, COUNT_pass_clean },
	} },
	{ "attack: the 2025 injector pair against an RD=1 query", NULL, {
		{ EGRESS, "RD=1 query without EDNS (glibc)", { QUERY_V4("1.1.1.1", .dns = QUERY(.opt_cookie = 0)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "0x8400 without DF: AA, RD cleared", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8400)) }, true, COUNT_drop_aa_single },
		{ INGRESS_XDP, "0x8180 with DF: nothing without state but the hop count (none learned here)",
		  { FORGED_2025("1.1.1.1", .frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	} },
	{ "attack: 0x8400 to an RD=0 query is not the cyclic injector", NULL, {
		{ EGRESS, "RD=0 query", { QUERY_V4("1.1.1.1", .dns = QUERY(.flags = 0, .opt_cookie = 0)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "authoritative RD=0 answer (0x8400) passes", { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8400)) }, false, COUNT_pass_clean },
	} },
	{ "attack: HTTPS forgeries (2026)", setup_bogus_pool, {
		{ EGRESS, "HTTPS query with EDNS", { QUERY_V4("1.1.1.1", .dns = QUERY(.qtype = 65)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "forged HTTPS record, hints from the pool",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 65, .an = { ANSWER_HTTPS(203, 0, 113, 66) })) }, true, COUNT_drop_bogus_addr },
		{ INGRESS_XDP, "forged HTTPS record, unknown IPv4 hint but the pool's IPv6 hint",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 65, .an = { ANSWER_HTTPS(203, 0, 113, 99) })) }, true, COUNT_drop_bogus_addr },
		{ INGRESS_XDP, "SVCB record with the pool's hint", 
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 64, .an = { { .type = 64, HTTPS_RDATA(203, 0, 113, 66) } })) }, true, COUNT_drop_bogus_addr },
		{ INGRESS_XDP, "genuine HTTPS record with OPT: passes",
		  { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 65, .opt = true, .an = { { .type = 65, .rdata = { 0, 1, 0, 0, 1, 0, 3, 2, 'h', '2' }, .rdlen = 10 } })) }, false, COUNT_pass_clean },
		{ EGRESS, "HTTPS query with EDNS", { QUERY_V4("1.1.1.1", .dns = QUERY(.qtype = 65, .id = 0x2222)) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "forged HTTPS record, hints unknown, no OPT",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .id = 0x2222, .qtype = 65, .an = { { .type = 65, .rdata = { 0, 1, 0, 0, 4, 0, 4, 198, 51, 100, 1 }, .rdlen = 11 } })) }, true, COUNT_drop_edns_echo },
		{ INGRESS_XDP, "HTTPS record whose params run past its RDATA: hints not read",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .id = 0x3333, .qtype = 65, .an = { { .type = 65, .rdata = { 0, 1, 0, 0, 4, 0, 8, 203, 0, 113, 66 }, .rdlen = 11 } })) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "ipv4hint of 5 bytes: malformed, not read",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .id = 0x3333, .qtype = 65, .an = { { .type = 65, .rdata = { 0, 1, 0, 0, 4, 0, 5, 203, 0, 113, 66, 1 }, .rdlen = 12 } })) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "HTTPS record with a target name, then the pool's hint",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .id = 0x3333, .qtype = 65, .an = { { .type = 65, .rdata = { 0, 1, 3, 'c', 'd', 'n', 0, 0, 4, 0, 4, 203, 0, 113, 66 }, .rdlen = 15 } })) }, true, COUNT_drop_bogus_addr },
	} },
	{ "hop count learned from our own TCP connection", NULL, {
		{ INGRESS_XDP, "UDP before anything is learned",
		  { V4(.src = "1.1.1.1", .ttl = 40, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ EGRESS, "our SYN to 1.1.1.1:53 recorded", { SYN_V4("1.1.1.1") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "its SYN-ACK (TTL 55): one segment teaches nothing yet", { SYNACK_V4("1.1.1.1", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "its answer segment (TTL 55) confirms", { DATA_V4("1.1.1.1", 55) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "UDP with TTL 56: within one hop",
		  { V4(.src = "1.1.1.1", .ttl = 56, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "UDP with TTL 54: within one hop",
		  { V4(.src = "1.1.1.1", .ttl = 54, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "TTL 53: one past the tolerance",
		  { V4(.src = "1.1.1.1", .ttl = 53, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
		{ INGRESS_XDP, "forgery with TTL 60 (fewer hops away)",
		  { FORGED_2025("1.1.1.1", .ttl = 60, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_hop_count },
		{ EGRESS, "a route change: a new connection", { SYN_V4("1.1.1.1", .sport = 40100, .tcp_seq = 7000) }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "its SYN-ACK with TTL 57", { SYNACK_V4("1.1.1.1", 57, .dport = 40100, .tcp_ack = 7001) }, false, COUNT_NONE },
		{ INGRESS_XDP, "its data with TTL 57 replaces the profile", { DATA_V4("1.1.1.1", 57, .dport = 40100, .tcp_ack = 7031) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "UDP with TTL 57 passes after re-learning",
		  { V4(.src = "1.1.1.1", .ttl = 57, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ EGRESS, "IPv6 SYN recorded (tc)", { SYN_V6("2606:4700:4700::1111") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_TC, "IPv6 SYN-ACK", { SYNACK_V6("2606:4700:4700::1111", 50) }, false, COUNT_NONE },
		{ INGRESS_TC, "IPv6 hop limit learned by the tc program", { DATA_V6("2606:4700:4700::1111", 50) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "IPv6 hop limit 52 is one too far",
		  { V6(.src = "2606:4700:4700::1111", .ttl = 52, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
	} },
	{ "hop count: both edges of the default tolerance", NULL, {
		{ EGRESS, "SYN", { SYN_V4("8.8.8.8") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "SYN-ACK with TTL 57", { SYNACK_V4("8.8.8.8", 57) }, false, COUNT_NONE },
		{ INGRESS_XDP, "data with TTL 57", { DATA_V4("8.8.8.8", 57) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "TTL 58 passes", { V4(.ttl = 58, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "TTL 59 is dropped", { V4(.ttl = 59, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
		{ INGRESS_XDP, "TTL 56 passes", { V4(.ttl = 56, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "TTL 55 is dropped", { V4(.ttl = 55, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
		{ INGRESS_XDP, "TTL 255 is dropped", { V4(.ttl = 255, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
	} },
	{ "hop count over IPv6, tolerance 0", setup_tolerance_zero, {
		{ EGRESS, "SYN", { SYN_V6("2606:4700:4700::1111") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "SYN-ACK with hop limit 50", { SYNACK_V6("2606:4700:4700::1111", 50) }, false, COUNT_NONE },
		{ INGRESS_XDP, "data with hop limit 50", { DATA_V6("2606:4700:4700::1111", 50) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "hop limit 50 passes",
		  { V6(.src = "2606:4700:4700::1111", .ttl = 50, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "hop limit 51 is one too many",
		  { V6(.src = "2606:4700:4700::1111", .ttl = 51, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
		{ INGRESS_XDP, "hop limit 49 is one too few",
		  { V6(.src = "2606:4700:4700::1111", .ttl = 49, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_hop_count },
	} },
	{ "an expired profile switches the hop rule off", setup_max_age_zero, {
		{ EGRESS, "SYN", { SYN_V4("1.1.1.1") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "SYN-ACK with TTL 55", { SYNACK_V4("1.1.1.1", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "data with TTL 55", { DATA_V4("1.1.1.1", 55) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "TTL 40 passes once the profile is older than its maximum age",
		  { V4(.src = "1.1.1.1", .ttl = 40, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	} },
	{ "attack: spoofed TCP segments teach nothing", NULL, {
		{ INGRESS_XDP, "a data segment 'from 1.1.1.1:53', TTL 60, no connection",
		  { DATA_V4("1.1.1.1", 60) }, false, COUNT_hop_count_unsolicited },
		{ INGRESS_XDP, "a second one", { DATA_V4("1.1.1.1", 60) }, false, COUNT_hop_count_unsolicited },
		{ INGRESS_XDP, "so no profile: a UDP answer with any TTL passes",
		  { V4(.src = "1.1.1.1", .ttl = 20, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ EGRESS, "our SYN", { SYN_V4("1.1.1.1") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "the genuine SYN-ACK, TTL 55", { SYNACK_V4("1.1.1.1", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "the genuine answer, TTL 55", { DATA_V4("1.1.1.1", 55) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "spoofed: the connection's ports, ACK below its ISN",
		  { DATA_V4("1.1.1.1", 60, .tcp_ack = 999) }, false, COUNT_hop_count_unsolicited },
		{ INGRESS_XDP, "spoofed: the connection's ports, ACK far past the window",
		  { DATA_V4("1.1.1.1", 60, .tcp_ack = 1001 + TCP_ACK_WINDOW + 1) }, false, COUNT_hop_count_unsolicited },
		{ INGRESS_XDP, "spoofed: another client port", { DATA_V4("1.1.1.1", 60, .dport = 40001) }, false, COUNT_hop_count_unsolicited },
		{ INGRESS_XDP, "the censor's RST, in window", { DATA_V4("1.1.1.1", 60, .tcp_flags = 0x14) }, false, COUNT_NONE },
		{ INGRESS_XDP, "a segment without ACK", { DATA_V4("1.1.1.1", 60, .tcp_flags = 0x08) }, false, COUNT_NONE },
		{ INGRESS_XDP, "the profile still holds: genuine TTL 55 passes",
		  { V4(.src = "1.1.1.1", .ttl = 55, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "and the forgery (TTL 60) is dropped",
		  { FORGED_2025("1.1.1.1", .ttl = 60, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_hop_count },
	} },
	{ "attack: in-window segments with the censor's TTL", NULL, {
		{ EGRESS, "our SYN", { SYN_V4("1.1.1.1") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "the genuine SYN-ACK, TTL 55", { SYNACK_V4("1.1.1.1", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "the genuine answer, TTL 55: learned", { DATA_V4("1.1.1.1", 55) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "the censor's in-window segment, TTL 60: conflict, profile taken back",
		  { DATA_V4("1.1.1.1", 60) }, false, COUNT_hop_count_conflict },
		{ INGRESS_XDP, "a genuine segment after the conflict teaches nothing", { DATA_V4("1.1.1.1", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "no profile: the rule is off, the genuine answer passes",
		  { V4(.src = "1.1.1.1", .ttl = 55, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ EGRESS, "a second connection", { SYN_V4("1.1.1.1", .sport = 40200, .tcp_seq = 5000) }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "the censor's forged SYN-ACK first, TTL 60", { SYNACK_V4("1.1.1.1", 60, .dport = 40200, .tcp_ack = 5001) }, false, COUNT_NONE },
		{ INGRESS_XDP, "and its forged answer, TTL 60: the pair agrees, the profile takes 60",
		  { DATA_V4("1.1.1.1", 60, .dport = 40200, .tcp_ack = 5031) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "the genuine SYN-ACK, TTL 55: conflict, the profile is taken back",
		  { SYNACK_V4("1.1.1.1", 55, .dport = 40200, .tcp_ack = 5001) }, false, COUNT_hop_count_conflict },
		{ INGRESS_XDP, "still no profile: the genuine answer (TTL 55) is not dropped",
		  { V4(.src = "1.1.1.1", .ttl = 55, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "nor the forgery (TTL 60), which no rule here sees",
		  { FORGED_2025("1.1.1.1", .ttl = 60, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	} },
	{ "egress reads only the datagram", NULL, {
		{ EGRESS, "a UDP length that covers only the DNS header: not recorded",
		  { QUERY_V4("1.1.1.1", .dns = QUERY(.udp_len_delta = (uint16_t)-39)) }, false, COUNT_NONE },
		{ EGRESS, "one byte more does not hold QTYPE either",
		  { QUERY_V4("1.1.1.1", .dns = QUERY(.udp_len_delta = (uint16_t)-38)) }, false, COUNT_NONE },
		{ EGRESS, "the whole query is recorded", { QUERY_V4("1.1.1.1", .dns = QUERY()) }, false, COUNT_queries_recorded },
	} },
	{ "attack: spoofed sources cannot fill the hop table", NULL, {
		{ INGRESS_XDP, "TCP from an unprotected source",
		  { DATA_V4("192.0.2.53", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "TCP from 198.51.100.53 (aa-single only)",
		  { DATA_V4("198.51.100.53", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "TCP not from port 53",
		  { DATA_V4("1.1.1.1", 55, .sport = 443) }, false, COUNT_NONE },
		{ EGRESS, "a SYN to an unprotected address is not recorded", { SYN_V4("192.0.2.53") }, false, COUNT_NONE },
		{ EGRESS, "a SYN-ACK leaving (we serve DNS) is not a SYN", { SYN_V4("1.1.1.1", .tcp_flags = 0x12) }, false, COUNT_NONE },
		{ EGRESS, "a SYN to port 853 is not recorded", { SYN_V4("1.1.1.1", .dport = 853) }, false, COUNT_NONE },
	} },
	{ "known forged addresses", setup_bogus, {
		{ INGRESS_XDP, "A answer 31.13.91.33 (the captured forgery's)",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qname = "rsf.org", .an = { { .type = 1, A_RDATA(31, 13, 91, 33) } })) }, true, COUNT_drop_bogus_addr },
		{ INGRESS_XDP, "AAAA answer in Teredo 2001::/32",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { { .type = 28, .rdlen = 16, .rdata = { 0x20, 0x01, 0, 0, 0xde, 0xad, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } })) }, true, COUNT_drop_bogus_addr },
		{ INGRESS_XDP, "bogus address behind a bare OPT is still found",
		  { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8180, .opt = true, .an = { { .type = 1, A_RDATA(31, 13, 91, 33) } })) }, true, COUNT_drop_bogus_addr },
		{ INGRESS_XDP, "the address next to it passes",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .an = { { .type = 1, A_RDATA(31, 13, 91, 34) } })) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "two answers, one bogus, pass",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .an_count = 2, .an = { { .type = 1, A_RDATA(31, 13, 91, 33) }, ANSWER_A() })) }, false, COUNT_pass_multi_answer },
		{ INGRESS_XDP, "bogus address from a resolver without the rule",
		  { V4(.src = "198.51.100.53", .dns = DNS_RESPONSE(0x8180, .an = { { .type = 1, A_RDATA(31, 13, 91, 33) } })) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "the captured forgery, exact bytes, is caught by its address",
		  { FORGED_2025("8.8.8.8", .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_bogus_addr },
	} },
	{ "IPv6 flow label", NULL, {
		{ INGRESS_XDP, "flow label 0 from a resolver with the rule",
		  { V6(.src = "2001:db8:54::53", .flow_label_zero = true, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, true, COUNT_drop_flow_label },
		{ INGRESS_XDP, "near miss: flow label 1 passes",
		  { V6(.src = "2001:db8:54::53", .flow_label = 1, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "near miss: flow label 0x80000 (the top bit of 20) passes",
		  { V6(.src = "2001:db8:54::53", .flow_label = 0x80000, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "a labelled flow passes",
		  { V6(.src = "2001:db8:54::53", .flow_label = 0xbeef, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "flow label 0 from a default resolver (no such rule)",
		  { V6(.src = "2606:4700:4700::1111", .flow_label_zero = true, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	} },
	{ "observe mode, every resolver: each rule counts would_drop and passes", setup_observe_all, {
		{ INGRESS_XDP, "IPv4 ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_would_drop_ipid_zero },
		{ INGRESS_TC, "DF alone (tc)", { V4(.frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_would_drop_df },
		{ INGRESS_XDP_L3, "AA with RD (L3)", { .no_link = true, V4(.dns = DNS_RESPONSE(0x8580)) }, false, COUNT_would_drop_aa_single },
		{ INGRESS_XDP, "name written out",
		  { V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) }, false, COUNT_would_drop_name_uncompressed },
		{ INGRESS_XDP, "listed address", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .an = { { .type = 1, A_RDATA(203, 0, 113, 66) } })) },
		  false, COUNT_would_drop_bogus_addr },
		{ INGRESS_XDP, "an A answer to an MX question", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .qtype = 15)) },
		  false, COUNT_would_drop_query_echo_type },
		{ EGRESS, "EDNS query recorded", { QUERY_V4("1.1.1.1", .dns = QUERY()) }, false, COUNT_queries_recorded },
		{ INGRESS_XDP, "QR=0 with the query's port and ID", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x0100)) },
		  false, COUNT_would_drop_query_echo_qr },
		{ INGRESS_TC, "no OPT (tc)", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_would_drop_edns_echo },
		{ INGRESS_XDP, "RD cleared", { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8080, .opt = true)) }, false, COUNT_would_drop_query_echo_rd },
		{ INGRESS_XDP, "question type AAAA to an A query",
		  { FORGED_2025("1.1.1.1", .dns = DNS_RESPONSE(0x8180, .opt = true, .qtype = 28, .an = { ANSWER_AAAA() })) },
		  false, COUNT_would_drop_query_echo_qtype },
		{ INGRESS_XDP, "the would-be drops left the record: the genuine answer clears it",
		  { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
		{ EGRESS, "our SYN to 1.1.1.1:53", { SYN_V4("1.1.1.1") }, false, COUNT_hop_count_syns_recorded },
		{ INGRESS_XDP, "its SYN-ACK (TTL 55)", { SYNACK_V4("1.1.1.1", 55) }, false, COUNT_NONE },
		{ INGRESS_XDP, "its answer segment (TTL 55)", { DATA_V4("1.1.1.1", 55) }, false, COUNT_hop_count_learned },
		{ INGRESS_XDP, "TTL 60", { V4(.src = "1.1.1.1", .ttl = 60, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_would_drop_hop_count },
	} },
	{ "observe mode, every resolver: IPv6 flow label; passing verdicts unchanged", setup_observe_all, {
		{ INGRESS_XDP, "flow label 0", { V6(.src = "2001:db8:54::53", .flow_label_zero = true, .dns = DNS_RESPONSE(0x8180, .opt = true)) },
		  false, COUNT_would_drop_flow_label },
		{ INGRESS_XDP, "genuine", { V4(.dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "two answers", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .an_count = 2, .an = { ANSWER_A(), ANSWER_A() })) },
		  false, COUNT_pass_multi_answer },
		{ INGRESS_XDP, "unprotected source", { V4(.src = "192.0.2.99", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_unprotected },
	} },
	{ "mode set back to enforce", setup_enforce_again, {
		{ INGRESS_XDP, "IPv4 ID 0 is dropped", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
		{ INGRESS_TC, "AA with RD is dropped (tc)", { V4(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	} },
	{ "observe mode for one resolver, the others enforced", setup_observe_one, {
		{ INGRESS_XDP, "observed resolver, IPv4 ID 0", { V4(.src = "198.51.100.153", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) },
		  false, COUNT_would_drop_ipid_zero },
		{ INGRESS_TC, "observed resolver, AA (tc)", { V4(.src = "198.51.100.153", .dns = DNS_RESPONSE(0x8580)) },
		  false, COUNT_would_drop_aa_single },
		{ INGRESS_XDP_L3, "observed resolver, DF (L3)", { .no_link = true, V4(.src = "198.51.100.153", .frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180)) },
		  false, COUNT_would_drop_df },
		{ INGRESS_XDP, "observed IPv6 resolver, flow label 0",
		  { V6(.src = "2001:db8:55::53", .flow_label_zero = true, .dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_would_drop_flow_label },
		{ INGRESS_XDP, "observed resolver, genuine", { V4(.src = "198.51.100.153", .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
		{ INGRESS_XDP, "8.8.8.8 is still enforced", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
		{ INGRESS_TC, "8.8.8.8 is still enforced (tc)", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	} },
};
/* clang-format on */

/* The captured forgery's DNS bytes replace a frame's payload. */
static void put_wild_capture(struct frame *f)
{
	size_t dns_at = 14 + 20 + 8;

	memcpy(f->bytes + dns_at, wild_rsf_org, sizeof(wild_rsf_org));
	f->len = dns_at + sizeof(wild_rsf_org);
	f->bytes[14 + 2] = (uint8_t)((f->len - 14) >> 8);
	f->bytes[14 + 3] = (uint8_t)(f->len - 14);
	f->bytes[14 + 10] = 0;
	f->bytes[14 + 11] = 0;
	put16(f->bytes + 14 + 10, ipv4_header_checksum(f->bytes + 14, 20));
	f->bytes[14 + 20 + 4] = (uint8_t)((f->len - 34) >> 8);
	f->bytes[14 + 20 + 5] = (uint8_t)(f->len - 34);
}

/* Inputs the differential fuzzer found (tests/fuzz), kept as rows.  Both
 * were dropped before every rule required a well-formed answer.
 * 1: the question name's second label runs past the message; the tail
 *    still looked like an A record with a known forged address.
 */
static const uint8_t fuzz_broken_question[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
	0x00, 0x00, 0x48, 0x4d, 0x2e, 0x00, 0x00, 0x39, 0x11, 0x62, 0x65, 0x08, 0x08, 0x08, 0x08,
	0xc0, 0x00, 0x02, 0x02, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x34, 0x00, 0x00, 0x12, 0x34, 0x81,
	0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x06, 0x67, 0x6f, 0x6f, 0x67, 0x03,
	0x65, 0x63, 0x6c, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00,
	0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x8e, 0xfa, 0x48, 0x0e,
};

/* 2: AR=0 to a recorded EDNS query, but the answer section is garbage. */
static const uint8_t fuzz_broken_answer[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
	0x00, 0x00, 0x48, 0x4d, 0x2e, 0x00, 0x00, 0x39, 0x11, 0x62, 0x65, 0x08, 0x08, 0x08, 0x08,
	0xc0, 0x00, 0x02, 0x02, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x34, 0x00, 0x00, 0x12, 0x34, 0x81,
	0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x06, 0x67, 0x6f, 0x6f, 0x67, 0x6c,
	0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0xff, 0xff, 0xfe, 0x3f, 0xf3, 0xff, 0xf6, 0x00,
	0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x8e, 0xfa, 0x48, 0x0e,
};

static void run_fuzz_findings(const struct cdns_objects *o)
{
	struct loaded_prog lp = { .label = "xdp prog",
				  .objects = o,
				  .prog_fd = cdns_prog_fd(o, "clean_dns_eth") };
	struct query_key key = { .client_port = htons(40000), .txid = htons(0x1234) };
	struct query_state state = { 0 };
	struct frame f;

	cdns_clear_state(&o->maps);
	key.resolver[10] = key.resolver[11] = 0xff;
	inet_pton(AF_INET, "8.8.8.8", key.resolver + 12);
	if (cdns_add_bogus(&o->maps, "142.250.72.0", 24) ||
	    bpf_map_update_elem(o->maps.queries, &key, &state, BPF_ANY)) {
		report(false, &lp, "fuzz findings", "setup failed");
		return;
	}
	memcpy(f.bytes, fuzz_broken_question, sizeof(fuzz_broken_question));
	f.len = sizeof(fuzz_broken_question);
	check_frame(&lp, "fuzz finding: broken question, bogus-looking tail", &f, false,
		    COUNT_pass_other_answer);
	memcpy(f.bytes, fuzz_broken_answer, sizeof(fuzz_broken_answer));
	f.len = sizeof(fuzz_broken_answer);
	check_frame(&lp, "fuzz finding: garbage answer to a recorded EDNS query", &f, false,
		    COUNT_pass_other_answer);
	cdns_clear_state(&o->maps);
}

static int map_entries(int map_fd, size_t key_size)
{
	uint8_t key[64], next[64];
	int n = 0;

	if (key_size > sizeof(key))
		return -1;
	if (bpf_map_get_next_key(map_fd, NULL, key))
		return 0;
	do {
		n++;
	} while (n < 100000 && !bpf_map_get_next_key(map_fd, key, next) &&
		 memcpy(key, next, key_size));
	return n;
}

/* Spoofed sources cannot fill cdns_hops: TCP data segments "from port 53"
 * of 254 addresses of a protected prefix, with the censor's TTL, teach
 * nothing; a connection of ours to one of them still teaches afterwards.
 */
static void run_hop_table_flood(const struct cdns_objects *o)
{
	struct loaded_prog lp = { .label = "xdp prog",
				  .objects = o,
				  .prog_fd = cdns_prog_fd(o, "clean_dns_eth") };
	struct frame_spec syn = { SYN_V4("192.0.2.7") }, synack = { SYNACK_V4("192.0.2.7", 57) },
			  data = { DATA_V4("192.0.2.7", 57) };
	int egress_fd = cdns_prog_fd(o, "clean_dns_eg"), i, refused = 0, entries;
	struct addr_key prefix;
	char addr[32], why[128];
	struct frame f;

	cdns_clear_state(&o->maps);
	if (cdns_add_resolver(&o->maps, "192.0.2.0", 24, RULE_HOP_COUNT) ||
	    cdns_prefix_key(&prefix, "192.0.2.0", 24)) {
		report(false, &lp, "hop table flood", "setup failed");
		return;
	}
	for (i = 1; i < 255; i++) {
		struct frame_spec spec = { DATA_V4(addr, 60) };

		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		if (!build_frame(&f, &spec) || cdns_run(lp.prog_fd, f.bytes, f.len) != XDP_PASS)
			refused++;
	}
	entries = map_entries(o->maps.hops, sizeof(struct addr_key));
	snprintf(why, sizeof(why), "%d profiles after 254 spoofed sources, %d runs failed", entries,
		 refused);
	report(entries == 0 && refused == 0, &lp, "attack: spoofed sources fill no hop profile",
	       entries || refused ? why : NULL);
	if (!build_frame(&f, &syn) || cdns_run(egress_fd, f.bytes, f.len) < 0 ||
	    !build_frame(&f, &synack) || cdns_run(lp.prog_fd, f.bytes, f.len) < 0 ||
	    !build_frame(&f, &data) || cdns_run(lp.prog_fd, f.bytes, f.len) < 0)
		refused++;
	entries = map_entries(o->maps.hops, sizeof(struct addr_key));
	snprintf(why, sizeof(why), "%d profiles after our own connection, want 1", entries);
	report(entries == 1 && !refused, &lp, "after the flood our own connection still teaches",
	       entries == 1 ? NULL : why);
	bpf_map_delete_elem(o->maps.resolvers, &prefix);
	cdns_clear_state(&o->maps);
}

/* A connection recorded long ago (its SYN older than TCP_CONN_MAX_AGE_SEC)
 * teaches nothing: an on-path censor that saw an old connection's ports and
 * ISN could otherwise send two agreeing segments for it at any later time
 * and write its own TTL.  BPF_PROG_TEST_RUN cannot age an entry, so a SYN
 * of 35 s ago is written into the map directly.
 */
static void run_stale_connection(const struct cdns_objects *o)
{
	struct loaded_prog lp = { .label = "xdp prog",
				  .objects = o,
				  .prog_fd = cdns_prog_fd(o, "clean_dns_eth") };
	struct frame_spec synack = { SYNACK_V4("1.1.1.1", 60) }, data = { DATA_V4("1.1.1.1", 60) };
	struct tcp_conn_key key = { .client_port = htons(40000) };
	struct tcp_conn old = { .isn = 1000 };
	struct timespec now;
	struct frame f;

	/* bpf_ktime_get_ns is CLOCK_MONOTONIC; the age is taken modulo 2^64,
	 * so this holds even on a machine up for less than the age.
	 */
	clock_gettime(CLOCK_MONOTONIC, &now);
	old.syn_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec -
		     (TCP_CONN_MAX_AGE_SEC + 5) * 1000000000ULL;
	cdns_clear_state(&o->maps);
	key.resolver[10] = key.resolver[11] = 0xff;
	inet_pton(AF_INET, "1.1.1.1", key.resolver + 12);
	if (bpf_map_update_elem(o->maps.tcp_conns, &key, &old, BPF_ANY) ||
	    !build_frame(&f, &synack)) {
		report(false, &lp, "stale connection", "setup failed");
		return;
	}
	check_frame(&lp, "attack: a SYN-ACK for a connection recorded long ago", &f, false,
		    COUNT_hop_count_unsolicited);
	build_frame(&f, &data);
	check_frame(&lp, "attack: its answer segment, agreeing, still teaches nothing", &f, false,
		    COUNT_hop_count_unsolicited);
	report(map_entries(o->maps.hops, sizeof(struct addr_key)) == 0, &lp,
	       "attack: no profile from a connection recorded long ago", NULL);
	cdns_clear_state(&o->maps);
}

/* The captured forgery, byte for byte, as the DNS payload of a frame. */
static void run_wild_capture(const struct loaded_prog *lp)
{
	struct frame_spec spec = { V4(.dns = DNS_RESPONSE(0x8180)) };
	struct frame f;

	build_frame(&f, &spec);
	put_wild_capture(&f);
	check_frame(lp, "captured rsf.org forgery, exact bytes", &f, false, COUNT_pass_clean);
}

static void run_scenarios(const struct cdns_objects *o)
{
	char name[256];
	size_t s, i;

	for (s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		const struct scenario *sc = &scenarios[s];

		cdns_clear_state(&o->maps);
		if (sc->setup && sc->setup(&o->maps)) {
			failed++;
			printf("not ok %s: setup failed\n", sc->name);
			continue;
		}
		for (i = 0; i < SCENARIO_STEPS && sc->steps[i].what; i++) {
			const struct step *st = &sc->steps[i];
			struct loaded_prog lp = {
				.label = step_prog_names[st->prog],
				.objects = o,
				.prog_fd = cdns_prog_fd(o, step_prog_names[st->prog]),
				.is_tc = st->prog != INGRESS_XDP && st->prog != INGRESS_XDP_L3,
			};
			struct frame f;

			snprintf(name, sizeof(name), "%s: %s", sc->name, st->what);
			if (!build_frame(&f, &st->frame)) {
				report(false, &lp, name, "bad address in the step");
				continue;
			}
			if (strstr(st->what, "exact bytes"))
				put_wild_capture(&f);
			check_frame(&lp, name, &f, st->drop, st->counter);
		}
	}
	cdns_clear_state(&o->maps);
}

/* The newest record in the per-CPU cdns_log (what `clean-dns log` reads). */
static int newest_log_record(const struct cdns_objects *o, struct clean_dns_event *out)
{
	int ncpus = libbpf_num_possible_cpus(), fd = cdns_map_fd(o->tc, "cdns_log"), cpu, i;
	struct clean_dns_log *per_cpu;
	__u32 zero = 0;
	bool found = false;

	if (ncpus <= 0 || fd < 0)
		return -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu || bpf_map_lookup_elem(fd, &zero, per_cpu)) {
		free(per_cpu);
		return -ENOENT;
	}
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < LOG_EVENTS_PER_CPU; i++)
			if (!found || per_cpu[cpu].events[i].time_ns > out->time_ns) {
				*out = per_cpu[cpu].events[i];
				found = true;
			}
	free(per_cpu);
	return 0;
}

static int count_ring_record(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct clean_dns_event))
		*(struct clean_dns_event *)ctx = *(struct clean_dns_event *)data;
	return 0;
}

struct record_row {
	const char *name;
	enum step_prog prog;
	struct frame_spec frame;
	int reason;
	const char *resolver, *answer; /* text; answer NULL: none */
	uint16_t qtype;
	const char *qname_wire;
};

/* clang-format off */
static const struct record_row record_rows[] = {
	{ "IPv4 drop on XDP", INGRESS_XDP, { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) },
	  COUNT_drop_ipid_zero, "8.8.8.8", "142.250.72.14", 1, "\6google\3com" },
	{ "IPv6 AAAA drop on tc", INGRESS_TC,
	  { V6(.dns = DNS_RESPONSE(0x8580, .id = 0x4242, .qtype = 28, .an = { ANSWER_AAAA() })) },
	  COUNT_drop_aa_single, "2001:4860:4860::8888", "2a00:1450:4001:81c::200e", 28, "\6google\3com" },
	{ "would-drop of an observed resolver on L3", INGRESS_XDP_L3,
	  { .no_link = true, V4(.src = "198.51.100.153", .frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180, .qname = "a-rather-long-label-for-the-record.example.org")) },
	  COUNT_would_drop_df, "198.51.100.153", "142.250.72.14", 1, "\42a-rather-long-label-for-the-record\7example\3or" },
};
/* clang-format on */

/* Each drop and would-be drop leaves one record, in cdns_log and on the
 * cdns_events ring buffer, saying what it was: the rule, resolver, client
 * port, ID, question name's first bytes and type, and the answer.
 */
static void run_drop_records(const struct cdns_objects *o)
{
	struct clean_dns_event logged, ringed;
	struct ring_buffer *rb = NULL;
	int ring_fd = cdns_map_fd(o->tc, "cdns_events");
	char why[256];
	size_t r;

	if (ring_fd >= 0)
		rb = ring_buffer__new(ring_fd, count_ring_record, &ringed, NULL);
	for (r = 0; r < sizeof(record_rows) / sizeof(record_rows[0]); r++) {
		const struct record_row *row = &record_rows[r];
		struct loaded_prog lp = {
			.label = step_prog_names[row->prog],
			.objects = o,
			.prog_fd = cdns_prog_fd(o, step_prog_names[row->prog]),
			.is_tc = row->prog == INGRESS_TC,
		};
		struct addr_key resolver, answer = { 0 };
		struct frame f;
		char name[160];
		size_t qlen = strlen(row->qname_wire);

		snprintf(name, sizeof(name), "drop record: %s", row->name);
		if (!rb) {
			report(false, &lp, name, "cannot open the cdns_events ring buffer");
			continue;
		}
		ring_buffer__consume(rb);
		if (!build_frame(&f, &row->frame) || cdns_prefix_key(&resolver, row->resolver, 0) ||
		    (row->answer && cdns_prefix_key(&answer, row->answer, 0))) {
			report(false, &lp, name, "bad row");
			continue;
		}
		memset(&ringed, 0, sizeof(ringed));
		check_frame(&lp, name, &f, row->reason < COUNT_FIRST_WOULD_DROP, row->reason);
		if (newest_log_record(o, &logged)) {
			report(false, &lp, name, "cannot read cdns_log");
			continue;
		}
		ring_buffer__consume(rb);
		why[0] = '\0';
		if (logged.reason != row->reason)
			snprintf(why, sizeof(why), "reason %u, want %d", logged.reason,
				 row->reason);
		else if (memcmp(logged.resolver, resolver.addr, 16))
			snprintf(why, sizeof(why), "resolver differs from %s", row->resolver);
		else if (memcmp(logged.answer, answer.addr, 16))
			snprintf(why, sizeof(why), "answer differs from %s", row->answer);
		else if (logged.qtype != row->qtype)
			snprintf(why, sizeof(why), "qtype %u, want %u", logged.qtype, row->qtype);
		else if (ntohs(logged.client_port) != 40000 ||
			 ntohs(logged.txid) != row->frame.dns.id)
			snprintf(why, sizeof(why), "port %u id 0x%04x", ntohs(logged.client_port),
				 ntohs(logged.txid));
		else if (memcmp(logged.qname, row->qname_wire,
				qlen < EVENT_QNAME_LEN ? qlen : EVENT_QNAME_LEN))
			snprintf(why, sizeof(why), "question name differs");
		else if (memcmp(&ringed, &logged, sizeof(logged)))
			snprintf(why, sizeof(why), "the ring buffer's record is not the log's");
		snprintf(name, sizeof(name), "drop record: %s: log and ring buffer", row->name);
		report(!why[0], &lp, name, why[0] ? why : NULL);
	}
	ring_buffer__free(rb);
}

static int run_all(const char *build_dir)
{
	static const struct {
		const char *label, *prog;
		bool is_tc, no_link;
	} targets[] = {
		{ "xdp prog", "clean_dns_eth", false, false },
		{ "xdp l3", "clean_dns_l3", false, true },
		{ "tc classifier", "clean_dns_tc", true, false },
	};
	struct cdns_objects objects;
	size_t t;

	if (cdns_load(&objects, build_dir) || configure(&objects.maps)) {
		printf("not ok: load %s/clean-dns{,-tc}.o\n", build_dir);
		return 1;
	}
	for (t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		struct loaded_prog lp = { .label = targets[t].label,
					  .objects = &objects,
					  .prog_fd = cdns_prog_fd(&objects, targets[t].prog),
					  .is_tc = targets[t].is_tc };

		if (lp.prog_fd < 0) {
			report(false, &lp, "program", targets[t].prog);
			continue;
		}
		if (targets[t].no_link) {
			run_table(&lp, l3_vectors, sizeof(l3_vectors) / sizeof(l3_vectors[0]));
		} else {
			run_eth_suite(&lp);
			run_wild_capture(&lp);
		}
	}
	run_scenarios(&objects);
	run_hop_table_flood(&objects);
	run_stale_connection(&objects);
	run_fuzz_findings(&objects);
	run_drop_records(&objects);
	cdns_unload(&objects);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* For each address, which rules fire: one probe frame per rule, each with
 * only that fingerprint, after setting up the state the stateful rules
 * need (a known forged address, an EDNS query, a TTL of 57 learned from
 * a connection's SYN-ACK and answer).
 * Prints "ADDR=rule,rule" (or "ADDR=none").
 */
static int probe(const char *build_dir, int argc, char **argv)
{
	/* clang-format off */
	static const struct {
		const char *rule;
		bool v4_only;
		struct frame_spec frame; /* .family and .src are filled in */
	} probes[] = {
		{ "ipid-zero", true, { .ip_id = 0, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true) } },
		{ "df", true, { .ip_id = 9, .frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true) } },
		{ "aa-single", false, { .ip_id = 9, .dns = DNS_RESPONSE(0x8580, .id = 1, .opt = true) } },
		{ "name-uncompressed", false, { .ip_id = 9, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true, .an = { ANSWER_A(.name_written_out = true) }) } },
		{ "bogus-addr", false, { .ip_id = 9, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true, .an = { { .type = 1, A_RDATA(203, 0, 113, 66) } }) } },
		{ "edns-echo", false, { .ip_id = 9, .dns = DNS_RESPONSE(0x8180, .id = 0x5555) } },
		{ "hop-count", false, { .ip_id = 9, .ttl = 40, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true) } },
		{ "flow-label", false, { .ip_id = 9, .flow_label_zero = true, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true) } },
		{ "query-echo", false, { .ip_id = 9, .dns = DNS_RESPONSE(0x8180, .id = 1, .opt = true, .qtype = 15) } },
	};
	/* clang-format on */
	struct cdns_objects o;
	int eth_fd, egress_fd, i, err = 0;

	if (cdns_load(&o, build_dir))
		return 1;
	eth_fd = cdns_prog_fd(&o, "clean_dns_eth");
	egress_fd = cdns_prog_fd(&o, "clean_dns_eg");
	for (i = 0; i < argc && !err; i++) {
		bool v6 = strchr(argv[i], ':') != NULL, any = false;
		struct frame_spec syn = { SYN_V4(argv[i]) }, synack = { SYNACK_V4(argv[i], 57) },
				  data = { DATA_V4(argv[i], 57) };
		struct frame_spec query = { .family = v6 ? 6 : 4,
					    .src = v6 ? "2001:db8:1::2" : "192.0.2.2",
					    .dst = argv[i],
					    .sport = 40000,
					    .dport = 53,
					    .dns = QUERY(.id = 0x5555) };
		struct frame f;
		size_t p;

		if (v6) {
			syn.family = synack.family = data.family = 6;
			syn.src = "2001:db8:1::2";
		}
		cdns_clear_state(&o.maps);
		err = cdns_add_bogus(&o.maps, "203.0.113.66", 32);
		if (err || !build_frame(&f, &syn) || cdns_run(egress_fd, f.bytes, f.len) < 0 ||
		    !build_frame(&f, &synack) || cdns_run(eth_fd, f.bytes, f.len) < 0 ||
		    !build_frame(&f, &data) || cdns_run(eth_fd, f.bytes, f.len) < 0 ||
		    !build_frame(&f, &query) || cdns_run(egress_fd, f.bytes, f.len) < 0) {
			fprintf(stderr, "probe %s: cannot set up state\n", argv[i]);
			err = 1;
			break;
		}
		printf("%s=", argv[i]);
		for (p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
			struct frame_spec spec = probes[p].frame;

			if (v6 && probes[p].v4_only)
				continue;
			spec.family = v6 ? 6 : 4;
			spec.src = argv[i];
			if (!spec.ttl)
				spec.ttl = 57;
			if (!build_frame(&f, &spec)) {
				err = 1;
				break;
			}
			if (cdns_run(eth_fd, f.bytes, f.len) == XDP_DROP) {
				printf("%s%s", any ? "," : "", probes[p].rule);
				any = true;
			}
		}
		printf("%s\n", any ? "" : "none");
	}
	cdns_unload(&o);
	return err;
}

/* Writes a few frames for tools that take packet files (bpftool prog run). */
static int write_frames(const char *dir)
{
	static const struct vector rows[] = {
		{ "forged-ipid-zero", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, 0 },
		{ "forged-aa-single", { V4(.dns = DNS_RESPONSE(0x8580)) }, true, 0 },
		{ "genuine", { V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, 0 },
		{ "non-dns-udp", { V4(.sport = 443, .dns = DNS_RESPONSE(0x8180)) }, false, 0 },
		{ "genuine-ipv6", { V6(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, 0 },
		{ "genuine-vlan",
		  { .vlan_tags = 1, V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) },
		  false,
		  0 },
		{ "query-edns",
		  { .family = 4,
		    .src = "192.0.2.2",
		    .dst = "8.8.8.8",
		    .sport = 40000,
		    .dport = 53,
		    .dns = { .id = 0x1234,
			     .flags = 0x0100,
			     .qname = "google.com",
			     .qtype = 1,
			     .dns_len_override = -1,
			     .opt_cookie = 1 } },
		  false,
		  0 },
		{ "tcp-from-resolver",
		  { V4(.l4_proto = 6, .dns = DNS_RESPONSE(0x8180)) },
		  false,
		  0 },
		{ "syn-to-resolver", { SYN_V4("8.8.8.8") }, false, 0 },
		{ "synack-from-resolver", { SYNACK_V4("8.8.8.8", 57) }, false, 0 },
		{ "tcp-data-from-resolver", { DATA_V4("8.8.8.8", 57) }, false, 0 },
		{ "query-plain",
		  { QUERY_V4("8.8.8.8", .dns = QUERY(.id = 0x4321, .opt_cookie = 0)) },
		  false,
		  0 },
		{ "forged-https",
		  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 65,
					   .an = { ANSWER_HTTPS(203, 0, 113, 66) })) },
		  true,
		  0 },
		{ "forged-2025", { V4(.dns = DNS_RESPONSE(0x8180)) }, true, 0 },
		{ "genuine-multi",
		  { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8580, .an_count = 2,
						       .an = { ANSWER_A(), ANSWER_A() })) },
		  false,
		  0 },
	};
	char path[512];
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		FILE *out;

		snprintf(path, sizeof(path), "%s/%s.bin", dir, rows[i].name);
		build_frame(&f, &rows[i].frame);
		out = fopen(path, "wb");
		if (!out || fwrite(f.bytes, 1, f.len, out) != f.len) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			if (out)
				fclose(out);
			return 1;
		}
		if (fclose(out)) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int write_seed(const char *dir, const char *prefix, size_t n, uint8_t mode,
		      const struct frame *f)
{
	char path[512];
	FILE *out;
	int ok;

	snprintf(path, sizeof(path), "%s/%s-%03zu", dir, prefix, n);
	out = fopen(path, "wb");
	if (!out) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		return 1;
	}
	ok = fwrite(&mode, 1, 1, out) == 1 && fwrite(f->bytes, 1, f->len, out) == f->len;
	if (fclose(out) || !ok) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

/* Seeds for the fuzzer: every row, with its program in the first byte
 * (0: Ethernet, 1: no link layer), as tests/fuzz/clean-dns-fuzz.c reads.
 */
static int write_corpus(const char *dir)
{
	struct frame f;
	size_t i, s, n = 0;
	int err = 0;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]) && !err; i++)
		if (build_frame(&f, &vectors[i].frame))
			err = write_seed(dir, "row", n++, 0, &f);
	for (i = 0; i < sizeof(l3_vectors) / sizeof(l3_vectors[0]) && !err; i++)
		if (build_frame(&f, &l3_vectors[i].frame))
			err = write_seed(dir, "row", n++, l3_vectors[i].frame.no_link, &f);
	for (s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]) && !err; s++)
		for (i = 0; i < SCENARIO_STEPS && scenarios[s].steps[i].what && !err; i++)
			if (build_frame(&f, &scenarios[s].steps[i].frame))
				err = write_seed(dir, "step", n++,
						 scenarios[s].steps[i].frame.no_link, &f);
	return err;
}

int main(int argc, char **argv)
{
	int arg = 1;

	libbpf_set_print(NULL);
	if (arg < argc && strcmp(argv[arg], "-v") == 0) {
		verbose = true;
		arg++;
	}
	if (arg < argc && strcmp(argv[arg], "--probe") == 0) {
		if (argc - arg < 2) {
			fprintf(stderr, "usage: %s --probe BUILD_DIR ADDR...\n", argv[0]);
			return 2;
		}
		return probe(argv[arg + 1], argc - arg - 2, argv + arg + 2);
	}
	if (arg < argc && strcmp(argv[arg], "--write-corpus") == 0) {
		if (argc - arg != 2) {
			fprintf(stderr, "usage: %s --write-corpus DIR\n", argv[0]);
			return 2;
		}
		return write_corpus(argv[arg + 1]);
	}
	if (arg < argc && strcmp(argv[arg], "--write-frames") == 0) {
		if (argc - arg != 2) {
			fprintf(stderr, "usage: %s --write-frames DIR\n", argv[0]);
			return 2;
		}
		return write_frames(argv[arg + 1]);
	}
	if (argc - arg != 1) {
		fprintf(stderr, "usage: %s [-v] BUILD_DIR | --probe BUILD_DIR ADDR...\n", argv[0]);
		return 2;
	}
	return run_all(argv[arg]);
}
