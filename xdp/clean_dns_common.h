/* SPDX-License-Identifier: GPL-2.0 */
/* What the clean-dns BPF programs share with user space: counter names,
 * rule bits and the layout of the pinned maps.
 */
#ifndef CLEAN_DNS_COMMON_H
#define CLEAN_DNS_COMMON_H

#include <linux/types.h>

/* Every UDP packet from port 53 (and every UDP fragment) is "inspected" and
 * then counted under exactly one pass_ or drop_ reason, so the reasons add
 * up to "inspected".  The X-macro keeps the enum (used as an index by the
 * program) and the struct (whose field names bpftool prints via BTF) in step.
 */
#define CLEAN_DNS_COUNTERS(X) \
	X(inspected)          \
	X(pass_unprotected)   \
	X(pass_fragment)      \
	X(pass_malformed)     \
	X(pass_not_response)  \
	X(pass_no_answer)     \
	X(pass_multi_answer)  \
	X(pass_clean)         \
	X(drop_ipid_zero)     \
	X(drop_df)            \
	X(drop_aa_single)     \
	X(drop_name_uncompressed)

#define CLEAN_DNS_COUNTER_ENUM(name) COUNT_##name,
enum clean_dns_counter { CLEAN_DNS_COUNTERS(CLEAN_DNS_COUNTER_ENUM) COUNT_MAX };
#undef CLEAN_DNS_COUNTER_ENUM

/* Not counted at all: not IP, not UDP, not from port 53 (the fast path). */
#define COUNT_NONE COUNT_MAX
/* Counters from this one on are verdicts to drop. */
#define COUNT_FIRST_DROP COUNT_drop_ipid_zero

#define CLEAN_DNS_COUNTER_FIELD(name) __u64 name;
struct clean_dns_counters {
	CLEAN_DNS_COUNTERS(CLEAN_DNS_COUNTER_FIELD)
};
#undef CLEAN_DNS_COUNTER_FIELD

/* Per-resolver choice of fingerprints.  Each rule is a fingerprint of forged
 * answers that the resolver's genuine answers never show.
 */
enum clean_dns_rule {
	RULE_IPID_ZERO = 1 << 0, /* IPv4 ID 0 */
	RULE_DF = 1 << 1, /* IPv4 DF set */
	RULE_AA_SINGLE = 1 << 2, /* AA, RD, one answer, no authority */
	RULE_NAME_UNCOMPRESSED = 1 << 3, /* answer owner name written out */
};

#define RULES_ALL (RULE_IPID_ZERO | RULE_DF | RULE_AA_SINGLE | RULE_NAME_UNCOMPRESSED)
/* What a resolver gets when added without naming rules: the DNS-level
 * fingerprints, which no recursive resolver's genuine answers carry.  The
 * IP-level ones depend on the resolver's operating system.
 */
#define RULES_DNS (RULE_AA_SINGLE | RULE_NAME_UNCOMPRESSED)

/* Key of the resolvers LPM trie.  IPv4 addresses are stored IPv4-mapped
 * (::ffff:a.b.c.d, prefix length + 96) so one map holds both families.
 * prefixlen is in host byte order, addr in network byte order.
 */
struct resolver_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* rules == 0 switches protection off for the prefix, which is how an
 * operator removes a compiled-in default resolver.
 */
struct resolver_policy {
	__u32 rules;
};

#define RESOLVERS_MAX 1024

#endif
