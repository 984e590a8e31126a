// SPDX-License-Identifier: GPL-2.0
/* Differential fuzzing of clean-dns: every input goes through the packet
 * path twice, compiled for the host (tests/fuzz/host-model.h) and as the
 * loaded BPF program (BPF_PROG_TEST_RUN), and the counter each side chose
 * must be the same.  Every drop must also be confirmed by the forward
 * parser of forgery-oracle.h.  Any disagreement aborts, which libFuzzer
 * reports with the input that caused it.
 *
 * The first input byte picks the program: even, Ethernet ("prog"); odd,
 * no link layer ("l3").  The rest is the frame.
 *
 * Environment: CLEAN_DNS_BUILD (default "build"), the objects' directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include "host-model.h"
#include "forgery-oracle.h"
#include "../tools/cdns-harness.h"

#define FRAME_MIN 14 /* BPF_PROG_TEST_RUN refuses shorter XDP frames */
#define FRAME_MAX 1514

static const char *const query_resolvers[] = { "198.51.100.53", "2001:db8:53::53", "8.8.8.8" };

static struct cdns_objects objects;
static int prog_eth, prog_l3;
static unsigned long long runs, drops;

static const char *const counter_names[] = {
#define NAME(n) #n,
	CLEAN_DNS_COUNTERS(NAME)
#undef NAME
};

static void report_stats(void)
{
	fprintf(stderr, "clean-dns-fuzz: %llu inputs compared, %llu drops confirmed\n", runs,
		drops);
}

/* The BPF maps get what the host model holds. */
static int configure_bpf(void)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(model_resolvers) / sizeof(model_resolvers[0]); i++) {
		err = cdns_add_resolver(&objects.maps, model_resolvers[i].text,
					model_resolvers[i].len, model_resolvers[i].rules);
		if (err)
			return err;
	}
	for (i = 0; i < sizeof(model_bogus) / sizeof(model_bogus[0]); i++) {
		err = cdns_add_bogus(&objects.maps, model_bogus[i].text, model_bogus[i].len);
		if (err)
			return err;
	}
	for (i = 0; i < (size_t)model.nqueries; i++) {
		struct query_state state = { 0 };

		if (bpf_map_update_elem(objects.maps.queries, &model.queries[i], &state, BPF_ANY))
			return -errno;
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *build = getenv("CLEAN_DNS_BUILD");

	(void)argc;
	(void)argv;
	libbpf_set_print(NULL);
	if (model_init(query_resolvers, 3) || cdns_load(&objects, build ? build : "build") ||
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

static void disagree(const char *what, int host, int kernel)
{
	fprintf(stderr, "clean-dns-fuzz: %s: host %s, kernel %s\n", what,
		host < COUNT_MAX ? counter_names[host] : "none",
		kernel < COUNT_MAX ? counter_names[kernel] : "none");
	abort();
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

/* Is a drop for REASON backed by the bytes? */
static int oracle_confirms(const uint8_t *frame, size_t len, int l3, int reason,
			   int expected_ttl_before)
{
	struct oracle_packet pkt;
	struct oracle_answer ans;
	struct addr_key answer = { .prefixlen = 128 };
	uint16_t flags, ns, ar;

	/* Which resolvers have which rules is the model's configuration, and
	 * the differential check holds the kernel to it; here, the bytes.
	 */
	if (!oracle_parse(frame, len, l3, &pkt) || !oracle_answer(&pkt.dns, &ans))
		return 0;
	if (!oracle_u16(&pkt.dns, 2, &flags) || !oracle_u16(&pkt.dns, 8, &ns) ||
	    !oracle_u16(&pkt.dns, 10, &ar))
		return 0;
	if (!(flags & 0x8000) || (flags & 0x7800))
		return 0;

	switch (reason) {
	case COUNT_drop_ipid_zero:
		return pkt.is_ipv4 && pkt.ipv4_id == 0;
	case COUNT_drop_df:
		return pkt.is_ipv4 && pkt.ipv4_frag_off == 0x4000;
	case COUNT_drop_aa_single:
		return (flags & 0x0400) && (flags & 0x0100) && ns == 0;
	case COUNT_drop_name_uncompressed:
		return ans.name_written_out && (ans.type == 1 || ans.type == 28);
	case COUNT_drop_bogus_addr:
		if (ans.type == 1 && ans.rdlength == 4) {
			answer.addr[10] = answer.addr[11] = 0xff;
			memcpy(answer.addr + 12, ans.rdata, 4);
		} else if (ans.type == 28 && ans.rdlength == 16) {
			memcpy(answer.addr, ans.rdata, 16);
		} else {
			return 0;
		}
		return address_is_bogus(&answer);
	case COUNT_drop_edns_echo:
		return ar == 0;
	case COUNT_drop_hop_count:
		return expected_ttl_before >= 0 &&
		       (pkt.ttl > expected_ttl_before + 1 || pkt.ttl + 1 < expected_ttl_before);
	case COUNT_drop_flow_label:
		return !pkt.is_ipv4 && pkt.flow_label == 0;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t before[COUNT_MAX], after[COUNT_MAX];
	/* The kernel's layout: Ethernet 2 bytes into an aligned buffer
	 * (NET_IP_ALIGN), so the IP header is 4-byte aligned; without a link
	 * layer the IP header starts aligned.
	 */
	static _Alignas(8) uint8_t buffer[FRAME_MAX + 8];
	uint8_t *frame;
	size_t len = size - 1;
	int l3, host, kernel, ret, expected_ttl;
	struct hdr_cursor nh;
	struct packet_facts pkt = { 0 };

	if (size < 1 + FRAME_MIN || size > 1 + FRAME_MAX)
		return 0;
	l3 = data[0] & 1;
	frame = buffer + (l3 ? 0 : 2);
	memcpy(frame, data + 1, len);

	/* The hop profile the drop will be judged against, before the run. */
	nh.pos = frame;
	if (parse_to_transport(&nh, frame + len, l3 ? FIRST_IP : FIRST_ETHERNET, &pkt) < 0 ||
	    fill_addresses(&pkt, frame + len))
		memset(&pkt, 0, sizeof(pkt));
	expected_ttl = hop_count_expected(&pkt.src);

	host = classify_frame(NULL, frame, frame + len, l3 ? FIRST_IP : FIRST_ETHERNET);

	if (cdns_read_counters(&objects.maps, before))
		abort();
	ret = cdns_run(l3 ? prog_l3 : prog_eth, frame, len);
	if (ret < 0)
		return 0; /* the kernel refused the frame: nothing to compare */
	if (cdns_read_counters(&objects.maps, after))
		abort();
	kernel = moved_counter(before, after);
	runs++;
	if (getenv("CLEAN_DNS_FUZZ_DEBUG")) {
		int i;

		fprintf(stderr, "ret %d host %d kernel %d\n", ret, host, kernel);
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
	if (ret == XDP_DROP) {
		if (!oracle_confirms(frame, len, l3, host, expected_ttl))
			disagree("a drop the forward parser cannot confirm", host, kernel);
		drops++;
	}
	return 0;
}
