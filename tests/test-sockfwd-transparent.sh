# shellcheck shell=bash
# timeout: 180
# sockfwd on a router, transparent: the LAN client (cli) talks to the server
# (srv) as if nothing were in between; fwd is the router, where the shipped
# rules (scripts/sockfwd-transparent.nft, LAN_IF f0) redirect its TCP to
# sockfwd --transparent, which relays it to the original destination,
# directly (px routes) or through dante on px.  Topology and helpers from
# tests/test-sockfwd.sh (cli -- fwd -- px -- srv).

# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh

MARK=42

# fwmark_shown: an upstream socket to the echo server carries the mark.
fwmark_shown() { nsx fwd ss -tenH dst 203.0.113.2:5001 | grep -q "fwmark:0x2a"; }

# tp_router [nft|iptables|none]: cli's default route via fwd, and the
# shipped rules (nft by default) with the test's LAN interface on fwd.
tp_router() {
	local rules=${1:-nft}
	need nft curl python3
	sfw_topology
	nsx cli ip route add default via 192.0.2.2
	if [ "$rules" = iptables ]; then
		need iptables ip6tables
		nsx fwd env LAN_IF=f0 SOCKFWD_MARK=$MARK "$ROOT/scripts/sockfwd-transparent-iptables" add ||
			fail "the shipped iptables rules do not load"
	fi
	[ "$rules" = nft ] || { sfw_load_maps; return 0; }
	sed -e 's/^define LAN_IF = .*/define LAN_IF = "f0"/' \
		-e "s/^define SOCKFWD_MARK = .*/define SOCKFWD_MARK = $MARK/" \
		"$ROOT/scripts/sockfwd-transparent.nft" >"$TEST_TMP/rules.nft"
	nsx fwd nft -f "$TEST_TMP/rules.nft" || fail "the shipped rules do not load"
	sfw_load_maps
}

# A web server on srv (both families) with one 8 MiB file of random bytes.
tp_web() {
	mkdir -p "$TEST_TMP/www"
	head -c $((8 << 20)) /dev/urandom >"$TEST_TMP/www/blob"
	WANT=$(sha256sum <"$TEST_TMP/www/blob" | cut -d' ' -f1)
	sfw_bg srv python3 -m http.server --bind :: --directory "$TEST_TMP/www" 8080 \
		2>"$TEST_TMP/http.log"
	wait_for 5 listening srv 8080 || fail "http.server did not start"
}

# tp_curl16 URL: 16 parallel downloads from cli, each hashed.
tp_curl16() {
	local i pids=() got
	for i in $(seq 1 16); do
		nsx cli curl -sS -g --max-time 30 -o "$TEST_TMP/got.$i" "$1" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || { tail -n 3 "$SFW_LOG"; fail "a curl of $1 failed"; }; done
	for i in $(seq 1 16); do
		got=$(sha256sum <"$TEST_TMP/got.$i" | cut -d' ' -f1)
		[ "$got" = "$WANT" ] || fail "download $i of $1: sha256 $got, want $WANT"
	done
	log "ok: 16 parallel downloads of $1, sha256 equal"
}

# tp_echo16 ADDR:PORT: 16 parallel clients each send 4 MiB to the echo
# server on srv and check every byte that comes back (both directions).
tp_echo16() {
	nsx cli timeout 60 "$PEER" -c "$1" -n 16 -k 16 -g $((4 << 20)) -V -H -s 7 2>"$TEST_TMP/echo.err" ||
		{ cat "$TEST_TMP/echo.err"; fail "echo clients to $1 failed"; }
	log "ok: 16 parallel echo flows to $1: $(tail -n1 "$TEST_TMP/echo.err")"
}

# Through the router in both families: curl and echo flows, all relayed by
# sockfwd in sockmap mode to the original destination.
tp_relay_both_families() {
	local via=$1 n
	tp_web
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m
	sfw_bg srv "$PEER" -l "[2001:db8:3::2]:5001" -e -m
	wait_for 5 listening srv 5001 || fail "echo server did not start"
	tp_curl16 http://203.0.113.2:8080/blob
	tp_curl16 "http://[2001:db8:3::2]:8080/blob"
	tp_echo16 203.0.113.2:5001
	tp_echo16 "[2001:db8:3::2]:5001"
	wait_for 10 sfw_entries_are 0 || fail "$(sfw_entries) sockhash entries left"
	n=$(log_lines | grep -c "target=203.0.113.2:8080$via mode=sockmap up=[0-9]* down=[0-9]* .*close=eof")
	check_eq "$n" 16 "IPv4 web flows relayed to the original destination in sockmap mode"
	n=$(log_lines | grep -c "target=\[2001:db8:3::2\]:8080$via mode=sockmap .*close=eof")
	check_eq "$n" 16 "IPv6 web flows"
	n=$(log_lines | grep -c "target=\[2001:db8:3::2\]:5001$via mode=sockmap up=4194304 down=4194304 ")
	check_eq "$n" 16 "IPv6 echo flows, 4 MiB each way"
	check_eq "$(log_lines | grep -vc "mode=sockmap .*close=eof")" 0 "flows not relayed in sockmap mode"
	check_no_close_wait
}

test_transparent_direct() {
	tp_router
	sfw_start -l :12345 --transparent --mark $MARK --mode sockmap
	tp_relay_both_families ""
}

# The listener from a -c file: its target is the word "transparent".
test_transparent_through_dante() {
	tp_router
	dante_start none
	printf '# listen  target       proxy\n:12345    transparent  socks5://198.51.100.2:1080\n' \
		>"$TEST_TMP/sockfwd.conf"
	sfw_start -c "$TEST_TMP/sockfwd.conf" --mark $MARK --mode sockmap
	tp_relay_both_families " via=198.51.100.2:1080"
}

# A connection whose original destination is sockfwd's listener would make
# sockfwd connect to itself, again and again: reset at once, counted.
test_transparent_loop_refused() {
	tp_router
	sfw_start -l :12345 --transparent --mark $MARK -l 127.0.0.1:2000 --transparent
	refused_at_once 192.0.2.2:12345
	refused_at_once "[2001:db8:1::2]:12345"
	refused_at_once 198.51.100.1:12345
	refused_at_once 127.0.0.1:12345 fwd
	refused_at_once 127.0.0.1:2000 fwd
	check_eq "$(sfw_counter refused_loop)" 5 "refused_loop counter"
	grep -q "refused client=[^ ]*192.0.2.1\]*:[0-9]*: original destination 192.0.2.2:12345 is sockfwd's own listener (a loop) (reset" \
		"$SFW_LOG" || { cat "$SFW_LOG"; fail "no log line for the loop"; }
	check_eq "$(flow_lines_count)" 0 "flows started"
}

flow_lines_count() { log_lines | wc -l; }

# The router's own connections go through sockfwd too (the output chain);
# sockfwd's upstream connections carry --mark, which the rules skip: they
# reach the server instead of sockfwd again.
test_transparent_mark_skips_rules() {
	local before after
	tp_router
	tp_web
	sfw_start -l :12345 --transparent --mark $MARK --status-socket "$TEST_TMP/status.sock"
	before=$(nsx fwd nft list chain inet sockfwd output | sed -n 's/.*meta mark 0x0*2a counter packets \([0-9]*\).*/\1/p')
	WANT=$(sha256sum <"$TEST_TMP/www/blob" | cut -d' ' -f1)
	nsx fwd curl -sS -g --max-time 30 -o "$TEST_TMP/got.fwd" http://203.0.113.2:8080/blob ||
		fail "curl from the router itself failed"
	check_eq "$(sha256sum <"$TEST_TMP/got.fwd" | cut -d' ' -f1)" "$WANT" "sha256 of the router's own download"
	after=$(nsx fwd nft list chain inet sockfwd output | sed -n 's/.*meta mark 0x0*2a counter packets \([0-9]*\).*/\1/p')
	log "marked packets in the output chain: $before -> $after"
	[ "${after:-0}" -gt "${before:-0}" ] || fail "no packet with mark $MARK counted"
	wait_log "close=eof"
	check_eq "$(log_lines | wc -l)" 1 "flows (one: the upstream was not redirected again)"
	log_lines | grep -q "client=[^ ]*198.51.100.1\]*:[0-9]* listen=:12345 target=203.0.113.2:8080 " ||
		fail "the router's download did not go through sockfwd: $(log_lines)"
	# While a flow runs its upstream socket shows the mark (ss -e: fwmark).
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e
	wait_for 5 listening srv 5001 || fail "echo server did not start"
	sfw_bg cli "$PEER" -c 203.0.113.2:5001 -D 3000 -g 10
	wait_for 5 fwmark_shown ||
		fail "no upstream socket with fwmark 0x2a: $(nsx fwd ss -tenH)"
	log "ok: $(nsx fwd ss -tenH dst 203.0.113.2:5001 | grep -o 'fwmark:0x2a')"
	# --status names each flow's own target, and the loop counter.
	"$SFW" --status="$TEST_TMP/status.sock" >"$TEST_TMP/status.out" || fail "--status failed"
	log "$(cat "$TEST_TMP/status.out")"
	grep -q "refused_loop=0" "$TEST_TMP/status.out" || fail "no refused_loop in the header"
	grep -q "^flow client=[^ ]*192.0.2.1\]*:[0-9]* listen=:12345 target=203.0.113.2:5001 " \
		"$TEST_TMP/status.out" || fail "--status does not show the original destination"
}

# --mark needs CAP_NET_ADMIN: without it sockfwd says so and does not start.
test_transparent_mark_needs_cap() {
	need setpriv
	ns_add fwd
	nsx fwd setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		"$SFW" -l 127.0.0.1:2000 --transparent --mark 1 --mode copy 2>"$TEST_TMP/err" &&
		fail "started without CAP_NET_ADMIN"
	grep -q -- "--mark 1: Operation not permitted (SO_MARK needs CAP_NET_ADMIN)" "$TEST_TMP/err" ||
		fail "message: $(cat "$TEST_TMP/err")"
	nsx fwd "$SFW" -l 127.0.0.1:2000 -t 127.0.0.1:1 --transparent 2>"$TEST_TMP/err" &&
		fail "-t and --transparent both accepted"
	grep -q "has both -t and --transparent" "$TEST_TMP/err" || fail "message: $(cat "$TEST_TMP/err")"
}

# ssh and scp-like streams through the router, v4 and v6, through dante.
test_transparent_ssh() {
	need ssh ssh-keygen /usr/sbin/sshd
	tp_router
	dante_start none
	sfw_start -l :12345 --transparent -x socks5://198.51.100.2:1080 --mark $MARK
	mkdir -p /run/sshd "$TEST_TMP/ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/ssh/host" </dev/null
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/ssh/user" </dev/null
	cp "$TEST_TMP/ssh/user.pub" "$TEST_TMP/ssh/authorized_keys"
	cat >"$TEST_TMP/ssh/sshd_config" <<-EOC
	ListenAddress 0.0.0.0
	ListenAddress ::
	HostKey $TEST_TMP/ssh/host
	AuthorizedKeysFile $TEST_TMP/ssh/authorized_keys
	PermitRootLogin prohibit-password
	StrictModes no
	UsePAM no
	PidFile none
	EOC
	sfw_bg srv /usr/sbin/sshd -D -e -f "$TEST_TMP/ssh/sshd_config" 2>"$TEST_TMP/sshd.log"
	wait_for 5 listening srv 22 || { cat "$TEST_TMP/sshd.log"; fail "sshd did not start"; }
	head -c $((16 << 20)) /dev/urandom >"$TEST_TMP/ssh/data"
	want=$(sha256sum <"$TEST_TMP/ssh/data" | cut -d' ' -f1)
	local host got
	for host in 203.0.113.2 2001:db8:3::2; do
		got=$(nsx cli ssh -i "$TEST_TMP/ssh/user" -o BatchMode=yes -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$host" sha256sum \
			<"$TEST_TMP/ssh/data" | cut -d' ' -f1)
		check_eq "$got" "$want" "sha256 of 16 MiB sent over ssh to $host"
		got=$(nsx cli ssh -i "$TEST_TMP/ssh/user" -o BatchMode=yes -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$host" \
			cat "$TEST_TMP/ssh/data" | sha256sum | cut -d' ' -f1)
		check_eq "$got" "$want" "sha256 of 16 MiB read over ssh from $host"
	done
	wait_for 10 sfw_entries_are 0 || fail "$(sfw_entries) sockhash entries left"
	check_eq "$(log_lines | grep -c "target=203.0.113.2:22 via=198.51.100.2:1080 mode=sockmap .*close=eof")" 2 "ssh flows over IPv4"
	check_eq "$(log_lines | grep -c "target=\[2001:db8:3::2\]:22 via=198.51.100.2:1080 mode=sockmap .*close=eof")" 2 "ssh flows over IPv6"
}

# The iptables equivalent of the shipped nft rules: the same flows, then
# "del" leaves no chain behind.
test_transparent_iptables() {
	tp_router iptables
	sfw_start -l :12345 --transparent --mark $MARK --mode sockmap
	tp_relay_both_families ""
	nsx fwd "$ROOT/scripts/sockfwd-transparent-iptables" del
	nsx fwd iptables -w -t nat -S | grep -q SOCKFWD && fail "IPv4 chain left after del"
	nsx fwd ip6tables -w -t nat -S | grep -q SOCKFWD && fail "IPv6 chain left after del"
	return 0
}

# TPROXY (nft tproxy, a policy route for the mark to the local table): no
# NAT, the accepted socket's own address is the original destination; the
# listener needs IP_TRANSPARENT, which sockfwd sets on --transparent ones.
test_transparent_tproxy() {
	tp_router none
	cat >"$TEST_TMP/tproxy.nft" <<-EOR
	table inet sockfwd_tproxy {
		chain prerouting {
			type filter hook prerouting priority mangle; policy accept;
			iifname != "f0" return
			meta l4proto tcp socket transparent 1 meta mark set 1 accept
			meta l4proto tcp ip daddr 203.0.113.0/24 tproxy ip to :12346 meta mark set 1 accept
			meta l4proto tcp ip6 daddr 2001:db8:3::/64 tproxy ip6 to :12346 meta mark set 1 accept
		}
	}
	EOR
	nsx fwd nft -f "$TEST_TMP/tproxy.nft" || fail "tproxy rules do not load"
	nsx fwd ip rule add fwmark 1 lookup 100
	nsx fwd ip route add local 0.0.0.0/0 dev lo table 100
	nsx fwd ip -6 rule add fwmark 1 lookup 100
	nsx fwd ip -6 route add local ::/0 dev lo table 100
	sfw_start -l :12346 --transparent --mark $MARK --mode sockmap
	grep -q "no IP_TRANSPARENT" "$SFW_LOG" && fail "IP_TRANSPARENT refused as root"
	tp_web
	tp_curl16 http://203.0.113.2:8080/blob
	tp_curl16 "http://[2001:db8:3::2]:8080/blob"
	check_eq "$(log_lines | grep -c "target=203.0.113.2:8080 mode=sockmap .*close=eof")" 16 "IPv4 flows under TPROXY"
	check_eq "$(log_lines | grep -c "target=\[2001:db8:3::2\]:8080 mode=sockmap .*close=eof")" 16 "IPv6 flows under TPROXY"
	refused_at_once 192.0.2.2:12346
	check_eq "$(sfw_counter refused_loop)" 1 "refused_loop counter"
}

# The guarantees of the fixed-target relay hold for transparent flows, in
# each mode: half-close both ways and early bytes (sha256 each way), to the
# original destination through dante.
tp_modes() {
	tp_router
	dante_start none
	sfw_start -l :12345 --transparent -x socks5://198.51.100.2:1080 --mark $MARK --mode "$1"
	SRV_OPTS=-A sha_transfer 203.0.113.2:5001 $((8 << 20)) $((8 << 20))
	sha_transfer 203.0.113.2:5001 $((8 << 20)) $((8 << 20)) -A
	SRV_OPTS="-r 5000 -H" sha_transfer 203.0.113.2:5001 5000 7000 -H
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 3 ]" || fail "flows did not end"
	log "$(log_lines)"
	check_eq "$(log_lines | grep -c "target=203.0.113.2:5001 via=198.51.100.2:1080 mode=$1 up=8388608 down=8388608 .*close=eof")" 2 \
		"half-closed transparent flows complete"
	check_eq "$(log_lines | grep -c "mode=$1 up=5000 down=7000 .*close=eof")" 1 "early bytes flow"
	check_no_close_wait
}
test_transparent_modes_sockmap() { tp_modes sockmap; }
test_transparent_modes_splice() { tp_modes splice; }
test_transparent_modes_copy() { tp_modes copy; }

# Limits for transparent flows: a third connection from one address past
# --max-conns-per-ip is reset at once; idle ones are reset after
# --idle-timeout (in sockmap mode on the verdict's clock).
test_transparent_limits() {
	tp_router
	sfw_start -l :12345 --transparent --mark $MARK --max-conns-per-ip 2 --idle-timeout 2 --mode sockmap
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m
	wait_for 5 listening srv 5001 || fail "echo server did not start"
	sfw_bg cli "$PEER" -c 203.0.113.2:5001 -D 20000 -g 1
	sfw_bg cli "$PEER" -c 203.0.113.2:5001 -D 20000 -g 1
	wait_for 5 sfw_entries_are 4 || fail "two idle flows not in the map: $(sfw_entries)"
	refused_at_once 203.0.113.2:5001
	check_eq "$(sfw_counter refused_per_ip)" 1 "refused_per_ip"
	wait_for 5 sh -c "[ \$(grep -c 'close=idle timeout' '$SFW_LOG') -ge 2 ]" ||
		fail "idle transparent flows not reset: $(log_lines)"
	log "$(log_lines)"
	check_eq "$(sfw_counter idle_closed)" 2 "idle_closed"
}
