# shellcheck shell=bash
# timeout: 60
# Partly overlapping retransmissions into a socket that sockfwd forwards in
# sockmap mode.  tcp_read_skb() hands the verdict program whole skbs, and
# TCP queues a segment with seq < rcv_nxt < end_seq whole: the program must
# cut the old head (overlap_cut) or the server gets those bytes twice.
# The client is crafted with scapy (tests/tools/overlap-client.py) in cli,
# whose kernel must not reset the connection it does not know.
# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh

OVERLAP_CLIENT=$ROOT/tests/tools/overlap-client.py
# In overlap-client.py's plan: 500 + 5000 old bytes in segments that also
# carry new ones, 1000 in a segment that is all old.
OVERLAP_PARTIAL=5500
OVERLAP_SIZE=20000

# overlap_finish PID ROLE ERR RECEIVER RECEIVER_ERR DIR: once both sockets
# are in the sockhash, let the scapy side (PID, a ROLE writing to ERR) send;
# then RECEIVER must have got the stream once, in order, in $TEST_TMP/got.
overlap_finish() {
	local pid=$1 role=$2 err=$3 receiver=$4 receiver_err=$5 dir=$6 got want
	wait_for 5 sfw_entries_are 2 ||
		{ cat "$SFW_LOG"; fail "the sockets did not go into the sockhash"; }
	touch "$TEST_TMP/go"
	wait_for 15 sh -c "! kill -0 $pid 2>/dev/null" || fail "$role did not finish"
	wait "$pid" || { cat "$TEST_TMP/$err"; fail "$role failed"; }
	log "$(cat "$TEST_TMP/$err")"
	wait_log "close=eof"
	wait_for 5 test -s "$TEST_TMP/$receiver_err" || fail "$receiver did not finish"
	log "$receiver: $(cat "$TEST_TMP/$receiver_err")"
	grep -F "$dir:" "$SFW_LOG" | sed 's/^/# /'
	log "$(log_lines)"
	got=$(sha256sum <"$TEST_TMP/got" | cut -d' ' -f1)
	want=$(sha256sum <"$TEST_TMP/want" | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		cmp "$TEST_TMP/got" "$TEST_TMP/want"
		fail "$receiver got $(stat -c %s "$TEST_TMP/got") bytes, not the $OVERLAP_SIZE sent once in order"
	fi
	log "ok: the $receiver got the $OVERLAP_SIZE bytes once, in order"
}

# overlap_counted OLD: the overlaps reached fwd's TCP (it sent D-SACKs for
# old bytes: otherwise the run tested nothing), and overlap_cut counts the
# old bytes the kernel handed the verdict: OLD where TCP queues a partly
# old segment whole (this machine: tcp_read_skb), 0 where the kernel's
# read path skips them itself.  Which one is recorded; the bytes arriving
# once (overlap_finish) is the guarantee either way.
overlap_counted() {
	local old=$1 dsacks cut
	dsacks=$(nsx fwd nstat -asz TcpExtTCPDSACKOldSent | awk '$1 == "TcpExtTCPDSACKOldSent" { print $2 }')
	cut=$(sfw_counter overlap_cut)
	log "fwd sent ${dsacks:-0} D-SACKs for old bytes; the verdict cut $cut bytes"
	[ "${dsacks:-0}" -gt 0 ] || fail "no old bytes reached fwd: the overlaps were not sent"
	case $cut in
	"$old") log "kernel behaviour: partly old segments reach the verdict whole" ;;
	0) log "kernel behaviour: the read path skips old bytes before the verdict" ;;
	*) fail "overlap_cut=$cut: neither the $old old bytes sent nor 0" ;;
	esac
}

# overlap_run [early]: one connection through sockfwd, sockmap mode, direct
# target.  With "early" the first 1000 bytes arrive before sockfwd has the
# sockets in its map (the upstream SYN is dropped once, so the connect
# takes a retransmission), otherwise after.
overlap_run() {
	local early=${1:-} line
	/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
	need iptables
	sfw_topology
	# Segments of up to 6000 bytes, so that one overlap needs two cuts.
	nsx cli ip link set c0 mtu 9000
	nsx fwd ip link set f0 mtu 9000
	# The kernel in cli knows nothing of the crafted connection.
	nsx cli iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP ||
		fail "cannot drop RSTs in cli"
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 --mode sockmap -v
	"$PEER" -G "$OVERLAP_SIZE" -s 5 >"$TEST_TMP/want"
	sfw_bg srv "$PEER" -l 203.0.113.2:5001 -H -o "$TEST_TMP/got" 2>"$TEST_TMP/srv.err"
	wait_for 5 listening srv 5001 || fail "server not listening"
	[ -n "$early" ] && nsx srv iptables -A INPUT -p tcp --syn --dport 5001 -j DROP

	sfw_bg cli /usr/bin/python3 "$OVERLAP_CLIENT" --iface c0 --src 192.0.2.1 \
		--dst 192.0.2.2:1000 --data "$TEST_TMP/want" ${early:+--early} \
		--ready "$TEST_TMP/ready" --go "$TEST_TMP/go" 2>"$TEST_TMP/cli.err"
	local client=$BG_PID
	wait_for 10 test -s "$TEST_TMP/ready" || { cat "$TEST_TMP/cli.err"; fail "client did not connect"; }
	if [ -n "$early" ]; then
		check_eq "$(sfw_entries)" 0 "sockhash entries with the first bytes in"
		nsx srv iptables -D INPUT -p tcp --syn --dport 5001 -j DROP
	fi
	overlap_finish "$client" client cli.err server srv.err up
	line=$(log_lines)
	case $line in
	*" mode=sockmap up=$OVERLAP_SIZE down=0 "*) ;;
	*) fail "log line does not say mode=sockmap up=$OVERLAP_SIZE down=0" ;;
	esac
	if [ -n "$early" ]; then
		case $line in *" early=1000 "*) ;; *) fail "the first 1000 bytes were not early" ;; esac
	else
		case $line in *" early=0 "*) ;; *) fail "bytes arrived before the sockets were in the map" ;; esac
	fi
	overlap_counted "$OVERLAP_PARTIAL"
}

test_overlap_retransmission_sockmap() { overlap_run; }
test_overlap_early_bytes_sockmap() { overlap_run early; }

# The same from the proxy's side: the scapy script is the SOCKS5 proxy, its
# reply shares the first skb with the first 1000 data bytes.  The helper
# reads the 10-byte reply, so copied_seq is 10 bytes into that skb when the
# verdict first sees it: those 10 are cut too, and the client gets only data.
test_overlap_socks_reply_sockmap() {
	local line proxy
	/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
	need iptables
	sfw_topology
	nsx fwd ip link set f1 mtu 9000
	nsx px ip link set p0 mtu 9000
	nsx px iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP || fail "cannot drop RSTs in px"
	sfw_load_maps
	sfw_start -l 192.0.2.2:1000 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080 --mode sockmap -v
	"$PEER" -G "$OVERLAP_SIZE" -s 5 >"$TEST_TMP/want"
	sfw_bg px /usr/bin/python3 "$OVERLAP_CLIENT" --iface p0 --src 198.51.100.2 \
		--socks5-listen 198.51.100.2:1080 --data "$TEST_TMP/want" --early \
		--ready "$TEST_TMP/ready" --go "$TEST_TMP/go" 2>"$TEST_TMP/proxy.err"
	proxy=$BG_PID
	wait_for 10 grep -q listening "$TEST_TMP/proxy.err" || { cat "$TEST_TMP/proxy.err"; fail "proxy did not start"; }
	sfw_bg cli "$PEER" -c 192.0.2.2:1000 -H -o "$TEST_TMP/got" 2>"$TEST_TMP/cli.err"
	wait_for 10 test -s "$TEST_TMP/ready" || { cat "$TEST_TMP/proxy.err"; fail "no SOCKS5 exchange"; }
	overlap_finish "$proxy" proxy proxy.err client cli.err down
	line=$(log_lines)
	case $line in
	*" mode=sockmap up=0 down=$OVERLAP_SIZE early=1000 "*) ;;
	*) fail "log line does not say mode=sockmap up=0 down=$OVERLAP_SIZE early=1000" ;;
	esac
	overlap_counted $((OVERLAP_PARTIAL + 10))
}
