// SPDX-License-Identifier: GPL-2.0
/* sockfwd stream verdict: every byte a managed socket receives goes to its
 * peer socket, found in a SOCKHASH under the source socket's cookie.
 *
 * The helper (sk_skb/sockfwd.c) fills the maps and may switch a socket to
 * PASS, where bytes stay in the socket for the helper to read: that is how
 * the helper bounds the peer's redirect queue (the kernel does not) and how
 * it hands the flow back to the kernel without reordering bytes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sockfwd.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SOCKFWD_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} sockfwd_peers SEC(".maps");

/* sk_skb programs may not use socket local storage (6.18), so both are
 * hashes by cookie.  NO_PREALLOC: an element the helper replaces or deletes
 * is freed after an RCU grace period, so the program never reads or writes
 * an element already reused for another socket.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SOCKFWD_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct sockfwd_ctl);
} sockfwd_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SOCKFWD_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct sockfwd_state);
} sockfwd_state SEC(".maps");

SEC("sk_skb/stream_verdict")
int sockfwd_verdict(struct __sk_buff *skb)
{
	struct sockfwd_state *state;
	struct sockfwd_ctl *ctl;
	__u64 cookie;
	int may_redirect;

	/* The skb that carries FIN may be empty.  Redirected, it makes the
	 * peer's send fail with EPIPE; the FIN itself is the helper's job.
	 */
	if (skb->len == 0)
		return SK_DROP;
	cookie = bpf_get_socket_cookie(skb);
	ctl = bpf_map_lookup_elem(&sockfwd_ctl, &cookie);
	state = bpf_map_lookup_elem(&sockfwd_state, &cookie);
	/* Not set up (yet): leave the bytes to the helper. */
	if (!ctl || !state)
		return SK_PASS;

	may_redirect = ctl->mode == SOCKFWD_REDIRECT ||
		       (ctl->mode == SOCKFWD_RESUME &&
			(state->resumed_gen == ctl->gen || state->passed == ctl->consumed));
	if (may_redirect) {
		if (bpf_sk_redirect_hash(skb, &sockfwd_peers, &cookie, 0) == SK_PASS) {
			state->resumed_gen = ctl->gen;
			state->redirected += skb->len;
			return SK_PASS;
		}
	}
	/* SK_PASS without a redirect target queues the bytes on this socket. */
	state->passed += skb->len;
	return SK_PASS;
}

char _license[] SEC("license") = "GPL";
