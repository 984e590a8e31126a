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

static __always_inline __u32 default_rules_ipv4(__u32 addr)
{
	switch (addr) {
	/* Google Public DNS answers with a non-zero IPv4 ID and without DF,
	 * so both IP-level fingerprints are safe for it.
	 */
	case 0x08080808: /* 8.8.8.8 */
	case 0x08080404: /* 8.8.4.4 */
		return RULE_IPID_ZERO | RULE_DF | RULES_RECURSIVE;
	/* Cloudflare, Quad9, OpenDNS: their IP-level habits are not pinned
	 * down, so only the DNS-level fingerprints apply by default.
	 */
	case 0x01010101: /* 1.1.1.1 */
	case 0x01000001: /* 1.0.0.1 */
	case 0x09090909: /* 9.9.9.9 */
	case 0x95707070: /* 149.112.112.112 */
	case 0xd043dede: /* 208.67.222.222 */
	case 0xd043dcdc: /* 208.67.220.220 */
		return RULES_RECURSIVE;
	}
	return 0;
}

/* Each address as four host-order words. */
static __always_inline __u32 default_rules_ipv6(__u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	if (w2 != 0)
		return 0;
	if (w0 == 0x20014860 && w1 == 0x48600000 && (w3 == 0x8888 || w3 == 0x8844))
		return RULES_RECURSIVE; /* 2001:4860:4860::8888, ::8844 (Google) */
	if (w0 == 0x26064700 && w1 == 0x47000000 && (w3 == 0x1111 || w3 == 0x1001))
		return RULES_RECURSIVE; /* 2606:4700:4700::1111, ::1001 (Cloudflare) */
	if (w0 == 0x262000fe && w1 == 0 && (w3 == 0xfe || w3 == 0x9))
		return RULES_RECURSIVE; /* 2620:fe::fe, 2620:fe::9 (Quad9) */
	if (w0 == 0x26200119 &&
	    ((w1 == 0x00350000 && w3 == 0x35) || (w1 == 0x00530000 && w3 == 0x53)))
		return RULES_RECURSIVE; /* 2620:119:35::35, 2620:119:53::53 (OpenDNS) */
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
