/* SPDX-License-Identifier: GPL-2.0 */
/* classify.h and record_egress.h compiled for the host, with their state
 * kept in small tables that follow the BPF maps' semantics
 * (xdp/clean_dns.bpf.c) function by function: recorded queries that
 * expire, hop profiles learned and taken back, TCP connections whose
 * fields the classifier updates in place, records the egress program
 * writes over.
 *
 * Every input starts from the same state, model_initial, which the fuzzer
 * also writes into the BPF maps: the seeded queries, connections and hop
 * profiles below.  An input that changed the state (model.dirty) is
 * followed by a comparison of the maps with the model and a reset of both,
 * so what an input does depends on its bytes alone and a crash file
 * reproduces on its own.  The connections are seeded at every stage of
 * learn_from_tcp (fresh, one segment seen, taught, in conflict), so one
 * frame reaches each transition.  The maps are LRU, but never near full:
 * an input adds one entry at most before the reset.
 */
#ifndef CDNS_HOST_MODEL_H
#define CDNS_HOST_MODEL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "clean_dns_common.h"
#include "default_resolvers.h"
#include "parse.h"

struct model_prefix {
	const char *text;
	int len;
	uint32_t rules; /* resolvers only */
};

/* What the fuzzer configures on both sides.  203.0.113.0/28 has no rule
 * that reads queries: its recorded query must never be looked up or
 * removed.
 */
static const struct model_prefix model_resolvers[] = {
	{ "198.51.100.0", 24, RULES_ALL },
	{ "203.0.113.0", 28, RULE_IPID_ZERO | RULE_DF },
	{ "8.8.4.4", 32, 0 },
	{ "2001:db8:53::", 48,
	  RULE_AA_SINGLE | RULE_NAME_UNCOMPRESSED | RULE_BOGUS_ADDR | RULE_EDNS_ECHO |
		  RULE_FLOW_LABEL | RULE_QUERY_ECHO | RULE_HOP_COUNT },
	{ "2001:db8:54::", 48, RULE_FLOW_LABEL | RULE_EDNS_ECHO },
	/* observed: its drops become would_drop_ twins, counted and passed */
	{ "2001:db8:55::", 48, RULE_FLOW_LABEL | RULE_EDNS_ECHO | RULE_OBSERVE },
};

/* As the vector table's scenarios list them: the captured forgery's
 * address, and the pool the forged HTTPS answers' hints come from.
 */
/* clang-format off */
static const struct model_prefix model_bogus[] = {
	{ "203.0.113.66", 32, 0 },
	{ "142.250.72.0", 24, 0 },
	{ "31.13.91.33", 32, 0 },
	{ "2001::", 32, 0 },
	{ "2001:db8:bad::", 48, 0 },
};
/* clang-format on */

#define MODEL_QUERY_MAX_AGE_MS 60000
#define MODEL_HOP_MAX_AGE_SEC 120
/* How far past its maximum age an expired seed is. */
#define MODEL_EXPIRED_BY_NS (30 * 1000000000ULL)

/* Queries as if the egress program had recorded them; the vector table's
 * answers come from port 53 to port 40000 with ID 0x1234.
 */
struct model_query_seed {
	const char *resolver;
	uint16_t client_port, txid, qtype;
	uint8_t flags; /* enum query_flag */
	int expired;
};

static const struct model_query_seed model_query_seeds[] = {
	{ "8.8.8.8", 40000, 0x1234, DNS_TYPE_A, QUERY_RD, 0 },
	{ "8.8.8.8", 40000, 0x1235, DNS_TYPE_AAAA, QUERY_RD | QUERY_EDNS, 0 },
	{ "2001:4860:4860::8888", 40000, 0x1234, DNS_TYPE_A, QUERY_RD | QUERY_EDNS, 0 },
	{ "198.51.100.53", 40000, 0x1234, DNS_TYPE_AAAA, QUERY_RD | QUERY_EDNS, 0 },
	{ "2001:db8:53::53", 40000, 0x1234, DNS_TYPE_A, QUERY_EDNS, 0 },
	{ "1.1.1.1", 40000, 0x1234, DNS_TYPE_HTTPS, 0, 0 },
	{ "2606:4700:4700::1111", 40100, 0x1234, DNS_TYPE_A, QUERY_RD | QUERY_EDNS, 0 },
	{ "9.9.9.9", 40000, 0x1234, DNS_TYPE_A, QUERY_RD | QUERY_EDNS, 1 },
	{ "203.0.113.7", 40000, 0x1234, DNS_TYPE_A, QUERY_RD | QUERY_EDNS, 0 },
};

/* Connections as if the egress program had recorded their SYNs, each at
 * a stage of learn_from_tcp.  The vector table's segments come from port
 * 53 to port 40000 acknowledging ISN 1000 (40100: 7000, 40200: 5000).
 */
struct model_conn_seed {
	const char *resolver;
	uint16_t client_port;
	uint32_t isn;
	uint8_t ttl, segments, conflict, taught;
};

static const struct model_conn_seed model_conn_seeds[] = {
	{ "1.1.1.1", 40000, 1000, 0, 0, 0, 0 }, /* fresh */
	{ "1.1.1.1", 40100, 7000, 57, 1, 0, 0 }, /* one segment seen */
	{ "1.1.1.1", 40200, 5000, 60, 2, 0, 1 }, /* taught 1.1.1.1's profile */
	{ "2606:4700:4700::1111", 40000, 1000, 50, 1, 0, 0 },
	{ "198.51.100.53", 40000, 1000, 57, 3, 1, 0 }, /* in conflict */
	{ "2001:db8:53::53", 40000, 1000, 57, 2, 0, 1 },
	{ "8.8.8.8", 40000, 0xffffffff, 0, 0, 0, 0 }, /* its window wraps */
};

/* Hop profiles, as learned before; the vector table's frames carry TTL 57. */
struct model_hop_seed {
	const char *resolver;
	uint32_t ttl, segments;
	int expired;
};

/* clang-format off */
static const struct model_hop_seed model_hop_seeds[] = {
	{ "1.1.1.1", 60, 2, 0 },
	{ "198.51.100.53", 57, 3, 0 },
	{ "2001:db8:53::53", 57, 2, 0 },
	{ "2001:4860:4860::8888", 57, 4, 0 },
	{ "9.9.9.9", 57, 2, 1 },
};
/* clang-format on */

#define MODEL_COUNT(table) ((int)(sizeof(table) / sizeof((table)[0])))
/* The seeds, and what one egress frame can add. */
#define MODEL_QUERIES_MAX (MODEL_COUNT(model_query_seeds) + 1)
#define MODEL_CONNS_MAX (MODEL_COUNT(model_conn_seeds) + 1)
/* The seeds, and a profile for each connection's resolver. */
#define MODEL_HOPS_MAX (MODEL_COUNT(model_hop_seeds) + MODEL_CONNS_MAX)

struct model_query {
	struct query_key key;
	struct query_state state;
};

struct model_conn {
	struct tcp_conn_key key;
	struct tcp_conn conn;
};

struct model_hop {
	struct addr_key src;
	struct hop_profile profile;
};

/* The maps as tables, in no particular order. */
struct model_state {
	struct addr_key prefixes_resolvers[MODEL_COUNT(model_resolvers)];
	struct addr_key prefixes_bogus[MODEL_COUNT(model_bogus)];
	struct clean_dns_settings settings;
	struct model_query queries[MODEL_QUERIES_MAX];
	struct model_conn conns[MODEL_CONNS_MAX];
	struct model_hop hops[MODEL_HOPS_MAX];
	int nqueries, nconns, nhops;
	int dirty; /* changed since the last reset */
	int overflow; /* a table was too small: the model lost track */
};

/* What the classifier sees and changes, and what every input starts from. */
static struct model_state model, model_initial;

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
static inline uint64_t model_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

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

/* A single address as the /128 key the classifier builds. */
static inline int model_address(struct addr_key *key, const char *text)
{
	return model_key(key, text, strchr(text, ':') ? 128 : 32);
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

static inline int model_query_index(const struct model_state *s, const struct query_key *key)
{
	int i;

	for (i = 0; i < s->nqueries; i++)
		if (!memcmp(&s->queries[i].key, key, sizeof(*key)))
			return i;
	return -1;
}

static inline int model_conn_index(const struct model_state *s, const struct tcp_conn_key *key)
{
	int i;

	for (i = 0; i < s->nconns; i++)
		if (!memcmp(&s->conns[i].key, key, sizeof(*key)))
			return i;
	return -1;
}

/* The recorded query, unless absent or older than the maximum age (the
 * BPF side's arithmetic, unsigned).
 */
static inline const struct query_state *model_query_lookup(const struct model_state *s,
							   const struct query_key *key)
{
	int i = model_query_index(s, key);
	uint64_t max_age_ns = QUERY_MAX_AGE_DEFAULT_MS * 1000000ULL;

	if (i < 0)
		return NULL;
	if (s->settings.set_mask & SETTING_QUERY_MAX_AGE)
		max_age_ns = s->settings.query_max_age_ms * 1000000ULL;
	if (model_now_ns() - s->queries[i].state.sent_ns > max_age_ns)
		return NULL;
	return &s->queries[i].state;
}

static inline int model_hop_index(const struct model_state *s, const struct addr_key *src)
{
	int i;

	for (i = 0; i < s->nhops; i++)
		if (!memcmp(&s->hops[i].src, src, sizeof(*src)))
			return i;
	return -1;
}

static inline int model_hop_expected(const struct model_state *s, const struct addr_key *src)
{
	int i = model_hop_index(s, src);
	uint64_t max_age_ns = HOP_MAX_AGE_DEFAULT_SEC * 1000000000ULL;

	if (i < 0)
		return -1;
	if (s->settings.set_mask & SETTING_HOP_MAX_AGE)
		max_age_ns = s->settings.hop_max_age_sec * 1000000000ULL;
	if (model_now_ns() - s->hops[i].profile.learned_ns > max_age_ns)
		return -1;
	return (int)s->hops[i].profile.ttl;
}

static inline __u32 model_hop_tolerance(const struct model_state *s)
{
	return s->settings.set_mask & SETTING_HOP_TOLERANCE ? s->settings.hop_tolerance :
							      HOP_TOLERANCE_DEFAULT;
}

/* What classify.h calls: the model's version of each map helper. */

static __u32 resolver_rules(const struct addr_key *src)
{
	int i = model_lpm(model.prefixes_resolvers, MODEL_COUNT(model_resolvers), src);

	return i >= 0 ? model_resolvers[i].rules : default_resolver_rules(src);
}

static int address_is_bogus(const struct addr_key *answer)
{
	return model_lpm(model.prefixes_bogus, MODEL_COUNT(model_bogus), answer) >= 0;
}

static const struct query_state *query_lookup(const struct query_key *key)
{
	return model_query_lookup(&model, key);
}

/* The BPF side deletes the record whether or not it expired. */
static void query_answered(const struct query_key *key)
{
	int i = model_query_index(&model, key);

	if (i >= 0) {
		model.queries[i] = model.queries[--model.nqueries];
		model.dirty = 1;
	}
}

static int hop_count_expected(const struct addr_key *src)
{
	return model_hop_expected(&model, src);
}

static __u32 hop_count_tolerance(void)
{
	return model_hop_tolerance(&model);
}

static void hop_count_learn(const struct addr_key *src, __u32 ttl)
{
	int i = model_hop_index(&model, src);
	struct hop_profile profile = {
		.learned_ns = model_now_ns(),
		.ttl = ttl,
		.segments = i >= 0 && model.hops[i].profile.ttl == ttl ?
				    model.hops[i].profile.segments + 1 :
				    2,
	};

	model.dirty = 1;
	if (i < 0) {
		if (model.nhops == MODEL_HOPS_MAX) {
			model.overflow = 1;
			return;
		}
		i = model.nhops++;
		model.hops[i].src = *src;
	}
	model.hops[i].profile = profile;
}

static void hop_count_forget(const struct addr_key *src)
{
	int i = model_hop_index(&model, src);

	model.dirty = 1;
	if (i >= 0)
		model.hops[i] = model.hops[--model.nhops];
}

/* The caller may change the connection in place, as the BPF program
 * changes the map value: the state is compared afterwards.
 */
static struct tcp_conn *tcp_conn_lookup(const struct tcp_conn_key *key)
{
	int i = model_conn_index(&model, key);

	if (i < 0 ||
	    model_now_ns() - model.conns[i].conn.syn_ns > TCP_CONN_MAX_AGE_SEC * 1000000000ULL)
		return NULL;
	model.dirty = 1;
	return &model.conns[i].conn;
}

/* What record_egress.h calls: a record replaces one with the same key. */

static void query_record(const struct query_key *key, const struct query_state *state)
{
	int i = model_query_index(&model, key);

	model.dirty = 1;
	if (i < 0) {
		if (model.nqueries == MODEL_QUERIES_MAX) {
			model.overflow = 1;
			return;
		}
		i = model.nqueries++;
		model.queries[i].key = *key;
	}
	model.queries[i].state = *state;
	model.queries[i].state.sent_ns = model_now_ns();
}

static void tcp_conn_record(const struct tcp_conn_key *key, __u32 isn)
{
	struct tcp_conn conn = { .syn_ns = model_now_ns(), .isn = isn };
	int i = model_conn_index(&model, key);

	model.dirty = 1;
	if (i < 0) {
		if (model.nconns == MODEL_CONNS_MAX) {
			model.overflow = 1;
			return;
		}
		i = model.nconns++;
		model.conns[i].key = *key;
	}
	model.conns[i].conn = conn;
}

#include "classify.h"
#include "record_egress.h"

/* The seeded queries, connections and hop profiles, stamped with NOW:
 * live ones recorded now, expired ones past their maximum age.  A machine
 * up for less than that has no expired seeds (ktime would have to be
 * negative).  Returns -1 when a seed's address does not parse.
 */
static inline int model_stamp(uint64_t now)
{
	uint64_t query_expired = MODEL_QUERY_MAX_AGE_MS * 1000000ULL + MODEL_EXPIRED_BY_NS;
	uint64_t hop_expired = MODEL_HOP_MAX_AGE_SEC * 1000000000ULL + MODEL_EXPIRED_BY_NS;
	struct model_state *s = &model_initial;
	struct addr_key addr;
	int i;

	s->nqueries = s->nconns = s->nhops = 0;
	for (i = 0; i < MODEL_COUNT(model_query_seeds); i++) {
		const struct model_query_seed *seed = &model_query_seeds[i];
		struct model_query *q = &s->queries[s->nqueries];

		if (model_address(&addr, seed->resolver))
			return -1;
		if (seed->expired && now <= query_expired)
			continue;
		memset(q, 0, sizeof(*q));
		memcpy(q->key.resolver, addr.addr, 16);
		q->key.client_port = htons(seed->client_port);
		q->key.txid = htons(seed->txid);
		q->state.sent_ns = seed->expired ? now - query_expired : now;
		q->state.qtype = seed->qtype;
		q->state.flags = seed->flags;
		s->nqueries++;
	}
	for (i = 0; i < MODEL_COUNT(model_conn_seeds); i++) {
		const struct model_conn_seed *seed = &model_conn_seeds[i];
		struct model_conn *c = &s->conns[s->nconns++];

		if (model_address(&addr, seed->resolver))
			return -1;
		memset(c, 0, sizeof(*c));
		memcpy(c->key.resolver, addr.addr, 16);
		c->key.client_port = htons(seed->client_port);
		c->conn.syn_ns = now;
		c->conn.isn = seed->isn;
		c->conn.ttl = seed->ttl;
		c->conn.segments = seed->segments;
		c->conn.conflict = seed->conflict;
		c->conn.taught = seed->taught;
	}
	for (i = 0; i < MODEL_COUNT(model_hop_seeds); i++) {
		const struct model_hop_seed *seed = &model_hop_seeds[i];
		struct model_hop *hop = &s->hops[s->nhops];

		if (model_address(&addr, seed->resolver))
			return -1;
		if (seed->expired && now <= hop_expired)
			continue;
		hop->src = addr;
		hop->profile.learned_ns = seed->expired ? now - hop_expired : now;
		hop->profile.ttl = seed->ttl;
		hop->profile.segments = seed->segments;
		s->nhops++;
	}
	model = model_initial;
	return 0;
}

/* Every input starts here. */
static inline void model_reset(void)
{
	model = model_initial;
}

/* Builds the tables from the seeds, stamped with NOW. */
static inline int model_init(uint64_t now)
{
	struct model_state *s = &model_initial;
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < MODEL_COUNT(model_resolvers); i++)
		if (model_key(&s->prefixes_resolvers[i], model_resolvers[i].text,
			      model_resolvers[i].len))
			return -1;
	for (i = 0; i < MODEL_COUNT(model_bogus); i++)
		if (model_key(&s->prefixes_bogus[i], model_bogus[i].text, model_bogus[i].len))
			return -1;
	s->settings.set_mask = SETTING_QUERY_MAX_AGE | SETTING_HOP_MAX_AGE;
	s->settings.query_max_age_ms = MODEL_QUERY_MAX_AGE_MS;
	s->settings.hop_max_age_sec = MODEL_HOP_MAX_AGE_SEC;
	return model_stamp(now);
}

#endif
