# shellcheck shell=bash
# timeout: 120
# sockfwd facing clients it does not trust and local users who should not
# learn its proxy password: secrets kept out of argv, logs and errors; files
# holding a password refused when others may read them; idle clients, one
# address's many connections and clients outside --allow refused or reset;
# running out of descriptors; a SIGKILL and restart; SIGHUP under load;
# --status; a corrupt stream reset on both sides.  Topology and helpers from
# tests/test-sockfwd.sh (cli -- fwd -- px -- srv).

# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh

SECRET=S3cretPW-$$

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

# hold N ADDR:PORT: N idle connections from cli, held until the test ends.
hold() {
	sfw_bg cli "$TOOLS/sockfwd-bench" hold-client -c "$2" -n "$1"
	HOLD_PID=$BG_PID
}

# no_secret WHERE FILE...: SECRET appears in none of the files.
no_secret() {
	local where=$1
	shift
	if grep -l -- "$SECRET" "$@" 2>/dev/null; then
		fail "the password is in $where"
	fi
	log "ok: no password in $where"
}

test_secrets_never_shown() {
	sfw_topology
	sfw_load_maps
	microsocks_start -u mu -P "$SECRET"
	local out=$TEST_TMP/err
	# On the command line: refused, and the refusal does not repeat it.
	nsx fwd "$SFW" -l 192.0.2.2:1000 -t 203.0.113.2:5001 \
		-x "socks5://mu:$SECRET@198.51.100.2:1081" >"$out" 2>&1 && fail "-x with a password accepted"
	log "-x with a password: $(cat "$out")"
	grep -q "socks5://mu:\*\*\*@198.51.100.2:1081: a password on the command line" "$out" ||
		fail "refusal does not say why"
	no_secret "the refusal of -x" "$out"
	# A bad URL around a password, in a private file: named, redacted.
	(umask 077 && echo "192.0.2.2:1000 203.0.113.2:5001 socks5://mu:$SECRET@198.51.100.2" \
		>"$TEST_TMP/bad.conf")
	nsx fwd "$SFW" -c "$TEST_TMP/bad.conf" >"$out" 2>&1 && fail "bad proxy accepted"
	log "bad proxy: $(cat "$out")"
	grep -q "bad proxy 'socks5://mu:\*\*\*@198.51.100.2'" "$out" || fail "bad proxy not named"
	no_secret "the bad-proxy error" "$out"
	# USER@ with nowhere to take the password from.
	nsx fwd env -u SOCKFWD_PROXY_PASSWORD "$SFW" -l 192.0.2.2:1000 -t 203.0.113.2:5001 \
		-x socks5://mu@198.51.100.2:1081 >"$out" 2>&1 && fail "a user without password accepted"
	grep -q "has a user and no password" "$out" || fail "missing password not explained: $(cat "$out")"

	# Running: the password from a file (0600), a flow through microsocks.
	(umask 077 && echo "$SECRET" >"$TEST_TMP/pass")
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://mu@198.51.100.2:1081 \
		--proxy-password-file "$TEST_TMP/pass" --status-socket "$TEST_TMP/status" -v
	SRV_OPTS="-r 100000 -H" sha_transfer 192.0.2.2:1000 100000 100000 -H
	wait_log "via=198.51.100.2:1081 mode=sockmap up=100000 down=100000"
	nsx fwd "$SFW" --status="$TEST_TMP/status" >"$TEST_TMP/status.out" ||
		fail "--status failed"
	kill -USR1 "$SFW_PID"
	wait_log "counters"
	no_secret "/proc/*/cmdline" /proc/[0-9]*/cmdline
	no_secret "sockfwd's log" "$SFW_LOG"
	no_secret "--status" "$TEST_TMP/status.out"
	sfw_stop
	# The same from the environment.
	SOCKFWD_PROXY_PASSWORD=$SECRET sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 \
		-x socks5://mu@198.51.100.2:1081
	SRV_OPTS="-r 1000 -H" sha_transfer 192.0.2.2:1000 1000 1000 -H
	no_secret "/proc/*/cmdline" /proc/[0-9]*/cmdline
	no_secret "sockfwd's log" "$SFW_LOG"
}

# expect_mode_refused FILE MODE OPTS...: sockfwd refuses FILE, naming it
# and its mode.
expect_mode_refused() {
	local file=$1 mode=$2 out=$TEST_TMP/err
	shift 2
	chmod "$mode" "$file"
	nsx fwd "$SFW" "$@" >"$out" 2>&1 && fail "$file accepted with mode $mode"
	log "mode $mode: $(cat "$out")"
	grep -q "$file is mode $mode: a file that holds a password must not be open to group or others" \
		"$out" || fail "the refusal of $file ($mode) does not name it and its mode"
	no_secret "the refusal" "$out"
}

test_password_file_modes() {
	ns_add fwd
	local conf=$TEST_TMP/sockfwd.conf pass=$TEST_TMP/pass
	echo "127.0.0.1:1000 127.0.0.1:9 socks5://mu:$SECRET@127.0.0.1:1080" >"$conf"
	expect_mode_refused "$conf" 0644 -c "$conf"
	expect_mode_refused "$conf" 0640 -c "$conf"
	expect_mode_refused "$conf" 0604 -c "$conf"
	echo "$SECRET" >"$pass"
	local ok=(-l 127.0.0.1:1000 -t 127.0.0.1:9 -x socks5://mu@127.0.0.1:1080 --proxy-password-file "$pass")
	expect_mode_refused "$pass" 0644 "${ok[@]}"
	expect_mode_refused "$pass" 0660 "${ok[@]}"
	# Without a password the file may be read by all.
	echo "127.0.0.1:1001 127.0.0.1:9" >"$conf"
	chmod 0644 "$conf"
	chmod 0600 "$pass"
	SFW_LOG=$TEST_TMP/sfw.log
	for args in "-c $conf" "${ok[*]}"; do
		# shellcheck disable=SC2086 # words on purpose
		sfw_bg fwd "$SFW" $args --mode copy 2>"$SFW_LOG"
		wait_for 5 grep -q ready "$SFW_LOG" || { cat "$SFW_LOG"; fail "refused: $args"; }
		kill "$BG_PID"
		wait "$BG_PID"
	done
	log "ok: a 0644 file without a password and a 0600 password file are read"
}

# idle_and_trickle MODE: --max-conns 5, --idle-timeout 2.  Four idle
# clients and one that sends a byte every 0.3 s fill the slots; a sixth is
# reset at once.  After the timeout the idle four are reset (they see it),
# the trickling one goes on, and the sixth is served, intact.
idle_and_trickle() {
	local mode=$1
	sfw_topology
	sfw_load_maps
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m 2>/dev/null
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode "$mode" --max-conns 5 --idle-timeout 2
	local i idle=()
	for i in 1 2 3 4; do
		sfw_bg cli "$PEER" -c 192.0.2.2:1000 -H
		idle+=("$BG_PID")
	done
	sfw_bg cli /usr/bin/python3 -c '
import socket, sys, time
s = socket.create_connection(("192.0.2.2", 1000))
for i in range(16):
    s.sendall(b"x")
    assert s.recv(1) == b"x", "echo lost"
    time.sleep(0.3)
s.close()
print("trickle ok", file=sys.stderr)
' 2>"$TEST_TMP/trickle.err"
	local trickle=$BG_PID
	wait_for 5 counters_say "active=5 " || fail "the five clients did not all get a flow"
	local start=$SECONDS
	refused_at_once 192.0.2.2:1000
	check_eq "$(sfw_counter refused_max)" 1 "connections refused at --max-conns"
	for i in "${idle[@]}"; do
		wait "$i" && fail "an idle client saw no reset"
	done
	log "idle clients reset after $((SECONDS - start)) s"
	check_eq "$(log_lines | grep -c "mode=$mode .*close=idle timeout: no byte for 2 s")" 4 \
		"flows closed as idle"
	nsx cli timeout 10 "$PEER" -c 192.0.2.2:1000 -g 300000 -V 2>"$TEST_TMP/sixth.err" ||
		fail "the sixth client was not served: $(cat "$TEST_TMP/sixth.err")"
	log "sixth client: $(cat "$TEST_TMP/sixth.err")"
	wait "$trickle" || fail "the trickling client failed: $(cat "$TEST_TMP/trickle.err")"
	log "$(cat "$TEST_TMP/trickle.err")"
	check_eq "$(sfw_counter idle_closed)" 4 "idle_closed counter"
}
test_idle_clients_lose_their_slots_sockmap() { idle_and_trickle sockmap; }
test_idle_clients_lose_their_slots_splice() { idle_and_trickle splice; }
test_idle_clients_lose_their_slots_copy() { idle_and_trickle copy; }

# --max-conns-per-ip 2: a third connection from one address is reset at
# once, another address is served, and a closed flow gives the slot back.
test_per_ip_cap() {
	sfw_topology
	nsx cli ip addr add 192.0.2.3/24 dev c0
	sfw_bg srv "$TOOLS/sockfwd-bench" hold-server -l 203.0.113.2:5001
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --max-conns-per-ip 2
	hold 2 192.0.2.2:1000
	local holder=$HOLD_PID
	wait_for 5 counters_say "active=2 " || fail "two flows did not start"
	refused_at_once 192.0.2.2:1000
	check_eq "$(sfw_counter refused_per_ip)" 1 "connections refused by --max-conns-per-ip"
	# Another address of the client's namespace.
	nsx cli /usr/bin/python3 -c '
import socket
s = socket.socket()
s.bind(("192.0.2.3", 0))
s.connect(("192.0.2.2", 1000))
s.sendall(b"x")
s.settimeout(1)
try:
    s.recv(1)
except socket.timeout:
    pass
' || fail "a second address was refused"
	wait_log "client=192.0.2.3:"
	kill "$holder"
	wait_for 5 counters_say "active=0 " || fail "the held flows did not end"
	hold 2 192.0.2.2:1000
	wait_for 5 counters_say "active=2 " || fail "slots not given back"
	log "$(grep 'refused client' "$SFW_LOG")"
}

# --allow: only the listed networks; others are reset at once.  A proxy
# with credentials on a public address and no --allow: a warning.
test_allowlist() {
	sfw_topology
	nsx cli ip addr add 192.0.2.3/24 dev c0
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -e -m 2>/dev/null
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_start -l :1000 -t 203.0.113.2:5001 --allow 192.0.2.3 --allow 2001:db8:1::/64
	refused_at_once 192.0.2.2:1000
	check_eq "$(sfw_counter refused_allow)" 1 "connections refused by --allow"
	wait_log "refused client=.*192.0.2.1\]*:[0-9]*: not in --allow"
	nsx cli /usr/bin/python3 -c '
import socket
for src, dst in (("192.0.2.3", "192.0.2.2"), ("2001:db8:1::1", "2001:db8:1::2")):
    s = socket.create_connection((dst, 1000), source_address=(src, 0))
    s.sendall(b"hello")
    assert s.recv(5) == b"hello", src
    s.close()
' || fail "an allowed client was not served"
	wait_for 5 sh -c "[ \$(grep -c 'close=eof' '$SFW_LOG') -ge 2 ]" || fail "allowed flows not logged"
	sfw_stop
	(umask 077 && echo "192.0.2.2:1001 203.0.113.2:5001 socks5://u:pw@198.51.100.2:1080" \
		>"$TEST_TMP/pw.conf")
	sfw_start -c "$TEST_TMP/pw.conf"
	wait_log "warning: 192.0.2.2:1001 is not a loopback address and its proxy has credentials"
	sfw_stop
	sfw_start -c "$TEST_TMP/pw.conf" --allow 192.0.2.0/24
	grep -c "warning: 192.0.2.2:1001" "$SFW_LOG" | grep -qx 1 || fail "warned with --allow"
}
