# shellcheck shell=bash
# timeout: 180
# sockfwd as a SOCKS5 server (-l :1080 --socks5-server): clients in cli ask
# for their own targets on srv (IPv4, IPv6, names), sockfwd in fwd connects
# directly (px routes) or through dante on px, answers, then relays as any
# flow.  Real clients (curl, ssh through nc -X 5) and a byte-level one
# (tests/tools/socks5-client.py) for the replies; names from a DNS server
# in px (tests/tools/dns-answer.py) that sockfwd reaches through a private
# /etc/resolv.conf, bound in a mount namespace of its own.  Topology and
# helpers from tests/test-sockfwd.sh and tests/test-sockfwd-transparent.sh.

# shellcheck source=tests/test-sockfwd-transparent.sh
. tests/test-sockfwd-transparent.sh

S5C=$ROOT/tests/tools/socks5-client.py
# The binary under test (a red run points it at an older build).
SFW=${SOCKFWD_UNDER_TEST:-$SFW}

# s5 ARGS...: the byte-level client in cli against 192.0.2.2:1080; its
# lines on stdout (never fails: the caller checks what it printed).
s5() { nsx cli timeout 25 python3 "$S5C" 192.0.2.2 1080 "$@" 2>&1 || true; }

# s5_says WHAT ARGS...: the client's output holds the line WHAT.
s5_says() {
	local want=$1 out
	shift
	out=$(s5 "$@")
	grep -qx -- "$want" <<<"$out" || { tail -n 5 "$SFW_LOG"; fail "client $*: want '$want', got: $(tr '\n' '|' <<<"$out")"; }
	log "ok: $* -> $(tr '\n' ' ' <<<"$out")"
}

# s5_reply CODE ARGS...: the server's reply to the request is CODE (hex),
# and a failure is followed by a clean close.
s5_reply() {
	local code=$1 out
	shift
	out=$(s5 "$@")
	grep -q "^reply $code bound " <<<"$out" || { tail -n 5 "$SFW_LOG"; fail "client $*: want reply $code, got: $(tr '\n' '|' <<<"$out")"; }
	[ "$code" = 00 ] || grep -qx eof <<<"$out" || fail "client $*: no clean close after reply $code: $(tr '\n' '|' <<<"$out")"
	log "ok: $* -> $(tr '\n' ' ' <<<"$out")"
}

echo_server() {
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m
	sfw_bg srv "$PEER" -l "[2001:db8:3::2]:5001" -e -m
	wait_for 5 listening srv 5001 || fail "echo server did not start"
}

# ss_web_both MODE: 16 curl downloads through the SOCKS5 server to each
# family's address, all relayed in MODE, sha256 equal, maps empty.
ss_web_both() {
	local mode=$1 n
	tp_web
	export ALL_PROXY=socks5h://192.0.2.2:1080
	tp_curl16 http://203.0.113.2:8080/blob
	export ALL_PROXY='socks5h://[2001:db8:1::2]:1080'
	tp_curl16 "http://[2001:db8:3::2]:8080/blob"
	unset ALL_PROXY
	[ -z "$PIN" ] || wait_for 10 sfw_entries_are 0 || fail "$(sfw_entries) sockhash entries left"
	n=$(log_lines | grep -c "listen=:1080 target=203.0.113.2:8080 mode=$mode up=[0-9]* down=[0-9]* .*close=eof")
	check_eq "$n" 16 "IPv4 downloads relayed in $mode mode"
	n=$(log_lines | grep -c "listen=:1080 target=\[2001:db8:3::2\]:8080 mode=$mode .*close=eof")
	check_eq "$n" 16 "IPv6 downloads relayed in $mode mode"
	check_no_close_wait
}

ss_modes() {
	need curl python3
	sfw_topology
	sfw_load_maps
	sfw_start -l :1080 --socks5-server --mode "$1"
	ss_web_both "$1"
	# Greeting, request and data in one segment: the data is the relay's.
	echo_server
	s5_says "echo ok 100000" 203.0.113.2 5001 --pipeline 100000
	s5_says "echo ok 3000" 2001:db8:3::2 5001 --pipeline 3000
	wait_log "target=\[2001:db8:3::2\]:5001 mode=$1 up=3000 down=3000 "
}
test_socks_server_sockmap() { ss_modes sockmap; }
test_socks_server_splice() { ss_modes splice; }
test_socks_server_copy() { ss_modes copy; }

# ssh through the SOCKS5 server (OpenBSD netcat as ProxyCommand), 16 MiB
# each way, IPv4 and IPv6 targets.
test_socks_server_ssh() {
	need ssh ssh-keygen /usr/sbin/sshd nc.openbsd
	sfw_topology
	sfw_load_maps
	sfw_start -l :1080 --socks5-server
	mkdir -p /run/sshd "$TEST_TMP/ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/ssh/host" </dev/null
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/ssh/user" </dev/null
	cp "$TEST_TMP/ssh/user.pub" "$TEST_TMP/ssh/authorized_keys"
	printf '%s\n' "ListenAddress 0.0.0.0" "ListenAddress ::" "HostKey $TEST_TMP/ssh/host" \
		"AuthorizedKeysFile $TEST_TMP/ssh/authorized_keys" "PermitRootLogin prohibit-password" \
		"StrictModes no" "UsePAM no" "PidFile none" >"$TEST_TMP/ssh/sshd_config"
	sfw_bg srv /usr/sbin/sshd -D -e -f "$TEST_TMP/ssh/sshd_config" 2>"$TEST_TMP/sshd.log"
	wait_for 5 listening srv 22 || { cat "$TEST_TMP/sshd.log"; fail "sshd did not start"; }
	head -c $((16 << 20)) /dev/urandom >"$TEST_TMP/ssh/data"
	local want got host opts
	want=$(sha256sum <"$TEST_TMP/ssh/data" | cut -d' ' -f1)
	opts=(-i "$TEST_TMP/ssh/user" -o BatchMode=yes -o StrictHostKeyChecking=no
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
		-o "ProxyCommand=nc.openbsd -X 5 -x 192.0.2.2:1080 %h %p")
	for host in 203.0.113.2 2001:db8:3::2; do
		got=$(nsx cli ssh "${opts[@]}" "root@$host" sha256sum <"$TEST_TMP/ssh/data" | cut -d' ' -f1)
		check_eq "$got" "$want" "sha256 of 16 MiB sent over ssh to $host"
		got=$(nsx cli ssh "${opts[@]}" "root@$host" cat "$TEST_TMP/ssh/data" | sha256sum | cut -d' ' -f1)
		check_eq "$got" "$want" "sha256 of 16 MiB read over ssh from $host"
	done
	wait_for 10 sfw_entries_are 0 || fail "$(sfw_entries) sockhash entries left"
	check_eq "$(log_lines | grep -c "target=203.0.113.2:22 mode=sockmap .*close=eof")" 2 "ssh flows to IPv4"
	check_eq "$(log_lines | grep -c "target=\[2001:db8:3::2\]:22 mode=sockmap .*close=eof")" 2 "ssh flows to IPv6"
}

# Every reply code sockfwd sends itself, each followed by a clean close,
# and the handshake's shapes: pipelined, one byte per segment, malformed.
test_socks_server_replies() {
	need python3
	sfw_topology
	sfw_load_maps
	sfw_start -l :1080 --socks5-server -l 127.0.0.1:1081 --socks5-server --timeout 8000
	echo_server
	s5_reply 05 203.0.113.2 5999
	s5_reply 03 2001:db8:ff::1 80
	# On fwd's own link, nobody answers the neighbour solicitation.
	s5_reply 04 198.51.100.99 80
	s5_reply 07 203.0.113.2 5001 --cmd 2
	s5_reply 07 203.0.113.2 5001 --cmd 3
	s5_reply 08 203.0.113.2 5001 --atyp 7
	s5_reply 02 192.0.2.2 1080
	s5_reply 02 2001:db8:1::2 1080
	s5_reply 02 198.51.100.1 1080
	s5_reply 02 127.0.0.1 1081
	s5_reply 02 127.0.0.1 1081 --name
	check_eq "$(sfw_counter refused_loop)" 5 "refused_loop"
	check_eq "$(sfw_counter socks5_unsupported)" 3 "socks5_unsupported (BIND, UDP ASSOCIATE, ATYP 7)"
	s5_says "echo ok 65536" 203.0.113.2 5001 --pipeline 65536
	s5_says "echo ok after 0.5 s" 203.0.113.2 5001 --bytewise --hold 0.5
	s5_says "echo ok after 0.5 s" 203.0.113.2 5001 --name --bytewise --hold 0.5
	# SOCKS4 and garbage: no SOCKS5 reply to give, a clean close at once.
	s5_says eof 203.0.113.2 5001 --raw 04010fa1cb007102
	s5_says eof 203.0.113.2 5001 --raw 0501007f01000103
	s5_says eof 203.0.113.2 5001 --raw 0500
	# A name that would write its own log line.
	s5_reply 04 $'x\nsockfwd: conn client=forged' 80
	grep -q "^sockfwd: conn client=forged" "$SFW_LOG" && fail "a client's name forged a log line"
	check_eq "$(sfw_counter socks5_malformed)" 3 "socks5_malformed (version 4, request version 127, a name with a newline)"
	check_eq "$(sfw_counter socks5_no_method)" 1 "socks5_no_method (an empty method list)"
	grep -q "close=socks5-server: not a SOCKS5 greeting (version 4)" "$SFW_LOG" ||
		fail "no log line for the SOCKS4 greeting"
	check_no_close_wait
	# --allow: a client outside is reset at once, as on any listener.
	sfw_stop
	sfw_start -l :1080 --socks5-server --allow 192.0.2.99
	refused_at_once 192.0.2.2:1080
	check_eq "$(sfw_counter refused_allow)" 1 "refused_allow"
}

DNS_SERVER=$ROOT/tests/tools/dns-answer.py

# dns_start NAME=ADDR...: the DNS server in px on 198.51.100.2:53, and a
# resolv.conf and hosts file for sockfwd alone (ss_start_private).
dns_start() {
	sfw_bg px python3 "$DNS_SERVER" 198.51.100.2 53 "$@" 2>"$TEST_TMP/dns.log"
	wait_for 5 sh -c "nsenter --net='$(ns_path px)' ss -lunH 'sport = :53' | grep -q ." ||
		{ cat "$TEST_TMP/dns.log"; fail "DNS server did not start"; }
	printf 'nameserver 198.51.100.2\noptions timeout:2 attempts:2\n' >"$TEST_TMP/resolv.conf"
	printf '127.0.0.1 localhost\n203.0.113.2 hosts-only.socks.test\n' >"$TEST_TMP/hosts"
}

# ss_start_private ARGS...: sockfwd in fwd as sfw_start starts it, in a
# mount namespace of its own where /etc/resolv.conf and /etc/hosts are the
# test's.  nsenter, not ip netns exec: that remounts /sys, and the pins
# under /sys/fs/bpf must stay visible.  unshare -m makes the mounts
# private, so the host's files are never touched.
ss_start_private() {
	SFW_LOG=$TEST_TMP/sockfwd.log
	sfw_bg fwd unshare -m sh -c "mount --bind '$TEST_TMP/resolv.conf' /etc/resolv.conf &&
		mount --bind '$TEST_TMP/hosts' /etc/hosts &&
		exec '$SFW' --maps '${PIN:-/sys/fs/bpf/sockfwd-test-none}' \"\$@\"" _ "$@" 2>>"$SFW_LOG"
	SFW_PID=$BG_PID
	wait_for 5 grep -q ready "$SFW_LOG" || { cat "$SFW_LOG"; fail "sockfwd did not start"; }
}

# Names resolved by sockfwd itself: from the DNS server (A, AAAA, an
# IPv6-only name), from /etc/hosts, one whose first address refuses (the
# next is tried), and one that does not exist (0x04).
test_socks_server_names() {
	need curl python3
	sfw_topology
	sfw_load_maps
	dns_start web.socks.test=203.0.113.2 web6.socks.test=2001:db8:3::2 \
		both.socks.test=203.0.113.2,2001:db8:3::2 two.socks.test=2001:db8:3::3,203.0.113.2
	ss_start_private -l :1080 --socks5-server --mode sockmap
	# two.socks.test: getaddrinfo() puts the IPv6 address first (RFC 6724),
	# where nothing listens on 5001; the IPv4 one serves.
	nsx srv ip addr add 2001:db8:3::3/64 dev s0 nodad
	echo_server
	s5_says "echo ok 1000" two.socks.test 5001 --pipeline 1000
	grep -q "target=two.socks.test: connect \[2001:db8:3::3\]:5001: Connection refused; trying the next address" \
		"$SFW_LOG" || fail "no log line for the refused first address"
	wait_log "target=two.socks.test:5001 mode=sockmap up=1000 down=1000 "

	tp_web
	export ALL_PROXY=socks5h://192.0.2.2:1080
	tp_curl16 http://web.socks.test:8080/blob
	tp_curl16 http://web6.socks.test:8080/blob
	tp_curl16 http://hosts-only.socks.test:8080/blob
	tp_curl16 http://both.socks.test:8080/blob
	unset ALL_PROXY
	s5_reply 04 nosuch.socks.test 8080
	grep -q "close=socks5-server: Name or service not known (reply 4)" "$SFW_LOG" ||
		fail "no log line for the name that does not exist"
	wait_for 10 sfw_entries_are 0 || fail "$(sfw_entries) sockhash entries left"
	local name
	for name in web web6 hosts-only both; do
		check_eq "$(log_lines | grep -c "target=$name.socks.test:8080 mode=sockmap .*close=eof")" 16 \
			"downloads from $name.socks.test"
	done
	grep -q "query hosts-only" "$TEST_TMP/dns.log" && fail "a name in /etc/hosts was asked of DNS"
	check_no_close_wait
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# A resolver that takes 3 s for one name stalls nothing else: a download
# already running goes on, a client asking for an IP literal and one asking
# for a quick name are served within a second, and the slow one after 3 s.
# That client pipelines data behind its request: while the name resolves,
# sockfwd must not wake for it (the CPU it uses meanwhile is measured).
test_socks_server_slow_name() {
	need curl python3
	sfw_topology
	sfw_load_maps
	dns_start web.socks.test=203.0.113.2 slow.socks.test=203.0.113.2@3
	ss_start_private -l :1080 --socks5-server
	echo_server
	tp_web
	nsx cli curl -sS --max-time 30 --limit-rate 2M --socks5-hostname 192.0.2.2:1080 \
		-o "$TEST_TMP/got.slowdl" http://203.0.113.2:8080/blob &
	local dl=$! t0 took cpu0 cpu
	sleep 0.5
	t0=$(date +%s%N)
	cpu0=$(cpu_ticks "$SFW_PID")
	nsx cli timeout 25 python3 "$S5C" 192.0.2.2 1080 slow.socks.test 5001 --pipeline 1000 --hold 0.1 \
		>"$TEST_TMP/slow.out" 2>&1 &
	local slow=$!
	sleep 0.3
	s5_says "echo ok 1000" 203.0.113.2 5001 --pipeline 1000
	s5_says "echo ok 1000" web.socks.test 5001 --pipeline 1000
	took=$((($(date +%s%N) - t0) / 1000000))
	log "literal and quick name served $took ms after the slow lookup began"
	[ "$took" -lt 2000 ] || fail "the other clients waited $took ms for the slow name"
	kill -0 "$slow" 2>/dev/null || fail "the slow name was answered before its 3 s: $(cat "$TEST_TMP/slow.out")"
	wait "$slow" || fail "slow name: $(cat "$TEST_TMP/slow.out")"
	took=$((($(date +%s%N) - t0) / 1000000))
	cpu=$(($(cpu_ticks "$SFW_PID") - cpu0))
	log "sockfwd used $cpu ticks of CPU while the slow name resolved (a download running)"
	[ "$cpu" -lt 30 ] || fail "sockfwd used $cpu ticks while a lookup ran: woken by the pipelined bytes"
	grep -qx "echo ok 1000" "$TEST_TMP/slow.out" || fail "slow name, pipelined: $(cat "$TEST_TMP/slow.out")"
	grep -qx "echo ok after 0.1 s" "$TEST_TMP/slow.out" || fail "slow name: $(cat "$TEST_TMP/slow.out")"
	[ "$took" -ge 3000 ] || fail "slow name served after $took ms, before the resolver answered"
	log "ok: slow name served after $took ms"
	wait "$dl" || fail "the download running meanwhile failed"
	check_eq "$(sha256sum <"$TEST_TMP/got.slowdl" | cut -d' ' -f1)" "$WANT" "sha256 of the download running meanwhile"
}

# A flow that ends while its name is being resolved (--timeout 1000, the
# resolver holding the answer 3 s) is closed with reply 0x04; the answer
# that comes later touches nothing, and sockfwd goes on serving.
test_socks_server_lookup_outlived() {
	need python3
	sfw_topology
	sfw_load_maps
	dns_start slow.socks.test=203.0.113.2@3 web.socks.test=203.0.113.2
	ss_start_private -l :1080 --socks5-server --timeout 1000
	echo_server
	local i pids=()
	for i in 1 2 3 4 5 6; do
		nsx cli timeout 25 python3 "$S5C" 192.0.2.2 1080 slow.socks.test 5001 >"$TEST_TMP/slow.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in 1 2 3 4 5 6; do
		grep -q "^reply 04 " "$TEST_TMP/slow.$i" || fail "slow lookup $i: $(cat "$TEST_TMP/slow.$i")"
	done
	check_eq "$(grep -c 'close=timeout: resolve after 1000 ms' "$SFW_LOG")" 6 "flows closed while resolving"
	sleep 3
	kill -0 "$SFW_PID" || fail "sockfwd died when the late answers came"
	s5_says "echo ok 1000" web.socks.test 5001 --pipeline 1000
}

# --socks5-users: a client logs in (RFC 1929) or is refused with a clean
# close; the password is in no argv, log line or --status output; a users
# file open to group or others, or with a bad line, is refused at start.
test_socks_server_auth() {
	need curl python3
	sfw_topology
	sfw_load_maps
	local secret=Pa55-w0rd-xyzzy users=$TEST_TMP/users
	(umask 077 && printf '# SOCKS5 users\n\nalice:%s\nbob:b0b:with:colons\n' "$secret" >"$users" &&
		printf '%s\n' "$secret" >"$TEST_TMP/alice.pass" && printf 'wrong\n' >"$TEST_TMP/wrong.pass" &&
		printf 'b0b:with:colons\n' >"$TEST_TMP/bob.pass")
	sfw_start -l :1080 --socks5-server --socks5-users "$users" --status-socket "$TEST_TMP/status.sock"
	echo_server
	s5_says "echo ok 1000" 203.0.113.2 5001 --user alice --password-file "$TEST_TMP/alice.pass" --pipeline 1000
	s5_says "echo ok after 0.2 s" 203.0.113.2 5001 --user bob --password-file "$TEST_TMP/bob.pass" --bytewise --hold 0.2
	s5_says "auth 01" 203.0.113.2 5001 --user alice --password-file "$TEST_TMP/wrong.pass"
	s5_says eof 203.0.113.2 5001 --user alice --password-file "$TEST_TMP/wrong.pass"
	s5_says "auth 01" 203.0.113.2 5001 --user mallory --password-file "$TEST_TMP/alice.pass"
	s5_says "method ff" 203.0.113.2 5001 --methods 00
	s5_says eof 203.0.113.2 5001 --methods 00
	tp_web
	nsx cli curl -sS --max-time 30 --socks5-hostname 192.0.2.2:1080 --proxy-user "alice:$secret" \
		-o "$TEST_TMP/got.auth" http://203.0.113.2:8080/blob || fail "curl with a login failed"
	check_eq "$(sha256sum <"$TEST_TMP/got.auth" | cut -d' ' -f1)" "$WANT" "sha256 of a download after login"
	check_eq "$(sfw_counter socks5_auth_failed)" 3 "socks5_auth_failed"
	check_eq "$(sfw_counter socks5_no_method)" 2 "socks5_no_method"
	grep -q "close=socks5-server: authentication failed$" "$SFW_LOG" || fail "no log line for a failed login"
	"$SFW" --status="$TEST_TMP/status.sock" >"$TEST_TMP/status.out" || fail "--status failed"
	grep -q "socks5_auth_failed=3" "$TEST_TMP/status.out" || fail "--status: $(head -n1 "$TEST_TMP/status.out")"
	grep -qF -- "$secret" "$SFW_LOG" "$TEST_TMP/status.out" "/proc/$SFW_PID/cmdline" &&
		fail "the password shows in the log, --status or argv"
	grep -q mallory "$SFW_LOG" && fail "a user name shows in the log"
	log "ok: no password in the log, --status or /proc/$SFW_PID/cmdline"
	# Without --socks5-users, a client that offers only a login is refused.
	sfw_stop
	sfw_start -l :1080 --socks5-server
	s5_says "method ff" 203.0.113.2 5001 --user alice --password-file "$TEST_TMP/alice.pass"
	# Bad users files: refused at start, the message naming file and mode or line.
	chmod 0640 "$users"
	nsx fwd "$SFW" --maps /nonexistent -l :1080 --socks5-server --socks5-users "$users" 2>"$TEST_TMP/err" &&
		fail "a users file of mode 0640 was accepted"
	grep -q "$users is mode 0640: a file that holds a password must not be open to group or others" \
		"$TEST_TMP/err" || fail "message: $(cat "$TEST_TMP/err")"
	chmod 0600 "$users"
	printf 'alice:%s\ncarol\n' "$secret" >"$users"
	nsx fwd "$SFW" --maps /nonexistent -l :1080 --socks5-server --socks5-users "$users" 2>"$TEST_TMP/err" &&
		fail "a users file with a bad line was accepted"
	grep -q "$users:2: want user:password" "$TEST_TMP/err" || fail "message: $(cat "$TEST_TMP/err")"
	grep -qF -- "$secret" "$TEST_TMP/err" && fail "the password shows in an error"
	log "ok: $(cat "$TEST_TMP/err")"
}

# Through dante (-x): a name goes to the proxy unresolved and the proxy
# resolves it (from its own /etc/hosts), the reply carries the address
# dante bound, and dante's refusal code reaches the client as it is.
test_socks_server_through_dante() {
	need curl python3
	sfw_topology
	sfw_load_maps
	dante_start none
	printf ':1080 socks5-server socks5://198.51.100.2:1080\n' >"$TEST_TMP/sockfwd.conf"
	sfw_start -c "$TEST_TMP/sockfwd.conf" --mode sockmap
	echo_server
	tp_web
	export ALL_PROXY=socks5h://192.0.2.2:1080
	tp_curl16 http://srv.sockfwd.test:8080/blob
	tp_curl16 "http://[2001:db8:3::2]:8080/blob"
	unset ALL_PROXY
	s5_says "reply 00 bound 203.0.113.1:[0-9]*" srv.sockfwd.test 5001
	local out
	out=$(s5 srv6.sockfwd.test 5001 --pipeline 2000)
	grep -q "^reply 00 bound \[2001:db8:3::1\]:[0-9]*$" <<<"$out" || fail "bound address not dante's: $out"
	grep -qx "echo ok 2000" <<<"$out" || fail "pipelined echo through dante: $out"
	s5_reply 05 203.0.113.2 5999
	wait_for 10 sfw_entries_are 0 || fail "$(sfw_entries) sockhash entries left"
	check_eq "$(log_lines | grep -c "target=srv.sockfwd.test:8080 via=198.51.100.2:1080 mode=sockmap .*close=eof")" 16 \
		"downloads of a name dante resolved"
	check_eq "$(log_lines | grep -c "target=\[2001:db8:3::2\]:8080 via=198.51.100.2:1080 mode=sockmap .*close=eof")" 16 \
		"IPv6 downloads through dante"
	grep -q "close=socks5: reply 5 (connection refused)" "$SFW_LOG" || fail "no log line for dante's refusal"
}

# Half-close through the SOCKS5 server, both ways, in each mode (8 MiB
# each way, sha256 at both ends; OpenBSD netcat as the client): the client
# sends and shuts down first, the server answers after its EOF; then the
# server sends and shuts down first while the client is still sending.
ss_half_close() {
	local mode=$1 want_up want_down got
	need nc.openbsd
	sfw_topology
	sfw_load_maps
	sfw_start -l :1080 --socks5-server --mode "$mode"
	want_up=$("$PEER" -G $((8 << 20)) -s 11 | sha256sum | cut -d' ' -f1)
	want_down=$("$PEER" -G $((8 << 20)) -s 22 | sha256sum | cut -d' ' -f1)
	local srv_opts
	for srv_opts in -A ""; do
		rm -f "$TEST_TMP/srv.sha"
		# shellcheck disable=SC2086 # srv_opts: one option or none
		sfw_bg srv sh -c "'$PEER' -l 203.0.113.2:5001 $srv_opts -g $((8 << 20)) -s 22 -o - 2>'$TEST_TMP/srv.err' |
			sha256sum | cut -d' ' -f1 >'$TEST_TMP/srv.sha'"
		wait_for 5 listening srv 5001 || fail "server not listening"
		got=$(nsx cli sh -c "'$PEER' -G $((8 << 20)) -s 11 |
			timeout 30 nc.openbsd -N -X 5 -x 192.0.2.2:1080 203.0.113.2 5001 | sha256sum" | cut -d' ' -f1)
		wait_for 20 test -s "$TEST_TMP/srv.sha" || fail "server did not finish"
		check_eq "$got" "$want_down" "sha256 server->client, server options '$srv_opts'"
		check_eq "$(cat "$TEST_TMP/srv.sha")" "$want_up" "sha256 client->server, server options '$srv_opts'"
	done
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 2 ]" || fail "flows did not end"
	log "$(log_lines)"
	check_eq "$(log_lines | grep -c "target=203.0.113.2:5001 mode=$mode up=8388608 down=8388608 .*close=eof")" 2 \
		"half-closed flows complete in $mode mode"
	check_no_close_wait
}
test_socks_server_half_close_sockmap() { ss_half_close sockmap; }
test_socks_server_half_close_splice() { ss_half_close splice; }
test_socks_server_half_close_copy() { ss_half_close copy; }

# RANDOM_HANDSHAKES (python3): 400 connections to 192.0.2.2:1080, 25 at a
# time, each sending a random prefix of a valid handshake followed by
# random bytes (seeded), then reading until the server closes.  Prints
# "closed N hung M" (hung: still open after 4 s).
RANDOM_HANDSHAKES='
import random, socket, threading
rng = random.Random(1928)
valid = bytes.fromhex("050100") + bytes.fromhex("050100017f000001") + b"\x13\x89"
cases = []
for i in range(400):
    cut = rng.randrange(0, len(valid) + 1)
    noise = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 600)))
    cases.append(valid[:cut] + noise)
closed = hung = 0
lock = threading.Lock()
def run(data):
    global closed, hung
    s = socket.create_connection(("192.0.2.2", 1080))
    s.settimeout(4)
    try:
        s.sendall(data)
        while s.recv(4096):
            pass
        ok = True
    except socket.timeout:
        ok = False
    except OSError:
        ok = True
    s.close()
    with lock:
        if ok:
            closed += 1
        else:
            hung += 1
for i in range(0, len(cases), 25):
    ts = [threading.Thread(target=run, args=(c,)) for c in cases[i:i + 25]]
    for t in ts: t.start()
    for t in ts: t.join()
print("closed %d hung %d" % (closed, hung))
'

# Malformed handshakes never crash sockfwd or hold a connection past
# --timeout: 400 random ones (a valid prefix, then noise) all end.
test_socks_server_random_handshakes() {
	need python3
	sfw_topology
	sfw_start -l :1080 --socks5-server --timeout 1500
	local out
	out=$(nsx cli timeout 120 python3 -c "$RANDOM_HANDSHAKES") || fail "client script failed: $out"
	check_eq "$out" "closed 400 hung 0" "random handshakes"
	kill -0 "$SFW_PID" || fail "sockfwd died"
	wait_for 5 sh -c "[ \$(grep -c 'conn client=' '$SFW_LOG') -eq 400 ]" ||
		fail "$(grep -c 'conn client=' "$SFW_LOG") flows logged, want 400"
	log "$(log_lines | sed 's/.*close=//; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn)"
	check_eq "$(sfw_counter active)" 0 "active flows"
}

# Limits and --status on SOCKS5 server flows: --max-conns-per-ip 2 resets a
# third client at once, before any SOCKS5 byte; --status names a client
# still in its handshake (target -) and a relayed flow's target; an idle
# relayed flow is reset after --idle-timeout (sockmap, the verdict's clock).
test_socks_server_limits_and_status() {
	need python3
	sfw_topology
	sfw_load_maps
	sfw_start -l :1080 --socks5-server --max-conns-per-ip 2 --idle-timeout 2 --timeout 5000 \
		--status-socket "$TEST_TMP/status.sock" --mode sockmap
	echo_server
	nsx cli timeout 25 python3 "$S5C" 192.0.2.2 1080 203.0.113.2 5001 --hold 8 >"$TEST_TMP/idle.out" 2>&1 &
	local idle=$!
	sfw_bg cli sh -c "sleep 4 | nc.openbsd 192.0.2.2 1080"
	wait_for 5 sfw_entries_are 2 || fail "the relayed flow is not in the map: $(sfw_entries)"
	refused_at_once 192.0.2.2:1080
	check_eq "$(sfw_counter refused_per_ip)" 1 "refused_per_ip"
	"$SFW" --status="$TEST_TMP/status.sock" >"$TEST_TMP/status.out" || fail "--status failed"
	log "$(cat "$TEST_TMP/status.out")"
	grep -q "^flow client=[^ ]* listen=:1080 target=- phase=client mode=none " "$TEST_TMP/status.out" ||
		fail "--status does not show the client in its handshake"
	grep -q "^flow client=[^ ]* listen=:1080 target=203.0.113.2:5001 phase=relay mode=sockmap " \
		"$TEST_TMP/status.out" || fail "--status does not show the relayed flow"
	wait "$idle" && fail "the idle flow was not reset: $(cat "$TEST_TMP/idle.out")"
	grep -q "close=idle timeout: no byte for 2 s" "$SFW_LOG" || fail "no idle timeout: $(log_lines)"
	wait_log "close=timeout: socks5 client handshake after 5000 ms"
	check_eq "$(sfw_counter idle_closed)" 1 "idle_closed"
}

# BURST (python3): three requests for slow.socks.test and one for
# web.socks.test sent at the same moment, after one lookup left a thread
# idle; prints how long the quick one took, in ms.
BURST='
import socket, sys, threading, time
def ask(name, out):
    s = socket.create_connection(("192.0.2.2", 1080))
    t0 = time.monotonic()
    n = len(name)
    s.sendall(b"\x05\x01\x00" + b"\x05\x01\x00\x03" + bytes([n]) + name + b"\x13\x89")
    s.settimeout(20)
    got = b""
    while len(got) < 12:
        chunk = s.recv(64)
        if not chunk:
            break
        got += chunk
    out.append((name, int((time.monotonic() - t0) * 1000), got[3:4].hex()))
out = []
ts = [threading.Thread(target=ask, args=(n, out)) for n in [b"slow.socks.test"] * 3 + [b"web.socks.test"]]
for t in ts: t.start()
for t in ts: t.join()
for name, ms, code in out:
    print(name.decode(), ms, code)
'

# A burst of lookups at one moment: each gets a thread of its own while
# the pool has room, so a quick name is not queued behind slow ones.
test_socks_server_lookup_burst() {
	need python3
	sfw_topology
	sfw_load_maps
	dns_start web.socks.test=203.0.113.2 slow.socks.test=203.0.113.2@3
	ss_start_private -l :1080 --socks5-server
	echo_server
	s5_says "echo ok 10" web.socks.test 5001 --pipeline 10
	local out quick
	out=$(nsx cli timeout 30 python3 -c "$BURST") || fail "burst client failed: $out"
	log "$out"
	quick=$(awk '$1 == "web.socks.test" { print $2 }' <<<"$out")
	[ -n "$quick" ] && [ "$quick" -lt 1500 ] || fail "the quick name waited ${quick:-?} ms behind slow ones"
	check_eq "$(grep -c '^slow.socks.test [0-9]* 00$' <<<"$out")" 3 "slow names answered"
}
