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
	SFW_LOG=$TEST_TMP/sockfwd.log
	bg fwd "$SFW" --maps "${PIN:-/sys/fs/bpf/sockfwd-test-none}" "$@" 2>>"$SFW_LOG"
	SFW_PID=$BG_PID
	wait_for 5 grep -q "ready" "$SFW_LOG" || { cat "$SFW_LOG"; fail "sockfwd did not start"; }
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
	bg px unshare -m sh -c "mount --bind '$TEST_TMP/passwd' /etc/passwd &&
		mount --bind '$TEST_TMP/shadow' /etc/shadow &&
		exec /usr/sbin/danted -f '$conf' -p '$TEST_TMP/danted.pid'" 2>"$TEST_TMP/danted.log"
	wait_for 5 nsx px ss -ltnH "sport = :1080" | grep -q . ||
		{ cat "$TEST_TMP/danted.log"; fail "danted did not start"; }
	wait_for 5 sh -c "nsx px ss -ltnH 'sport = :1080' | grep -q ." 2>/dev/null
}

listening() { nsx "$1" ss -ltnH "sport = :$2" | grep -q .; }

# sha_transfer CONNECT UP DOWN [client opts]: client in cli sends UP bytes,
# server in srv (port 5001) sends DOWN bytes; both sides' sha256 checked.
sha_transfer() {
	local to=$1 up=$2 down=$3 want_up want_down got_up got_down
	shift 3
	want_up=$("$PEER" -G "$up" -s 11 | sha256sum | cut -d' ' -f1)
	want_down=$("$PEER" -G "$down" -s 22 | sha256sum | cut -d' ' -f1)
	bg srv sh -c "'$PEER' -l '${SRV_LISTEN:-203.0.113.2:5001}' -g $down -s 22 -o - 2>'$TEST_TMP/srv.err' |
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

test_direct_sockmap_small() {
	sfw_topology
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap
	sha_transfer 192.0.2.2:1000 100000 200000
	wait_for 5 grep -q "conn .*close=" "$SFW_LOG" || fail "no log line"
	cat "$SFW_LOG"
	grep -q "mode=sockmap up=100000 down=200000" "$SFW_LOG" || fail "log line wrong"
	check_eq "$(sfw_entries)" 0 "sockhash entries after the flow"
}
