// SPDX-License-Identifier: GPL-2.0
/* clean-dns: drop forged DNS answers at the earliest hook.
 *
 * Built twice from this file: build/clean-dns.o holds the XDP programs
 * (section "prog", which `ip link set dev X xdp obj F` picks by default, and
 * "l3" for devices without a link-layer header); with CLEAN_DNS_TC defined,
 * build/clean-dns-tc.o holds the same classifier for tc clsact ingress
 * ("classifier", tc's default section, and "classifier_l3") and the egress
 * programs that record queries and TCP SYNs ("egress", "egress_l3").
 * The maps are pinned by name, so iproute2 puts them in
 * /sys/fs/bpf/tc/globals and every program shares one configuration and
 * one view of the queries in flight.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "clean_dns_common.h"

/* The maps of CLEAN_DNS_MAPS (clean_dns_common.h), where the script reads
 * them too.
 */
#define CLEAN_DNS_MAP_DEF(name, map_type, key_type, value_type, entries, flags) \
	struct {                                                                \
		__uint(type, BPF_MAP_TYPE_##map_type);                          \
		__type(key, key_type);                                          \
		__type(value, value_type);                                      \
		__uint(max_entries, entries);                                   \
		__uint(map_flags, flags);                                       \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                            \
	} name SEC(".maps");
#define CLEAN_DNS_RINGBUF_DEF(name, bytes)           \
	struct {                                     \
		__uint(type, BPF_MAP_TYPE_RINGBUF);  \
		__uint(max_entries, bytes);          \
		__uint(pinning, LIBBPF_PIN_BY_NAME); \
	} name SEC(".maps");
CLEAN_DNS_MAPS(CLEAN_DNS_MAP_DEF, CLEAN_DNS_RINGBUF_DEF)

#include "default_resolvers.h"

/* The map, when it has an entry, overrides the compiled-in defaults; an
 * entry with no rules unprotects a default resolver.
 */
static __always_inline __u32 resolver_rules(const struct addr_key *src)
{
	const struct resolver_policy *policy = bpf_map_lookup_elem(&cdns_resolvers, src);

	if (policy)
		return policy->rules;
	return default_resolver_rules(src);
}

static __always_inline int address_is_bogus(const struct addr_key *answer)
{
	return bpf_map_lookup_elem(&cdns_bogus, answer) != NULL;
}

static __always_inline const struct clean_dns_settings *settings(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cdns_settings, &zero);
}

static __always_inline const struct query_state *query_lookup(const struct query_key *key)
{
	const struct clean_dns_settings *s = settings();
	const struct query_state *state = bpf_map_lookup_elem(&cdns_queries, key);
	__u64 max_age_ns = QUERY_MAX_AGE_DEFAULT_MS * 1000000ULL;

	if (!state)
		return NULL;
	if (s && (s->set_mask & SETTING_QUERY_MAX_AGE))
		max_age_ns = s->query_max_age_ms * 1000000ULL;
	if (bpf_ktime_get_ns() - state->sent_ns > max_age_ns)
		return NULL;
	return state;
}

/* A lookup first: a delete takes the bucket lock even when the key is
 * missing (the record expired or was evicted).
 */
static __always_inline void query_answered(const struct query_key *key)
{
	if (bpf_map_lookup_elem(&cdns_queries, key))
		bpf_map_delete_elem(&cdns_queries, key);
}

static __always_inline void query_record(const struct query_key *key,
					 const struct query_state *state)
{
	struct query_state stamped = *state;

	stamped.sent_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&cdns_queries, key, &stamped, BPF_ANY);
}

static __always_inline __u32 hop_count_tolerance(void)
{
	const struct clean_dns_settings *s = settings();

	return s && (s->set_mask & SETTING_HOP_TOLERANCE) ? s->hop_tolerance :
							    HOP_TOLERANCE_DEFAULT;
}

static __always_inline int hop_count_expected(const struct addr_key *src)
{
	const struct clean_dns_settings *s = settings();
	const struct hop_profile *profile = bpf_map_lookup_elem(&cdns_hops, src);
	__u64 max_age_ns = HOP_MAX_AGE_DEFAULT_SEC * 1000000000ULL;

	if (!profile)
		return -1;
	if (s && (s->set_mask & SETTING_HOP_MAX_AGE))
		max_age_ns = s->hop_max_age_sec * 1000000000ULL;
	if (bpf_ktime_get_ns() - profile->learned_ns > max_age_ns)
		return -1;
	return (int)profile->ttl;
}

static __always_inline void hop_count_learn(const struct addr_key *src, __u32 ttl)
{
	const struct hop_profile *old = bpf_map_lookup_elem(&cdns_hops, src);
	struct hop_profile profile = {
		.learned_ns = bpf_ktime_get_ns(),
		.ttl = ttl,
		.segments = old && old->ttl == ttl ? old->segments + 1 : 2,
	};

	bpf_map_update_elem(&cdns_hops, src, &profile, BPF_ANY);
}

static __always_inline void hop_count_forget(const struct addr_key *src)
{
	bpf_map_delete_elem(&cdns_hops, src);
}

static __always_inline struct tcp_conn *tcp_conn_lookup(const struct tcp_conn_key *key)
{
	struct tcp_conn *conn = bpf_map_lookup_elem(&cdns_tcp_conns, key);

	if (conn && bpf_ktime_get_ns() - conn->syn_ns > TCP_CONN_MAX_AGE_SEC * 1000000000ULL)
		return NULL;
	return conn;
}

static __always_inline void tcp_conn_record(const struct tcp_conn_key *key, __u32 isn)
{
	struct tcp_conn conn = { .syn_ns = bpf_ktime_get_ns(), .isn = isn };

	bpf_map_update_elem(&cdns_tcp_conns, key, &conn, BPF_ANY);
}

#ifdef CLEAN_DNS_TC
#define CDNS_CTX struct __sk_buff
#else
#define CDNS_CTX struct xdp_md
#endif

/* A global function: the verifier checks it once, on its own, with its
 * arguments unknown (kernel 5.6 and later).
 */
__u32 walk_name(CDNS_CTX *ctx, __u32 dns_off, __u32 dns_len, __u32 name_off);
__u32 walk_svc_hints(CDNS_CTX *ctx, __u32 dns_off, __u32 rdata_off, __u32 rdata_end);

#define CLASSIFY_WALKS_OUT_OF_LINE
#include "classify.h"
#include "record_egress.h"

/* Offsets past this many bytes into the frame are not walked. */
#define DNS_OFFSET_MAX 4096

__attribute__((noinline)) __u32 walk_name(CDNS_CTX *ctx, __u32 dns_off, __u32 dns_len,
					  __u32 name_off)
{
	const __u8 *data = (const void *)(long)ctx->data;
	const __u8 *data_end = (const void *)(long)ctx->data_end;
	int compressed;
	__u32 end;

	if (dns_off > DNS_OFFSET_MAX)
		return 0;
	end = dns_name_end(data + dns_off, dns_len, data_end, name_off, &compressed);
	return end | (__u32)compressed << 16;
}

__attribute__((noinline)) __u32 walk_svc_hints(CDNS_CTX *ctx, __u32 dns_off, __u32 rdata_off,
					       __u32 rdata_end)
{
	const __u8 *data = (const void *)(long)ctx->data;
	const __u8 *data_end = (const void *)(long)ctx->data_end;

	if (dns_off > DNS_OFFSET_MAX)
		return 0;
	return svc_hints_bogus(data + dns_off, data_end, rdata_off, rdata_end);
}

/* Counts the packet under its reason; returns 1 when it is to be dropped. */
static __always_inline int count_verdict(int reason)
{
	__u32 zero = 0;
	struct clean_dns_counters *counters;

	if (reason >= COUNT_MAX)
		return 0;
	counters = bpf_map_lookup_elem(&cdns_counters, &zero);
	if (counters) {
		if (reason < COUNT_FIRST_EVENT)
			counters->inspected++;
		((__u64 *)counters)[reason]++;
	}
	return reason >= COUNT_FIRST_DROP && reason < COUNT_FIRST_WOULD_DROP;
}

/* `clean-dns set mode observe`: every drop verdict becomes its would_drop_
 * twin.  The rules judge (classify.h); this only decides whether their
 * verdict is carried out, and is read only on the way to a drop.
 */
static __always_inline int enforced(int reason)
{
	const struct clean_dns_settings *s;

	if (reason < COUNT_FIRST_DROP || reason >= COUNT_FIRST_WOULD_DROP)
		return reason;
	s = settings();
	if (s && (s->set_mask & SETTING_MODE) && s->mode == MODE_OBSERVE)
		return reason + COUNT_OBSERVED;
	return reason;
}

/* The record of a drop: who answered, to which port, the question and
 * the answer's address, parsed again (only drops pay for it) from a
 * message the rules parsed whole.  A global function, verified on its
 * own; returns 0.
 */
__attribute__((noinline)) int report_drop(CDNS_CTX *ctx, __u32 reason, __u32 first)
{
	const __u8 *data = (const void *)(long)ctx->data;
	const __u8 *data_end = (const void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	struct packet_facts pkt;
	struct clean_dns_log *log;
	struct clean_dns_event *ev;
	const struct udphdr *udph;
	const __u8 *dns, *p;
	__u32 zero = 0, dns_off, dns_len, off;
	int i;

	log = bpf_map_lookup_elem(&cdns_log, &zero);
	if (!log || parse_dns_packet(&nh, data_end, first == FIRST_IP ? FIRST_IP : FIRST_ETHERNET,
				     0, &pkt) != IPPROTO_UDP)
		return 0;
	udph = (const void *)nh.pos;
	dns = (const __u8 *)(udph + 1);
	if (dns + DNS_HDR_LEN > data_end)
		return 0;
	dns_len = packet_len16(udph->len) - sizeof(*udph);
	dns_off = (__u32)(dns - data);
	ev = &log->events[log->next % LOG_EVENTS_PER_CPU];
	log->next++;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = bpf_ktime_get_ns();
	ev->reason = reason;
	__builtin_memcpy(ev->resolver, pkt.src.addr, 16);
	ev->client_port = udph->dest;
	__builtin_memcpy(&ev->txid, dns, 2);
#pragma unroll
	for (i = 0; i < EVENT_QNAME_LEN; i++) {
		if (dns + DNS_HDR_LEN + i + 1 > data_end)
			break;
		ev->qname[i] = dns[DNS_HDR_LEN + i];
	}
	/* The question's type, then the one answer's owner name, type and
	 * address (A or AAAA).
	 */
	off = walk_name(ctx, dns_off, dns_len, DNS_HDR_LEN) & 0xffff;
	if (!off || off > DNS_READ_MAX)
		goto out;
	opaque_to_compiler(off);
	p = dns + (off & DNS_READ_MASK);
	if (p + 4 > data_end)
		goto out;
	ev->qtype = load_be16(p);
	off = walk_name(ctx, dns_off, dns_len, off + 4) & 0xffff;
	if (!off || off > DNS_READ_MAX)
		goto out;
	opaque_to_compiler(off);
	p = dns + (off & DNS_READ_MASK);
	if (p + 10 + 16 <= data_end && load_be16(p) == DNS_TYPE_AAAA && load_be16(p + 8) == 16)
		__builtin_memcpy(ev->answer, p + 10, 16);
	else if (p + 10 + 4 <= data_end && load_be16(p) == DNS_TYPE_A && load_be16(p + 8) == 4) {
		ev->answer[10] = 0xff;
		ev->answer[11] = 0xff;
		__builtin_memcpy(ev->answer + 12, p + 10, 4);
	}
out:
	bpf_ringbuf_output(&cdns_events, ev, sizeof(*ev), 0);
	return 0;
}

#ifdef CLEAN_DNS_TC
#define VERDICT_PASS TC_ACT_OK
#define VERDICT_DROP TC_ACT_SHOT
#else
#define VERDICT_PASS XDP_PASS
#define VERDICT_DROP XDP_DROP
#endif

static __always_inline int ingress_verdict(CDNS_CTX *ctx, enum first_header first)
{
	const __u8 *data = (const void *)(long)ctx->data;
	const __u8 *data_end = (const void *)(long)ctx->data_end;

	int reason = enforced(classify_frame(ctx, data, data_end, first));

	if (reason >= COUNT_FIRST_DROP && reason < COUNT_FIRST_EVENT)
		report_drop(ctx, reason, first);
	return count_verdict(reason) ? VERDICT_DROP : VERDICT_PASS;
}

#ifndef CLEAN_DNS_TC

SEC("prog")
int clean_dns_eth(struct xdp_md *ctx)
{
	return ingress_verdict(ctx, FIRST_ETHERNET);
}

SEC("l3")
int clean_dns_l3(struct xdp_md *ctx)
{
	return ingress_verdict(ctx, FIRST_IP);
}

#else

SEC("classifier")
int clean_dns_tc(struct __sk_buff *skb)
{
	return ingress_verdict(skb, FIRST_ETHERNET);
}

SEC("classifier_l3")
int clean_dns_tc_l3(struct __sk_buff *skb)
{
	return ingress_verdict(skb, FIRST_IP);
}

/* Egress never drops: it only records queries and SYNs. */
static __always_inline int egress_record(struct __sk_buff *skb, enum first_header first)
{
	const __u8 *data = (const void *)(long)skb->data;
	const __u8 *data_end = (const void *)(long)skb->data_end;

	count_verdict(record_egress(skb, data, data_end, first));
	return TC_ACT_OK;
}

SEC("egress")
int clean_dns_eg(struct __sk_buff *skb)
{
	return egress_record(skb, FIRST_ETHERNET);
}

SEC("egress_l3")
int clean_dns_eg_l3(struct __sk_buff *skb)
{
	return egress_record(skb, FIRST_IP);
}

#endif

char _license[] SEC("license") = "GPL";
