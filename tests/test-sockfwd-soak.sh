# shellcheck shell=bash
# timeout: 150
# A short sockfwd soak (make soak DURATION=600 for a long one): 200
# connections at a time for 50 s, random sizes and endings, with the proxy
# killed, the program detached and the helper sent SIGTERM once each.
# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh
# shellcheck source=tests/soak/soak.sh
. tests/soak/soak.sh

test_soak_faults() {
	soak_run "${SOAK_SECONDS:-50}" 200 $((4 << 20))
}

# Found by the soak: the server sends and closes, the client answers one
# byte and closes.  tcpi_bytes_acked counts the SYN of the socket sockfwd
# connected; taken for a byte, it let the FIN overtake that last byte
# (10 runs in 60 lost it, with -v).  Each round must deliver it.  This
# leaves the case to scheduling (it caught the SYN counted as a byte about
# 1 round in 30); test_fin_waits_for_queued_byte_sockmap makes it certain.
test_last_byte_before_fin_sockmap() {
	local round got lost=0
	sfw_topology
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap -v
	for round in $(seq 1 30); do
		sfw_bg srv sh -c "'$PEER' -l 203.0.113.2:5001 -g 2000000 -o - 2>/dev/null | wc -c >'$TEST_TMP/got'"
		wait_for 5 listening srv 5001 || fail "server not listening"
		nsx cli timeout 10 "$PEER" -c 192.0.2.2:1000 -A -g 1 2>/dev/null || fail "client failed"
		wait_for 5 test -s "$TEST_TMP/got" || fail "server did not finish"
		got=$(cat "$TEST_TMP/got")
		rm -f "$TEST_TMP/got"
		[ "$got" = 1 ] || { lost=$((lost + 1)); log "round $round: the server got $got bytes"; }
	done
	check_eq "$(log_lines | grep -c 'mode=sockmap up=1 down=2000000 .*close=eof')" 30 "flows in sockmap mode"
	check_eq "$lost" 0 "rounds that lost the last byte"
}

# Found by the soak: a flow inserted while the program is detached would
# stall for good.  It goes to splice instead, and to sockmap again once the
# program is back.
test_detached_program_falls_back() {
	sfw_topology
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001
	bpftool prog detach pinned "$PIN/sockfwd_verdict" stream_verdict pinned "$PIN/sockfwd_peers" ||
		fail "detach failed"
	SRV_OPTS="-r 100000 -H" sha_transfer 192.0.2.2:1000 100000 300000 -H
	wait_log 'mode=splice fallback="sockmap: no verdict program attached" up=100000 down=300000'
	"$ROOT/scripts/sockfwd-load" load -d "$PIN" >/dev/null || fail "re-attach failed"
	SRV_OPTS="-r 100000 -H" sha_transfer 192.0.2.2:1000 100000 300000 -H
	wait_log 'mode=sockmap up=100000 down=300000'
	check_eq "$(sfw_entries)" 0 "sockhash entries"
}

# FIN_CLIENT DATA FIFO (python3): connects to 192.0.2.2:1000 and sends
# DATA as told on FIFO, one command a line: a number N sends the next N
# bytes; "fin" sends the next byte alone and shuts down its write side.
# Then it reads until EOF.
FIN_CLIENT='
import socket, sys
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("192.0.2.2", 1000))
off = 0
while True:
    with open(sys.argv[2]) as cmds:
        cmd = cmds.readline().strip()
    if not cmd:  # opened before the last writer had closed
        continue
    if cmd == "fin":
        s.sendall(data[off:off + 1])
        s.shutdown(socket.SHUT_WR)
        break
    s.sendall(data[off:off + int(cmd)])
    off += int(cmd)
while s.recv(65536):
    pass
'

# srv_has_received N: the server socket on 5001 has N bytes in (its TCP
# counted them, whether or not its ACKs got out).
srv_has_received() {
	nsx srv ss -tinH state established '( sport = :5001 )' | grep -q "bytes_received:$1 "
}

# upstream_send_buffer_full: fwd's socket to the target holds as much as
# its send buffer (skmem w >= tb): a new skb may not enter its send queue.
upstream_send_buffer_full() {
	nsx fwd ss -tmnH '( dport = :5001 )' |
		sed -n 's/.*skmem:(.*,tb\([0-9]*\),.*,w\([0-9]*\),.*/\1 \2/p' |
		awk '{ exit !($2 >= $1) }'
}

# The FIN after a last byte that waits in the redirect queue, made certain
# rather than left to scheduling (test_last_byte_before_fin_sockmap caught
# its accounting 1 round in 30).  The target's ACKs are dropped, so what
# the client sends stays unacked in fwd's upstream socket (--sndbuf 1: the
# kernel's smallest send buffer).  The client sends a segment at a time,
# each time until the target has them all (so the upstream's write queue
# is empty: every byte went out) and the upstream holds its send buffer's
# worth.  Then one byte alone, redirected, cannot enter its send queue,
# and the client's FIN follows it.  bytes_acked + SIOCOUTQ of the upstream
# then counts the SYN beside the bytes that entered: taken for a byte, it
# would let the FIN out now, and the byte behind it would be lost (the
# mutant acked_extra = 0 does that every time).  The ACKs go through once
# the helper says it holds the FIN, or has sent it.
test_fin_waits_for_queued_byte_sockmap() {
	local sent=0 mss
	need iptables
	sfw_topology
	sfw_load_maps
	# No retransmission timeout while the client sends: one would shrink the
	# upstream's window to a segment and keep the next bytes in its queue.
	nsx fwd ip route change 203.0.113.0/24 via 198.51.100.2 rto_min 5s || fail "cannot set rto_min"
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap --sndbuf 1 -v
	"$PEER" -G 20000 -s 3 >"$TEST_TMP/data"
	mkfifo "$TEST_TMP/cmd"
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -H -o "$TEST_TMP/got" 2>"$TEST_TMP/srv.err"
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_bg cli /usr/bin/python3 -c "$FIN_CLIENT" "$TEST_TMP/data" "$TEST_TMP/cmd"
	wait_for 5 sfw_entries_are 2 || fail "the flow did not enter the map"
	nsx srv iptables -A OUTPUT -p tcp --sport 5001 -j DROP || fail "cannot drop the target's ACKs"
	# Full segments: Nagle would keep a short one back while one is unacked.
	mss=$(nsx fwd ss -tinH '( dport = :5001 )' | sed -n 's/.* mss:\([0-9]*\) .*/\1/p')
	[ -n "$mss" ] || fail "no mss for the upstream socket"
	while ! upstream_send_buffer_full; do
		[ $sent -lt 10000 ] || fail "the upstream's send buffer never filled"
		echo "$mss" >"$TEST_TMP/cmd"
		sent=$((sent + mss))
		wait_for 5 srv_has_received $sent ||
			{ nsx fwd ss -tinmH; fail "the target did not get $sent bytes"; }
	done
	log "the upstream holds $sent unacked bytes, its send buffer full: $(nsx fwd ss -tmnH '( dport = :5001 )' | grep -o 'skmem:([^)]*)')"
	echo fin >"$TEST_TMP/cmd"
	wait_for 5 sh -c "grep -q 'up: FIN held' '$SFW_LOG' ||
		nsenter --net='$(ns_path fwd)' ss -tnH state fin-wait-1 '( dport = :5001 )' | grep -q ." ||
		{ cat "$SFW_LOG"; fail "the helper neither held nor sent the FIN"; }
	grep 'FIN held' "$SFW_LOG"
	nsx srv iptables -D OUTPUT -p tcp --sport 5001 -j DROP
	wait_for 10 test -s "$TEST_TMP/srv.err" || fail "the target did not see the end"
	log "target: $(cat "$TEST_TMP/srv.err")"
	head -c $((sent + 1)) "$TEST_TMP/data" >"$TEST_TMP/want"
	cmp "$TEST_TMP/got" "$TEST_TMP/want" ||
		{ cat "$SFW_LOG"; fail "the target got $(stat -c %s "$TEST_TMP/got") bytes, not the $((sent + 1)) sent"; }
	wait_log "close=eof"
	log "$(log_lines)"
	log_lines | grep -q "mode=sockmap up=$((sent + 1)) down=0 " ||
		fail "log line does not say mode=sockmap up=$((sent + 1))"
}
