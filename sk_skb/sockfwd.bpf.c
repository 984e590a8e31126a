// SPDX-License-Identifier: GPL-2.0
/* sockfwd stream verdict: every byte a managed socket receives goes to its
 * peer socket, found in a SOCKHASH under the source socket's cookie.
 *
 * The helper (the sockfwd program built from the other C files here; how
 * the two work together: docs/sockfwd.md) fills the maps and may switch a
 * socket to PASS, where bytes stay in the socket for the helper to read:
 * that is how the peer's redirect queue stays bounded (the kernel does not
 * bound it) and how the helper hands the flow back to the kernel without
 * reordering bytes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

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

/* Cookies of sockets the program just paused at their redirect limit: wakes
 * the helper, which may not look at an idle flow for a second.  A full ring
 * loses the word, not the bound: the helper's next look finds the pause.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} sockfwd_events SEC(".maps");

/* Only the fields we read, relocated against the running kernel's BTF. */
struct sk_buff___sockfwd {
	char cb[48];
} __attribute__((preserve_access_index));

struct tcp_sock___sockfwd {
	__u32 copied_seq;
} __attribute__((preserve_access_index));

/* sk_skb may shrink the head by at most 4095 bytes per call. */
#define TRIM_STEP 4095
#define TRIM_STEPS 17 /* 64 KiB + a bit: the largest TCP skb */

/* Kernel quirk (6.18, as we read the source): tcp_read_skb(), which feeds
 * verdict-only psocks, hands over whole skbs and ignores copied_seq, but TCP
 * queues a partially duplicate retransmission whole ("seq < rcv_nxt <
 * end_seq") and leaves the overlap to recvmsg.  We saw bytes redirected
 * twice (65,160 extra in a 128 MiB transfer over a veth that retransmitted).
 * The same goes for an skb the helper read the SOCKS reply from.  So cut
 * every byte before the first one never seen.  Returns 0 to go on, 1 when
 * the whole skb is old.
 */
static __always_inline int cut_old_bytes(struct __sk_buff *skb, struct sockfwd_state *state)
{
	/* TCP_SKB_CB(skb)->seq: the first 4 bytes of cb.  For sk_skb the
	 * ctx pointer is the kernel's struct sk_buff, and a privileged loader
	 * may pass it to probe_read (ARG_ANYTHING); the kfunc
	 * bpf_cast_to_kern_ctx would need 6.2, this loads from 5.10 on.
	 */
	const char *cb = (const char *)skb + bpf_core_field_offset(struct sk_buff___sockfwd, cb);
	__u32 seq = 0, len = skb->len;
	int overlap, step, i;

	if (bpf_probe_read_kernel(&seq, sizeof(seq), cb))
		return 0;
	if (!state->seq_known) {
		struct bpf_sock *sk = skb->sk;
		struct tcp_sock___sockfwd *tp;

		if (!sk)
			return 0;
		tp = (struct tcp_sock___sockfwd *)bpf_skc_to_tcp_sock(sk);
		if (!tp)
			return 0;
		/* Bytes before copied_seq were read by the helper (the proxy's
		 * reply) or redirected before: none of them goes again.
		 */
		state->next_seq = BPF_CORE_READ(tp, copied_seq);
		state->seq_known = 1;
	}
	overlap = (int)(state->next_seq - seq);
	if (overlap <= 0) {
		state->next_seq = seq + len;
		return 0;
	}
	if ((__u32)overlap >= len) {
		state->overlap_cut += len;
		return 1;
	}
	state->next_seq = seq + len;
	state->overlap_cut += overlap;
	for (i = 0; i < TRIM_STEPS && overlap > 0; i++) {
		step = overlap > TRIM_STEP ? TRIM_STEP : overlap;
		if (bpf_skb_adjust_room(skb, -step, 0, 0))
			break;
		overlap -= step;
	}
	/* A failed cut, or more overlap than TRIM_STEPS can cut (an skb past
	 * 64 KiB, BIG TCP): old bytes would go again.
	 */
	if (overlap > 0)
		state->trim_failed = 1;
	return 0;
}

/* cppcheck-suppress unknownMacro */
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
	state->last_ns = bpf_ktime_get_ns();
	if (cut_old_bytes(skb, state))
		return SK_DROP;
	/* The stream is corrupt from here: deliver nothing more, and wake the
	 * helper, which resets both sides (-EILSEQ).
	 */
	if (state->trim_failed) {
		bpf_ringbuf_output(&sockfwd_events, &cookie, sizeof(cookie), 0);
		return SK_DROP;
	}

	/* Once one skb is passed, every later one is, until the helper has
	 * read them all: a redirected byte must not overtake them.
	 */
	may_redirect = ctl->mode != SOCKFWD_PASS && state->passed == ctl->consumed;
	if (may_redirect && state->redirected + skb->len > ctl->redirect_limit) {
		/* The peer's redirect queue is full: bytes stay here, where
		 * they count against the receive window.
		 */
		may_redirect = 0;
		state->limit_pauses++;
		bpf_ringbuf_output(&sockfwd_events, &cookie, sizeof(cookie), 0);
	}
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
