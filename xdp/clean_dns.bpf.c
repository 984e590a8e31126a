// SPDX-License-Identifier: GPL-2.0
/* clean-dns: drop forged DNS answers at the earliest hook.
 *
 * Built twice from this file: build/clean-dns.o holds the XDP programs
 * (section "prog", which `ip link set dev X xdp obj F` picks by default, and
 * "l3" for devices without a link-layer header); with CLEAN_DNS_TC defined,
 * build/clean-dns-tc.o holds the same classifier for tc clsact ingress
 * ("classifier", tc's default section, and "classifier_l3").
 * The maps are pinned by name, so iproute2 puts them in
 * /sys/fs/bpf/tc/globals and every program shares one configuration.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "clean_dns_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct clean_dns_counters);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cdns_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct resolver_key);
	__type(value, struct resolver_policy);
	__uint(max_entries, RESOLVERS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cdns_resolvers SEC(".maps");

#include "default_resolvers.h"

/* The map, when it has an entry, overrides the compiled-in defaults; an
 * entry with no rules unprotects a default resolver.
 */
static __always_inline __u32 resolver_rules(const struct resolver_key *src)
{
	const struct resolver_policy *policy = bpf_map_lookup_elem(&cdns_resolvers, src);

	if (policy)
		return policy->rules;
	return default_resolver_rules(src);
}

#include "classify.h"

static __always_inline int count_verdict(int reason)
{
	__u32 zero = 0;
	struct clean_dns_counters *counters;

	if (reason >= COUNT_MAX)
		return 0;
	counters = bpf_map_lookup_elem(&cdns_counters, &zero);
	if (counters) {
		counters->inspected++;
		((__u64 *)counters)[reason]++;
	}
	return reason >= COUNT_FIRST_DROP;
}

#ifndef CLEAN_DNS_TC

static __always_inline int xdp_verdict(struct xdp_md *ctx, enum first_header first)
{
	const __u8 *data = (const void *)(long)ctx->data;
	const __u8 *data_end = (const void *)(long)ctx->data_end;

	return count_verdict(classify_frame(data, data_end, first)) ? XDP_DROP : XDP_PASS;
}

SEC("prog")
int clean_dns_eth(struct xdp_md *ctx)
{
	return xdp_verdict(ctx, FIRST_ETHERNET);
}

SEC("l3")
int clean_dns_l3(struct xdp_md *ctx)
{
	return xdp_verdict(ctx, FIRST_IP);
}

#else

static __always_inline int tc_verdict(struct __sk_buff *skb, enum first_header first)
{
	const __u8 *data = (const void *)(long)skb->data;
	const __u8 *data_end = (const void *)(long)skb->data_end;

	return count_verdict(classify_frame(data, data_end, first)) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("classifier")
int clean_dns_tc(struct __sk_buff *skb)
{
	return tc_verdict(skb, FIRST_ETHERNET);
}

SEC("classifier_l3")
int clean_dns_tc_l3(struct __sk_buff *skb)
{
	return tc_verdict(skb, FIRST_IP);
}

#endif

char _license[] SEC("license") = "GPL";
