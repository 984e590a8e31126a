/* SPDX-License-Identifier: GPL-2.0 */
/* Public resolvers protected with no configuration at all, so a bare
 * `ip link set dev X xdp obj clean-dns.o` is useful.  Compiled in rather than
 * loaded into the map: the map may be empty, or pinned from an older load.
 */
#ifndef CLEAN_DNS_DEFAULT_RESOLVERS_H
#define CLEAN_DNS_DEFAULT_RESOLVERS_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>
#include "clean_dns_common.h"
#include "bytes.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* The resolvers, a row each: the address (four bytes for IPv4, eight
 * 16-bit groups for IPv6) and its rules.  Read by the programs below and
 * by clean-dns-tables, which prints them for `clean-dns resolver list`.
 */
#define DEFAULT_RESOLVERS_IPV4(X)                                               \
	/* Google Public DNS answers with a non-zero IPv4 ID and without DF, */ \
	/* so both IP-level fingerprints are safe for it. */                    \
	X(8, 8, 8, 8, RULE_IPID_ZERO | RULE_DF | RULES_RECURSIVE)               \
	X(8, 8, 4, 4, RULE_IPID_ZERO | RULE_DF | RULES_RECURSIVE)               \
	/* Cloudflare, Quad9, OpenDNS: their IP-level habits are not pinned */  \
	/* down, so only the DNS-level fingerprints apply by default. */        \
	X(1, 1, 1, 1, RULES_RECURSIVE)                                          \
	X(1, 0, 0, 1, RULES_RECURSIVE)                                          \
	X(9, 9, 9, 9, RULES_RECURSIVE)                                          \
	X(149, 112, 112, 112, RULES_RECURSIVE)                                  \
	X(208, 67, 222, 222, RULES_RECURSIVE)                                   \
	X(208, 67, 220, 220, RULES_RECURSIVE)

#define DEFAULT_RESOLVERS_IPV6(X)                                                       \
	X(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888, RULES_RECURSIVE) /* Google */     \
	X(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8844, RULES_RECURSIVE)                  \
	X(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111, RULES_RECURSIVE) /* Cloudflare */ \
	X(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1001, RULES_RECURSIVE)                  \
	X(0x2620, 0xfe, 0, 0, 0, 0, 0, 0xfe, RULES_RECURSIVE) /* Quad9 */               \
	X(0x2620, 0xfe, 0, 0, 0, 0, 0, 0x9, RULES_RECURSIVE)                            \
	X(0x2620, 0x119, 0x35, 0, 0, 0, 0, 0x35, RULES_RECURSIVE) /* OpenDNS */         \
	X(0x2620, 0x119, 0x53, 0, 0, 0, 0, 0x53, RULES_RECURSIVE)

#define DEFAULT_RESOLVER_IPV4_CASE(a, b, c, d, rules)                     \
	case (__u32)(a) << 24 | (__u32)(b) << 16 | (__u32)(c) << 8 | (d): \
		return rules;

static __always_inline __u32 default_rules_ipv4(__u32 addr)
{
	switch (addr) {
		DEFAULT_RESOLVERS_IPV4(DEFAULT_RESOLVER_IPV4_CASE)
	}
	return 0;
}

#define DEFAULT_RESOLVER_IPV6_MATCH(g0, g1, g2, g3, g4, g5, g6, g7, rules)          \
	if (w0 == ((__u32)(g0) << 16 | (g1)) && w1 == ((__u32)(g2) << 16 | (g3)) && \
	    w2 == ((__u32)(g4) << 16 | (g5)) && w3 == ((__u32)(g6) << 16 | (g7)))   \
		return rules;

/* Each address as four host-order words. */
static __always_inline __u32 default_rules_ipv6(__u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	DEFAULT_RESOLVERS_IPV6(DEFAULT_RESOLVER_IPV6_MATCH)
	return 0;
}

static __always_inline __u32 default_resolver_rules(const struct addr_key *src)
{
	const __u8 *a = src->addr;

	if (load_be32(a) == 0 && load_be32(a + 4) == 0 && load_be32(a + 8) == 0xffff)
		return default_rules_ipv4(load_be32(a + 12));
	return default_rules_ipv6(load_be32(a), load_be32(a + 4), load_be32(a + 8),
				  load_be32(a + 12));
}

#endif
