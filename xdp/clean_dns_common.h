/* SPDX-License-Identifier: GPL-2.0 */
/* What the clean-dns BPF programs share with user space: counter names,
 * rule bits and the layout of the pinned maps.
 */
#ifndef CLEAN_DNS_COMMON_H
#define CLEAN_DNS_COMMON_H

#include <linux/types.h>

/* Every UDP packet from port 53 (and every UDP fragment from a protected
 * resolver) is "inspected" and then counted under exactly one pass_,
 * drop_ or would_drop_ reason, so those add up to "inspected".  A
 * would_drop_ reason is the drop_ reason of the same rule in observe mode
 * (globally or for the resolver): counted, passed.  The counters after
 * them count events of the stateful rules.  The X-macro keeps the enum (an index for
 * the programs) and the struct (whose field names bpftool prints via BTF)
 * in step.
 */
#define CLEAN_DNS_COUNTERS(X)           \
	X(inspected)                    \
	X(pass_unprotected)             \
	X(pass_fragment)                \
	X(pass_malformed)               \
	X(pass_not_response)            \
	X(pass_no_answer)               \
	X(pass_multi_answer)            \
	X(pass_other_answer)            \
	X(pass_clean)                   \
	X(drop_ipid_zero)               \
	X(drop_df)                      \
	X(drop_aa_single)               \
	X(drop_name_uncompressed)       \
	X(drop_bogus_addr)              \
	X(drop_edns_echo)               \
	X(drop_query_echo_rd)           \
	X(drop_query_echo_type)         \
	X(drop_query_echo_qtype)        \
	X(drop_query_echo_qr)           \
	X(drop_hop_count)               \
	X(drop_flow_label)              \
	X(would_drop_ipid_zero)         \
	X(would_drop_df)                \
	X(would_drop_aa_single)         \
	X(would_drop_name_uncompressed) \
	X(would_drop_bogus_addr)        \
	X(would_drop_edns_echo)         \
	X(would_drop_query_echo_rd)     \
	X(would_drop_query_echo_type)   \
	X(would_drop_query_echo_qtype)  \
	X(would_drop_query_echo_qr)     \
	X(would_drop_hop_count)         \
	X(would_drop_flow_label)        \
	X(queries_recorded)             \
	X(hop_count_syns_recorded)      \
	X(hop_count_learned)            \
	X(hop_count_conflict)           \
	X(hop_count_unsolicited)

#define CLEAN_DNS_COUNTER_ENUM(name) COUNT_##name,
enum clean_dns_counter { CLEAN_DNS_COUNTERS(CLEAN_DNS_COUNTER_ENUM) COUNT_MAX };
#undef CLEAN_DNS_COUNTER_ENUM

/* Not counted at all: not IP, not UDP, not from port 53 (the fast path). */
#define COUNT_NONE COUNT_MAX
/* Counters from this one on are verdicts to drop... */
#define COUNT_FIRST_DROP COUNT_drop_ipid_zero
/* ...up to this one, where the same verdicts in observe mode begin (in the
 * same order: would_drop_X is drop_X + COUNT_OBSERVED)...
 */
#define COUNT_FIRST_WOULD_DROP COUNT_would_drop_ipid_zero
#define COUNT_OBSERVED (COUNT_FIRST_WOULD_DROP - COUNT_FIRST_DROP)
/* ...up to this one; the rest count events, not packets' verdicts. */
#define COUNT_FIRST_EVENT COUNT_queries_recorded

#define CLEAN_DNS_COUNTER_FIELD(name) __u64 name;
struct clean_dns_counters {
	CLEAN_DNS_COUNTERS(CLEAN_DNS_COUNTER_FIELD)
};
#undef CLEAN_DNS_COUNTER_FIELD

/* Per-resolver choice of fingerprints.  Each rule is a fingerprint of forged
 * answers that the resolver's genuine answers never show.  A row: the enum's
 * name, the rule's bit, and the name clean-dns, its man page and the drop_
 * counters ('_' for '-') know it by.
 */
#define CLEAN_DNS_RULES(X)                                                         \
	X(IPID_ZERO, 0, "ipid-zero") /* IPv4 ID 0 */                               \
	X(DF, 1, "df") /* IPv4 DF set */                                           \
	X(AA_SINGLE, 2, "aa-single") /* AA, RD, one answer, no authority */        \
	X(NAME_UNCOMPRESSED, 3, "name-uncompressed") /* owner name written out */  \
	X(BOGUS_ADDR, 4, "bogus-addr") /* answer address in cdns_bogus */          \
	X(EDNS_ECHO, 5, "edns-echo") /* no OPT in the answer to an EDNS query */   \
	X(HOP_COUNT, 6, "hop-count") /* TTL/hop limit unlike the resolver's TCP */ \
	X(FLOW_LABEL, 7, "flow-label") /* IPv6 flow label 0 */                     \
	X(QUERY_ECHO, 8, "query-echo") /* RD or type unlike the query's */

#define CLEAN_DNS_RULE_ENUM(id, bit, name) RULE_##id = 1 << (bit),
enum clean_dns_rule {
	CLEAN_DNS_RULES(CLEAN_DNS_RULE_ENUM)
	/* Not a rule: the resolver's rules run and count would_drop_X, and
	 * its answers pass (a safe rollout, one resolver at a time).
	 */
	RULE_OBSERVE = 1 << 15,
};
#undef CLEAN_DNS_RULE_ENUM

#define CLEAN_DNS_RULE_BIT(id, bit, name) | RULE_##id
#define RULES_ALL (0 CLEAN_DNS_RULES(CLEAN_DNS_RULE_BIT))
/* The fingerprints no recursive resolver's genuine answers carry, whatever
 * its operating system: what a resolver added without naming rules gets,
 * and what the compiled-in resolvers get unless more is known of them.
 */
#define RULES_RECURSIVE                                                               \
	(RULE_AA_SINGLE | RULE_NAME_UNCOMPRESSED | RULE_BOGUS_ADDR | RULE_EDNS_ECHO | \
	 RULE_HOP_COUNT | RULE_QUERY_ECHO)
/* The rules that read what the egress program recorded of the query. */
#define RULES_READING_QUERIES (RULE_AA_SINGLE | RULE_EDNS_ECHO | RULE_QUERY_ECHO)

/* An address or prefix as an LPM trie key.  IPv4 addresses are stored
 * IPv4-mapped (::ffff:a.b.c.d, prefix length + 96) so one map holds both
 * families.  prefixlen is in host byte order, addr in network byte order.
 */
struct addr_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* rules == 0 switches protection off for the prefix, which is how an
 * operator removes a compiled-in default resolver.
 */
struct resolver_policy {
	__u32 rules;
};

/* A query to a protected resolver, keyed by what its answer carries back.
 * Written by the egress program after SNAT and read by the ingress
 * programs before de-NAT, so on a NAT router both see the same public
 * address and port.
 */
struct query_key {
	__u8 resolver[16]; /* IPv4-mapped for IPv4 */
	__be16 client_port;
	__be16 txid;
};

enum query_flag {
	QUERY_RD = 1 << 0, /* recursion desired: the answer must echo it */
	QUERY_EDNS = 1 << 1, /* an OPT record: the answer must carry one */
};

/* What the answer must echo.  A record older than the query max age is
 * ignored; it is deleted only by an answer that was judged and passed.
 */
struct query_state {
	__u64 sent_ns;
	__u16 qtype;
	__u8 flags; /* enum query_flag */
	__u8 pad[5];
};

/* The TTL (IPv4) or hop limit (IPv6) a resolver's TCP segments arrive with. */
struct hop_profile {
	__u64 learned_ns;
	__u32 ttl;
	__u32 segments;
};

/* A TCP connection this host (or a host behind it, after SNAT) opened to
 * a resolver's port 53, recorded from its SYN on egress.  Only segments
 * of such a connection that acknowledge its ISN teach a hop count: a
 * censor that forges segments "from port 53" outside any connection
 * teaches nothing.
 */
struct tcp_conn_key {
	__u8 resolver[16]; /* IPv4-mapped for IPv4 */
	__be16 client_port;
	__u16 pad;
};

struct tcp_conn {
	__u64 syn_ns;
	__u32 isn; /* the SYN's sequence number, host order */
	__u8 ttl; /* of the first segment that acknowledged it */
	__u8 segments; /* segments that agreed with that TTL */
	__u8 conflict; /* segments disagreed: the connection teaches nothing */
	__u8 taught; /* it wrote the resolver's profile */
};

/* Tunables in the single-entry cdns_settings array.  A field counts only
 * when its bit is in set_mask: the array starts zeroed, and 0 is a
 * meaningful tolerance.
 */
enum clean_dns_setting {
	SETTING_HOP_TOLERANCE = 1 << 0,
	SETTING_HOP_MAX_AGE = 1 << 1,
	SETTING_QUERY_MAX_AGE = 1 << 2,
	SETTING_MODE = 1 << 3,
};

enum clean_dns_mode {
	MODE_ENFORCE = 0, /* drop what a rule matches (the default) */
	MODE_OBSERVE = 1, /* count would_drop_X and pass, for every resolver */
};

struct clean_dns_settings {
	__u32 set_mask;
	__u32 hop_tolerance; /* hops a UDP answer may differ by (default 1) */
	__u32 hop_max_age_sec; /* a learned profile expires (default 3600) */
	__u32 query_max_age_ms; /* a recorded query expires (default 5000) */
	__u32 mode; /* enum clean_dns_mode */
};

/* X(name for `clean-dns set`, field, bit): every field of the struct above
 * but set_mask, for clean-dns-tables.
 */
#define CLEAN_DNS_SETTINGS(X)                                       \
	X("hop-tolerance", hop_tolerance, SETTING_HOP_TOLERANCE)    \
	X("hop-max-age", hop_max_age_sec, SETTING_HOP_MAX_AGE)      \
	X("query-max-age", query_max_age_ms, SETTING_QUERY_MAX_AGE) \
	X("mode", mode, SETTING_MODE)

#define HOP_TOLERANCE_DEFAULT 1
#define HOP_MAX_AGE_DEFAULT_SEC 3600
/* A stub resolver gives up on an answer after a few seconds (glibc: 5 s)
 * and asks again, which records the query anew.
 */
#define QUERY_MAX_AGE_DEFAULT_MS 5000
/* How far past the SYN's ISN a resolver's ACK may reach: a DNS-over-TCP
 * client sends a few queries of at most 64 KiB each.
 */
#define TCP_ACK_WINDOW (256 * 1024)
/* A recorded connection teaches for this long after its SYN: a DNS-over-TCP
 * exchange (clean-dns learn: dig +tcp, 2 s) is over well before, and an
 * on-path censor that saw an old connection's ports and ISN must not be
 * able to teach through it later.
 */
#define TCP_CONN_MAX_AGE_SEC 30

/* What the ingress programs report of each drop and would-be drop, on the
 * cdns_events ring buffer (`clean-dns watch`) and into the per-CPU
 * cdns_log ring of the last LOG_EVENTS_PER_CPU (`clean-dns log`).
 */
#define EVENT_QNAME_LEN 48
struct clean_dns_event {
	__u64 time_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u8 resolver[16]; /* the answer's source, IPv4-mapped for IPv4 */
	__u8 answer[16]; /* its A/AAAA address (IPv4-mapped), zero if none */
	__be16 client_port;
	__be16 txid;
	__u16 qtype; /* 0 when the question could not be read */
	__u16 reason; /* the counter: drop_X or would_drop_X */
	__u8 qname[EVENT_QNAME_LEN]; /* the question name's first bytes, wire format */
};

#define LOG_EVENTS_PER_CPU 32
/* One CPU's ring of its last events; next counts every event it wrote. */
struct clean_dns_log {
	__u64 next;
	struct clean_dns_event events[LOG_EVENTS_PER_CPU];
};

#define EVENTS_RINGBUF_BYTES (64 * 1024)

#define RESOLVERS_MAX 1024
#define BOGUS_MAX 4096
#define QUERIES_MAX 16384
#define HOPS_MAX 1024
#define TCP_CONNS_MAX 1024

/* The pinned maps, a row each: name, type (BPF_MAP_TYPE_ without its
 * prefix), key, value, max entries, flags; a ring buffer has neither key
 * nor value.  clean_dns.bpf.c defines its maps from these rows, and
 * clean-dns-tables prints them for the script, which creates a map before
 * the first attach with the programs' own definition (the programs then
 * reuse it) and refuses a pin that differs.
 */
#define CLEAN_DNS_MAPS(MAP, RINGBUF)                                                          \
	MAP(cdns_counters, PERCPU_ARRAY, __u32, struct clean_dns_counters, 1, 0)              \
	MAP(cdns_resolvers, LPM_TRIE, struct addr_key, struct resolver_policy, RESOLVERS_MAX, \
	    BPF_F_NO_PREALLOC)                                                                \
	/* Addresses injectors answer with; the value is unused. */                           \
	MAP(cdns_bogus, LPM_TRIE, struct addr_key, __u32, BOGUS_MAX, BPF_F_NO_PREALLOC)       \
	/* LRU: when full, the oldest queries are forgotten and their answers are */          \
	/* simply not checked by the rules that read them; nothing is dropped for it. */      \
	MAP(cdns_queries, LRU_HASH, struct query_key, struct query_state, QUERIES_MAX, 0)     \
	/* LRU: entries come only from connections this host opened, but a */                 \
	/* configured prefix may hold many resolvers; when full, the oldest */                \
	/* profile goes and its resolver's hop-count rule is off until relearned. */          \
	MAP(cdns_hops, LRU_HASH, struct addr_key, struct hop_profile, HOPS_MAX, 0)            \
	/* TCP connections to resolvers, from their SYNs (egress). */                         \
	MAP(cdns_tcp_conns, LRU_HASH, struct tcp_conn_key, struct tcp_conn, TCP_CONNS_MAX, 0) \
	MAP(cdns_settings, ARRAY, __u32, struct clean_dns_settings, 1, 0)                     \
	/* Each drop and would-be drop, for `clean-dns watch`.  Nobody reading */             \
	/* costs nothing but the copy: a full ring refuses the record.  (Ring */              \
	/* buffers exist from kernel 5.8; the oldest kernel we support is 5.10.) */           \
	RINGBUF(cdns_events, EVENTS_RINGBUF_BYTES)                                            \
	/* The last drops on each CPU, for `clean-dns log` after the fact. */                 \
	MAP(cdns_log, PERCPU_ARRAY, __u32, struct clean_dns_log, 1, 0)

#endif
