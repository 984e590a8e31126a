// SPDX-License-Identifier: GPL-2.0
/* Runs the clean-dns packet vector table through BPF_PROG_TEST_RUN on the
 * built objects: every row a frame, the verdict it must get and the one
 * counter it must move.  The maps are left unpinned, so nothing a real
 * installation uses is touched.
 *
 *   clean-dns-vectors [-v] BUILD_DIR             run the table
 *   clean-dns-vectors --probe BUILD_DIR ADDR...  print the rules each
 *                                                source address gets
 *   clean-dns-vectors --write-frames DIR         write sample frames
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clean_dns_common.h"
#include "packet-builder.h"

/* Rows start from defaults (V4, DNS_RESPONSE) and override some fields. */
#pragma GCC diagnostic ignored "-Woverride-init"

static const char *const counter_names[] = {
#define NAME(n) #n,
	CLEAN_DNS_COUNTERS(NAME)
#undef NAME
};

struct loaded_prog {
	const char *label;
	struct bpf_object *obj;
	int prog_fd;
	int counters_fd;
	int resolvers_fd;
	bool is_tc;
	bool no_link;
};

struct vector {
	const char *name;
	struct frame_spec frame;
	bool drop;
	int counter; /* COUNT_NONE: no counter moves */
};

static bool verbose;
static int passed, failed;

/* DNS answers used by the rows. */
#define A_RDATA(a, b, c, d) .rdata = { a, b, c, d }, .rdlen = 4
#define AAAA_GOOGLE                                                                                \
	.rdata = { 0x2a, 0x00, 0x14, 0x50, 0x40, 0x01, 0x08, 0x1c, 0, 0, 0, 0, 0, 0, 0x20, 0x0e }, \
	.rdlen = 16

#define ANSWER_A(...)                                             \
	{                                                         \
		.type = 1, A_RDATA(142, 250, 72, 14), __VA_ARGS__ \
	}
#define ANSWER_AAAA(...)                             \
	{                                            \
		.type = 28, AAAA_GOOGLE, __VA_ARGS__ \
	}

#define DNS_RESPONSE(fl, ...)                                                                \
	{                                                                                    \
		.id = 0x1234, .flags = fl, .qname = "google.com", .qtype = 1, .an_count = 1, \
		.an = { ANSWER_A() }, .dns_len_override = -1, __VA_ARGS__                    \
	}

#define V4(...) .family = 4, .src = "8.8.8.8", .ip_id = 0x4d2e, __VA_ARGS__
#define V6(...) .family = 6, .src = "2001:4860:4860::8888", __VA_ARGS__

/* The injector's answer captured in the wild (issue 5, Wallbleed-era):
 * rsf.org -> 31.13.91.33, TTL 236, flags 0x8180, c00c, no OPT.
 */
static const uint8_t wild_rsf_org[] = { 0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00,
					0x00, 0x00, 0x00, 0x03, 0x72, 0x73, 0x66, 0x03, 0x6f,
					0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
					0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0xec, 0x00,
					0x04, 0x1f, 0x0d, 0x5b, 0x21 };

/* clang-format off */
static const struct vector vectors[] = {
	/* Fast path: not DNS answers at all. */
	{ "UDP not from port 53", { V4(.sport = 5353, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
	{ "TCP from port 53 with every fingerprint",
	  { V4(.ip_id = 0, .frag_off = 0x4000, .l4_proto = 6,
	       .dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_NONE },
	{ "ARP frame", { .ethertype = 0x0806 }, false, COUNT_NONE },
	{ "IPv4 header length below 5 words",
	  { V4(.ipv4_option_words = -1, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },

	/* Each rule on its own, from 8.8.8.8 (all rules by default). */
	{ "genuine single answer with EDNS", { V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "genuine single answer without EDNS", { V4(.dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "forged: IPv4 ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "forged: DF set", { V4(.frag_off = 0x4000, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_df },
	{ "DF with the reserved bit is not DF alone",
	  { V4(.frag_off = 0xc000, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "forged: AA single answer 0x8580", { V4(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "forged: AA single answer 0x8590", { V4(.dns = DNS_RESPONSE(0x8590)) }, true, COUNT_drop_aa_single },
	{ "forged: AA single answer 0x85a0", { V4(.dns = DNS_RESPONSE(0x85a0)) }, true, COUNT_drop_aa_single },
	{ "AA answer to an RD=0 query (0x8400) is authoritative, passes",
	  { V4(.dns = DNS_RESPONSE(0x8400)) }, false, COUNT_pass_clean },
	{ "AA with an authority record passes", { V4(.dns = DNS_RESPONSE(0x8580, .ns_count = 1)) }, false, COUNT_pass_clean },
	{ "forged: A answer name written out",
	  { V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "forged: AAAA answer name written out",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "forged: name written out, then a bare OPT",
	  { V4(.dns = DNS_RESPONSE(0x8180, .opt = true, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "name written out, then an OPT with a cookie: answer not located, passes",
	  { V4(.dns = DNS_RESPONSE(0x8180, .opt_cookie = 1, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_pass_clean },
	{ "name written out in a single CNAME answer: not A/AAAA, passes",
	  { V4(.dns = DNS_RESPONSE(0x8180,
				   .an = { { .type = 5, .name_written_out = true, .rdata = { 0xc0, 0x0c }, .rdlen = 2 } })) },
	  false, COUNT_pass_clean },
	{ "genuine AAAA answer", { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA() })) }, false, COUNT_pass_clean },
	{ "genuine AAAA whose address ends like an A record",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qtype = 28,
				   .an = { { .type = 28, .rdlen = 16,
					     .rdata = { 0x20, 0, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 1, 2, 3, 4 } } })) },
	  false, COUNT_pass_clean },
	{ "forged: first rule in order wins (ID 0 + DF + AA + raw name)",
	  { V4(.ip_id = 0, .frag_off = 0x4000,
	       .dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_ipid_zero },

	/* What always passes. */
	{ "two answers with every fingerprint pass",
	  { V4(.ip_id = 0, .frag_off = 0x4000,
	       .dns = DNS_RESPONSE(0x8580, .an_count = 2,
				   .an = { ANSWER_A(.name_written_out = true), ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_pass_multi_answer },
	{ "NXDOMAIN with ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8183, .an_count = 0, .ns_count = 1)) }, false, COUNT_pass_no_answer },
	{ "NODATA with AA", { V4(.dns = DNS_RESPONSE(0x8580, .an_count = 0)) }, false, COUNT_pass_no_answer },
	{ "TC=1 answer with no records", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8380, .an_count = 0)) }, false, COUNT_pass_no_answer },
	{ "query from port 53 (QR=0) with ID 0", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x0100)) }, false, COUNT_pass_not_response },
	{ "opcode NOTIFY", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0xa180)) }, false, COUNT_pass_not_response },
	{ "two questions", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .qd_count_override = 2)) }, false, COUNT_pass_not_response },

	/* Per-resolver rule choice: defaults and map entries set up below. */
	{ "unprotected source with ID 0", { V4(.src = "192.0.2.99", .ip_id = 0, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_unprotected },
	{ "1.1.1.1 default: ID 0 alone is no rule for it", { V4(.src = "1.1.1.1", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "1.1.1.1 default: AA forgery", { V4(.src = "1.1.1.1", .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "9.9.9.9 default: raw name forgery",
	  { V4(.src = "9.9.9.9", .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "map 198.51.100.53 = aa-single: ID 0 passes", { V4(.src = "198.51.100.53", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "map 198.51.100.53 = aa-single: AA forgery", { V4(.src = "198.51.100.53", .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "map 203.0.113.0/24 = ipid-zero: 203.0.113.7 ID 0", { V4(.src = "203.0.113.7", .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "map 8.8.4.4 = none: default switched off", { V4(.src = "8.8.4.4", .ip_id = 0, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_unprotected },
	{ "map 2001:db8:53::/48 = name-uncompressed",
	  { V6(.src = "2001:db8:53::1", .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "the captured 2025 forgery from 8.8.8.8 (seed rules cannot see it)",
	  { V4(.dns = DNS_RESPONSE(0x8180, .qname = "rsf.org", .an = { ANSWER_A() })) },
	  false, COUNT_pass_clean },
	{ "the captured 2025 forgery with ID 0",
	  { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .qname = "rsf.org", .an = { ANSWER_A() })) },
	  true, COUNT_drop_ipid_zero },

	/* Link layers. */
	{ "802.1Q: forged ID 0", { .vlan_tags = 1, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "QinQ 802.1ad + 802.1Q: forged AA", { .vlan_tags = 2, .outer_vlan_proto = 0x88a8, V4(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "QinQ: genuine", { .vlan_tags = 2, .outer_vlan_proto = 0x88a8, V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "three VLAN tags: not parsed", { .vlan_tags = 3, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
	{ "PPPoE session IPv4: forged ID 0", { .pppoe = true, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "PPPoE session IPv6: forged AA", { .pppoe = true, V6(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "VLAN + PPPoE IPv4: forged raw name",
	  { .vlan_tags = 1, .pppoe = true, V4(.dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "PPPoE LCP frame", { .pppoe = true, .ppp_proto = 0xc021, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
	{ "PPPoE discovery frame", { .ethertype = 0x8863 }, false, COUNT_NONE },

	/* IPv4 options and IPv6 extension headers. */
	{ "IPv4 with 4 option words: forged ID 0", { V4(.ipv4_option_words = 4, .ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "IPv4 with 10 option words (IHL 15): genuine", { V4(.ipv4_option_words = 10, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "IPv6: genuine", { V6(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "IPv6: forged AA", { V6(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6: forged AAAA raw name",
	  { V6(.dns = DNS_RESPONSE(0x8180, .qtype = 28, .an = { ANSWER_AAAA(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "IPv6 + 2 destination options headers: forged AA", { V6(.ipv6_ext_headers = 2, .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6 + routing header: forged AA", { V6(.ipv6_routing = true, .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6 + 6 extension headers (the limit): forged AA", { V6(.ipv6_ext_headers = 6, .dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "IPv6 + 7 extension headers: not parsed", { V6(.ipv6_ext_headers = 7, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_NONE },
	{ "IPv6 unprotected source", { V6(.src = "2001:db8::99", .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_unprotected },

	/* Fragments are never judged. */
	{ "IPv4 first fragment (MF) with ID 0", { V4(.ip_id = 0, .frag_off = 0x2000, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_fragment },
	{ "IPv4 later fragment (offset 185)", { V4(.ip_id = 0, .frag_off = 185, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_fragment },
	{ "IPv4 fragment from an unprotected source", { V4(.src = "192.0.2.99", .frag_off = 0x2000, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_NONE },
	{ "IPv6 fragment header", { V6(.ipv6_fragment = true, .dns = DNS_RESPONSE(0x8580)) }, false, COUNT_pass_fragment },

	/* Lengths that do not add up. */
	{ "UDP length beyond the IP payload", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .udp_len_delta = 1)) }, false, COUNT_pass_malformed },
	{ "UDP length below its header", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .udp_len_delta = (uint16_t)-40)) }, false, COUNT_pass_malformed },
	{ "DNS message shorter than its header", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180, .dns_len_override = 11)) }, false, COUNT_pass_malformed },
	{ "forged raw name followed by link-layer padding",
	  { V4(.trailing = 20, .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "UDP length shorter than the IP payload: the tail is read at the UDP end",
	  { V4(.dns = DNS_RESPONSE(0x8180, .udp_len_delta = (uint16_t)-4, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, COUNT_pass_clean },
};
/* clang-format on */

/* Rows for the sections without a link layer. */
/* clang-format off */
static const struct vector l3_vectors[] = {
	{ "L3 IPv4: forged ID 0", { .no_link = true, V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, COUNT_drop_ipid_zero },
	{ "L3 IPv4: genuine", { .no_link = true, V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, COUNT_pass_clean },
	{ "L3 IPv6: forged AA", { .no_link = true, V6(.dns = DNS_RESPONSE(0x8580)) }, true, COUNT_drop_aa_single },
	{ "L3 IPv6: genuine", { .no_link = true, V6(.dns = DNS_RESPONSE(0x8180)) }, false, COUNT_pass_clean },
	{ "L3 IPv4 options: forged raw name",
	  { .no_link = true, V4(.ipv4_option_words = 2, .dns = DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) })) },
	  true, COUNT_drop_name_uncompressed },
	{ "L3 section given an Ethernet frame", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, false, COUNT_NONE },
};
/* clang-format on */

static int load_object(struct loaded_prog *lp, const char *path, const char *prog_name,
		       enum bpf_prog_type type)
{
	struct bpf_program *prog, *target = NULL;
	struct bpf_map *map;
	int err;

	lp->obj = bpf_object__open_file(path, NULL);
	if (!lp->obj) {
		err = -errno;
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return err;
	}
	/* Load only the program under test; keep maps private to this run. */
	for (prog = bpf_object__next_program(lp->obj, NULL); prog;
	     prog = bpf_object__next_program(lp->obj, prog)) {
		bpf_program__set_type(prog, type);
		bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), prog_name) == 0);
		if (strcmp(bpf_program__name(prog), prog_name) == 0)
			target = prog;
	}
	for (map = bpf_object__next_map(lp->obj, NULL); map;
	     map = bpf_object__next_map(lp->obj, map))
		bpf_map__set_pin_path(map, NULL);
	if (!target) {
		fprintf(stderr, "%s: no program %s\n", path, prog_name);
		return -ENOENT;
	}
	err = bpf_object__load(lp->obj);
	if (err) {
		fprintf(stderr, "load %s %s: %s\n", path, prog_name, strerror(-err));
		return err;
	}
	lp->prog_fd = bpf_program__fd(target);
	lp->counters_fd = bpf_object__find_map_fd_by_name(lp->obj, "cdns_counters");
	lp->resolvers_fd = bpf_object__find_map_fd_by_name(lp->obj, "cdns_resolvers");
	if (lp->counters_fd < 0 || lp->resolvers_fd < 0) {
		fprintf(stderr, "%s: maps cdns_counters/cdns_resolvers missing\n", path);
		return -ENOENT;
	}
	return 0;
}

static int add_resolver(int map_fd, const char *prefix, int len, uint32_t rules)
{
	struct resolver_key key = { 0 };
	struct resolver_policy policy = { .rules = rules };

	if (strchr(prefix, ':')) {
		if (inet_pton(AF_INET6, prefix, key.addr) != 1)
			return -EINVAL;
		key.prefixlen = (uint32_t)len;
	} else {
		key.addr[10] = key.addr[11] = 0xff;
		if (inet_pton(AF_INET, prefix, key.addr + 12) != 1)
			return -EINVAL;
		key.prefixlen = 96 + (uint32_t)len;
	}
	return bpf_map_update_elem(map_fd, &key, &policy, BPF_ANY) ? -errno : 0;
}

/* The same configuration the table's "map" rows expect. */
static int configure(const struct loaded_prog *lp)
{
	int err = 0;

	err = err ?: add_resolver(lp->resolvers_fd, "198.51.100.53", 32, RULE_AA_SINGLE);
	err = err ?: add_resolver(lp->resolvers_fd, "203.0.113.0", 24, RULE_IPID_ZERO);
	err = err ?: add_resolver(lp->resolvers_fd, "8.8.4.4", 32, 0);
	err = err ?: add_resolver(lp->resolvers_fd, "2001:db8:53::", 48, RULE_NAME_UNCOMPRESSED);
	if (err)
		fprintf(stderr, "configure resolvers: %s\n", strerror(-err));
	return err;
}

static int read_counters(const struct loaded_prog *lp, uint64_t sums[COUNT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	struct clean_dns_counters *per_cpu;
	uint32_t zero = 0;
	int cpu, i, err = 0;

	if (ncpus <= 0)
		return -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(lp->counters_fd, &zero, per_cpu)) {
		err = -errno;
		fprintf(stderr, "read counters: %s\n", strerror(errno));
		goto out;
	}
	memset(sums, 0, sizeof(uint64_t) * COUNT_MAX);
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < COUNT_MAX; i++)
			sums[i] += ((uint64_t *)&per_cpu[cpu])[i];
out:
	free(per_cpu);
	return err;
}

/* Runs one frame; returns the program's return value or a negative errno. */
static int run_frame(const struct loaded_prog *lp, const struct frame *f)
{
	struct bpf_test_run_opts opts = {
		.sz = sizeof(opts),
		.data_in = f->bytes,
		.data_size_in = (uint32_t)f->len,
		.repeat = 1,
	};
	uint8_t out[FRAME_MAX + 256];

	opts.data_out = out;
	opts.data_size_out = sizeof(out);
	if (bpf_prog_test_run_opts(lp->prog_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

static int expected_retval(const struct loaded_prog *lp, bool drop)
{
	if (lp->is_tc)
		return drop ? TC_ACT_SHOT : TC_ACT_OK;
	return drop ? XDP_DROP : XDP_PASS;
}

static void report(bool ok, const struct loaded_prog *lp, const char *name, const char *why)
{
	if (ok)
		passed++;
	else
		failed++;
	if (!ok || verbose)
		printf("%s %s: %s%s%s\n", ok ? "ok    " : "not ok", lp->label, name,
		       why ? " -- " : "", why ? why : "");
}

/* Checks one frame's verdict and that exactly the expected counter (and
 * "inspected") moved by one, or nothing moved.
 */
static void check_frame(const struct loaded_prog *lp, const char *name, const struct frame *f,
			bool drop, int counter)
{
	uint64_t before[COUNT_MAX], after[COUNT_MAX];
	char why[256];
	int ret, i;

	if (read_counters(lp, before)) {
		report(false, lp, name, "cannot read counters");
		return;
	}
	ret = run_frame(lp, f);
	if (ret < 0) {
		snprintf(why, sizeof(why), "test run failed: %s", strerror(-ret));
		report(false, lp, name, why);
		return;
	}
	if (ret != expected_retval(lp, drop)) {
		snprintf(why, sizeof(why), "verdict %d, want %s", ret, drop ? "drop" : "pass");
		report(false, lp, name, why);
		return;
	}
	if (read_counters(lp, after)) {
		report(false, lp, name, "cannot read counters");
		return;
	}
	for (i = 0; i < COUNT_MAX; i++) {
		uint64_t want = 0;

		if (counter != COUNT_NONE && (i == counter || i == COUNT_inspected))
			want = 1;
		if (after[i] - before[i] != want) {
			snprintf(why, sizeof(why),
				 "counter %s moved by %llu, want %llu (expected %s)",
				 counter_names[i], (unsigned long long)(after[i] - before[i]),
				 (unsigned long long)want,
				 counter == COUNT_NONE ? "none" : counter_names[counter]);
			report(false, lp, name, why);
			return;
		}
	}
	report(true, lp, name, NULL);
}

static void run_table(const struct loaded_prog *lp, const struct vector *rows, size_t n)
{
	struct frame f;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!build_frame(&f, &rows[i].frame)) {
			report(false, lp, rows[i].name, "bad source address in the row");
			continue;
		}
		check_frame(lp, rows[i].name, &f, rows[i].drop, rows[i].counter);
	}
}

/* Every prefix of a forged and of a genuine frame: a datagram seen in
 * part is never dropped.  Until the UDP header is whole nothing is known to
 * be DNS (no counter); from then on it is counted as malformed.
 */
static void run_truncations(const struct loaded_prog *lp, const struct vector *row,
			    size_t udp_header_end)
{
	struct frame full, cut;
	char name[160];
	/* BPF_PROG_TEST_RUN refuses XDP frames shorter than ETH_HLEN, and skbs
	 * whose IP header it cannot pull.
	 */
	size_t len, min_len = lp->is_tc ? udp_header_end - 8 : 14;

	if (!build_frame(&full, &row->frame)) {
		report(false, lp, row->name, "bad source address in the row");
		return;
	}
	for (len = min_len; len < full.len; len++) {
		cut = full;
		cut.len = len;
		snprintf(name, sizeof(name), "%s cut to %zu of %zu bytes", row->name, len,
			 full.len);
		check_frame(lp, name, &cut, false,
			    len < udp_header_end ? COUNT_NONE : COUNT_pass_malformed);
	}
}

/* clang-format off */
static const struct vector truncated_rows[] = {
	{ "forged IPv4 (ID 0, AA, raw name)",
	  { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) },
	  false, 0 },
	{ "genuine IPv4 with EDNS", { V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, 0 },
	{ "forged IPv6 (AA, raw name)",
	  { V6(.dns = DNS_RESPONSE(0x8580, .an = { ANSWER_A(.name_written_out = true) })) }, false, 0 },
};
/* clang-format on */

static void run_eth_suite(const struct loaded_prog *lp)
{
	run_table(lp, vectors, sizeof(vectors) / sizeof(vectors[0]));
	run_truncations(lp, &truncated_rows[0], 14 + 20 + 8);
	run_truncations(lp, &truncated_rows[1], 14 + 20 + 8);
	run_truncations(lp, &truncated_rows[2], 14 + 40 + 8);
}

/* The captured forgery, byte for byte, as the DNS payload of a frame. */
static void run_wild_capture(const struct loaded_prog *lp)
{
	struct vector row = { "captured rsf.org forgery, exact bytes",
			      { V4(.dns = DNS_RESPONSE(0x8180)) },
			      false,
			      0 };
	struct frame f;
	size_t dns_at = 14 + 20 + 8;

	build_frame(&f, &row.frame);
	memcpy(f.bytes + dns_at, wild_rsf_org, sizeof(wild_rsf_org));
	f.len = dns_at + sizeof(wild_rsf_org);
	f.bytes[14 + 2] = (uint8_t)((f.len - 14) >> 8);
	f.bytes[14 + 3] = (uint8_t)(f.len - 14);
	f.bytes[14 + 20 + 4] = (uint8_t)((f.len - 34) >> 8);
	f.bytes[14 + 20 + 5] = (uint8_t)(f.len - 34);
	check_frame(lp, row.name, &f, false, COUNT_pass_clean);
}

static void unload(struct loaded_prog *lp)
{
	bpf_object__close(lp->obj);
	lp->obj = NULL;
}

static int run_all(const char *build_dir)
{
	struct {
		const char *label, *file, *prog;
		enum bpf_prog_type type;
		bool is_tc, no_link;
	} targets[] = {
		{ "xdp prog", "clean-dns.o", "clean_dns_eth", BPF_PROG_TYPE_XDP, false, false },
		{ "xdp l3", "clean-dns.o", "clean_dns_l3", BPF_PROG_TYPE_XDP, false, true },
		{ "tc classifier", "clean-dns-tc.o", "clean_dns_tc", BPF_PROG_TYPE_SCHED_CLS, true,
		  false },
	};
	char path[512];
	size_t t;

	for (t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		struct loaded_prog lp = { .label = targets[t].label,
					  .is_tc = targets[t].is_tc,
					  .no_link = targets[t].no_link };

		snprintf(path, sizeof(path), "%s/%s", build_dir, targets[t].file);
		if (load_object(&lp, path, targets[t].prog, targets[t].type) || configure(&lp)) {
			report(false, &lp, "load", path);
			if (lp.obj)
				unload(&lp);
			continue;
		}
		if (lp.no_link) {
			run_table(&lp, l3_vectors, sizeof(l3_vectors) / sizeof(l3_vectors[0]));
		} else {
			run_eth_suite(&lp);
			run_wild_capture(&lp);
		}
		unload(&lp);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* For each address, which rules fire: one probe frame per rule, each with
 * only that fingerprint.  Prints "ADDR=rule,rule" (or "ADDR=none").
 */
static int probe(const char *build_dir, int argc, char **argv)
{
	static const struct {
		const char *rule;
		struct dns_spec dns;
		uint16_t ip_id, frag_off;
	} probes[] = {
		{ "ipid-zero", DNS_RESPONSE(0x8180), 0, 0 },
		{ "df", DNS_RESPONSE(0x8180), 0x4d2e, 0x4000 },
		{ "aa-single", DNS_RESPONSE(0x8580), 0x4d2e, 0 },
		{ "name-uncompressed",
		  DNS_RESPONSE(0x8180, .an = { ANSWER_A(.name_written_out = true) }), 0x4d2e, 0 },
	};
	struct loaded_prog lp = { .label = "probe" };
	char path[512];
	int i, err;

	snprintf(path, sizeof(path), "%s/clean-dns.o", build_dir);
	err = load_object(&lp, path, "clean_dns_eth", BPF_PROG_TYPE_XDP);
	if (err)
		return 1;
	for (i = 0; i < argc; i++) {
		bool v6 = strchr(argv[i], ':') != NULL, any = false;
		size_t p;

		printf("%s=", argv[i]);
		for (p = 0; p < sizeof(probes) / sizeof(probes[0]); p++) {
			struct frame_spec spec = { .family = v6 ? 6 : 4,
						   .src = argv[i],
						   .ip_id = probes[p].ip_id,
						   .frag_off = probes[p].frag_off,
						   .dns = probes[p].dns };
			struct frame f;

			if (v6 && probes[p].ip_id != 0x4d2e)
				continue; /* IPv4-only fingerprints */
			if (v6 && probes[p].frag_off)
				continue;
			if (!build_frame(&f, &spec)) {
				fprintf(stderr, "bad address %s\n", argv[i]);
				unload(&lp);
				return 1;
			}
			if (run_frame(&lp, &f) == XDP_DROP) {
				printf("%s%s", any ? "," : "", probes[p].rule);
				any = true;
			}
		}
		printf("%s\n", any ? "" : "none");
	}
	unload(&lp);
	return 0;
}

/* Writes a few frames for tools that take packet files (bpftool prog run). */
static int write_frames(const char *dir)
{
	static const struct vector rows[] = {
		{ "forged-ipid-zero", { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8180)) }, true, 0 },
		{ "forged-aa-single", { V4(.dns = DNS_RESPONSE(0x8580)) }, true, 0 },
		{ "genuine", { V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, 0 },
		{ "non-dns-udp", { V4(.sport = 443, .dns = DNS_RESPONSE(0x8180)) }, false, 0 },
		{ "genuine-ipv6", { V6(.dns = DNS_RESPONSE(0x8180, .opt = true)) }, false, 0 },
		{ "genuine-vlan",
		  { .vlan_tags = 1, V4(.dns = DNS_RESPONSE(0x8180, .opt = true)) },
		  false,
		  0 },
		{ "genuine-multi",
		  { V4(.ip_id = 0, .dns = DNS_RESPONSE(0x8580, .an_count = 2,
						       .an = { ANSWER_A(), ANSWER_A() })) },
		  false,
		  0 },
	};
	char path[512];
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		FILE *out;

		snprintf(path, sizeof(path), "%s/%s.bin", dir, rows[i].name);
		build_frame(&f, &rows[i].frame);
		out = fopen(path, "wb");
		if (!out || fwrite(f.bytes, 1, f.len, out) != f.len) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			if (out)
				fclose(out);
			return 1;
		}
		if (fclose(out)) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int arg = 1;

	libbpf_set_print(NULL);
	if (arg < argc && strcmp(argv[arg], "-v") == 0) {
		verbose = true;
		arg++;
	}
	if (arg < argc && strcmp(argv[arg], "--probe") == 0) {
		if (argc - arg < 2) {
			fprintf(stderr, "usage: %s --probe BUILD_DIR ADDR...\n", argv[0]);
			return 2;
		}
		return probe(argv[arg + 1], argc - arg - 2, argv + arg + 2);
	}
	if (arg < argc && strcmp(argv[arg], "--write-frames") == 0) {
		if (argc - arg != 2) {
			fprintf(stderr, "usage: %s --write-frames DIR\n", argv[0]);
			return 2;
		}
		return write_frames(argv[arg + 1]);
	}
	if (argc - arg != 1) {
		fprintf(stderr, "usage: %s [-v] BUILD_DIR | --probe BUILD_DIR ADDR...\n", argv[0]);
		return 2;
	}
	return run_all(argv[arg]);
}
