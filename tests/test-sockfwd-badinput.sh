# shellcheck shell=bash
# timeout: 60
# Bad input for sockfwd and sockfwd-load: malformed configuration lines,
# bad options, addresses no interface has, missing bpffs, pins already
# there.  Each must give a clear message and a non-zero exit, never a crash
# (exit status from a signal) and never a half-applied state.

SFW=$BUILD/sockfwd
LOAD=$ROOT/scripts/sockfwd-load

# expect_error WHAT PATTERN CMD...: CMD exits 1..127 (not a signal) and its
# output (stderr or stdout) matches PATTERN.
expect_error() {
	local what=$1 pattern=$2 rc
	shift 2
	"$@" >"$TEST_TMP/err" 2>&1 </dev/null
	rc=$?
	[ "$rc" -ne 0 ] || fail "$what: accepted (exit 0): $(cat "$TEST_TMP/err")"
	[ "$rc" -lt 128 ] || fail "$what: killed by a signal (exit $rc): $(cat "$TEST_TMP/err")"
	grep -q -- "$pattern" "$TEST_TMP/err" ||
		fail "$what: message does not match '$pattern': $(cat "$TEST_TMP/err")"
	log "ok: $what: exit $rc: $(grep -m1 -- "$pattern" "$TEST_TMP/err")"
}

# bad_config WHAT LINE TEXT: TEXT as line LINE of a file (valid lines
# before it): the error names file and line.  The valid lines' addresses
# are held by hold_ports, so had sockfwd listened on any before reading
# the whole file, it would have said "Address already in use" instead:
# nothing is opened before the configuration is known to be good.
bad_config() {
	local what=$1 lineno=$2 text=$3 conf=$TEST_TMP/bad.conf i
	: >"$conf"
	for ((i = 1; i < lineno; i++)); do
		echo "127.0.0.1:$((20000 + i)) 127.0.0.1:9 # fine" >>"$conf"
	done
	printf '%s\n' "$text" >>"$conf"
	expect_error "config: $what" "bad.conf:$lineno" nsx fwd "$SFW" -c "$conf" --mode copy
}

# hold_ports FIRST LAST: listeners of our own on 127.0.0.1:FIRST..LAST in
# fwd, until the test ends.
hold_ports() {
	bg fwd /usr/bin/python3 -c '
import socket, sys, time
held = []
for port in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen()
    held.append(s)
open(sys.argv[3], "w").close()
time.sleep(3600)
' "$1" "$2" "$TEST_TMP/held"
	wait_for 5 test -e "$TEST_TMP/held" || fail "cannot hold ports $1-$2"
}

test_config_lines() {
	ns_add fwd
	hold_ports 20001 20003
	bad_config "one field" 3 "127.0.0.1:1000"
	bad_config "four fields" 2 "127.0.0.1:1000 127.0.0.1:9 socks5://127.0.0.1:1080 extra"
	bad_config "listen without port" 1 "127.0.0.1 127.0.0.1:9"
	bad_config "port 0" 2 "127.0.0.1:0 127.0.0.1:9"
	bad_config "port 65536" 2 "127.0.0.1:65536 127.0.0.1:9"
	bad_config "port with letters" 1 "127.0.0.1:80x 127.0.0.1:9"
	bad_config "target without port" 2 "127.0.0.1:1000 203.0.113.2"
	bad_config "bare IPv6 target" 1 "127.0.0.1:1000 2001:db8::1:80"
	bad_config "unclosed bracket" 1 "[::1:1000 127.0.0.1:9"
	bad_config "http proxy" 4 "127.0.0.1:1000 127.0.0.1:9 http://127.0.0.1:3128"
	bad_config "empty user" 1 "127.0.0.1:1000 127.0.0.1:9 socks5://:pw@127.0.0.1:1080"
	bad_config "user of 256 bytes" 1 \
		"127.0.0.1:1000 127.0.0.1:9 socks5://$(printf 'u%.0s' {1..256}):pw@127.0.0.1:1080"
	bad_config "proxy without port" 1 "127.0.0.1:1000 127.0.0.1:9 socks5://127.0.0.1"
	bad_config "host of 300 bytes" 1 "127.0.0.1:1000 $(printf 'h%.0s' {1..300}):80"
	# A line longer than the reader's buffer: its tail, here a valid pair
	# inside a comment, must not be read as a line of its own.
	bad_config "2000-byte line" 2 "# $(printf 'x%.0s' {1..2000}) 127.0.0.1:1009 127.0.0.1:9"
	expect_error "config: missing file" "cannot open $TEST_TMP/none.conf: No such file" \
		"$SFW" -c "$TEST_TMP/none.conf"
	expect_error "config: a directory" "cannot read $TEST_TMP: Is a directory" "$SFW" -c "$TEST_TMP"
	printf '127.0.0.1:1000 127.0.0.1:9\n127.0.0.1:1000 127.0.0.1:10\n' >"$TEST_TMP/dup.conf"
	expect_error "config: same listen address twice" \
		"cannot listen on 127.0.0.1:1000: Address already in use" \
		nsx fwd "$SFW" -c "$TEST_TMP/dup.conf" --mode copy
}

test_command_line() {
	ns_add fwd
	nsx fwd ip link add d0 type veth peer name d1
	nsx fwd ip link set d0 up
	nsx fwd ip addr add 192.0.2.2/24 dev d0
	local ok=(-l 192.0.2.2:1000 -t 192.0.2.9:9 --mode copy)
	expect_error "no arguments" "usage:" "$SFW"
	expect_error "-l without -t" "-l 192.0.2.2:1000 has no -t" "$SFW" -l 192.0.2.2:1000
	expect_error "-t before -l" "-l 192.0.2.2:1000 has no -t" "$SFW" -t 192.0.2.9:9 -l 192.0.2.2:1000
	expect_error "-x alone" "follow the -l they belong to" "$SFW" -x socks5://192.0.2.9:1080
	expect_error "unknown option" "usage:" "$SFW" "${ok[@]}" --frobnicate
	expect_error "stray argument" "usage:" "$SFW" "${ok[@]}" extra
	expect_error "bad mode" "bad mode 'fast'" "$SFW" -l 192.0.2.2:1000 -t 192.0.2.9:9 --mode fast
	local opt value
	for opt in --max-conns --timeout --drain-timeout --queue-limit --sndbuf; do
		for value in 10x abc -5 ''; do
			expect_error "$opt '$value'" "bad $opt '$value'" "$SFW" "${ok[@]}" "$opt" "$value"
		done
	done
	expect_error "--max-conns 0" "bad --max-conns '0'" "$SFW" "${ok[@]}" --max-conns 0
	expect_error "--max-conns past int" "bad --max-conns" "$SFW" "${ok[@]}" --max-conns 4294967297
	expect_error "unknown user" "no user 'no-such-user-sfw'" \
		nsx fwd "$SFW" "${ok[@]}" --user no-such-user-sfw
	# Addresses and interfaces that do not exist here.
	expect_error "address on no interface" \
		"cannot listen on 203.0.113.77:1000: Cannot assign requested address" \
		nsx fwd "$SFW" -l 203.0.113.77:1000 -t 192.0.2.9:9
	expect_error "unknown interface in a scope" "cannot resolve fe80::1%nosuch0" \
		nsx fwd "$SFW" -l '[fe80::1%nosuch0]:1000' -t 192.0.2.9:9
	expect_error "unresolvable target" "cannot resolve no-such-host.invalid" \
		nsx fwd "$SFW" -l 192.0.2.2:1000 -t no-such-host.invalid:80
	# Nothing is bound before every address is resolved: with a good first
	# listener whose port is held, a bad name in the second must be what
	# sockfwd reports, not "Address already in use" for the first (which a
	# listen before resolving everything would give; the old check, no
	# listener after sockfwd had exited, could not fail).
	hold_ports 20001 20001
	expect_error "unresolvable target after a good listener" "cannot resolve no-such-host.invalid" \
		nsx fwd "$SFW" -l 127.0.0.1:20001 -t 192.0.2.9:9 -l 192.0.2.2:1000 -t no-such-host.invalid:80
	expect_error "unknown scope after a good listener" "cannot resolve fe80::1%nosuch0" \
		nsx fwd "$SFW" -l 127.0.0.1:20001 -t 192.0.2.9:9 -l '[fe80::1%nosuch0]:1000' -t 192.0.2.9:9
	# Pins that are not there: a warning, then splice (documented), not an exit.
	SFW_LOG=$TEST_TMP/sfw.log
	bg fwd "$SFW" -l 192.0.2.2:1000 -t 192.0.2.9:9 --maps /sys/fs/bpf/no-such-dir 2>"$SFW_LOG"
	wait_for 5 grep -q "ready: auto mode, maps not used" "$SFW_LOG" ||
		{ cat "$SFW_LOG"; fail "no fallback message"; }
	grep -q "sockmap unavailable (No such file or directory): flows use splice" "$SFW_LOG" ||
		fail "fallback not explained"
}

# sockfwd-load: mistyped commands, a group that does not exist, an object
# that is not one, pins already there, no right to pin, no bpffs.
test_load_script_bad_input() {
	local dir=/sys/fs/bpf/sockfwd-test-$TEST_ID
	on_exit "'$LOAD' unload -d '$dir'; rm -rf '$dir'"
	SOCKFWD_PIN_DIR=$dir expect_error "mistyped command" "unknown command or argument 'unlaod'" \
		"$LOAD" unlaod
	[ ! -e "$dir" ] || fail "a mistyped command loaded into $dir"
	expect_error "unknown group" "no group 'no-such-group-sfw'" "$LOAD" load -d "$dir" -g no-such-group-sfw
	[ ! -e "$dir" ] || fail "an unknown group left $dir behind"
	expect_error "object that is not ELF" "bpftool prog load /etc/passwd failed" \
		"$LOAD" load -d "$dir" -o /etc/passwd
	[ ! -e "$dir" ] || fail "a failed load left $dir behind: $(ls -A "$dir")"
	expect_error "unknown option" "llegal option" "$LOAD" load -q
	expect_error "pins outside bpffs" "is not under /sys/fs/bpf" "$LOAD" load -d /tmp/sfw-pins

	# Already loaded and attached: again is harmless, same program.
	"$LOAD" load -d "$dir" >/dev/null || fail "load failed"
	local id1 id2 id3
	id1=$(bpftool prog show pinned "$dir/sockfwd_verdict" | sed -n 's/^\([0-9]*\):.*/\1/p')
	"$LOAD" load -d "$dir" >/dev/null || fail "second load failed"
	id2=$(bpftool prog show pinned "$dir/sockfwd_verdict" | sed -n 's/^\([0-9]*\):.*/\1/p')
	check_eq "$id2" "$id1" "program after a second load"
	# Detached by hand: load attaches it again.
	bpftool prog detach pinned "$dir/sockfwd_verdict" stream_verdict pinned "$dir/sockfwd_peers" ||
		fail "detach"
	"$LOAD" load -d "$dir" >/dev/null || fail "load after a detach failed"
	bpftool prog detach pinned "$dir/sockfwd_verdict" stream_verdict pinned "$dir/sockfwd_peers" ||
		fail "load did not attach the program again"
	"$LOAD" load -d "$dir" >/dev/null || fail "load failed"
	# Half-done earlier run: maps pinned, no program.  Load starts over.
	rm "$dir/sockfwd_verdict"
	"$LOAD" load -d "$dir" >/dev/null || fail "load over leftover maps failed"
	id3=$(bpftool prog show pinned "$dir/sockfwd_verdict" | sed -n 's/^\([0-9]*\):.*/\1/p')
	[ -n "$id3" ] && [ "$id3" != "$id1" ] || fail "no new program over leftover maps"
	"$LOAD" status -d "$dir" | grep -q "sockhash entries: 0" || fail "status after reload"

	# Not root: a clear failure and nothing pinned.
	expect_error "load as nobody" "sockfwd-load" \
		setpriv --reuid nobody --regid nogroup --clear-groups "$LOAD" load -d "$dir.nobody"
	[ ! -e "$dir.nobody" ] || fail "load as nobody left $dir.nobody"
	expect_error "status of nothing" "not loaded in $dir.none" "$LOAD" status -d "$dir.none"
	"$LOAD" unload -d "$dir" >/dev/null || fail "unload"
	[ ! -e "$dir" ] || fail "$dir left after unload"
}

# No bpffs: in a mount namespace of its own, /sys/fs/bpf unmounted.
# sockfwd-load mounts it; where no bpffs can be mounted it says so.
test_load_without_bpffs() {
	local out=$TEST_TMP/nobpffs
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m sh -c '
		umount /sys/fs/bpf 2>/dev/null
		mountpoint -q /sys/fs/bpf && exit 3
		"$1" load -d /sys/fs/bpf/sfw-nobpffs || exit 4
		mountpoint -q /sys/fs/bpf || exit 5
		"$1" status -d /sys/fs/bpf/sfw-nobpffs | grep -q "sockhash entries: 0" || exit 6
		"$1" unload -d /sys/fs/bpf/sfw-nobpffs' _ "$LOAD" >"$out" 2>&1
	local rc=$?
	log "$(cat "$out")"
	check_eq "$rc" 0 "load with bpffs unmounted (the script mounts it)"
	# /sys/fs/bpf not even a directory: nothing can be mounted there.
	# shellcheck disable=SC2016
	unshare -m sh -c '
		umount /sys/fs/bpf 2>/dev/null
		mount -t tmpfs -o size=1m,mode=0755 none /sys/fs || exit 3
		"$1" load -d /sys/fs/bpf/sfw-nobpffs; echo "exit=$?"
		[ ! -e /sys/fs/bpf ] || echo "created /sys/fs/bpf"' _ "$LOAD" >"$out" 2>&1
	log "$(cat "$out")"
	grep -q "cannot mount bpffs on /sys/fs/bpf" "$out" || fail "no clear message without bpffs"
	grep -q "^exit=1$" "$out" || fail "wrong exit status without bpffs"
	grep -q "created" "$out" && fail "left /sys/fs/bpf behind"
	# The helper without bpffs: says so and uses splice.
	# shellcheck disable=SC2016
	unshare -m sh -c '
		umount /sys/fs/bpf 2>/dev/null
		timeout -s TERM 1 "$1" -l 127.0.0.1:1000 -t 127.0.0.1:9 --maps /sys/fs/bpf/sockfwd' \
		_ "$SFW" >"$out" 2>&1
	log "$(cat "$out")"
	grep -q "sockmap unavailable (No such file or directory): flows use splice" "$out" ||
		fail "helper without bpffs did not explain"
}
