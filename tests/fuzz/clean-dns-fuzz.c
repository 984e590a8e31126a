// SPDX-License-Identifier: GPL-2.0
/* Differential fuzzing of clean-dns: every input goes through the packet
 * path twice, compiled for the host (tests/fuzz/host-model.h) and as the
 * loaded BPF program (BPF_PROG_TEST_RUN), and the counter each side chose
 * must be the same.  When the input changed the state (a recorded query
 * answered, a connection's fields, a hop profile learned or taken back),
 * the BPF maps must hold what the model holds; both then go back to the
 * seeded state, so every input starts from the same one.  Every drop must
 * also be confirmed by the forward parser of forgery-oracle.h against
 * that state.  Any disagreement aborts, which libFuzzer reports with the
 * input that caused it.
 *
 * The first input byte picks the program: even, Ethernet ("prog"); odd,
 * no link layer ("l3").  The rest is the frame.
 *
 * Environment: CLEAN_DNS_BUILD (default "build"), the objects' directory;
 * CLEAN_DNS_FUZZ_DEBUG set: each input's counters on stderr;
 * CLEAN_DNS_FUZZ_SEEDS=DIR: write seeds that meet the seeded state to DIR
 * and exit (no root needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include "host-model.h"
#include "forgery-oracle.h"
#include "../tools/cdns-harness.h"
#include "../tools/packet-builder.h"

#define INPUT_FRAME_MIN 14 /* BPF_PROG_TEST_RUN refuses shorter XDP frames */
#define INPUT_FRAME_MAX 1514
/* The seeds are stamped anew this often: live ones stay far from their
 * maximum age however long the run.
 */
#define RESTAMP_NS (10 * 1000000000ULL)
/* A learned profile's timestamp comes from each side's own clock. */
#define CLOCK_SLACK_NS 1000000000ULL
#define HOPS_READ_MAX 64

static struct cdns_objects objects;
static int prog_eth, prog_l3, debug;
static uint64_t stamped_ns;
static unsigned long long runs, drops, state_checks, verdicts[COUNT_MAX];

static const char *const counter_names[] = {
#define NAME(n) #n,
	CLEAN_DNS_COUNTERS(NAME)
#undef NAME
};

static void report_stats(void)
{
	int i;

	fprintf(stderr, "clean-dns-fuzz: %llu inputs compared, %llu drops confirmed\n", runs,
		drops);
	fprintf(stderr, "clean-dns-fuzz: %llu state changes compared; verdicts:", state_checks);
	for (i = COUNT_inspected + 1; i < COUNT_MAX; i++)
		if (i != COUNT_queries_recorded && i != COUNT_hop_count_syns_recorded)
			fprintf(stderr, " %s=%llu", counter_names[i], verdicts[i]);
	fprintf(stderr, "\n");
}

/* The maps' recorded queries, connections and hop profiles become
 * model_initial's.
 */
static int write_state(void)
{
	const struct model_state *s = &model_initial;
	struct addr_key keys[HOPS_READ_MAX], *prev = NULL;
	int i, j, n = 0;

	for (i = 0; i < MODEL_QUERIES; i++) {
		const struct model_query *q = &s->queries[i];

		if (q->present &&
		    bpf_map_update_elem(objects.maps.queries, &q->key, &q->state, BPF_ANY))
			return -errno;
		if (!q->present && bpf_map_delete_elem(objects.maps.queries, &q->key) &&
		    errno != ENOENT)
			return -errno;
	}
	for (i = 0; i < MODEL_CONNS; i++)
		if (bpf_map_update_elem(objects.maps.tcp_conns, &s->conns[i].key, &s->conns[i].conn,
					BPF_ANY))
			return -errno;
	while (n < HOPS_READ_MAX && !bpf_map_get_next_key(objects.maps.hops, prev, &keys[n]))
		prev = &keys[n++];
	for (i = 0; i < n; i++) {
		for (j = 0; j < s->nhops && memcmp(&s->hops[j].src, &keys[i], sizeof(keys[i])); j++)
			;
		if (j == s->nhops && bpf_map_delete_elem(objects.maps.hops, &keys[i]))
			return -errno;
	}
	for (i = 0; i < s->nhops; i++)
		if (bpf_map_update_elem(objects.maps.hops, &s->hops[i].src, &s->hops[i].profile,
					BPF_ANY))
			return -errno;
	return 0;
}

/* The BPF maps get what the host model holds. */
static int configure_bpf(void)
{
	int i, err;

	for (i = 0; i < MODEL_COUNT(model_resolvers); i++) {
		err = cdns_add_resolver(&objects.maps, model_resolvers[i].text,
					model_resolvers[i].len, model_resolvers[i].rules);
		if (err)
			return err;
	}
	for (i = 0; i < MODEL_COUNT(model_bogus); i++) {
		err = cdns_add_bogus(&objects.maps, model_bogus[i].text, model_bogus[i].len);
		if (err)
			return err;
	}
	err = cdns_set(&objects.maps, &model_initial.settings);
	return err ?: write_state();
}

/* Seeds of our own (CLEAN_DNS_FUZZ_SEEDS=DIR), next to the vector table's:
 * frames that meet the seeded state.  For each recorded query, answers
 * that echo it and answers that differ from it in one respect; for each
 * connection, segments at the edges of its window, agreeing and not; for
 * each hop profile, TTLs at the edges of the tolerance; and parser edges
 * the table has no row for.
 */
struct seed_writer {
	const char *dir;
	int n, err;
};

static void seed_save(struct seed_writer *w, const struct frame *f, int l3)
{
	char path[512];
	uint8_t mode = (uint8_t)l3;
	FILE *out;
	int ok;

	if (w->err)
		return;
	snprintf(path, sizeof(path), "%s/state-%03d", w->dir, w->n++);
	out = fopen(path, "wb");
	if (!out) {
		w->err = -errno;
		fprintf(stderr, "clean-dns-fuzz: write %s: %s\n", path, strerror(errno));
		return;
	}
	ok = fwrite(&mode, 1, 1, out) == 1 && fwrite(f->bytes, 1, f->len, out) == f->len;
	if (fclose(out) || !ok) {
		w->err = -EIO;
		fprintf(stderr, "clean-dns-fuzz: write %s: %s\n", path, strerror(errno));
	}
}

static void seed(struct seed_writer *w, const struct frame_spec *spec)
{
	struct frame f;

	if (!build_frame(&f, spec)) {
		fprintf(stderr, "clean-dns-fuzz: cannot build a seed from %s\n", spec->src);
		w->err = -EINVAL;
		return;
	}
	seed_save(w, &f, spec->no_link);
}

/* An answer record of TYPE with everyday RDATA. */
static void seed_answer(struct dns_rr *rr, uint16_t type)
{
	static const uint8_t a[] = { 93, 184, 216, 34 };
	static const uint8_t aaaa[] = { 0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01,
					0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46 };
	/* 1 . alpn=h2 ipv4hint=198.51.100.80 */
	static const uint8_t https[] = { 0,   1, 0, 0, 1, 0,   3,  2,	'h',
					 '2', 0, 4, 0, 4, 198, 51, 100, 80 };
	static const uint8_t name[] = { 0xc0, 0x0c };
	static const uint8_t txt[] = { 2, 'o', 'k' };
	const uint8_t *rdata = txt;
	size_t len = sizeof(txt);

	if (type == DNS_TYPE_A) {
		rdata = a;
		len = sizeof(a);
	} else if (type == DNS_TYPE_AAAA) {
		rdata = aaaa;
		len = sizeof(aaaa);
	} else if (type == DNS_TYPE_HTTPS || type == DNS_TYPE_SVCB) {
		rdata = https;
		len = sizeof(https);
	} else if (type == DNS_TYPE_CNAME || type == DNS_TYPE_DNAME) {
		rdata = name;
		len = sizeof(name);
	}
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	memcpy(rr->rdata, rdata, len);
	rr->rdlen = (uint16_t)len;
}

/* The TTL the resolver's profile expects, or the vector table's 57. */
static uint8_t seed_ttl(const char *resolver)
{
	struct addr_key src;
	int ttl;

	if (model_address(&src, resolver))
		return 57;
	ttl = model_hop_expected(&model_initial, &src);
	return ttl >= 0 ? (uint8_t)ttl : 57;
}

static void seed_answers_to_queries(struct seed_writer *w)
{
	int i;

	for (i = 0; i < MODEL_QUERIES; i++) {
		const struct model_query_seed *q = &model_query_seeds[i];
		uint16_t other = q->qtype == DNS_TYPE_A ? DNS_TYPE_AAAA : DNS_TYPE_A;
		struct frame_spec echo = {
			.family = strchr(q->resolver, ':') ? 6 : 4,
			.src = q->resolver,
			.dport = q->client_port,
			.ttl = seed_ttl(q->resolver),
			.ip_id = 0x4d2e,
			.dns = { .id = q->txid,
				 .flags = q->flags & QUERY_RD ? 0x8180 : 0x8080,
				 .qname = "example.org",
				 .qtype = q->qtype,
				 .an_count = 1,
				 .opt = (q->flags & QUERY_EDNS) != 0,
				 .dns_len_override = -1 },
		};
		struct frame_spec s;

		seed_answer(&echo.dns.an[0], q->qtype);
		seed(w, &echo);
		s = echo;
		s.no_link = true;
		seed(w, &s);
		s = echo;
		s.dns.flags ^= DNS_FLAG_RD;
		seed(w, &s);
		s = echo;
		s.dns.qtype = other;
		seed_answer(&s.dns.an[0], other);
		seed(w, &s);
		s = echo;
		s.dns.opt = !s.dns.opt;
		seed(w, &s);
		s = echo;
		s.dns.flags = 0x8480; /* AA, RD clear */
		seed(w, &s);
		s = echo;
		s.dns.flags = 0x0100; /* the query itself, sent back */
		s.dns.an_count = 0;
		seed(w, &s);
		s = echo;
		s.ttl += 2;
		seed(w, &s);
		s = echo;
		seed_answer(&s.dns.an[0], 16); /* TXT */
		seed(w, &s);
		s = echo;
		seed_answer(&s.dns.an[0], DNS_TYPE_CNAME);
		seed(w, &s);
	}
}

static void seed_segments(struct seed_writer *w)
{
	int i;

	for (i = 0; i < MODEL_CONNS; i++) {
		const struct model_conn_seed *c = &model_conn_seeds[i];
		struct frame_spec segment = {
			.family = strchr(c->resolver, ':') ? 6 : 4,
			.src = c->resolver,
			.dport = c->client_port,
			.ttl = c->ttl ? c->ttl : 55,
			.ip_id = 0x4d2e,
			.l4_proto = IPPROTO_TCP,
			.tcp_seq = 90001,
			.tcp_ack = c->isn + 1,
			.dns = { .qname = "", .dns_len_override = 0 },
		};
		struct frame_spec s;

		seed(w, &segment);
		s = segment;
		s.ttl += 3;
		seed(w, &s);
		s = segment;
		s.tcp_ack = c->isn + 1 + TCP_ACK_WINDOW; /* the window's last */
		seed(w, &s);
		s.tcp_ack++;
		seed(w, &s);
		s.tcp_ack = c->isn; /* below the SYN's ISN + 1 */
		seed(w, &s);
		s = segment;
		s.tcp_flags = TCP_FLAG_RST | TCP_FLAG_ACK;
		seed(w, &s);
		s.tcp_flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
		seed(w, &s);
	}
}

static void seed_hop_edges(struct seed_writer *w)
{
	int tolerance = (int)model_hop_tolerance(&model_initial), i, d;
	static const int deltas[] = { -1, 0, 1 };

	for (i = 0; i < MODEL_COUNT(model_hop_seeds); i++) {
		const struct model_hop_seed *h = &model_hop_seeds[i];
		struct frame_spec s = {
			.family = strchr(h->resolver, ':') ? 6 : 4,
			.src = h->resolver,
			.ip_id = 0x4d2e,
			.dns = { .id = 0x4321,
				 .flags = 0x8180,
				 .qname = "example.org",
				 .qtype = DNS_TYPE_A,
				 .an_count = 1,
				 .opt = true,
				 .dns_len_override = -1 },
		};

		seed_answer(&s.dns.an[0], DNS_TYPE_A);
		for (d = 0; d < 3; d++) {
			s.ttl = (uint8_t)(h->ttl + deltas[d] * tolerance + deltas[d]);
			seed(w, &s);
			s.ttl = (uint8_t)(h->ttl + deltas[d] * tolerance);
			seed(w, &s);
		}
	}
}

/* 63 + 63 + 63 + 61 bytes of labels: with their lengths and the root, the
 * 255 bytes a name may have.
 */
#define LABEL63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME255                         \
	LABEL63 "." LABEL63 "." LABEL63 \
		".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void seed_svc(struct seed_writer *w, uint16_t type, const uint8_t *rdata, size_t len)
{
	struct frame_spec s = {
		.family = 4,
		.src = "1.1.1.1",
		.ttl = seed_ttl("1.1.1.1"),
		.ip_id = 0x4d2e,
		.dns = { .id = 0x1234,
			 .flags = 0x8080,
			 .qname = "example.org",
			 .qtype = DNS_TYPE_HTTPS,
			 .an_count = 1,
			 .dns_len_override = -1 },
	};

	s.dns.an[0].type = type;
	memcpy(s.dns.an[0].rdata, rdata, len);
	s.dns.an[0].rdlen = (uint16_t)len;
	seed(w, &s);
}

static void seed_parser_edges(struct seed_writer *w)
{
	/* TargetName cdn., ipv4hint 198.51.100.80 and 203.0.113.66 (bogus) */
	static const uint8_t two_hints[] = { 0, 1,   3,	 'c', 'd', 'n', 0, 0,	4, 0,
					     8, 198, 51, 100, 80,  203, 0, 113, 66 };
	/* mandatory=alpn, alpn=h2, ipv6hint 2001:db8:bad::66 (bogus) */
	static const uint8_t v6_hint[] = { 0, 1,  0,	0,    0,    0,	  2,	0,    1,
					   0, 1,  0,	3,    2,    'h',  '2',	0,    6,
					   0, 16, 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, 0,
					   0, 0,  0,	0,    0,    0,	  0,	0,    0x66 };
	/* ipv4hint of 6 bytes holding a bogus address: not a list */
	static const uint8_t odd_hint[] = { 0, 1, 0, 0, 4, 0, 6, 203, 0, 113, 66, 0, 0 };
	/* TargetName pointing back: a TargetName is never compressed */
	static const uint8_t pointer_target[] = { 0, 1, 0xc0, 0x0c, 0, 4, 0, 4, 203, 0, 113, 66 };
	struct frame_spec genuine = {
		.family = 4,
		.src = "8.8.8.8",
		.ip_id = 0x4d2e,
		.dns = { .id = 0x1234,
			 .flags = 0x8180,
			 .qname = "google.com",
			 .qtype = DNS_TYPE_A,
			 .an_count = 1,
			 .dns_len_override = -1 },
	};
	struct frame_spec s;
	struct frame f;
	size_t owner;

	seed_answer(&genuine.dns.an[0], DNS_TYPE_A);
	/* The owner name "google.com" written out is 12 bytes at the end of
	 * the question; 9 bytes of label and a pointer are as long.
	 */
	s = genuine;
	s.dns.an[0].name_written_out = true;
	if (build_frame(&f, &s)) {
		owner = 14 + 20 + 8 + 12 + 12 + 4;
		f.bytes[owner] = 9;
		memset(f.bytes + owner + 1, 'x', 9);
		f.bytes[owner + 10] = 0xc0;
		f.bytes[owner + 11] = 0x0c;
		seed_save(w, &f, 0);
	}
	/* Written out, then an additional record with the root name that is
	 * not OPT (TXT).
	 */
	s.dns.opt = true;
	if (build_frame(&f, &s)) {
		f.bytes[f.len - 9] = 16;
		seed_save(w, &f, 0);
	}
	s.dns.opt = false;
	s.dns.opt_cookie = 1;
	seed(w, &s);
	s = genuine;
	s.dns.qname = NAME255;
	seed(w, &s);
	s.dns.an[0].name_written_out = true;
	seed(w, &s);

	seed_svc(w, DNS_TYPE_HTTPS, two_hints, sizeof(two_hints));
	seed_svc(w, DNS_TYPE_HTTPS, v6_hint, sizeof(v6_hint));
	seed_svc(w, DNS_TYPE_SVCB, two_hints, sizeof(two_hints));
	seed_svc(w, DNS_TYPE_HTTPS, odd_hint, sizeof(odd_hint));
	seed_svc(w, DNS_TYPE_HTTPS, pointer_target, sizeof(pointer_target));
}

static int write_seeds(const char *dir)
{
	struct seed_writer w = { .dir = dir };

	if (model_init(model_now_ns()))
		return -EINVAL;
	seed_answers_to_queries(&w);
	seed_segments(&w);
	seed_hop_edges(&w);
	seed_parser_edges(&w);
	if (!w.err)
		fprintf(stderr, "clean-dns-fuzz: %d seeds in %s\n", w.n, dir);
	return w.err;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *build = getenv("CLEAN_DNS_BUILD");
	const char *seeds = getenv("CLEAN_DNS_FUZZ_SEEDS");

	(void)argc;
	(void)argv;
	if (seeds)
		exit(write_seeds(seeds) ? 1 : 0);
	libbpf_set_print(NULL);
	debug = getenv("CLEAN_DNS_FUZZ_DEBUG") != NULL;
	stamped_ns = model_now_ns();
	if (model_init(stamped_ns) || cdns_load(&objects, build ? build : "build") ||
	    configure_bpf()) {
		fprintf(stderr, "clean-dns-fuzz: cannot set up (root? built objects?)\n");
		exit(2);
	}
	prog_eth = cdns_prog_fd(&objects, "clean_dns_eth");
	prog_l3 = cdns_prog_fd(&objects, "clean_dns_l3");
	if (prog_eth < 0 || prog_l3 < 0)
		exit(2);
	atexit(report_stats);
	return 0;
}

static __attribute__((noreturn)) void disagree(const char *what, int host, int kernel)
{
	fprintf(stderr, "clean-dns-fuzz: %s: host %s, kernel %s\n", what,
		host < COUNT_MAX ? counter_names[host] : "none",
		kernel < COUNT_MAX ? counter_names[kernel] : "none");
	abort();
}

static __attribute__((noreturn)) void state_differs(const char *what, const uint8_t addr[16],
						    uint16_t port_or_ttl, const char *detail)
{
	char text[INET6_ADDRSTRLEN] = "-";

	if (addr)
		inet_ntop(AF_INET6, addr, text, sizeof(text));
	fprintf(stderr, "clean-dns-fuzz: the maps differ from the model: %s %s %u: %s\n", what,
		text, port_or_ttl, detail);
	abort();
}

/* The maps against the model, entry by entry, after an input that changed
 * the state.
 */
static void check_state(void)
{
	struct addr_key keys[HOPS_READ_MAX], *prev = NULL;
	struct query_state query;
	struct tcp_conn conn;
	struct hop_profile profile;
	int i, j, n = 0, found;
	uint64_t diff;

	state_checks++;
	for (i = 0; i < MODEL_QUERIES; i++) {
		const struct model_query *q = &model.queries[i];

		found = !bpf_map_lookup_elem(objects.maps.queries, &q->key, &query);
		if (found != q->present)
			state_differs("query", q->key.resolver, ntohs(q->key.txid),
				      found ? "only the map holds it" : "only the model holds it");
		if (found && memcmp(&query, &q->state, sizeof(query)))
			state_differs("query", q->key.resolver, ntohs(q->key.txid), "other values");
	}
	for (i = 0; i < MODEL_CONNS; i++) {
		const struct model_conn *c = &model.conns[i];

		if (bpf_map_lookup_elem(objects.maps.tcp_conns, &c->key, &conn))
			state_differs("connection", c->key.resolver, ntohs(c->key.client_port),
				      "gone from the map");
		if (memcmp(&conn, &c->conn, sizeof(conn))) {
			char detail[160];

			snprintf(detail, sizeof(detail),
				 "map ttl %u segments %u conflict %u taught %u, model %u %u %u %u",
				 conn.ttl, conn.segments, conn.conflict, conn.taught, c->conn.ttl,
				 c->conn.segments, c->conn.conflict, c->conn.taught);
			state_differs("connection", c->key.resolver, ntohs(c->key.client_port),
				      detail);
		}
	}
	while (n < HOPS_READ_MAX && !bpf_map_get_next_key(objects.maps.hops, prev, &keys[n]))
		prev = &keys[n++];
	if (n != model.nhops) {
		char detail[64];

		snprintf(detail, sizeof(detail), "the map holds %d, the model %d", n, model.nhops);
		state_differs("hop profiles", NULL, 0, detail);
	}
	for (i = 0; i < n; i++) {
		j = model_hop_index(&model, &keys[i]);
		if (j < 0 || bpf_map_lookup_elem(objects.maps.hops, &keys[i], &profile))
			state_differs("hop profile", keys[i].addr, 0, "only the map holds it");
		diff = profile.learned_ns > model.hops[j].profile.learned_ns ?
			       profile.learned_ns - model.hops[j].profile.learned_ns :
			       model.hops[j].profile.learned_ns - profile.learned_ns;
		if (profile.ttl != model.hops[j].profile.ttl ||
		    profile.segments != model.hops[j].profile.segments || diff > CLOCK_SLACK_NS)
			state_differs("hop profile", keys[i].addr, (uint16_t)profile.ttl,
				      "other values");
	}
}

/* Which counter the kernel moved (COUNT_MAX: none), from before/after. */
static int moved_counter(const uint64_t before[COUNT_MAX], const uint64_t after[COUNT_MAX])
{
	int i, moved = COUNT_MAX;

	for (i = 0; i < COUNT_MAX; i++) {
		if (i == COUNT_inspected || after[i] == before[i])
			continue;
		if (moved != COUNT_MAX || after[i] - before[i] != 1)
			return -1;
		moved = i;
	}
	return moved;
}

static int oracle_bogus(const uint8_t *addr, size_t addr_len)
{
	struct addr_key key = { .prefixlen = 128 };

	if (addr_len == 4) {
		key.addr[10] = key.addr[11] = 0xff;
		memcpy(key.addr + 12, addr, 4);
	} else {
		memcpy(key.addr, addr, 16);
	}
	return model_lpm(model_initial.prefixes_bogus, MODEL_COUNT(model_bogus), &key) >= 0;
}

/* The answer's address (A, AAAA) or hints (HTTPS, SVCB) hold a known
 * forged address.
 */
static int oracle_answer_bogus(const struct oracle_view *dns, const struct oracle_message *m)
{
	if (m->type == 1 && m->rdlength == 4)
		return oracle_bogus(dns->p + m->rdata_off, 4);
	if (m->type == 28 && m->rdlength == 16)
		return oracle_bogus(dns->p + m->rdata_off, 16);
	if (m->type == 64 || m->type == 65)
		return oracle_svc_hints(dns, m, oracle_bogus);
	return 0;
}

/* Is a drop for REASON backed by the bytes, and by the state the input
 * started from (the recorded query for this resolver, client port and ID;
 * the resolver's hop profile)?
 */
static int oracle_confirms(const uint8_t *frame, size_t len, int l3, int reason)
{
	struct oracle_packet pkt;
	struct oracle_message m;
	struct addr_key src = { .prefixlen = 128 };
	struct query_key key;
	const struct query_state *query;
	int rd, expected_ttl, tolerance;
	uint16_t id, flags;
	uint32_t rules;

	if (!oracle_parse(frame, len, l3, &pkt) || !oracle_u16(&pkt.dns, 0, &id) ||
	    !oracle_u16(&pkt.dns, 2, &flags) || pkt.dns.len < 12)
		return 0;
	/* Which resolvers have which rules is the model's configuration, and
	 * the differential check holds the kernel to it; here, the bytes.
	 */
	memcpy(src.addr, pkt.src, 16);
	rules = resolver_rules(&src);
	memcpy(key.resolver, pkt.src, 16);
	key.client_port = htons(pkt.client_port);
	key.txid = htons(id);
	query = model_query_lookup(&model_initial, &key);
	/* Not an answer at all, sent to where a recorded query's answer goes. */
	if (reason == COUNT_drop_query_echo_qr)
		return (rules & RULE_QUERY_ECHO) && !(flags & 0x8000) && query;

	if (!(flags & 0x8000) || (flags & 0x7800) || !oracle_message(&pkt.dns, &m))
		return 0;
	expected_ttl = model_hop_expected(&model_initial, &src);
	tolerance = (int)model_hop_tolerance(&model_initial);
	rd = (flags & 0x0100) != 0;

	switch (reason) {
	case COUNT_drop_ipid_zero:
		return (rules & RULE_IPID_ZERO) && pkt.is_ipv4 && pkt.ipv4_id == 0;
	case COUNT_drop_df:
		return (rules & RULE_DF) && pkt.is_ipv4 && pkt.ipv4_frag_off == 0x4000;
	case COUNT_drop_aa_single:
		return (rules & RULE_AA_SINGLE) && (flags & 0x0400) &&
		       (rd || (query && (query->flags & QUERY_RD)));
	case COUNT_drop_name_uncompressed:
		return (rules & RULE_NAME_UNCOMPRESSED) && oracle_owner_written_out(&m);
	case COUNT_drop_bogus_addr:
		return (rules & RULE_BOGUS_ADDR) && oracle_answer_bogus(&pkt.dns, &m);
	case COUNT_drop_edns_echo:
		return (rules & RULE_EDNS_ECHO) && m.ar == 0 && query &&
		       (query->flags & QUERY_EDNS);
	case COUNT_drop_query_echo_type:
		return (rules & RULE_QUERY_ECHO) && m.type != m.qtype && m.type != 5 &&
		       m.type != 39 && (m.qtype < 128 || m.qtype > 255);
	case COUNT_drop_query_echo_rd:
		return (rules & RULE_QUERY_ECHO) && query && rd != !!(query->flags & QUERY_RD);
	case COUNT_drop_query_echo_qtype:
		return (rules & RULE_QUERY_ECHO) && query && m.qtype != query->qtype;
	case COUNT_drop_hop_count:
		return (rules & RULE_HOP_COUNT) && expected_ttl >= 0 &&
		       (pkt.ttl > expected_ttl + tolerance || pkt.ttl + tolerance < expected_ttl);
	case COUNT_drop_flow_label:
		return (rules & RULE_FLOW_LABEL) && !pkt.is_ipv4 && pkt.flow_label == 0;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t before[COUNT_MAX], after[COUNT_MAX], now;
	/* The kernel's layout: Ethernet 2 bytes into an aligned buffer
	 * (NET_IP_ALIGN), so the IP header is 4-byte aligned; without a link
	 * layer the IP header starts aligned.
	 */
	static _Alignas(8) uint8_t buffer[INPUT_FRAME_MAX + 8];
	uint8_t *frame;
	size_t len = size - 1;
	int l3, host, kernel, ret, i;

	if (size < 1 + INPUT_FRAME_MIN || size > 1 + INPUT_FRAME_MAX)
		return 0;
	l3 = data[0] & 1;
	frame = buffer + (l3 ? 0 : 2);
	memcpy(frame, data + 1, len);

	now = model_now_ns();
	if (now - stamped_ns > RESTAMP_NS) {
		stamped_ns = now;
		model_stamp(now);
		if (write_state())
			abort();
	}

	host = classify_frame(NULL, frame, frame + len, l3 ? FIRST_IP : FIRST_ETHERNET);

	if (cdns_read_counters(&objects.maps, before))
		abort();
	ret = cdns_run(l3 ? prog_l3 : prog_eth, frame, len);
	if (ret < 0) {
		/* The kernel refused the frame: nothing to compare, and its
		 * maps are as they were.
		 */
		model_reset();
		return 0;
	}
	if (cdns_read_counters(&objects.maps, after))
		abort();
	kernel = moved_counter(before, after);
	runs++;
	if (debug) {
		fprintf(stderr, "ret %d host %d kernel %d dirty %d\n", ret, host, kernel,
			model.dirty);
		for (i = 0; i < COUNT_MAX; i++)
			if (after[i] != before[i])
				fprintf(stderr, "  %s +%llu\n", counter_names[i],
					(unsigned long long)(after[i] - before[i]));
	}

	if (kernel < 0)
		disagree("the kernel moved several counters", host, COUNT_MAX);
	if (kernel != host)
		disagree("different counters", host, kernel);
	if ((ret == XDP_DROP) != (host >= COUNT_FIRST_DROP && host < COUNT_FIRST_EVENT))
		disagree("verdict does not match the counter", host, kernel);
	if (model.overflow)
		disagree("the model's tables overflowed", host, kernel);
	if (model.dirty) {
		check_state();
		model_reset();
		if (write_state())
			abort();
	}
	if (host < COUNT_MAX)
		verdicts[host]++;
	if (ret == XDP_DROP) {
		if (!oracle_confirms(frame, len, l3, host))
			disagree("a drop the forward parser cannot confirm", host, kernel);
		drops++;
	}
	return 0;
}
