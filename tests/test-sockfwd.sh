# shellcheck shell=bash
# timeout: 120
# sockfwd end to end: client -- sockfwd -- SOCKS5 proxy -- server, each in
# its own namespace, bytes checked with sha256 at both ends.
#
#   cli 192.0.2.1     2001:db8:1::1
#   fwd 192.0.2.2     2001:db8:1::2  | 198.51.100.1 2001:db8:2::1
#   px  198.51.100.2  2001:db8:2::2  | 203.0.113.1  2001:db8:3::1  (routes)
#   srv 203.0.113.2   2001:db8:3::2

SFW=$BUILD/sockfwd
PEER=$TOOLS/sockfwd-peer
SFW_LOG=
SFW_PID=
PIN=

sfw_topology() {
	local ns
	for ns in cli fwd px srv; do ns_add $ns; done
	veth cli c0 fwd f0
	veth fwd f1 px p0
	veth px p1 srv s0
	nsx cli ip addr add 192.0.2.1/24 dev c0
	nsx cli ip addr add 2001:db8:1::1/64 dev c0 nodad
	nsx fwd ip addr add 192.0.2.2/24 dev f0
	nsx fwd ip addr add 2001:db8:1::2/64 dev f0 nodad
	nsx fwd ip addr add 198.51.100.1/24 dev f1
	nsx fwd ip addr add 2001:db8:2::1/64 dev f1 nodad
	nsx px ip addr add 198.51.100.2/24 dev p0
	nsx px ip addr add 2001:db8:2::2/64 dev p0 nodad
	nsx px ip addr add 203.0.113.1/24 dev p1
	nsx px ip addr add 2001:db8:3::1/64 dev p1 nodad
	nsx srv ip addr add 203.0.113.2/24 dev s0
	nsx srv ip addr add 2001:db8:3::2/64 dev s0 nodad
	# Direct mode reaches the server through px, which routes.
	nsx px sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	nsx fwd ip route add 203.0.113.0/24 via 198.51.100.2
	nsx fwd ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2
	nsx srv ip route add default via 203.0.113.1
	nsx srv ip -6 route add default via 2001:db8:3::1
	nsx cli ip -6 route add default via 2001:db8:1::2
	nsx px ip -6 route add 2001:db8:1::/64 via 2001:db8:2::1
}

# sfw_bg NS CMD...: like bg, but BG_PID is CMD itself (nsenter execs it),
# so kill and the cleanup reach the real process, not a subshell.
sfw_bg() {
	local ns=$1
	shift
	bg - nsenter --net="$(ns_path "$ns")" -- "$@"
}

# Pins of our own under /sys/fs/bpf, never the real /sys/fs/bpf/sockfwd.
sfw_load_maps() {
	PIN=/sys/fs/bpf/sockfwd-test-$TEST_ID
	"$ROOT/scripts/sockfwd-load" load -d "$PIN" >/dev/null || fail "sockfwd-load failed"
	on_exit "'$ROOT/scripts/sockfwd-load' unload -d '$PIN'"
}

sfw_entries() {
	bpftool map dump pinned "$PIN/sockfwd_peers" 2>/dev/null | grep -c '^key'
}

# sfw_entries_are N: the SOCKHASH holds N sockets (for wait_for).
sfw_entries_are() { [ "$(sfw_entries)" -eq "$1" ]; }

# sfw_start ARGS...: run sockfwd in fwd, log in $SFW_LOG, wait for its ports.
sfw_start() {
	local before
	SFW_LOG=$TEST_TMP/sockfwd.log
	before=$(grep -c "ready" "$SFW_LOG" 2>/dev/null)
	# shellcheck disable=SC2086 # SFW_EXTRA: extra options when debugging
	sfw_bg fwd "$SFW" --maps "${PIN:-/sys/fs/bpf/sockfwd-test-none}" "$@" ${SFW_EXTRA:-} 2>>"$SFW_LOG"
	SFW_PID=$BG_PID
	wait_for 5 sh -c "[ \$(grep -c ready '$SFW_LOG') -gt ${before:-0} ]" ||
		{ cat "$SFW_LOG"; fail "sockfwd did not start"; }
}

# refused_at_once ADDR:PORT [NS]: a client that connects gets a reset (not
# a wait in the accept queue, not a clean close) within a second.
refused_at_once() {
	local start=$SECONDS
	nsx "${2:-cli}" timeout 5 "$PEER" -c "$1" -g 10 -H 2>"$TEST_TMP/refused.err" &&
		fail "a connection to $1 was served: $(cat "$TEST_TMP/refused.err")"
	grep -q "Connection reset by peer" "$TEST_TMP/refused.err" ||
		fail "no reset for $1: $(cat "$TEST_TMP/refused.err")"
	[ $((SECONDS - start)) -le 1 ] || fail "the reset took $((SECONDS - start)) s"
	log "ok: $1 refused at once: $(grep -m1 reset "$TEST_TMP/refused.err")"
}

# sfw_stop: SIGTERM, and wait until it has finished its flows and exited.
sfw_stop() {
	kill -TERM "$SFW_PID" 2>/dev/null
	wait_for 15 sh -c "! kill -0 $SFW_PID 2>/dev/null" || fail "sockfwd did not exit on SIGTERM"
}

# counters_line LOG PID: SIGUSR1 to sockfwd PID, then the newest counters
# line in its LOG; fails if no new line came within 5 s.
counters_line() {
	local before rc
	before=$(grep -c counters "$1")
	kill -USR1 "$2"
	wait_for 5 sh -c "[ \$(grep -c counters '$1') -gt $before ]"
	rc=$?
	grep counters "$1" | tail -n1
	return $rc
}

# sfw_counter NAME: the value of a counter after SIGUSR1.
sfw_counter() {
	counters_line "$SFW_LOG" "$SFW_PID" | sed -n "s/.* $1=\([0-9-]*\).*/\1/p"
}

# counters_say TEXT: the counters line sockfwd logs on SIGUSR1 contains TEXT.
counters_say() {
	local line
	line=$(counters_line "$SFW_LOG" "$SFW_PID") && grep -q "$1" <<<"$line"
}

# Dante with optional username method; users come from a private
# /etc/passwd and /etc/shadow bound in a mount namespace of its own.
dante_start() {
	local method=${1:-none} conf=$TEST_TMP/danted.conf
	cat >"$conf" <<-EOC
	logoutput: stderr
	internal: 198.51.100.2 port = 1080
	internal: 2001:db8:2::2 port = 1080
	external: 203.0.113.1
	external: 2001:db8:3::1
	socksmethod: $method
	user.privileged: root
	user.unprivileged: nobody
	client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
	client pass { from: ::/0 to: ::/0 }
	socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
	socks pass { from: ::/0 to: ::/0 }
	socks pass { from: 0.0.0.0/0 to: ::/0 }
	socks pass { from: ::/0 to: 0.0.0.0/0 }
	EOC
	grep -E '^(root|nobody):' /etc/passwd >"$TEST_TMP/passwd"
	echo "sfwuser:x:4242:65534::/nonexistent:/usr/sbin/nologin" >>"$TEST_TMP/passwd"
	grep -E '^(root|nobody):' /etc/shadow >"$TEST_TMP/shadow"
	echo "sfwuser:$(openssl passwd -6 -salt sockfwdtest s3cret):19000:0:99999:7:::" >>"$TEST_TMP/shadow"
	printf '127.0.0.1 localhost\n203.0.113.2 srv.sockfwd.test\n2001:db8:3::2 srv6.sockfwd.test\n' \
		>"$TEST_TMP/hosts"
	sfw_bg px unshare -m sh -c "mount --bind '$TEST_TMP/passwd' /etc/passwd &&
		mount --bind '$TEST_TMP/hosts' /etc/hosts &&
		mount --bind '$TEST_TMP/shadow' /etc/shadow &&
		exec /usr/sbin/danted -f '$conf' -p '$TEST_TMP/danted.pid'" 2>"$TEST_TMP/danted.log"
	wait_for 5 listening px 1080 || { cat "$TEST_TMP/danted.log"; fail "danted did not start"; }
}

listening() { nsx "$1" ss -ltnH "sport = :$2" | grep -q .; }

# sha_transfer CONNECT UP DOWN [client opts]: client in cli sends UP bytes,
# server in srv (port 5001) sends DOWN bytes; both sides' sha256 checked.
sha_transfer() {
	local to=$1 up=$2 down=$3 want_up want_down got_up got_down
	shift 3
	want_up=$("$PEER" -G "$up" -s 11 | sha256sum | cut -d' ' -f1)
	want_down=$("$PEER" -G "$down" -s 22 | sha256sum | cut -d' ' -f1)
	sfw_bg srv sh -c "'$PEER' -l '${SRV_LISTEN:-203.0.113.2:5001}' ${SRV_OPTS:-} -g $down -s 22 -o - 2>'$TEST_TMP/srv.err' |
		sha256sum | cut -d' ' -f1 >'$TEST_TMP/srv.sha'"
	wait_for 5 listening srv 5001 || fail "server not listening"
	nsx cli "$PEER" -c "$to" -g "$up" -s 11 -o - "$@" 2>"$TEST_TMP/cli.err" |
		sha256sum | cut -d' ' -f1 >"$TEST_TMP/cli.sha"
	wait_for 20 test -s "$TEST_TMP/srv.sha" || fail "server did not finish"
	got_up=$(cat "$TEST_TMP/srv.sha")
	got_down=$(cat "$TEST_TMP/cli.sha")
	log "client: $(cat "$TEST_TMP/cli.err"); server: $(cat "$TEST_TMP/srv.err")"
	if [ "$got_up" != "$want_up" ] || [ "$got_down" != "$want_down" ]; then
		[ -n "$SFW_LOG" ] && cat "$SFW_LOG"
	fi
	check_eq "$got_up" "$want_up" "sha256 client->server ($up bytes)"
	check_eq "$got_down" "$want_down" "sha256 server->client ($down bytes)"
}

microsocks_start() {
	sfw_bg px microsocks -i 198.51.100.2 -p 1081 "$@"
	wait_for 5 listening px 1081 || fail "microsocks did not start"
}

# log_line: the per-connection log lines so far.
log_lines() { grep "conn client=" "$SFW_LOG"; }

wait_log() {
	wait_for "${2:-10}" grep -q -- "$1" "$SFW_LOG" || { cat "$SFW_LOG"; fail "no log line matching '$1'"; }
}

# no_close_wait NS: sockets left half-open by the helper would sit in CLOSE_WAIT.
check_no_close_wait() {
	check_eq "$(nsx fwd ss -tanH state close-wait | wc -l)" 0 "CLOSE_WAIT sockets in fwd"
}

# Bulk: 256 MiB each way through dante, one test per mode.
bulk_through_dante() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 --mode "$1"
	sha_transfer 192.0.2.2:1000 $((256 << 20)) $((256 << 20))
	wait_log "close=eof"
	log "$(log_lines)"
	log_lines | grep -q "mode=$1 up=268435456 down=268435456 .*close=eof" ||
		fail "log line does not say mode=$1 and 256 MiB each way"
	check_eq "$(sfw_entries)" 0 "sockhash entries after the flow"
}
test_bulk_sockmap() { bulk_through_dante sockmap; }
test_bulk_splice() { bulk_through_dante splice; }
test_bulk_copy() { bulk_through_dante copy; }

# Direct (no proxy), microsocks with and without a password, dante with
# username/password, a domain-name target the proxy resolves: sockmap.
test_proxies_and_auth() {
	sfw_topology
	sfw_load_maps
	dante_start username
	microsocks_start -u mu -P mpass
	# Passwords never on the command line: microsocks's from a file,
	# dante's in a configuration file, both mode 0600.
	(umask 077 && echo mpass >"$TEST_TMP/mu.pass" &&
		echo "192.0.2.2:1002 srv.sockfwd.test:5001 socks5://sfwuser:s3cret@198.51.100.2:1080" \
			>"$TEST_TMP/auth.conf")
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 \
		-l 192.0.2.2:1001 -t 203.0.113.2:5001 -x socks5://mu@198.51.100.2:1081 \
		--proxy-password-file "$TEST_TMP/mu.pass" -c "$TEST_TMP/auth.conf"
	sha_transfer 192.0.2.2:1000 300000 $((3 << 20))
	# microsocks closes both ways on the first EOF (no half-close): the
	# client keeps its side open and the server closes once it has all.
	SRV_OPTS="-r 300000 -H" sha_transfer 192.0.2.2:1001 300000 $((3 << 20)) -H
	sha_transfer 192.0.2.2:1002 300000 $((3 << 20))
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 3 ]"
	log "$(log_lines)"
	check_eq "$(log_lines | grep -c 'mode=sockmap up=300000 down=3145728 .*close=eof')" 3 \
		"flows forwarded in sockmap mode"
	log_lines | grep -q "target=srv.sockfwd.test:5001 via=198.51.100.2:1080" ||
		fail "domain-name target not logged"
}

# Half-close both ways: the side that shut down still receives.
half_close() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 --mode "$1"
	# client sends and shuts down; the server answers only after its EOF
	SRV_OPTS=-A sha_transfer 192.0.2.2:1000 $((8 << 20)) $((8 << 20))
	# the server sends and shuts down; the client answers after its EOF
	sha_transfer 192.0.2.2:1000 $((8 << 20)) $((8 << 20)) -A
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 2 ]" || fail "flows did not end"
	log "$(log_lines)"
	check_eq "$(log_lines | grep -c "mode=$1 up=8388608 down=8388608 .*close=eof")" 2 \
		"half-closed flows complete"
	check_no_close_wait
}
test_half_close_sockmap() { half_close sockmap; }
test_half_close_splice() { half_close splice; }
test_half_close_copy() { half_close copy; }

# Bytes sent the instant the connection opens, both ways, before the
# sockets are in the map (the proxy handshake takes a while): forwarded,
# and the flow still runs in sockmap mode.  Nobody sends FIN before the
# other side has all its bytes, so no socket is in CLOSE_WAIT at insertion.
test_early_bytes_sockmap() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 --mode sockmap
	SRV_OPTS="-r 5000 -H" sha_transfer 192.0.2.2:1000 5000 7000 -H
	wait_log "close=eof"
	log "$(log_lines)"
	log_lines | grep -q 'mode=sockmap up=5000 down=7000 early=[1-9]' ||
		fail "not forwarded in sockmap mode with early bytes"
}

# A client that sends and shuts down at once is in CLOSE_WAIT by the time
# the handshake is done: the kernel refuses it (EOPNOTSUPP) and the flow
# falls back to splice (auto) instead of being dropped.
test_close_wait_fallback() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080
	SRV_OPTS=-A sha_transfer 192.0.2.2:1000 1000 $((4 << 20))
	wait_log "close=eof"
	log "$(log_lines)"
	log_lines | grep -q 'mode=splice fallback="sockmap insert: Operation not supported" up=1000 down=4194304' ||
		fail "no splice fallback logged"
	check_eq "$(sfw_entries)" 0 "sockhash entries"
}

# A reset on one side reaches the other as a reset; nothing is left in
# CLOSE_WAIT and no map entry survives.
rst_one_way() {
	local mode=$1 who=$2
	sfw_topology
	sfw_load_maps
	# direct: a proxy between would turn the reset into a FIN
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode "$mode"
	if [ "$who" = server ]; then
		# the server sends 1 MiB, waits, then resets
		sfw_bg srv "$PEER" -l 203.0.113.2:5001 -g $((1 << 20)) -W 300 -R 2>"$TEST_TMP/srv.err"
		wait_for 5 listening srv 5001 || fail "server not listening"
		nsx cli "$PEER" -c 192.0.2.2:1000 -H 2>"$TEST_TMP/cli.err" && fail "client saw no error"
		log "client: $(cat "$TEST_TMP/cli.err")"
		grep -q "Connection reset by peer" "$TEST_TMP/cli.err" || fail "client saw no reset"
		wait_log "close=upstream reset"
	else
		sfw_bg srv "$PEER" -l 203.0.113.2:5001 -H 2>"$TEST_TMP/srv.err"
		wait_for 5 listening srv 5001 || fail "server not listening"
		nsx cli "$PEER" -c 192.0.2.2:1000 -g $((1 << 20)) -W 300 -R 2>"$TEST_TMP/cli.err"
		wait_for 5 sh -c "! kill -0 $BG_PID 2>/dev/null" || fail "server still connected"
		log "server: $(cat "$TEST_TMP/srv.err")"
		grep -q "Connection reset by peer" "$TEST_TMP/srv.err" || fail "server saw no reset"
		wait_log "close=client reset"
	fi
	log "$(log_lines)"
	log_lines | grep -q "mode=$mode" || fail "flow not in mode $mode"
	check_no_close_wait
	[ -z "$PIN" ] || check_eq "$(sfw_entries)" 0 "sockhash entries"
}
test_rst_server_sockmap() { rst_one_way sockmap server; }
test_rst_client_sockmap() { rst_one_way sockmap client; }
test_rst_server_splice() { rst_one_way splice server; }
test_rst_client_copy() { rst_one_way copy client; }

# 100 concurrent connections of random sizes (up to 2 MiB each way),
# echoed by the server and verified byte for byte by each client.  Clients
# close after the whole echo (-H), so none is in CLOSE_WAIT before the
# handshake ends and every flow stays in the mode asked for.
concurrent() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 --mode "$1"
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m
	wait_for 5 listening srv 5001 || fail "server not listening"
	nsx cli timeout 60 "$PEER" -c 192.0.2.2:1000 -n 100 -k 100 -z -g $((2 << 20)) -V -H -s 7 ||
		fail "some connections failed or were corrupted"
	wait_for 10 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 100 ]" || fail "flows did not all end"
	check_eq "$(log_lines | grep -c "mode=$1 .*close=eof")" 100 "flows completed in mode $1"
	check_eq "$(sfw_counter active)" 0 "active flows"
	check_eq "$(sfw_entries)" 0 "sockhash entries"
}
test_concurrent_sockmap() { concurrent sockmap; }
test_concurrent_splice() { concurrent splice; }
test_concurrent_copy() { concurrent copy; }

# 10,000 connections (direct, 20 at a time): every one closes its map
# entries, none stays in CLOSE_WAIT.  A client that sends nothing may have
# closed its side before the helper inserts it (CLOSE_WAIT: the kernel
# refuses, EOPNOTSUPP); that flow falls back, and says so, more often the
# busier the machine.  No other flow may leave sockmap mode.
test_churn_10000_sockmap() {
	sfw_topology
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m
	wait_for 5 listening srv 5001 || fail "server not listening"
	nsx cli timeout 100 "$PEER" -c 192.0.2.2:1000 -n 10000 -k 20 -z -g 2000 -V -H -s 3 ||
		fail "some connections failed or were corrupted"
	wait_for 10 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 10000 ]" || fail "flows did not all end"
	local sockmap closed_first
	sockmap=$(log_lines | grep -c 'mode=sockmap .*close=eof')
	closed_first=$(log_lines | grep -c 'fallback="sockmap insert: Operation not supported".*close=eof')
	log "$sockmap flows in sockmap mode, $closed_first fell back (the client had closed first)"
	check_eq $((sockmap + closed_first)) 10000 "flows in sockmap mode or fallen back for a client closed first"
	check_eq "$(sfw_counter closed)" 10000 "closed counter"
	check_eq "$(sfw_counter map_entries)" 0 "map entries seen by the helper"
	check_eq "$(sfw_entries)" 0 "sockhash entries"
	check_no_close_wait
}

# sender_stalled PROGRESS SIZE: the client's "progress sent=N" lines (one
# each 250 ms) show it stuck: the same N three times running, after it
# began; or it sent all SIZE bytes.
sender_stalled() {
	grep -a progress "$1" | tail -n3 | sed 's/.*sent=//' |
		awk -v size="$2" '{ v[NR] = $1 } END { exit !(NR == 3 && v[3] > 0 &&
			(v[3] == size || (v[1] == v[3] && v[2] == v[3]))) }'
}

# tcp_counter NS FILTER NAME: NAME (bytes_acked, bytes_received...) of the
# socket ss FILTER selects in NS.
tcp_counter() {
	nsx "$1" ss -tinH state connected "( $2 )" | sed -n "s/.* $3:\([0-9]*\).*/\1/p" | head -n1
}

# stalled_receiver LIMIT [IDLE_MS]: the client pushes 256 MiB (after
# IDLE_MS) while the server reads nothing until the client is stuck (or has
# sent everything).  Then notes how many bytes the client got out and how
# many the relay holds (what fwd acked to the client less what reached the
# server's socket: its receive and redirect queues, its send queue), lets
# the server read, and checks every byte arrived in order.
stalled_receiver() {
	local size=$((256 << 20)) idle_ms=${2:-0} want got sent acked received
	want=$("$PEER" -G $size -s 5 | sha256sum | cut -d' ' -f1)
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap --queue-limit "$1" \
		--sndbuf $((4 << 20)) -v
	rm -f "$TEST_TMP/read.go"
	sfw_bg srv sh -c "'$PEER' -l 203.0.113.2:5001 -H -w '$TEST_TMP/read.go' -o - 2>/dev/null |
		sha256sum | cut -d' ' -f1 >'$TEST_TMP/srv.sha'"
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -g $size -s 5 -D "$idle_ms" -P 2>"$TEST_TMP/progress.$1"
	wait_for 60 sender_stalled "$TEST_TMP/progress.$1" $size ||
		fail "the client neither got stuck nor sent everything: $(grep -a progress "$TEST_TMP/progress.$1" | tail -n1)"
	sent=$(grep -a progress "$TEST_TMP/progress.$1" | tail -n1 | sed 's/.*sent=//')
	acked=$(tcp_counter cli "dport = :1000" bytes_acked)
	received=$(tcp_counter srv "sport = :5001" bytes_received)
	log "relay's sockets: $(nsx fwd ss -tmnH state connected | grep -o 'skmem:([^)]*)' | tr '\n' ' ')"
	STALL_SENT=$sent
	# bytes_acked counts the client's SYN
	STALL_HELD=$((acked - 1 - ${received:-0}))
	log "queue limit $1: client sent $((sent >> 20)) MiB while the server did not read; the relay holds $((STALL_HELD >> 10)) KiB"
	touch "$TEST_TMP/read.go"
	wait_for 30 test -s "$TEST_TMP/srv.sha" || fail "transfer did not finish"
	got=$(cat "$TEST_TMP/srv.sha")
	rm -f "$TEST_TMP/srv.sha"
	check_eq "$got" "$want" "sha256 of 256 MiB after the stall"
}

# A flow idle long enough that the helper looks at it once a second, then a
# burst its receiver does not read: the program pauses the flow at the limit
# by itself.  When only the helper's look paused flows, 512 MiB went into the
# redirect queue before it looked.
test_backpressure_after_idle_sockmap() {
	sfw_topology
	sfw_load_maps
	stalled_receiver $((4 << 20)) 2500
	[ "$STALL_SENT" -lt $((48 << 20)) ] || fail "sender got $STALL_SENT bytes out after idling: not bounded"
	[ "$STALL_HELD" -lt $((24 << 20)) ] || fail "the relay holds $STALL_HELD bytes: not bounded"
	grep -q "up: paused, the program stopped at the queue limit" "$SFW_LOG" ||
		{ cat "$SFW_LOG"; fail "no pause by the program logged"; }
}

# held_sockmap_flow: a flow 192.0.2.2:1000 -> 203.0.113.2:5001 that both
# ends hold open, once both its sockets are in the SOCKHASH.
held_sockmap_flow() {
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -H
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -g 1000 -H
	wait_for 5 sfw_entries_are 2 || fail "the flow did not enter the map"
}

# fwd_skmem FILTER: the skmem of the relay's socket that ss FILTER selects.
fwd_skmem() {
	nsx fwd ss -tmnH state established "( $1 )" | grep -o 'skmem:([^)]*)'
}

# --rcvbuf and --sndbuf reach both sockets of a sockmap flow (the kernel
# doubles what it is given); a flow that both ends hold open.
test_buffers_sockmap() {
	local skmem
	sfw_topology
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap \
		--rcvbuf 1000000 --sndbuf 3000000
	held_sockmap_flow
	for filter in "sport = :1000" "dport = :5001"; do
		skmem=$(fwd_skmem "$filter")
		log "$filter: $skmem"
		case $skmem in
		*,rb2000000,*tb6000000,*) ;;
		*) fail "buffers of the socket with $filter: $skmem" ;;
		esac
	done
}

# Without --sndbuf and --queue-limit, both are 1/256 of RAM, from 4 to 64
# MiB, and a sockmap flow's sockets get that send buffer (doubled).
test_default_buffers_scale_with_ram() {
	local size skmem
	size=$(awk '/^MemTotal:/ { s = $2 * 1024 / 256; if (s < 4194304) s = 4194304;
		if (s > 67108864) s = 67108864; printf "%d", s }' /proc/meminfo)
	sfw_topology
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap
	wait_log "ready: sockmap mode, maps $PIN, queue limit $size, send buffers $size"
	held_sockmap_flow
	skmem=$(fwd_skmem "dport = :5001")
	case $skmem in
	*,tb$((2 * size)),*) ;;
	*) fail "send buffer of the upstream socket: $skmem, want tb$((2 * size))" ;;
	esac
}

# With the receiver stalled, the kernel's redirect queue would take all
# the sender gives (no accounting, no window): the helper pauses the flow
# past --queue-limit, so the sender is held back by TCP's window.
test_backpressure_sockmap() {
	sfw_topology
	sfw_load_maps
	stalled_receiver $((4 << 20))
	# limit + both send buffers (doubled by the kernel) + room for the
	# client's send and the server's receive buffers
	[ "$STALL_SENT" -lt $((48 << 20)) ] || fail "sender got $STALL_SENT bytes out: not bounded"
	# The source's receive buffer (2 x 2 MiB), the queue limit and an skb,
	# the destination's send buffer (2 x 4 MiB), and some slack.
	[ "$STALL_HELD" -lt $((24 << 20)) ] || fail "the relay holds $STALL_HELD bytes: not bounded"
	[ "$(sfw_counter pauses)" -ge 1 ] || { cat "$SFW_LOG"; fail "no pause counted"; }
	log "resumes: $(sfw_counter resumes)"
	sfw_stop
	# The same with no bound: the whole 256 MiB leaves during the stall,
	# which is what the limit prevents.
	stalled_receiver $((1 << 40))
	[ "$STALL_SENT" -gt $((128 << 20)) ] || { log "note: unbounded run sent only $STALL_SENT"; cat "$SFW_LOG"; }
}

# IPv6 end to end: v6 listener, v6 proxy, v6 target (literal and by name),
# and a v4 client on a dual-stack listener reaching a v6 target directly.
test_ipv6() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l '[2001:db8:1::2]:1000' -t '[2001:db8:3::2]:5001' -x 'socks5://[2001:db8:2::2]:1080' \
		-l '[2001:db8:1::2]:1001' -t srv6.sockfwd.test:5001 -x 'socks5://[2001:db8:2::2]:1080' \
		-l ':1002' -t '[2001:db8:3::2]:5001'
	SRV_LISTEN='[2001:db8:3::2]:5001' sha_transfer '[2001:db8:1::2]:1000' $((16 << 20)) $((16 << 20))
	SRV_LISTEN='[2001:db8:3::2]:5001' SRV_OPTS="-r 100000 -H" sha_transfer '[2001:db8:1::2]:1001' 100000 100000 -H
	# (direct connect is quick: keep the client's FIN for later, else it is
	# in CLOSE_WAIT before insertion and falls back to splice)
	SRV_LISTEN='[2001:db8:3::2]:5001' SRV_OPTS="-r 100000 -H" sha_transfer '192.0.2.2:1002' 100000 100000 -H
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 3 ]" || fail "flows did not end"
	log "$(log_lines)"
	log_lines | grep -q 'client=\[2001:db8:1::1\]:[0-9]* listen=\[2001:db8:1::2\]:1000 target=\[2001:db8:3::2\]:5001 via=\[2001:db8:2::2\]:1080 mode=sockmap up=16777216' ||
		fail "IPv6 flow not in sockmap mode"
	check_eq "$(log_lines | grep -c 'mode=sockmap')" 3 "flows in sockmap mode"
}

# The proxy says no: bad password, target refusing.  The client sees the
# connection close; the log says why, with the SOCKS reply code.
test_proxy_refuses() {
	sfw_topology
	dante_start username
	(umask 077 && cat >"$TEST_TMP/auth.conf") <<-EOC
	192.0.2.2:1000 203.0.113.2:5001 socks5://sfwuser:wrong@198.51.100.2:1080
	192.0.2.2:1002 203.0.113.2:5999 socks5://sfwuser:s3cret@198.51.100.2:1080
	192.0.2.2:1003 203.0.113.99:5001 socks5://sfwuser:s3cret@198.51.100.2:1080
	EOC
	sfw_start -l 192.0.2.2:1001 -t 203.0.113.2:5999 -x socks5://198.51.100.2:1080 \
		-c "$TEST_TMP/auth.conf"
	local port
	# 1003: nobody answers ARP for 203.0.113.99, the proxy gives up
	for port in 1000 1001 1002 1003; do
		nsx cli timeout 10 "$PEER" -c 192.0.2.2:$port -g 1000 -o - 2>"$TEST_TMP/cli.err" |
			wc -c >"$TEST_TMP/got"
		log "client on $port: $(cat "$TEST_TMP/cli.err")"
		grep -q "sockfwd-peer:" "$TEST_TMP/cli.err" && fail "client saw an error, not a close"
		check_eq "$(cat "$TEST_TMP/got")" 0 "bytes the client got on $port"
	done
	wait_for 5 sh -c "[ \$(grep -c 'conn client' '$SFW_LOG') -ge 4 ]" || fail "no log lines"
	log "$(log_lines)"
	log_lines | grep -q 'listen=192.0.2.2:1000 .*close=socks5: authentication failed (status [1-9]' ||
		fail "bad password not logged"
	log_lines | grep -q 'listen=192.0.2.2:1001 .*close=socks5: no acceptable authentication method (0xff)' ||
		fail "refused method not logged"
	log_lines | grep -q 'listen=192.0.2.2:1002 .*close=socks5: reply [1-9] (' ||
		fail "refused target not logged with its reply code"
	log_lines | grep -q 'listen=192.0.2.2:1003 .*close=socks5: reply [1-9] (' ||
		fail "unreachable target not logged with its reply code"
	check_eq "$(sfw_counter failed)" 4 "failed counter"
}

# A proxy that accepts and never answers: the handshake times out.
test_proxy_timeout() {
	sfw_topology
	sfw_bg px "$PEER" -l 198.51.100.2:1080 -W 60000 -H
	wait_for 5 listening px 1080 || fail "silent proxy not listening"
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 --timeout 1000
	local start=$SECONDS
	nsx cli timeout 10 "$PEER" -c 192.0.2.2:1000 -H -g 10 2>"$TEST_TMP/cli.err" ||
		fail "client failed: $(cat "$TEST_TMP/cli.err")"
	log "client saw the close after $((SECONDS - start)) s"
	[ $((SECONDS - start)) -le 3 ] || fail "took too long"
	wait_log "close=timeout: socks5 handshake after 1000 ms"
	log "$(log_lines)"
}

# -c FILE: one "listen target [proxy]" per line, comments and blank lines.
test_config_file() {
	sfw_topology
	sfw_load_maps
	microsocks_start -u mu -P mpass
	# mode 0600: a line below has a password
	(umask 077 && cat >"$TEST_TMP/sockfwd.conf") <<-EOC
	# listen          target              proxy
	192.0.2.2:1000    203.0.113.2:5001

	192.0.2.2:1001    203.0.113.2:5001    socks5://mu:mpass@198.51.100.2:1081  # microsocks
	EOC
	sfw_start -c "$TEST_TMP/sockfwd.conf"
	SRV_OPTS="-r 200000 -H" sha_transfer 192.0.2.2:1000 200000 300000 -H
	SRV_OPTS="-r 200000 -H" sha_transfer 192.0.2.2:1001 200000 300000 -H
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 2 ]" || fail "flows did not end"
	log "$(log_lines)"
	log_lines | grep -q "listen=192.0.2.2:1001 target=203.0.113.2:5001 via=198.51.100.2:1081 mode=sockmap" ||
		fail "proxied line not used"
	echo "192.0.2.2:1003 nonsense" >"$TEST_TMP/bad.conf"
	nsx fwd "$SFW" -c "$TEST_TMP/bad.conf" 2>"$TEST_TMP/bad.err" && fail "bad config accepted"
	log "bad config: $(cat "$TEST_TMP/bad.err")"
	grep -q "bad.conf:1" "$TEST_TMP/bad.err" || fail "error does not name the line"
}

# SIGTERM: stop accepting, let running flows finish; past the deadline,
# reset what is left.
test_sigterm_drains_flows() {
	sfw_topology
	sfw_load_maps
	# Small buffers: with 64 MiB ones the 32 MiB fit in the relay's send
	# queue and the flow ended before the SIGTERM.
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --drain-timeout 20000 \
		--sndbuf $((1 << 20)) --queue-limit $((1 << 20))
	local want
	want=$("$PEER" -G $((32 << 20)) -s 9 | sha256sum | cut -d' ' -f1)
	# the server reads nothing for 1.5 s, so the flow is still going at SIGTERM
	sfw_bg srv sh -c "'$PEER' -l 203.0.113.2:5001 -W 1500 -o - 2>/dev/null |
		sha256sum | cut -d' ' -f1 >'$TEST_TMP/srv.sha'"
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -g $((32 << 20)) -s 9
	wait_for 5 counters_say "active=1" || fail "the flow did not start"
	kill -TERM "$SFW_PID"
	wait_log "stopping: 1 flows"
	nsx cli "$PEER" -c 192.0.2.2:1000 -g 10 2>/dev/null && fail "new connection accepted while stopping"
	wait_for 20 test -s "$TEST_TMP/srv.sha" || fail "flow did not finish"
	check_eq "$(cat "$TEST_TMP/srv.sha")" "$want" "sha256 of the flow running at SIGTERM"
	wait_for 5 sh -c "! kill -0 $SFW_PID 2>/dev/null" || fail "sockfwd still running"
	wait_log "counters accepted=1 active=0 closed=1"

	# An idle flow outlives the deadline: it is reset.
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --drain-timeout 500
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -H
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -H
	wait_for 5 counters_say "active=1" || fail "the flow did not start"
	kill -TERM "$SFW_PID"
	wait_log "close=shutdown deadline"
	wait_for 5 sh -c "! kill -0 $SFW_PID 2>/dev/null" || fail "sockfwd still running after the deadline"
	check_no_close_wait
}

# sockfwd-load: idempotent load, status, unload; pins only where told.
test_load_script() {
	local dir=/sys/fs/bpf/sockfwd-test-$TEST_ID id1 id2
	on_exit "'$ROOT/scripts/sockfwd-load' unload -d '$dir'; '$ROOT/scripts/sockfwd-load' unload -d '$dir-p'; rm -rf '$dir'"
	"$ROOT/scripts/sockfwd-load" load -d "$dir" || fail "first load failed"
	id1=$(bpftool prog show pinned "$dir/sockfwd_verdict" | sed -n 's/^\([0-9]*\):.*/\1/p')
	SOCKFWD_PIN_DIR=$dir "$ROOT/scripts/sockfwd-load" || fail "second load failed"
	id2=$(bpftool prog show pinned "$dir/sockfwd_verdict" | sed -n 's/^\([0-9]*\):.*/\1/p')
	check_eq "$id2" "$id1" "program id after loading twice"
	"$ROOT/scripts/sockfwd-load" status -d "$dir" >"$TEST_TMP/status" || fail "status failed"
	grep -q "sockhash  name sockfwd_peers" "$TEST_TMP/status" || fail "status lacks the sockhash"
	SOCKFWD_OBJ=/nonexistent "$ROOT/scripts/sockfwd-load" load -d "$dir.x" 2>/dev/null &&
		fail "loaded a missing object"
	"$ROOT/scripts/sockfwd-load" load -d /tmp/sockfwd-pins 2>/dev/null && fail "pinned outside bpffs"
	# As make install lays it out under a PREFIX of its own.
	mkdir -p "$TEST_TMP/prefix/sbin" "$TEST_TMP/prefix/lib/bpf"
	cp "$ROOT/scripts/sockfwd-load" "$TEST_TMP/prefix/sbin/"
	cp "$BUILD/sockfwd.o" "$TEST_TMP/prefix/lib/bpf/"
	"$TEST_TMP/prefix/sbin/sockfwd-load" load -d "$dir-p" >/dev/null ||
		fail "the script of PREFIX/sbin did not find PREFIX/lib/bpf/sockfwd.o"
	"$ROOT/scripts/sockfwd-load" unload -d "$dir-p" >/dev/null || fail "unload of $dir-p failed"
	"$ROOT/scripts/sockfwd-load" unload -d "$dir" || fail "unload failed"
	[ ! -e "$dir" ] || fail "$dir still there after unload"
	"$ROOT/scripts/sockfwd-load" unload -d "$dir" >/dev/null || fail "second unload failed"
	shellcheck -S warning "$ROOT/scripts/sockfwd-load" || fail "shellcheck"
}

# Least privilege: with the pins group-writable (sockfwd-load -g), the
# helper runs as an ordinary user with no capability at all; without
# access it falls back to splice.  --user drops root after binding a port
# below 1024.
test_least_privilege() {
	sfw_topology
	PIN=/sys/fs/bpf/sockfwd-test-$TEST_ID
	"$ROOT/scripts/sockfwd-load" load -d "$PIN" -g nogroup >/dev/null || fail "load -g failed"
	on_exit "'$ROOT/scripts/sockfwd-load' unload -d '$PIN'"
	SFW_LOG=$TEST_TMP/sockfwd.log
	sfw_bg fwd setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all \
		--bounding-set=-all "$SFW" --maps "$PIN" -l 192.0.2.2:2000 -t 203.0.113.2:5001 2>>"$SFW_LOG"
	SFW_PID=$BG_PID
	wait_log "ready: auto mode, maps $PIN"
	check_eq "$(awk '/^CapEff/ {print $2}' "/proc/$SFW_PID/status")" 0000000000000000 \
		"effective capabilities of the helper"
	SRV_OPTS="-r 100000 -H" sha_transfer 192.0.2.2:2000 100000 100000 -H
	wait_log "mode=sockmap up=100000 down=100000"
	sfw_stop

	chmod 0700 "$PIN"
	sfw_bg fwd setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all \
		"$SFW" --maps "$PIN" -l 192.0.2.2:2001 -t 203.0.113.2:5001 2>>"$SFW_LOG"
	SFW_PID=$BG_PID
	wait_log "sockmap unavailable (Permission denied)"
	SRV_OPTS="-r 100000 -H" sha_transfer 192.0.2.2:2001 100000 100000 -H
	wait_log "listen=192.0.2.2:2001 .*mode=splice"
	sfw_stop
	chmod 0750 "$PIN"

	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --user nobody
	check_eq "$(awk '/^Uid/ {print $2 $3}' "/proc/$SFW_PID/status")" 6553465534 "uid after --user"
	SRV_OPTS="-r 100000 -H" sha_transfer 192.0.2.2:1000 100000 100000 -H
	wait_log "listen=192.0.2.2:1000 .*mode=sockmap"
}

# Pause and resume over and over (a 64 KiB queue limit) while both
# directions are busy: every byte arrives, in order, five times running.
test_pause_resume_stress_sockmap() {
	sfw_topology
	sfw_load_maps
	dante_start none
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 \
		--mode sockmap --queue-limit 65536 -v
	local round
	for round in 1 2 3 4 5; do
		log "round $round"
		sha_transfer 192.0.2.2:1000 $((64 << 20)) $((64 << 20))
	done
	log "pauses: $(sfw_counter pauses), resumes: $(sfw_counter resumes), overlap cut: $(sfw_counter overlap_cut)"
	[ "$(sfw_counter pauses)" -gt 0 ] || fail "no pause happened"
	check_eq "$(log_lines | grep -c 'mode=sockmap up=67108864 down=67108864 .*close=eof')" 5 \
		"flows complete in sockmap mode"
}

# accept_queue_is N: sockfwd's listener on 1000 has N connections waiting.
accept_queue_is() {
	[ "$(nsx fwd ss -ltnH 'sport = :1000' | awk '{ print $2 }')" = "$1" ]
}

# --max-conns: past the limit a client is accepted and reset at once, not
# left in the accept queue; a closed flow makes room.  Also a direct target
# that refuses: logged with the errno.
test_connection_limit_and_refused_target() {
	sfw_topology
	sfw_bg srv "$TOOLS/sockfwd-bench" hold-server -l 203.0.113.2:5001
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --max-conns 2 \
		-l 192.0.2.2:1001 -t 203.0.113.2:5999
	nsx cli timeout 5 "$PEER" -c 192.0.2.2:1001 -g 10 2>/dev/null
	wait_log "listen=192.0.2.2:1001 .*close=connect 203.0.113.2:5999: Connection refused"

	local first start
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -H
	first=$BG_PID
	wait_for 5 counters_say "accepted=2 active=1" || fail "the first client was not accepted"
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -H
	wait_for 5 counters_say "accepted=3 active=2" || fail "the second client was not accepted"
	start=$SECONDS
	nsx cli timeout 5 "$PEER" -c 192.0.2.2:1000 -H 2>"$TEST_TMP/third.err" &&
		fail "the third client was served"
	grep -q "Connection reset by peer" "$TEST_TMP/third.err" ||
		fail "the third client saw no reset: $(cat "$TEST_TMP/third.err")"
	[ $((SECONDS - start)) -le 1 ] || fail "the reset took $((SECONDS - start)) s"
	check_eq "$(accept_queue_is 0 && echo 0)" 0 "connections waiting in the accept queue"
	check_eq "$(sfw_counter refused_max)" 1 "clients refused at --max-conns 2"
	wait_log "refused client=192.0.2.1:[0-9]*: --max-conns reached"
	kill "$first"
	wait_for 5 counters_say "active=1 " || fail "the first flow did not end"
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -H
	wait_for 5 counters_say "accepted=5 active=2" ||
		fail "no room for a client after the first left"
	log "$(grep counters "$SFW_LOG" | tail -n1)"
}
