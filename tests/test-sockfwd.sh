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

# sfw_start ARGS...: run sockfwd in fwd, log in $SFW_LOG, wait for its ports.
sfw_start() {
	local before
	SFW_LOG=$TEST_TMP/sockfwd.log
	before=$(grep -c "ready" "$SFW_LOG" 2>/dev/null)
	sfw_bg fwd "$SFW" --maps "${PIN:-/sys/fs/bpf/sockfwd-test-none}" "$@" 2>>"$SFW_LOG"
	SFW_PID=$BG_PID
	wait_for 5 sh -c "[ \$(grep -c ready '$SFW_LOG') -gt ${before:-0} ]" ||
		{ cat "$SFW_LOG"; fail "sockfwd did not start"; }
}

# sfw_stop: SIGTERM, and wait until it has finished its flows and exited.
sfw_stop() {
	kill -TERM "$SFW_PID" 2>/dev/null
	wait_for 15 sh -c "! kill -0 $SFW_PID 2>/dev/null" || fail "sockfwd did not exit on SIGTERM"
}

# sfw_counter NAME: the value of a counter after SIGUSR1.
sfw_counter() {
	local before
	before=$(grep -c "counters" "$SFW_LOG")
	kill -USR1 "$SFW_PID"
	wait_for 5 sh -c "[ \$(grep -c counters '$SFW_LOG') -gt $before ]"
	grep "counters" "$SFW_LOG" | tail -n1 | sed -n "s/.* $1=\([0-9-]*\).*/\1/p"
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
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 \
		-l 192.0.2.2:1001 -t 203.0.113.2:5001 -x socks5://mu:mpass@198.51.100.2:1081 \
		-l 192.0.2.2:1002 -t srv.sockfwd.test:5001 -x socks5://sfwuser:s3cret@198.51.100.2:1080
	sha_transfer 192.0.2.2:1000 300000 $((3 << 20))
	# microsocks closes both ways on the first EOF (no half-close): the
	# client keeps its side open and the server closes once it has all.
	SRV_OPTS="-r 300000" sha_transfer 192.0.2.2:1001 300000 $((3 << 20)) -H
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
	SRV_OPTS="-r 5000" sha_transfer 192.0.2.2:1000 5000 7000 -H
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
