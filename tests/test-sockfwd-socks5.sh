# shellcheck shell=bash
# timeout: 90
# sockfwd against a SOCKS5 proxy that misbehaves (tests/tools/socks5-bad.py
# in px, one way per port).  A reply split over many segments must work;
# after a bad reply the client sees a plain close within moments, the log
# says what was wrong, and sockfwd goes on serving: a flow opened before the
# bad ones and finished after them, and one after them, carry every byte.
# shellcheck source=tests/test-sockfwd.sh
. tests/test-sockfwd.sh

BAD_PROXY=$ROOT/tests/tools/socks5-bad.py

# HELD_CLIENT OUT GO (python3): connects to 192.0.2.2:1000 and holds the
# connection until the file GO is there; then sends UP bytes of stream
# seed 11 (from the file OUT.up) while it reads until EOF into OUT.
HELD_CLIENT='
import os, socket, sys, threading, time
out, go = sys.argv[1], sys.argv[2]
data = open(out + ".up", "rb").read()
s = socket.create_connection(("192.0.2.2", 1000))
open(out + ".connected", "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
with open(out, "wb") as f:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        f.write(chunk)
t.join()
'

# bad_proxy_start: the proxy in px, each way of misbehaving on its port;
# sockfwd's listener 1000+i uses proxy port 1080+i.
bad_proxy_start() {
	sfw_bg px /usr/bin/python3 "$BAD_PROXY" --listen 198.51.100.2 --ready "$TEST_TMP/proxy.ready" \
		split=1080 greeting-ver=1081 reply-ver=1082 bad-atyp=1083 reply-close=1084 \
		garbage=1085 cut-reply=1086 2>"$TEST_TMP/proxy.err"
	wait_for 5 test -e "$TEST_TMP/proxy.ready" || { cat "$TEST_TMP/proxy.err"; fail "proxy did not start"; }
	local args=() i
	for i in 0 1 2 3 4 5 6; do
		args+=(-l "192.0.2.2:$((1000 + i))" -t 203.0.113.2:5001 -x "socks5://198.51.100.2:$((1080 + i))")
	done
	sfw_start "${args[@]}" --timeout 5000
}

# bad_reply PORT WHY: a client on PORT (sending 100 bytes, reading all) sees
# a plain close, no error and no byte, in under 2 s; sockfwd logs WHY.
bad_reply() {
	local port=$1 why=$2 start=$SECONDS
	nsx cli timeout 10 "$PEER" -c "192.0.2.2:$port" -g 100 -o - 2>"$TEST_TMP/cli.err" |
		wc -c >"$TEST_TMP/got"
	log "client on $port: $(cat "$TEST_TMP/cli.err") after $((SECONDS - start)) s"
	grep -q "sockfwd-peer:" "$TEST_TMP/cli.err" && fail "client on $port saw an error, not a close"
	[ $((SECONDS - start)) -le 2 ] || fail "client on $port waited $((SECONDS - start)) s for the close"
	check_eq "$(cat "$TEST_TMP/got")" 0 "bytes the client got on $port"
	wait_log "listen=192.0.2.2:$port .*mode=none .*close=$why"
}

test_misbehaving_proxy() {
	local want_up want_down
	sfw_topology
	sfw_load_maps
	bad_proxy_start

	# A valid flow through the split replies, open while the bad ones come
	# and go: connected and in the relay first, its bytes sent after them.
	"$PEER" -G $((4 << 20)) -s 11 >"$TEST_TMP/held.up"
	want_up=$(sha256sum <"$TEST_TMP/held.up" | cut -d' ' -f1)
	want_down=$("$PEER" -G $((4 << 20)) -s 22 | sha256sum | cut -d' ' -f1)
	sfw_bg srv sh -c "'$PEER' -l 203.0.113.2:5001 -g $((4 << 20)) -s 22 -o - 2>'$TEST_TMP/srv.err' |
		sha256sum | cut -d' ' -f1 >'$TEST_TMP/srv.sha'"
	wait_for 5 listening srv 5001 || fail "server not listening"
	sfw_bg cli /usr/bin/python3 -c "$HELD_CLIENT" "$TEST_TMP/held" "$TEST_TMP/go"
	local held=$BG_PID
	wait_for 5 counters_say "active=1" || fail "the valid flow did not start"
	wait_for 5 sh -c "nsenter --net='$(ns_path srv)' ss -tnH state connected '( sport = :5001 )' | grep -q ." ||
		{ cat "$TEST_TMP/proxy.err" "$SFW_LOG"; nsx srv ss -tanH; fail "the split replies did not lead to the target"; }

	bad_reply 1001 "socks5: not a SOCKS5 server (version 4)"
	bad_reply 1002 "socks5: not a SOCKS5 reply (version 4, reply 0)"
	bad_reply 1003 "socks5: bad address type 7 in reply"
	bad_reply 1006 "socks5: proxy closed the connection"

	# A valid reply, then the proxy closes: for sockfwd a tunnel whose far
	# end closed at once, so a clean EOF, logged as such.
	nsx cli timeout 10 "$PEER" -c 192.0.2.2:1004 -H -o - 2>"$TEST_TMP/cli.err" | wc -c >"$TEST_TMP/got"
	log "client on 1004: $(cat "$TEST_TMP/cli.err")"
	grep -q "sockfwd-peer:" "$TEST_TMP/cli.err" && fail "client on 1004 saw an error, not a close"
	check_eq "$(cat "$TEST_TMP/got")" 0 "bytes the client got after a reply and a close"
	wait_log "listen=192.0.2.2:1004 .* up=0 down=0 .*close=eof"

	# Bytes right behind the reply, in its segment, are the target's: the
	# client gets exactly them (sockfwd reads only the reply's length).
	/usr/bin/python3 "$BAD_PROXY" --garbage >"$TEST_TMP/garbage"
	nsx cli timeout 10 "$PEER" -c 192.0.2.2:1005 -H -o "$TEST_TMP/got.garbage" 2>"$TEST_TMP/cli.err" ||
		fail "client on 1005: $(cat "$TEST_TMP/cli.err")"
	cmp "$TEST_TMP/got.garbage" "$TEST_TMP/garbage" ||
		fail "the client got $(stat -c %s "$TEST_TMP/got.garbage") bytes, not the $(stat -c %s "$TEST_TMP/garbage") that followed the reply"
	log "ok: the client got the $(stat -c %s "$TEST_TMP/garbage") bytes that followed the reply, exactly"
	wait_log "listen=192.0.2.2:1005 .* up=0 down=$(stat -c %s "$TEST_TMP/garbage") .*close=eof"

	# The valid flow, still open all this time, now carries its bytes.
	check_eq "$(sfw_counter active)" 1 "flows active before the held one sends"
	touch "$TEST_TMP/go"
	wait_for 20 sh -c "! kill -0 $held 2>/dev/null" || fail "the held client did not finish"
	wait_for 20 test -s "$TEST_TMP/srv.sha" || fail "server did not finish"
	check_eq "$(cat "$TEST_TMP/srv.sha")" "$want_up" "sha256 client->server of the held flow"
	check_eq "$(sha256sum <"$TEST_TMP/held" | cut -d' ' -f1)" "$want_down" "sha256 server->client of the held flow"
	wait_log "listen=192.0.2.2:1000 .*up=4194304 down=4194304 .*close=eof"

	# And a new one after all that.
	sha_transfer 192.0.2.2:1000 $((1 << 20)) $((1 << 20))
	wait_for 5 sh -c "[ \$(grep -c 'listen=192.0.2.2:1000 .*close=eof' '$SFW_LOG') -ge 2 ]" ||
		fail "the second valid flow was not logged"
	log "$(log_lines)"
	check_eq "$(sfw_counter failed)" 4 "failed counter (the four bad replies)"
	check_eq "$(sfw_counter active)" 0 "active flows at the end"
	check_eq "$(sfw_entries)" 0 "sockhash entries at the end"
	check_no_close_wait
}
