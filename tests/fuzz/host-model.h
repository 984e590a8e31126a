/* SPDX-License-Identifier: GPL-2.0 */
/* classify.h compiled for the host, with its state kept in small tables
 * that follow the BPF maps' semantics: the same configuration is loaded
 * into the BPF maps, and both sides see the same inputs in the same order,
 * so they stay in step.
 */
#ifndef CDNS_HOST_MODEL_H
#define CDNS_HOST_MODEL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include "clean_dns_common.h"
#include "default_resolvers.h"

struct model_prefix {
	const char *text;
	int len;
	uint32_t rules; /* resolvers only */
};

/* What the fuzzer configures on both sides.  No IPv6 prefix gets
 * hop-count: its sources are unbounded and would fill cdns_hops, whose
 * "full" the model does not follow.
 */
static const struct model_prefix model_resolvers[] = {
	{ "198.51.100.0", 24, RULES_ALL },
	{ "203.0.113.0", 28, RULE_IPID_ZERO | RULE_DF },
	{ "8.8.4.4", 32, 0 },
	{ "2001:db8:53::", 48,
	  RULE_AA_SINGLE | RULE_NAME_UNCOMPRESSED | RULE_BOGUS_ADDR | RULE_EDNS_ECHO |
		  RULE_FLOW_LABEL },
};

static const struct model_prefix model_bogus[] = {
	{ "203.0.113.66", 32, 0 },
	{ "142.250.72.0", 24, 0 },
	{ "2001::", 32, 0 },
};

/* A recorded EDNS query, as if the egress program had seen it. */
static const struct query_key model_query_template = {
	.client_port = 0x409c, /* 40000, network order on little-endian */
	.txid = 0x3412, /* 0x1234 */
};

#define MODEL_HOPS_MAX 512
#define MODEL_QUERIES_MAX 8

struct model_state {
	struct addr_key prefixes_resolvers[sizeof(model_resolvers) / sizeof(model_resolvers[0])];
	struct addr_key prefixes_bogus[sizeof(model_bogus) / sizeof(model_bogus[0])];
	struct {
		struct addr_key src;
		uint32_t ttl;
	} hops[MODEL_HOPS_MAX];
	int nhops;
	struct query_key queries[MODEL_QUERIES_MAX];
	int nqueries;
};

static struct model_state model;

static inline int model_key(struct addr_key *key, const char *text, int len)
{
	memset(key, 0, sizeof(*key));
	if (strchr(text, ':')) {
		key->prefixlen = (uint32_t)len;
		return inet_pton(AF_INET6, text, key->addr) == 1 ? 0 : -1;
	}
	key->addr[10] = key->addr[11] = 0xff;
	key->prefixlen = 96 + (uint32_t)len;
	return inet_pton(AF_INET, text, key->addr + 12) == 1 ? 0 : -1;
}

static inline int model_prefix_matches(const struct addr_key *prefix, const struct addr_key *addr)
{
	uint32_t bits = prefix->prefixlen, i;

	for (i = 0; i < bits / 8; i++)
		if (prefix->addr[i] != addr->addr[i])
			return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((prefix->addr[i] & mask) != (addr->addr[i] & mask))
			return 0;
	}
	return 1;
}

/* Longest prefix match over a table, as the LPM trie does; -1: none. */
static inline int model_lpm(const struct addr_key *table, int n, const struct addr_key *addr)
{
	int i, best = -1;

	for (i = 0; i < n; i++)
		if (model_prefix_matches(&table[i], addr) &&
		    (best < 0 || table[i].prefixlen > table[best].prefixlen))
			best = i;
	return best;
}

static __u32 resolver_rules(const struct addr_key *src)
{
	int i = model_lpm(model.prefixes_resolvers,
			  (int)(sizeof(model_resolvers) / sizeof(model_resolvers[0])), src);

	return i >= 0 ? model_resolvers[i].rules : default_resolver_rules(src);
}

static int address_is_bogus(const struct addr_key *answer)
{
	return model_lpm(model.prefixes_bogus, (int)(sizeof(model_bogus) / sizeof(model_bogus[0])),
			 answer) >= 0;
}

static inline int model_query_index(const struct query_key *key)
{
	int i;

	for (i = 0; i < model.nqueries; i++)
		if (!memcmp(&model.queries[i], key, sizeof(*key)))
			return i;
	return -1;
}

static int query_had_edns(const struct query_key *key)
{
	return model_query_index(key) >= 0;
}

static void query_answered(const struct query_key *key)
{
	int i = model_query_index(key);

	if (i >= 0)
		model.queries[i] = model.queries[--model.nqueries];
}

static inline int model_hop_index(const struct addr_key *src)
{
	int i;

	for (i = 0; i < model.nhops; i++)
		if (!memcmp(model.hops[i].src.addr, src->addr, 16))
			return i;
	return -1;
}

static int hop_count_expected(const struct addr_key *src)
{
	int i = model_hop_index(src);

	return i >= 0 ? (int)model.hops[i].ttl : -1;
}

static __u32 hop_count_tolerance(void)
{
	return HOP_TOLERANCE_DEFAULT;
}

static void hop_count_learn(const struct addr_key *src, __u32 ttl)
{
	int i = model_hop_index(src);

	if (i < 0) {
		if (model.nhops == MODEL_HOPS_MAX)
			return;
		i = model.nhops++;
		model.hops[i].src = *src;
	}
	model.hops[i].ttl = ttl;
}

#include "classify.h"

/* Builds the model's tables; the recorded queries are the template with
 * each resolver of RESOLVERS as the resolver.
 */
static inline int model_init(const char *const *query_resolvers, int n)
{
	size_t i;

	memset(&model, 0, sizeof(model));
	for (i = 0; i < sizeof(model_resolvers) / sizeof(model_resolvers[0]); i++)
		if (model_key(&model.prefixes_resolvers[i], model_resolvers[i].text,
			      model_resolvers[i].len))
			return -1;
	for (i = 0; i < sizeof(model_bogus) / sizeof(model_bogus[0]); i++)
		if (model_key(&model.prefixes_bogus[i], model_bogus[i].text, model_bogus[i].len))
			return -1;
	for (i = 0; i < (size_t)n && i < MODEL_QUERIES_MAX; i++) {
		struct addr_key key;

		if (model_key(&key, query_resolvers[i], strchr(query_resolvers[i], ':') ? 128 : 32))
			return -1;
		model.queries[i] = model_query_template;
		memcpy(model.queries[i].resolver, key.addr, 16);
		model.nqueries++;
	}
	return 0;
}

#endif
