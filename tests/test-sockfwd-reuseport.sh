# shellcheck shell=bash
# timeout: 60
# sockfwd --reuseport: several helpers on one listen address (SO_REUSEPORT),
# the kernel spreading connections between them.  Topology and helpers from
# tests/test-sockfwd.sh (cli -- fwd -- px -- srv, direct target through px).

# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh

LISTEN=192.0.2.2:1000

# rp_start NAME ARGS...: sockfwd in fwd, log in $TEST_TMP/NAME.log, its PID
# in RP_PID; waits for "ready".
RP_PID=
rp_start() {
	local name=$1
	shift
	sfw_bg fwd "$SFW" --maps "$PIN" --mode sockmap "$@" 2>"$TEST_TMP/$name.log"
	RP_PID=$BG_PID
	wait_for 5 grep -q ready "$TEST_TMP/$name.log" ||
		{ cat "$TEST_TMP/$name.log"; fail "sockfwd $name did not start"; }
}

# rp_counter NAME PID COUNTER: the counter's value after SIGUSR1.
rp_counter() {
	local line
	line=$(counters_line "$TEST_TMP/$1.log" "$2") || fail "$1: no counters"
	sed -n "s/.* $3=\([0-9-]*\).*/\1/p" <<<"$line"
}

rp_flows() { grep -c "conn client=.* mode=sockmap .*close=eof" "$TEST_TMP/$1.log"; }

# Two helpers share 192.0.2.2:1000; 200 echo connections of random sizes
# (up to 1 MiB each way), every byte verified by its client.  Each helper
# forwards some of them, all in sockmap mode, and the maps end empty.
test_two_processes_share_a_port() {
	local a b flows_a flows_b
	sfw_topology
	sfw_load_maps
	rp_start a --reuseport -l $LISTEN -t 203.0.113.2:5001
	a=$RP_PID
	rp_start b --reuseport -l $LISTEN -t 203.0.113.2:5001
	b=$RP_PID
	check_eq "$(nsx fwd ss -ltnH "sport = :1000" | wc -l)" 2 "listening sockets on port 1000"
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m 2>/dev/null
	wait_for 5 listening srv 5001 || fail "server not listening"
	nsx cli timeout 40 "$PEER" -c $LISTEN -n 200 -k 50 -z -g $((1 << 20)) -V -H -s 9 ||
		fail "some connections failed or were corrupted"
	wait_for 10 sh -c "[ \$(cat '$TEST_TMP/a.log' '$TEST_TMP/b.log' | grep -c close=eof) -ge 200 ]" ||
		fail "flows did not all end"
	flows_a=$(rp_flows a)
	flows_b=$(rp_flows b)
	log "flows: a=$flows_a b=$flows_b"
	check_eq $((flows_a + flows_b)) 200 "flows in sockmap mode, both helpers"
	[ "$flows_a" -gt 0 ] && [ "$flows_b" -gt 0 ] || fail "one helper got no connection"
	# an echo: each flow carried as many bytes up as down
	check_eq "$(cat "$TEST_TMP/a.log" "$TEST_TMP/b.log" | grep 'conn client=' |
		sed -n 's/.* up=\([0-9]*\) down=\([0-9]*\) .*/\1 \2/p' | awk '$1 != $2' | wc -l)" 0 \
		"flows whose up and down byte counts differ"
	check_eq "$(rp_counter a "$a" active)/$(rp_counter b "$b" active)" 0/0 "active flows (a/b)"
	check_eq "$(rp_counter a "$a" accepted)" "$flows_a" "connections accepted by a"
	check_eq "$(rp_counter b "$b" accepted)" "$flows_b" "connections accepted by b"
	check_eq "$(sfw_entries)" 0 "sockhash entries"
	check_no_close_wait
}

# a_queue: the longest accept queue on port 1000 (a listener's Recv-Q).
a_queue() { nsx fwd ss -ltnH "sport = :1000" | awk '$2 > q { q = $2 } END { print q + 0 }'; }

# A helper at its --max-conns keeps its listener, and the kernel goes on
# hashing connections to it: it accepts each and resets it at once, rather
# than leave it waiting unseen in its accept queue.  The other helper
# serves its share, every byte intact.
test_full_process_resets_its_share() {
	local a b refused failed flows_b holder
	sfw_topology
	sfw_load_maps
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m 2>/dev/null
	wait_for 5 listening srv 5001 || fail "server not listening"
	rp_start a --reuseport --max-conns 1 -l $LISTEN -t 203.0.113.2:5001
	a=$RP_PID
	# a's only slot, taken while a is alone on the port
	sfw_bg cli "$TOOLS/sockfwd-bench" hold-client -c $LISTEN -n 1
	holder=$BG_PID
	wait_for 5 sh -c "nsenter --net='$(ns_path fwd)' ss -tnH state established '( sport = :1000 )' |
		grep -q ." || fail "the holding connection did not reach a"
	rp_start b --reuseport -l $LISTEN -t 203.0.113.2:5001
	b=$RP_PID
	nsx cli timeout 30 "$PEER" -c $LISTEN -n 40 -k 40 -z -g 100000 -V -H -s 4 \
		2>"$TEST_TMP/clients.err"
	failed=$(sed -n 's/.*failed_procs=\([0-9]*\).*/\1/p' "$TEST_TMP/clients.err")
	refused=$(rp_counter a "$a" refused_max)
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$TEST_TMP/b.log') -ge $((40 - refused)) ]"
	flows_b=$(rp_flows b)
	log "a refused $refused, b forwarded $flows_b, clients failed: $failed"
	grep -c "Connection reset by peer" "$TEST_TMP/clients.err" >/dev/null ||
		fail "no client saw a reset"
	[ "$refused" -gt 0 ] || fail "the kernel hashed nothing to a (40 connections)"
	check_eq "$failed" "$refused" "clients that failed, as many as a refused"
	check_eq $((refused + flows_b)) 40 "connections refused by a plus forwarded by b"
	check_eq "$(a_queue)" 0 "connections waiting in an accept queue"
	check_eq "$(rp_counter a "$a" accepted)" $((refused + 1)) "connections accepted by a"
	kill "$holder"
	check_eq "$(rp_counter b "$b" refused_max)" 0 "connections refused by b"
	wait_for 5 sfw_entries_are 0 || fail "sockhash entries left: $(sfw_entries)"
}

# Without --reuseport on every helper, the second one cannot bind, and says why.
test_bind_without_reuseport_fails() {
	local rc
	sfw_topology
	sfw_load_maps
	rp_start a -l $LISTEN -t 203.0.113.2:5001
	nsx fwd timeout 5 "$SFW" --maps "$PIN" -l $LISTEN -t 203.0.113.2:5001 2>"$TEST_TMP/b.err"
	rc=$?
	log "without --reuseport on either: exit $rc: $(cat "$TEST_TMP/b.err")"
	check_eq "$rc" 1 "exit status of the second helper"
	grep -q "cannot listen on $LISTEN: Address already in use (processes sharing an address all need --reuseport)" \
		"$TEST_TMP/b.err" || fail "message does not say why"
	nsx fwd timeout 5 "$SFW" --maps "$PIN" --reuseport -l $LISTEN -t 203.0.113.2:5001 \
		2>"$TEST_TMP/c.err"
	rc=$?
	log "--reuseport beside one without: exit $rc: $(cat "$TEST_TMP/c.err")"
	check_eq "$rc" 1 "exit status of a helper with --reuseport beside one without"
	grep -q "cannot listen on $LISTEN: Address already in use (held by a socket without SO_REUSEPORT" \
		"$TEST_TMP/c.err" || fail "message does not say why"
	check_eq "$(nsx fwd ss -ltnH "sport = :1000" | wc -l)" 1 "listening sockets on port 1000"
	# the first helper still serves
	sha_transfer $LISTEN 100000 200000
}
