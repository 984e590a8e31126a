// SPDX-License-Identifier: GPL-2.0
/* Differential fuzzing of clean-dns: every input goes through the packet
 * path twice, compiled for the host (tests/fuzz/host-model.h) and as the
 * loaded BPF program (BPF_PROG_TEST_RUN), and the counter each side chose
 * must be the same.  When the input changed the state (a recorded query
 * answered or written, a connection's fields, a hop profile learned or
 * taken back),
 * the BPF maps must hold what the model holds; both then go back to the
 * seeded state, so every input starts from the same one.  Every drop must
 * also be confirmed by the forward parser of forgery-oracle.h against
 * that state.  Any disagreement aborts, which libFuzzer reports with the
 * input that caused it.
 *
 * The first input byte picks the program: bit 0 clear, Ethernet; set, no
 * link layer.  Bits 1-2: 0 (and 3) the XDP ingress program, 1 the tc
 * ingress one, 2 the tc egress one, which records queries and SYNs (the
 * vector table's seeds are all 0 or 1).  The rest is the frame.
 *
 * Environment: CLEAN_DNS_BUILD (default "build"), the objects' directory;
 * CLEAN_DNS_FUZZ_DEBUG set: each input's counters on stderr;
 * CLEAN_DNS_FUZZ_SEEDS=DIR: write seeds that meet the seeded state to DIR
 * and exit (no root needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <linux/pkt_cls.h>
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
/* More entries than any map should hold during a run. */
#define MAP_READ_MAX 64

/* The program an input runs on: bits 1-2 of its first byte. */
enum hook {
	HOOK_XDP, /* "prog" and "l3" of clean-dns.o */
	HOOK_TC, /* "classifier" and "classifier_l3" of clean-dns-tc.o */
	HOOK_EGRESS, /* "egress" and "egress_l3" */
	HOOK_XDP_TOO,
};

static struct cdns_objects objects;
/* Indexed by hook, then by "no link layer". */
static int progs[HOOK_XDP_TOO][2];
static int debug;
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
		fprintf(stderr, " %s=%llu", counter_names[i], verdicts[i]);
	fprintf(stderr, "\n");
}

/* The maps' recorded queries, connections and hop profiles as
 * model_initial has them, from maps that hold no others.
 */
static int write_initial(void)
{
	const struct model_state *s = &model_initial;
	int i;

	for (i = 0; i < s->nqueries; i++)
		if (bpf_map_update_elem(objects.maps.queries, &s->queries[i].key,
					&s->queries[i].state, BPF_ANY))
			return -errno;
	for (i = 0; i < s->nconns; i++)
		if (bpf_map_update_elem(objects.maps.tcp_conns, &s->conns[i].key, &s->conns[i].conn,
					BPF_ANY))
			return -errno;
	for (i = 0; i < s->nhops; i++)
		if (bpf_map_update_elem(objects.maps.hops, &s->hops[i].src, &s->hops[i].profile,
					BPF_ANY))
			return -errno;
	return 0;
}

/* Back to model_initial from maps that hold what the model holds: what the
 * input added is deleted, what it changed or deleted is written again.
 */
static int restore_state(void)
{
	const struct model_state *s = &model_initial;
	int i, j;

	for (i = 0; i < model.nqueries; i++)
		if (model_query_index(s, &model.queries[i].key) < 0 &&
		    bpf_map_delete_elem(objects.maps.queries, &model.queries[i].key))
			return -errno;
	for (i = 0; i < s->nqueries; i++) {
		j = model_query_index(&model, &s->queries[i].key);
		if ((j < 0 || memcmp(&model.queries[j], &s->queries[i], sizeof(s->queries[i]))) &&
		    bpf_map_update_elem(objects.maps.queries, &s->queries[i].key,
					&s->queries[i].state, BPF_ANY))
			return -errno;
	}
	for (i = 0; i < model.nconns; i++)
		if (model_conn_index(s, &model.conns[i].key) < 0 &&
		    bpf_map_delete_elem(objects.maps.tcp_conns, &model.conns[i].key))
			return -errno;
	for (i = 0; i < s->nconns; i++) {
		j = model_conn_index(&model, &s->conns[i].key);
		if ((j < 0 || memcmp(&model.conns[j], &s->conns[i], sizeof(s->conns[i]))) &&
		    bpf_map_update_elem(objects.maps.tcp_conns, &s->conns[i].key, &s->conns[i].conn,
					BPF_ANY))
			return -errno;
	}
	for (i = 0; i < model.nhops; i++)
		if (model_hop_index(s, &model.hops[i].src) < 0 &&
		    bpf_map_delete_elem(objects.maps.hops, &model.hops[i].src))
			return -errno;
	for (i = 0; i < s->nhops; i++) {
		j = model_hop_index(&model, &s->hops[i].src);
		if ((j < 0 || memcmp(&model.hops[j], &s->hops[i], sizeof(s->hops[i]))) &&
		    bpf_map_update_elem(objects.maps.hops, &s->hops[i].src, &s->hops[i].profile,
					BPF_ANY))
			return -errno;
	}
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
	return err ?: write_initial();
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

static void seed_save(struct seed_writer *w, const struct frame *f, uint8_t mode)
{
	char path[512];
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

static void seed_on(struct seed_writer *w, const struct frame_spec *spec, enum hook hook)
{
	struct frame f;

	if (!build_frame(&f, spec)) {
		fprintf(stderr, "clean-dns-fuzz: cannot build a seed from %s\n", spec->src);
		w->err = -EINVAL;
		return;
	}
	seed_save(w, &f, (uint8_t)(spec->no_link | hook << 1));
}

static void seed(struct seed_writer *w, const struct frame_spec *spec)
{
	seed_on(w, spec, HOOK_XDP);
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

	for (i = 0; i < MODEL_COUNT(model_query_seeds); i++) {
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

	for (i = 0; i < MODEL_COUNT(model_conn_seeds); i++) {
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
		seed_save(w, &f, HOOK_XDP);
	}
	/* Written out, then an additional record with the root name that is
	 * not OPT (TXT).
	 */
	s.dns.opt = true;
	if (build_frame(&f, &s)) {
		f.bytes[f.len - 9] = 16;
		seed_save(w, &f, HOOK_XDP);
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

/* What the egress program records: each seeded query and SYN again (a
 * record replaces one with the same key), and new ones.
 */
static void seed_egress(struct seed_writer *w)
{
	int i;

	for (i = 0; i < MODEL_COUNT(model_query_seeds); i++) {
		const struct model_query_seed *q = &model_query_seeds[i];
		int v6 = strchr(q->resolver, ':') != NULL;
		struct frame_spec query = {
			.family = v6 ? 6 : 4,
			.src = v6 ? "2001:db8:1::2" : "192.0.2.2",
			.dst = q->resolver,
			.sport = q->client_port,
			.dport = 53,
			.ip_id = 0x4d2e,
			.dns = { .id = q->txid,
				 .flags = q->flags & QUERY_RD ? 0x0100 : 0,
				 .qname = "example.org",
				 .qtype = q->qtype,
				 .opt = (q->flags & QUERY_EDNS) != 0,
				 .dns_len_override = -1 },
		};
		struct frame_spec s;

		seed_on(w, &query, HOOK_EGRESS);
		s = query;
		s.no_link = true;
		seed_on(w, &s, HOOK_EGRESS);
		s = query;
		s.dns.id++;
		s.dns.flags ^= DNS_FLAG_RD;
		s.dns.opt = false;
		s.dns.opt_cookie = !(q->flags & QUERY_EDNS);
		seed_on(w, &s, HOOK_EGRESS);
	}
	for (i = 0; i < MODEL_COUNT(model_conn_seeds); i++) {
		const struct model_conn_seed *c = &model_conn_seeds[i];
		int v6 = strchr(c->resolver, ':') != NULL;
		struct frame_spec syn = {
			.family = v6 ? 6 : 4,
			.src = v6 ? "2001:db8:1::2" : "192.0.2.2",
			.dst = c->resolver,
			.sport = c->client_port,
			.dport = 53,
			.ip_id = 0x4d2e,
			.l4_proto = IPPROTO_TCP,
			.tcp_flags = TCP_FLAG_SYN,
			.tcp_seq = c->isn,
			.dns = { .qname = "", .dns_len_override = 0 },
		};
		struct frame_spec s;

		seed_on(w, &syn, HOOK_EGRESS);
		s = syn;
		s.sport++;
		s.tcp_seq += 77;
		seed_on(w, &s, HOOK_EGRESS);
		s.tcp_flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
		seed_on(w, &s, HOOK_EGRESS);
	}
}

/* The tc ingress program gets a few of the XDP seeds. */
static void seed_tc(struct seed_writer *w)
{
	const struct model_query_seed *q = &model_query_seeds[0];
	struct frame_spec echo = {
		.family = 4,
		.src = q->resolver,
		.dport = q->client_port,
		.ttl = seed_ttl(q->resolver),
		.ip_id = 0x4d2e,
		.dns = { .id = q->txid,
			 .flags = 0x8180,
			 .qname = "example.org",
			 .qtype = q->qtype,
			 .an_count = 1,
			 .dns_len_override = -1 },
	};

	seed_answer(&echo.dns.an[0], q->qtype);
	seed_on(w, &echo, HOOK_TC);
	echo.dns.flags = 0x8580;
	seed_on(w, &echo, HOOK_TC);
	echo.no_link = true;
	seed_on(w, &echo, HOOK_TC);
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
	seed_egress(&w);
	seed_tc(&w);
	if (!w.err)
		fprintf(stderr, "clean-dns-fuzz: %d seeds in %s\n", w.n, dir);
	return w.err;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *build = getenv("CLEAN_DNS_BUILD");
	const char *seeds = getenv("CLEAN_DNS_FUZZ_SEEDS");
	int i;

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
	progs[HOOK_XDP][0] = cdns_prog_fd(&objects, "clean_dns_eth");
	progs[HOOK_XDP][1] = cdns_prog_fd(&objects, "clean_dns_l3");
	progs[HOOK_TC][0] = cdns_prog_fd(&objects, "clean_dns_tc");
	progs[HOOK_TC][1] = cdns_prog_fd(&objects, "clean_dns_tc_l3");
	progs[HOOK_EGRESS][0] = cdns_prog_fd(&objects, "clean_dns_eg");
	progs[HOOK_EGRESS][1] = cdns_prog_fd(&objects, "clean_dns_eg_l3");
	for (i = 0; i < HOOK_XDP_TOO * 2; i++)
		if (progs[i / 2][i % 2] < 0)
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
						    uint16_t port_or_id, const char *detail)
{
	char text[INET6_ADDRSTRLEN] = "-";

	if (addr)
		inet_ntop(AF_INET6, addr, text, sizeof(text));
	fprintf(stderr, "clean-dns-fuzz: the maps differ from the model: %s %s %u: %s\n", what,
		text, port_or_id, detail);
	abort();
}

/* Up to MAX keys of KEY_SIZE bytes from a hash map; returns how many. */
static int map_keys(int map_fd, void *keys, size_t key_size, int max)
{
	uint8_t *at = keys;
	const void *prev = NULL;
	int n = 0;

	while (n < max && !bpf_map_get_next_key(map_fd, prev, at)) {
		prev = at;
		at += key_size;
		n++;
	}
	return n;
}

static uint64_t clock_apart(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* The maps against the model, entry by entry, after an input that changed
 * the state.  Timestamps the input wrote come from each side's clock.
 */
static void check_state(void)
{
	struct query_key query_keys[MAP_READ_MAX];
	struct tcp_conn_key conn_keys[MAP_READ_MAX];
	struct addr_key hop_keys[MAP_READ_MAX];
	struct query_state query;
	struct tcp_conn conn;
	struct hop_profile profile;
	char detail[160];
	int i, j, n;

	state_checks++;
	n = map_keys(objects.maps.queries, query_keys, sizeof(query_keys[0]), MAP_READ_MAX);
	if (n != model.nqueries) {
		snprintf(detail, sizeof(detail), "the map holds %d, the model %d", n,
			 model.nqueries);
		state_differs("queries", NULL, 0, detail);
	}
	for (i = 0; i < n; i++) {
		const struct query_state *want;

		j = model_query_index(&model, &query_keys[i]);
		if (j < 0 || bpf_map_lookup_elem(objects.maps.queries, &query_keys[i], &query))
			state_differs("query", query_keys[i].resolver, ntohs(query_keys[i].txid),
				      "only the map holds it");
		want = &model.queries[j].state;
		if (query.qtype != want->qtype || query.flags != want->flags ||
		    memcmp(query.pad, want->pad, sizeof(query.pad)) ||
		    clock_apart(query.sent_ns, want->sent_ns) > CLOCK_SLACK_NS) {
			snprintf(detail, sizeof(detail), "map qtype %u flags %#x, model %u %#x",
				 query.qtype, query.flags, want->qtype, want->flags);
			state_differs("query", query_keys[i].resolver, ntohs(query_keys[i].txid),
				      detail);
		}
	}
	n = map_keys(objects.maps.tcp_conns, conn_keys, sizeof(conn_keys[0]), MAP_READ_MAX);
	if (n != model.nconns) {
		snprintf(detail, sizeof(detail), "the map holds %d, the model %d", n, model.nconns);
		state_differs("connections", NULL, 0, detail);
	}
	for (i = 0; i < n; i++) {
		const struct tcp_conn *want;

		j = model_conn_index(&model, &conn_keys[i]);
		if (j < 0 || bpf_map_lookup_elem(objects.maps.tcp_conns, &conn_keys[i], &conn))
			state_differs("connection", conn_keys[i].resolver,
				      ntohs(conn_keys[i].client_port), "only the map holds it");
		want = &model.conns[j].conn;
		if (conn.isn != want->isn || conn.ttl != want->ttl ||
		    conn.segments != want->segments || conn.conflict != want->conflict ||
		    conn.taught != want->taught ||
		    clock_apart(conn.syn_ns, want->syn_ns) > CLOCK_SLACK_NS) {
			snprintf(
				detail, sizeof(detail),
				"map isn %u ttl %u segments %u conflict %u taught %u, model %u %u %u %u %u",
				conn.isn, conn.ttl, conn.segments, conn.conflict, conn.taught,
				want->isn, want->ttl, want->segments, want->conflict, want->taught);
			state_differs("connection", conn_keys[i].resolver,
				      ntohs(conn_keys[i].client_port), detail);
		}
	}
	n = map_keys(objects.maps.hops, hop_keys, sizeof(hop_keys[0]), MAP_READ_MAX);
	if (n != model.nhops) {
		snprintf(detail, sizeof(detail), "the map holds %d, the model %d", n, model.nhops);
		state_differs("hop profiles", NULL, 0, detail);
	}
	for (i = 0; i < n; i++) {
		const struct hop_profile *want;

		j = model_hop_index(&model, &hop_keys[i]);
		if (j < 0 || bpf_map_lookup_elem(objects.maps.hops, &hop_keys[i], &profile))
			state_differs("hop profile", hop_keys[i].addr, 0, "only the map holds it");
		want = &model.hops[j].profile;
		if (profile.ttl != want->ttl || profile.segments != want->segments ||
		    clock_apart(profile.learned_ns, want->learned_ns) > CLOCK_SLACK_NS) {
			snprintf(detail, sizeof(detail), "map ttl %u segments %u, model %u %u",
				 profile.ttl, profile.segments, want->ttl, want->segments);
			state_differs("hop profile", hop_keys[i].addr, 0, detail);
		}
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

/* What the program returns for a verdict of HOST on HOOK. */
static int expected_return(enum hook hook, int host)
{
	int drop = host >= COUNT_FIRST_DROP && host < COUNT_FIRST_WOULD_DROP;

	switch (hook) {
	case HOOK_TC:
		return drop ? TC_ACT_SHOT : TC_ACT_OK;
	case HOOK_EGRESS:
		return TC_ACT_OK;
	default:
		return drop ? XDP_DROP : XDP_PASS;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t before[COUNT_MAX], after[COUNT_MAX], now;
	/* The kernel's layout: Ethernet 2 bytes into an aligned buffer
	 * (NET_IP_ALIGN), so the IP header is 4-byte aligned; without a link
	 * layer the IP header starts aligned.
	 */
	static _Alignas(8) uint8_t buffer[INPUT_FRAME_MAX + 8];
	enum first_header first;
	enum hook hook;
	uint8_t *frame;
	size_t len = size - 1;
	int l3, host, kernel, ret, i;

	if (size < 1 + INPUT_FRAME_MIN || size > 1 + INPUT_FRAME_MAX)
		return 0;
	l3 = data[0] & 1;
	hook = (enum hook)(data[0] >> 1 & 3);
	if (hook == HOOK_XDP_TOO)
		hook = HOOK_XDP;
	first = l3 ? FIRST_IP : FIRST_ETHERNET;
	frame = buffer + (l3 ? 0 : 2);
	memcpy(frame, data + 1, len);

	now = model_now_ns();
	if (now - stamped_ns > RESTAMP_NS) {
		stamped_ns = now;
		if (model_stamp(now) || write_initial())
			abort();
	}

	if (hook == HOOK_EGRESS)
		host = record_egress(NULL, frame, frame + len, first);
	else
		host = classify_frame(NULL, frame, frame + len, first);

	if (cdns_read_counters(&objects.maps, before))
		abort();
	ret = cdns_run(progs[hook][l3], frame, len);
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
		fprintf(stderr, "hook %d ret %d host %d kernel %d dirty %d\n", hook, ret, host,
			kernel, model.dirty);
		for (i = 0; i < COUNT_MAX; i++)
			if (after[i] != before[i])
				fprintf(stderr, "  %s +%llu\n", counter_names[i],
					(unsigned long long)(after[i] - before[i]));
	}

	if (kernel < 0)
		disagree("the kernel moved several counters", host, COUNT_MAX);
	if (kernel != host)
		disagree("different counters", host, kernel);
	if (ret != expected_return(hook, host))
		disagree("the return value does not match the counter", host, kernel);
	if (model.overflow)
		disagree("the model's tables overflowed", host, kernel);
	if (model.dirty) {
		check_state();
		if (restore_state())
			abort();
		model_reset();
	}
	if (host < COUNT_MAX)
		verdicts[host]++;
	/* A would-drop (an observed resolver) must be backed by the bytes as
	 * its drop twin would.
	 */
	if (host >= COUNT_FIRST_DROP && host < COUNT_FIRST_EVENT) {
		if (!oracle_confirms(frame, len, l3,
				     host >= COUNT_FIRST_WOULD_DROP ? host - COUNT_OBSERVED : host))
			disagree("a drop the forward parser cannot confirm", host, kernel);
		drops++;
	}
	return 0;
}
