/* SPDX-License-Identifier: GPL-2.0 */
/* What the sockfwd verdict program and the helper share: map names, the
 * control block the helper writes and the counters the program writes.
 */
#ifndef SOCKFWD_H
#define SOCKFWD_H

#include <linux/types.h>

/* Pinned names under the pin directory (default /sys/fs/bpf/sockfwd). */
#define SOCKFWD_PEERS_MAP "sockfwd_peers"
#define SOCKFWD_CTL_MAP "sockfwd_ctl"
#define SOCKFWD_STATE_MAP "sockfwd_state"
#define SOCKFWD_EVENTS_MAP "sockfwd_events"
#define SOCKFWD_PROG "sockfwd_verdict"

/* Two SOCKHASH entries per flow, one per direction. */
#define SOCKFWD_MAX_SOCKS 65536

enum sockfwd_mode {
	/* Bytes stay with the source socket; the helper reads them. */
	SOCKFWD_PASS = 0,
	/* Bytes go straight to the peer. */
	SOCKFWD_REDIRECT = 1,
	/* Go back to redirecting once the helper has read every byte the
	 * program passed (state.passed == ctl.consumed), so nothing the
	 * helper still holds can be overtaken by a redirected byte.
	 */
	SOCKFWD_RESUME = 2,
};

/* In REDIRECT and RESUME the program redirects only while nothing it passed
 * waits for the helper (state.passed == ctl.consumed) and the skb keeps
 * state.redirected within ctl.redirect_limit.  Past the limit it passes the
 * skb, and with it every later one: the direction is paused in the kernel,
 * at once, and the program says so with the source's cookie in the
 * sockfwd_events ring buffer.  The helper raises the limit as the peer's
 * queue drains; that is what bounds the queue, however long the helper
 * takes to look.
 */

/* Per source socket, written only by the helper. */
struct sockfwd_ctl {
	__u32 mode;
	__u32 gen;
	__u64 consumed;
	__u64 redirect_limit;
};

/* Per source socket, written only by the verdict program.  The program
 * runs under the source socket's lock, so plain adds are enough.
 */
struct sockfwd_state {
	__u64 redirected;
	__u64 passed;
	__u32 resumed_gen;
	/* Sequence number of the next byte never seen, valid once seq_known:
	 * a retransmission that overlaps bytes already delivered is queued
	 * whole by TCP, and the verdict (tcp_read_skb) gets it whole.
	 */
	__u32 next_seq;
	__u32 seq_known;
	__u32 trim_failed; /* overlap we could not cut: the stream is corrupt */
	__u64 overlap_cut; /* duplicate bytes removed */
	__u64 limit_pauses; /* times the program paused at redirect_limit */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last skb: --idle-timeout */
};

#endif
