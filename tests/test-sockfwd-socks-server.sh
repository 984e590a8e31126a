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
	check_eq "$(sfw_counter socks5_malformed)" 2 "socks5_malformed (version 4, request version 127)"
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
