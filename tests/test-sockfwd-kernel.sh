# shellcheck shell=bash
# timeout: 60
# The kernel's side of sockfwd, after the kernel selftests
# prog_tests/sockmap_basic.c (FIONREAD) and sockmap_listen.c (listening and
# unconnected sockets).  build/tests/sockmap-contract drives the real verdict
# program (build/sockfwd.o in private pins) through its maps, writing the
# entries the helper writes, with TCP pairs on the loopback of a namespace
# of its own.  It prints one "ok"/"FAIL" line per check; here we also make
# sure the checks we rely on did run.
# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh

CONTRACT=$TOOLS/sockmap-contract

# kernel_setup: namespace fwd (loopback only) and pins of our own.
kernel_setup() {
	[ -x "$CONTRACT" ] || fail "$CONTRACT missing: run make tools"
	ns_add fwd
	sfw_load_maps
}

# contract SCENARIO ARGS...: run the tool in fwd; its output goes to the
# log and to $TEST_TMP/out.  A FAIL line or a non-zero exit fails the test,
# and so does a run that did not reach its last line ("done SCENARIO: 0
# failed"): every check the scenario has ran, however many that is.
contract() {
	local rc
	nsx fwd "$CONTRACT" "$1" --maps "$PIN" "${@:2}" >"$TEST_TMP/out" 2>&1
	rc=$?
	cat "$TEST_TMP/out"
	if grep -q '^FAIL' "$TEST_TMP/out"; then
		fail "sockmap-contract $1: $(grep -c '^FAIL' "$TEST_TMP/out") failed, first: $(grep -m1 '^FAIL' "$TEST_TMP/out")"
	fi
	[ "$rc" -eq 0 ] || fail "sockmap-contract $1 exited with $rc"
	grep -qx "done $1: 0 failed" "$TEST_TMP/out" || fail "sockmap-contract $1 did not run to its end"
}

# expect_ok TEXT: the tool printed a passing check containing TEXT (fixed string).
expect_ok() {
	grep '^ok ' "$TEST_TMP/out" | grep -qF -- "$1" || fail "no passing check with '$1'"
}

# behaviour NAME: what the tool found this kernel does (a "behaviour NAME:
# VALUE" line), where builds differ and sockfwd depends on neither.
behaviour() {
	sed -n "s/^behaviour $1: \([a-z]*\).*/\1/p" "$TEST_TMP/out"
}

# sockmap_basic's skb_verdict_fionread, in sockfwd's three modes.
test_fionread() {
	kernel_setup
	contract fionread
	# REDIRECT: the bytes are at the destination, none stays in the source.
	expect_ok "redirect n=1: FIONREAD on d before it reads = 1 (want 1)"
	expect_ok "redirect n=1000: FIONREAD on d before it reads = 1000 (want 1000)"
	expect_ok "redirect n=1000: FIONREAD on b (the source) = 0 (want 0)"
	expect_ok "redirect n=8388608: FIONREAD on b stayed 0 while the reader drained d (largest seen 0)"
	expect_ok "redirect back n=1000: a received exactly the bytes sent into d, FIONREAD on c = 0"
	# PASS: the bytes wait in the source, FIONREAD counts them.
	expect_ok "pass n=1: FIONREAD on b = 1 (want 1)"
	expect_ok "pass n=1000: FIONREAD on b = 1000 (want 1000)"
	expect_ok "pass n=8388608: recv() on b got 8388608 bytes, intact and in order"
	# RESUME: not while passed bytes are unread, then in order.
	expect_ok "resume gen 2 with 2000 bytes unread: FIONREAD on b = 2000, all still passed"
	expect_ok "resume gen 3 with nothing unread: resumed_gen = 3"
	expect_ok "after resume n=8388608: d received 8388608 bytes, intact and in order"
	# The redirect limit: a pause in the kernel, one event, held until
	# the passed bytes are read.
	expect_ok "limit: the skb past the limit stays in b (FIONREAD 1000), d gets nothing"
	expect_ok "limit: one event, with b's cookie"
	expect_ok "limit raised, passed bytes unread: still passed (FIONREAD on b 2001)"
	# The tool checks sent = redirected + passed and passed = read by the
	# helper; how the bytes split between the two is not ours to fix here.
	expect_ok "every byte once: "
	expect_ok "after close: 0 SOCKHASH entries"
	check_eq "$(sfw_entries)" 0 "SOCKHASH entries (bpftool) at the end"
}

# sockmap_listen: listeners in the map, children, sockets not connected.
# A child accepted from a listener in the map loses its bytes on some 6.18
# builds and keeps them on others (sockmap-contract.c): recorded, not
# judged.  Under either, what sockfwd promises holds: it never puts its
# listener in the map, and its flows carry every byte.
test_listening_and_unconnected_sockets() {
	local name found child
	kernel_setup
	contract listen
	expect_ok "insert a listening socket: accepted"
	expect_ok "lookup by key gives the listener's cookie"
	expect_ok "lookup after delete: ENOENT"
	expect_ok "child's cookie is not a key: lookup ENOENT"
	expect_ok "the map holds the listener only (1 entries), not the child"
	expect_ok "the verdict program never ran on the child (redirected 0, passed 0)"
	for name in listener_child listener_child_deleted_before_accept; do
		found=$(behaviour $name)
		case $found in
		lost | delivered) log "kernel behaviour $name: $found" ;;
		'') fail "no behaviour recorded for $name" ;;
		*) log "note: kernel behaviour $name: $found (neither known one; sockfwd does not depend on it)" ;;
		esac
	done
	expect_ok "child made after the listener's entry was deleted: bytes delivered to recv()"
	expect_ok "control, listener never in the map: child's bytes delivered to recv()"
	# The errno of each refused insert, as 6.18 gives it.
	expect_ok "insert socket() only (CLOSE): EOPNOTSUPP (errno 95)"
	expect_ok "insert bound, not listening (CLOSE): EOPNOTSUPP (errno 95)"
	expect_ok "non-blocking connect to a full listener: Operation now in progress, SYN dropped"
	expect_ok "insert in SYN_SENT (SYN_SENT): EOPNOTSUPP (errno 95)"
	expect_ok "insert after ECONNREFUSED (CLOSE): EOPNOTSUPP (errno 95)"
	expect_ok "insert in CLOSE_WAIT (CLOSE_WAIT): EOPNOTSUPP (errno 95)"
	expect_ok "insert fd -1: EINVAL (errno 22)"
	expect_ok "insert a closed fd: EBADF (errno 9)"
	expect_ok "the map is empty at the end: 0 entries"
	# Our side, with this kernel's behaviour.
	child=$(behaviour listener_child)
	flows_through_sockfwd 2
	log "with listener_child: $child, sockfwd kept its listener out and its flows whole"
}

# flows_through_sockfwd N [CMD]: sockfwd on 127.0.0.1:7000 (target 7001),
# N flows through it (CMD run while they are open): bytes intact both ways,
# the map holds exactly their sockets, in pairs, never the listener; all
# gone once they close.  The listener's cookie in LISTENER_COOKIE.
LISTENER_COOKIE=
flows_through_sockfwd() {
	local n=$1
	sfw_start -l 127.0.0.1:7000 -t 127.0.0.1:7001 --mode sockmap
	# The listener's cookie as ss reports it (inet_diag's sk: is the socket
	# cookie), to cross-check the tool, which takes it with pidfd_getfd().
	LISTENER_COOKIE=$(nsx fwd ss -Hltne 'sport = :7000' | sed -n 's/.* sk:\([0-9a-f]*\).*/\1/p')
	[ -n "$LISTENER_COOKIE" ] || fail "ss shows no cookie for sockfwd's listener"
	contract flows --pid "$SFW_PID" --connect 7000 --target 7001 --flows "$n" --exec "${2:-}"
	expect_ok "flow $((n - 1)): 1000 bytes up through sockfwd"
	expect_ok "flow $((n - 1)): 1000 bytes down through sockfwd"
	expect_ok "$n flows open: $((2 * n)) SOCKHASH entries (want $((2 * n)))"
	expect_ok "sockfwd holds 1 listener(s) and $((2 * n)) other TCP sockets, $((2 * n)) ESTABLISHED (want 1 and $((2 * n)))"
	expect_ok "every key and value is the cookie of one of sockfwd's $((2 * n)) flow sockets"
	expect_ok "entries come in pairs: each value's own entry holds its key"
	expect_ok "the listener's cookie (0x$LISTENER_COOKIE) is neither key nor value"
	expect_ok "flows closed: 0 SOCKHASH entries left"
	expect_ok "flows closed: 0 control and 0 state entries left"
	sfw_stop
	check_eq "$(grep -c 'mode=sockmap' "$SFW_LOG")" "$n" "flows logged in sockmap mode"
	check_eq "$(sfw_entries)" 0 "SOCKHASH entries after sockfwd exited"
}

# sockfwd itself: while flows run, the SOCKHASH holds exactly their sockets
# (2 per flow, in pairs), never the listener; all gone once they close.
# bpftool's view of the map, taken while they are open, agrees.
test_sockfwd_never_maps_its_listener() {
	local le
	kernel_setup
	flows_through_sockfwd 4 "bpftool map dump pinned '$PIN/sockfwd_peers' >'$TEST_TMP/dump'"
	check_eq "$(grep -c '^key' "$TEST_TMP/dump")" 8 "SOCKHASH entries in bpftool's dump"
	le=$(printf '%016x' "0x$LISTENER_COOKIE" | sed 's/\(..\)/\1 /g' |
		awk '{ for (i = 8; i > 1; i--) printf "%s ", $i; printf "%s", $1 }')
	if grep -qF "$le" "$TEST_TMP/dump"; then
		fail "bpftool's dump holds the listener's cookie ($le)"
	fi
	log "ok: listener cookie $le not in bpftool's dump"
}

# sockfwd probes at start what relay_sockmap.c relies on (sk_skb/kcheck.c) and says
# what it found in its ready line; auto mode uses sockmap only if every
# fact is "ok" (or, none probed, the kernel is 6.1 or later).  The facts
# are this kernel's; the test checks they are there, that the probe stays
# quick, and that the mode follows from them.
test_ready_line_has_kernel_facts() {
	local ready facts ms
	kernel_setup
	sfw_start -l 127.0.0.1:7000 -t 127.0.0.1:7001
	ready=$(grep -m1 ready "$SFW_LOG")
	log "$ready"
	facts=$(sed -n "s/.*, kernel $(uname -r): \(early_bytes=[a-z]* backlog_retry=[a-z]* fin=[a-z]*\) (probed in \([0-9]*\) ms)$/\1 \2/p" <<<"$ready")
	[ -n "$facts" ] || fail "the ready line does not carry the kernel's facts: $ready"
	ms=${facts##* }
	facts=${facts% *}
	log "kernel $(uname -r): $facts, probed in $ms ms"
	[ "$ms" -lt 1000 ] || fail "the probe took $ms ms"
	sfw_bg fwd "$PEER" -l 127.0.0.1:7001 -r 100000 -H
	wait_for 5 listening fwd 7001 || fail "target not listening"
	nsx fwd timeout 10 "$PEER" -c 127.0.0.1:7000 -g 100000 -H 2>/dev/null || fail "a flow through sockfwd failed"
	wait_log "close=eof"
	log "$(log_lines)"
	if [ "$facts" = "early_bytes=ok backlog_retry=ok fin=ok" ]; then
		log_lines | grep -q "mode=sockmap up=100000 " || fail "every fact ok, yet the flow is not in sockmap mode"
	else
		grep -q "sockmap unavailable (kernel $(uname -r): " "$SFW_LOG" ||
			fail "a fact is not ok ($facts), yet sockmap was not ruled out"
		log_lines | grep -q "mode=splice up=100000 " || fail "a fact is not ok, yet the flow is not in splice mode"
	fi
	sfw_stop
	# Without the maps nothing is probed, and the line says so.
	sfw_start -l 127.0.0.1:7000 -t 127.0.0.1:7001 --mode splice
	wait_log "ready: splice mode, maps not used, .*, kernel $(uname -r): early_bytes=unknown backlog_retry=unknown fin=unknown (not probed: maps not used)"
}
