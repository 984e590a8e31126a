// SPDX-License-Identifier: GPL-2.0
/* The floor for benchmarks: an XDP program that passes every frame.
 * Tests also use it as "someone else's" program that clean-dns must leave
 * alone.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("prog")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
