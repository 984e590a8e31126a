#!/bin/bash
# sockfwd on a router, next to the kernel's own forwarding and the user-space
# relays that do the same job, all in one run (rows interleaved round by
# round, so drift hits them alike):
#  1. bulk throughput (iperf3, 1 stream) and whole-machine CPU seconds per GB
#     (/proc/stat) for: plain routing (the floor for throughput), nft DNAT on
#     the router (the kernel's forwarding: the floor for a relay), sockfwd
#     --transparent in sockmap, splice and copy mode behind the shipped nft
#     redirect (scripts/sockfwd-transparent.nft, --mark), sockfwd
#     --transparent -x and redsocks, both to dante on srv (and both to
#     sockfwd's SOCKS5 server on srv, when it has one: a proxy that costs
#     little, so that the relays' own cost shows), and haproxy (mode tcp, a
#     fixed target);
#  2. connection setup: connect, one 64-byte exchange, close, for the same;
#  3. SOCKS5 servers on the router, when sockfwd has --socks5-server:
#     sockfwd (sockmap) against dante and microsocks, with bench/socks5-client.py.
# Topology (TEST-NET addresses only):
#   cli 192.0.2.1 -- c0/r0 -- rtr 192.0.2.2 | 203.0.113.1 -- r1/s0 -- srv 203.0.113.2
# Every process runs in a process group of its own, killed by its id on
# exit; the namespaces (with their nft tables) and the pins go too.
#   bench/router.sh             (QUICK=1 for a short run)
# Writes Markdown to stdout.
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_private_bpffs "$@"

if [ "${QUICK:-0}" = 1 ]; then
	ROUNDS=${ROUNDS:-1} SECONDS_PER_RUN=${SECONDS_PER_RUN:-1} CONN_COUNT=${CONN_COUNT:-300}
else
	ROUNDS=${ROUNDS:-5} SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} CONN_COUNT=${CONN_COUNT:-1000}
fi
PY=/usr/bin/python3
export PATH=$PATH:/usr/sbin:/sbin   # danted, redsocks, haproxy
SOCKFWD=${SOCKFWD:-$BUILD/sockfwd}   # another build: SOCKFWD=PATH bench/router.sh
CLIENT=$ROOT/bench/socks5-client.py
MARK=42

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
tmp=$(mktemp -d)
id=rtrb$$
PIN=/sys/fs/bpf/sockfwd-router-bench
PIN_SRV=/sys/fs/bpf/sockfwd-router-bench-srv
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -- "-$pid" 2>/dev/null || true
	done
	sleep 0.3
	for pid in "${pids[@]}"; do
		kill -9 -- "-$pid" 2>/dev/null || true
	done
	for ns in cli rtr srv; do
		ip netns del "$id-$ns" 2>/dev/null || true
	done
	rm -rf "$PIN" "$PIN_SRV" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# start NS CMD...: in the background, a process group of its own (setsid
# and nsenter exec, so $pid is the command and its group), killed on exit.
start() {
	local ns=$1
	shift
	setsid nsenter --net="/run/netns/$id-$ns" -- "$@" &
	pid=$!
	pids+=("$pid")
}


busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# per_gb J0 J1 BYTES: CPU seconds per GB from two busy_jiffies readings
per_gb() {
	awk -v j=$(($2 - $1)) -v b="$3" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf (b > 0 ? "%.4f\n" : "-\n"), j / hz / (b / 1e9) }'
}

# --- topology ------------------------------------------------------------
bench_topology rtr r0 r1

"$ROOT/scripts/sockfwd-load" load -d "$PIN" >/dev/null
HAVE_SOCKS5_SERVER=
"$SOCKFWD" --help 2>&1 | grep -q -- --socks5-server && HAVE_SOCKS5_SERVER=1
# The peers are optional (scripts/install-deps installs them): a row whose
# program is missing is left out, and the output says so.
missing=
have() { command -v "$1" >/dev/null 2>&1 || { missing="$missing $1"; return 1; }; }
HAVE_DANTE='' HAVE_REDSOCKS='' HAVE_HAPROXY='' HAVE_MICROSOCKS=''
have danted && HAVE_DANTE=1
have redsocks && HAVE_REDSOCKS=1
have haproxy && HAVE_HAPROXY=1
have microsocks && HAVE_MICROSOCKS=1

# --- servers on srv: iperf3 (5201), echo (5301), sink (5401), dante (1080) -
start srv iperf3 -s -B 203.0.113.2 -p 5201 >/dev/null 2>&1
start srv "$TOOLS/sockfwd-peer" -l 203.0.113.2:5301 -e -m 2>/dev/null
start srv "$TOOLS/sockfwd-peer" -l 203.0.113.2:5401 -m -H 2>/dev/null

# dante_conf INTERNAL PORT EXTERNAL: a danted.conf without authentication
dante_conf() {
	cat <<-EOF
	logoutput: stderr
	internal: $1 port = $2
	external: $3
	socksmethod: none
	user.privileged: root
	user.unprivileged: nobody
	client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
	socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
	EOF
}
for port in 5201 5301 5401; do wait_listening srv $port; done
if [ -n "$HAVE_DANTE" ]; then
	dante_conf 203.0.113.2 1080 203.0.113.2 >"$tmp/danted-srv.conf"
	start srv danted -f "$tmp/danted-srv.conf" -p "$tmp/danted-srv.pid" 2>"$tmp/danted-srv.log"
	wait_listening srv 1080 "$tmp/danted-srv.log"
fi
if [ -n "$HAVE_SOCKS5_SERVER" ]; then
	# maps of its own: its sockets are not the router's
	"$ROOT/scripts/sockfwd-load" load -d "$PIN_SRV" >/dev/null
	start srv "$SOCKFWD" --maps "$PIN_SRV" --mode sockmap -l 203.0.113.2:1090 --socks5-server \
		2>"$tmp/sockfwd-socks5-srv.log"
	wait_listening srv 1090 "$tmp/sockfwd-socks5-srv.log"
fi

# --- relays on rtr, all started once, idle while another row runs ---------
# sockfwd --transparent: 12345 sockmap, 12346 splice, 12347 copy, 12348
# sockmap through dante, 12350 through sockfwd's SOCKS5 server on srv;
# redsocks 12349 through dante, 12351 through sockfwd's; haproxy 5203/5303.
for mode in sockmap splice copy; do
	case $mode in
	sockmap) listen="-l :12345 --transparent -l :12348 --transparent -x socks5://203.0.113.2:1080"
		[ -z "$HAVE_SOCKS5_SERVER" ] ||
			listen="$listen -l :12350 --transparent -x socks5://203.0.113.2:1090" ;;
	splice) listen="-l :12346 --transparent" ;;
	copy) listen="-l :12347 --transparent" ;;
	esac
	# shellcheck disable=SC2086 # the listeners are words
	start rtr "$SOCKFWD" --maps "$PIN" --mode $mode --mark $MARK $listen 2>"$tmp/sockfwd-$mode.log"
done
wait_listening rtr 12345 "$tmp/sockfwd-sockmap.log"
wait_listening rtr 12346 "$tmp/sockfwd-splice.log"
wait_listening rtr 12347 "$tmp/sockfwd-copy.log"

cat >"$tmp/redsocks.conf" <<-EOF
base {
    log_debug = off;
    log_info = off;
    log = stderr;
    daemon = off;
    redirector = iptables;
}
redsocks {
    local_ip = 0.0.0.0;
    local_port = 12349;
    ip = 203.0.113.2;
    port = 1080;
    type = socks5;
}
redsocks {
    local_ip = 0.0.0.0;
    local_port = 12351;
    ip = 203.0.113.2;
    port = 1090;
    type = socks5;
}
EOF
if [ -n "$HAVE_REDSOCKS" ]; then
	start rtr redsocks -c "$tmp/redsocks.conf" 2>"$tmp/redsocks.log"
	wait_listening rtr 12349 "$tmp/redsocks.log"
fi

cat >"$tmp/haproxy.cfg" <<-EOF
global
    maxconn 4000
defaults
    mode tcp
    option splice-auto
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen bulk
    bind 192.0.2.2:5203
    server s 203.0.113.2:5201
listen rr
    bind 192.0.2.2:5303
    server s 203.0.113.2:5301
EOF
if [ -n "$HAVE_HAPROXY" ]; then
	start rtr haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1
	wait_listening rtr 5203 "$tmp/haproxy.log"
fi

# The shipped rules with the router's LAN side (r0), a port and the mark.
redirect_rules() {
	sed -e 's/^define LAN_IF = .*/define LAN_IF = "r0"/' \
		-e "s/^define SOCKFWD_PORT = .*/define SOCKFWD_PORT = $1/" \
		-e "s/^define SOCKFWD_MARK = .*/define SOCKFWD_MARK = $MARK/" \
		"$ROOT/scripts/sockfwd-transparent.nft"
}
cat >"$tmp/dnat.nft" <<-EOF
table ip rtrbench {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "r0" ip daddr 192.0.2.2 tcp dport 5202 dnat to 203.0.113.2:5201
		iifname "r0" ip daddr 192.0.2.2 tcp dport 5302 dnat to 203.0.113.2:5301
	}
}
EOF

# row_on ROW: the router's rules for ROW; HOST, BULK and RR: where the
# client connects (the server itself for plain routing and the transparent
# rows, a router address for DNAT and haproxy).
row_on() {
	HOST=203.0.113.2 BULK=5201 RR=5301
	case $1 in
	dnat) HOST=192.0.2.2 BULK=5202 RR=5302
		nsx rtr nft -f "$tmp/dnat.nft" ;;
	sockmap) redirect_rules 12345 | nsx rtr nft -f - ;;
	splice) redirect_rules 12346 | nsx rtr nft -f - ;;
	copy) redirect_rules 12347 | nsx rtr nft -f - ;;
	sockmap-x) redirect_rules 12348 | nsx rtr nft -f - ;;
	sockmap-xs) redirect_rules 12350 | nsx rtr nft -f - ;;
	redsocks | redsocks-s)
		# redsocks cannot mark its connections to the proxy: without the
		# output chain the router's own connections are left alone
		port=12349
		[ "$1" = redsocks ] || port=12351
		redirect_rules $port | nsx rtr nft -f -
		nsx rtr nft delete chain inet sockfwd output
		;;
	haproxy) HOST=192.0.2.2 BULK=5203 RR=5303 ;;
	esac
}
row_off() {
	nsx rtr nft delete table inet sockfwd 2>/dev/null || true
	nsx rtr nft delete table ip rtrbench 2>/dev/null || true
}

# iperf HOST PORT: "bits/s bytes" received (0 0 when the run failed)
iperf() {
	if nsx cli timeout $((SECONDS_PER_RUN + 20)) iperf3 -c "$1" -p "$2" -t "$SECONDS_PER_RUN" -J \
		>"$tmp/iperf.json" 2>/dev/null; then
		$PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum_received"]; print(e["bits_per_second"], e["bytes"])' \
			"$tmp/iperf.json"
	else
		echo "iperf3 to $1:$2 failed (row $row)" >&2
		echo "0 0"
	fi
}

# connect_rate HOST:PORT: connections per second (sockfwd-bench connect)
connect_rate() {
	nsx cli timeout 120 "$TOOLS/sockfwd-bench" connect -c "$1" -n "$CONN_COUNT" |
		sed -n 's/.*per_second=\([0-9.]*\).*/\1/p' | grep . || echo 0
}

rows="plain dnat sockmap splice copy"
[ -z "$HAVE_DANTE" ] || rows="$rows sockmap-x"
[ -z "$HAVE_DANTE" ] || [ -z "$HAVE_REDSOCKS" ] || rows="$rows redsocks"
[ -z "$HAVE_SOCKS5_SERVER" ] || rows="$rows sockmap-xs"
[ -z "$HAVE_SOCKS5_SERVER" ] || [ -z "$HAVE_REDSOCKS" ] || rows="$rows redsocks-s"
[ -z "$HAVE_HAPROXY" ] || rows="$rows haproxy"
ROWS=${ROWS:-$rows}
for round in $(seq "$ROUNDS"); do
	for row in $ROWS; do
		row_on "$row"
		j0=$(busy_jiffies)
		read -r bps bytes <<<"$(iperf "$HOST" "$BULK")"
		j1=$(busy_jiffies)
		echo "$row $bps $(per_gb "$j0" "$j1" "$bytes")" >>"$tmp/bulk"
		echo "$row $(connect_rate "$HOST:$RR")" >>"$tmp/conn"
		row_off
	done
	: "$round"
done

# --- SOCKS5 servers on the router -----------------------------------------
# sockfwd --socks5-server (when this build has it) on 1081, dante on 1082,
# microsocks on 1083; the client (socks5-client.py) on cli, through each to
# the sink (5401) and the echo server (5301) on srv.
SOCKS_ROWS=
if [ -n "$HAVE_SOCKS5_SERVER" ]; then
	start rtr "$SOCKFWD" --maps "$PIN" --mode sockmap -l 192.0.2.2:1081 --socks5-server \
		2>"$tmp/sockfwd-socks5.log"
	wait_listening rtr 1081 "$tmp/sockfwd-socks5.log"
	SOCKS_ROWS="none sockfwd"
	if [ -n "$HAVE_DANTE" ]; then
		dante_conf 192.0.2.2 1082 203.0.113.1 >"$tmp/danted-rtr.conf"
		start rtr danted -f "$tmp/danted-rtr.conf" -p "$tmp/danted-rtr.pid" 2>"$tmp/danted-rtr.log"
		wait_listening rtr 1082 "$tmp/danted-rtr.log"
		SOCKS_ROWS="$SOCKS_ROWS dante"
	fi
	if [ -n "$HAVE_MICROSOCKS" ]; then
		start rtr microsocks -i 192.0.2.2 -p 1083 >"$tmp/microsocks.log" 2>&1
		wait_listening rtr 1083 "$tmp/microsocks.log"
		SOCKS_ROWS="$SOCKS_ROWS microsocks"
	fi
fi
socks_proxy() {
	case $1 in
	none) echo - ;;
	sockfwd) echo 192.0.2.2:1081 ;;
	dante) echo 192.0.2.2:1082 ;;
	microsocks) echo 192.0.2.2:1083 ;;
	esac
}
for round in $(seq "$ROUNDS"); do
	for row in $SOCKS_ROWS; do
		proxy=$(socks_proxy "$row")
		j0=$(busy_jiffies)
		out=$(nsx cli timeout $((SECONDS_PER_RUN + 20)) $PY "$CLIENT" bulk "$proxy" 203.0.113.2:5401 \
			"$SECONDS_PER_RUN") || echo "socks5-client bulk through $row failed" >&2
		j1=$(busy_jiffies)
		bytes=$(echo "$out" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
		took=$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
		echo "$row $(awk -v b="${bytes:-0}" -v s="${took:-1}" 'BEGIN { print 8 * b / s }') $(per_gb "$j0" "$j1" "${bytes:-0}")" \
			>>"$tmp/socks-bulk"
		rate=$(nsx cli timeout 120 $PY "$CLIENT" connect "$proxy" 203.0.113.2:5301 "$CONN_COUNT" |
			sed -n 's/.*per_second=\([0-9.]*\).*/\1/p') || true
		echo "$row ${rate:-0}" >>"$tmp/socks-conn"
	done
	: "$round"
done

# --- tables -----------------------------------------------------------------
# of ROW COLUMN FILE [DIGITS]: "median min max" of that column for ROW
of() { awk -v r="$1" -v c="$2" '$1 == r && $c != "-" { print $c }' "$3" | stats "${4:-4}"; }
gbit() { awk -v r="$1" '$1 == r { print $2 / 1e9 }' "$2" | stats 4; }
med() { read -r m _ _ <<<"$("$@")" && echo "$m"; }
# ratio A B: A / B with two decimals ("-" when B is not a positive number)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "-") printf "%.2f", a / b; else printf "-" }'; }
# verdict VALUE OP LIMIT: "met" or "**not met**"
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
	if (v == "-") { print "-"; exit }
	ok = op == "<=" ? v <= l : (op == ">=" ? v >= l : v > l)
	print (ok ? "met" : "**not met**") }'; }

label() {
	case $1 in
	plain) echo "plain routing (no relay: floor for throughput)" ;;
	dnat) echo "nft DNAT on the router (kernel forwarding: floor for a relay)" ;;
	sockmap) echo "sockfwd --transparent, sockmap" ;;
	splice) echo "sockfwd --transparent, splice" ;;
	copy) echo "sockfwd --transparent, copy" ;;
	sockmap-x) echo "sockfwd --transparent -x dante, sockmap" ;;
	redsocks) echo "redsocks -> dante" ;;
	sockmap-xs) echo "sockfwd --transparent -x sockfwd's SOCKS5 server, sockmap" ;;
	redsocks-s) echo "redsocks -> sockfwd's SOCKS5 server" ;;
	haproxy) echo "haproxy (mode tcp, splice-auto; fixed target, no nft)" ;;
	none) echo "no proxy (routed: floor)" ;;
	sockfwd) echo "sockfwd --socks5-server, sockmap" ;;
	dante) echo "dante (danted)" ;;
	microsocks) echo "microsocks" ;;
	esac
}

plain_g=$(med gbit plain "$tmp/bulk")
dnat_c=$(med of dnat 3 "$tmp/bulk")
copy_r=$(med of copy 2 "$tmp/conn" 7)
echo "### sockfwd on a router: bulk throughput and CPU (iperf3 ${SECONDS_PER_RUN}s, 1 stream, median of $ROUNDS, min-max)"
echo
echo "Client, router and server in three namespaces joined by veth pairs; the relays run on"
echo "the router. Transparent rows: the client connects to the server's address and the"
echo "router's nft redirect (scripts/sockfwd-transparent.nft) hands the connection to the relay."
echo
echo "| path | Gbit/s (min-max) | vs plain routing | CPU s per GB (machine, min-max) | CPU per GB / nft DNAT's | minus nft DNAT's |"
echo "|---|---|---|---|---|---|"
for row in $ROWS; do
	read -r g gn gx <<<"$(gbit "$row" "$tmp/bulk")"
	read -r c cn cx <<<"$(of "$row" 3 "$tmp/bulk")"
	over=$(awk -v a="$c" -v b="$dnat_c" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }')
	echo "| $(label "$row") | $g ($gn-$gx) | $(ratio "$g" "$plain_g") | $c ($cn-$cx) | $(ratio "$c" "$dnat_c") | $over |"
done
echo
echo "### sockfwd on a router: connection setup ($CONN_COUNT connections, each with one 64-byte exchange, median of $ROUNDS)"
echo
echo "| path | connections/s (min-max) | vs plain routing | vs sockfwd copy mode |"
echo "|---|---|---|---|"
plain_r=$(med of plain 2 "$tmp/conn" 7)
for row in $ROWS; do
	read -r r rn rx <<<"$(of "$row" 2 "$tmp/conn" 7)"
	echo "| $(label "$row") | $r ($rn-$rx) | $(ratio "$r" "$plain_r") | $(ratio "$r" "$copy_r") |"
done
echo

if [ -n "$SOCKS_ROWS" ]; then
	echo "### SOCKS5 servers on the router (median of $ROUNDS, min-max)"
	echo
	echo "The client is bench/socks5-client.py on cli (iperf3 cannot speak SOCKS5): bulk sends"
	echo "zeros for ${SECONDS_PER_RUN}s through the proxy to a sink on srv and waits for its close;"
	echo "setup is $CONN_COUNT x (connect, SOCKS5 greeting and CONNECT, one 64-byte exchange, close)."
	echo "The same Python client in every row: its own cost is in every row's CPU and rate."
	echo
	echo "| server | Gbit/s (min-max) | sockfwd's / this | CPU s per GB (machine, min-max) | this / sockfwd's | connections/s (min-max) | vs sockfwd |"
	echo "|---|---|---|---|---|---|---|"
	sg=$(med gbit sockfwd "$tmp/socks-bulk")
	sc=$(med of sockfwd 3 "$tmp/socks-bulk")
	sr=$(med of sockfwd 2 "$tmp/socks-conn" 7)
	for row in $SOCKS_ROWS; do
		read -r g gn gx <<<"$(gbit "$row" "$tmp/socks-bulk")"
		read -r c cn cx <<<"$(of "$row" 3 "$tmp/socks-bulk")"
		read -r r rn rx <<<"$(of "$row" 2 "$tmp/socks-conn" 7)"
		echo "| $(label "$row") | $g ($gn-$gx) | $(ratio "$sg" "$g") | $c ($cn-$cx) | $(ratio "$c" "$sc") | $r ($rn-$rx) | $(ratio "$r" "$sr") |"
	done
	echo
else
	echo "(SOCKS5 server section skipped: this build of sockfwd has no --socks5-server.)"
	echo
fi

# What each sockfwd listener did, from its "conn ... mode=M" lines: a
# flow that fell back from sockmap shows here.
flows=$(cat "$tmp"/sockfwd-*.log | sed -n 's/.* conn client=[^ ]* listen=\([^ ]*\) .* mode=\([a-z]*\).*/\1 \2/p' |
	sort | uniq -c | awk '{ printf "%s%s %s %s", (NR > 1 ? ", " : ""), $2, $3, $1 }')
echo "sockfwd's flows over the whole run, by listener and mode (from its logs): ${flows:-none}."
echo
[ -z "$missing" ] || { echo "(rows left out, not installed:$missing; scripts/install-deps installs them.)"; echo; }
echo "### sockfwd on a router: the issue's goals, from the medians above"
echo
echo "| goal | measured | verdict |"
echo "|---|---|---|"
v=$(ratio "$(med of sockmap 3 "$tmp/bulk")" "$dnat_c")
echo "| sockfwd --transparent (sockmap) CPU per GB within 1.15x of nft DNAT's | $v | $(verdict "$v" "<=" 1.15) |"
v=$(ratio "$(med of redsocks 3 "$tmp/bulk")" "$(med of sockmap-x 3 "$tmp/bulk")")
echo "| redsocks CPU per GB at least 2x sockfwd -x's (both through dante) | $v | $(verdict "$v" ">=" 2) |"
if [ -n "$HAVE_SOCKS5_SERVER" ]; then
	v=$(ratio "$(med of redsocks-s 3 "$tmp/bulk")" "$(med of sockmap-xs 3 "$tmp/bulk")")
	echo "| redsocks CPU per GB at least 2x sockfwd -x's (both through sockfwd's SOCKS5 server) | $v | $(verdict "$v" ">=" 2) |"
fi
if [ -n "$SOCKS_ROWS" ]; then
	v=$(ratio "$(med of dante 3 "$tmp/socks-bulk")" "$sc")
	echo "| dante's CPU per GB as a SOCKS5 server at least 2x sockfwd's | $v | $(verdict "$v" ">=" 2) |"
	v=$(ratio "$(med of microsocks 3 "$tmp/socks-bulk")" "$sc")
	echo "| microsocks's CPU per GB as a SOCKS5 server (no goal; for reference) | $v | - |"
fi
v=$(ratio "$(med gbit sockmap "$tmp/bulk")" "$(med gbit haproxy "$tmp/bulk")")
echo "| throughput: sockfwd (sockmap) / haproxy, above 1 | $v | $(verdict "$v" ">" 1) |"
v=$(ratio "$(med gbit sockmap-x "$tmp/bulk")" "$(med gbit redsocks "$tmp/bulk")")
echo "| throughput: sockfwd -x / redsocks (both through dante), above 1 | $v | $(verdict "$v" ">" 1) |"
if [ -n "$HAVE_SOCKS5_SERVER" ]; then
	v=$(ratio "$(med gbit sockmap-xs "$tmp/bulk")" "$(med gbit redsocks-s "$tmp/bulk")")
	echo "| throughput: sockfwd -x / redsocks (both through sockfwd's SOCKS5 server), above 1 | $v | $(verdict "$v" ">" 1) |"
fi
if [ -n "$SOCKS_ROWS" ]; then
	for peer in dante microsocks; do
		v=$(ratio "$sg" "$(med gbit $peer "$tmp/socks-bulk")")
		echo "| throughput: sockfwd --socks5-server / $peer, above 1 | $v | $(verdict "$v" ">" 1) |"
	done
fi
v=$(ratio "$(med of sockmap 2 "$tmp/conn" 7)" "$copy_r")
echo "| setup rate: sockfwd sockmap / copy mode, at least 1 | $v | $(verdict "$v" ">=" 1) |"
echo
echo "Commands (each row once per round, rows in turn, $ROUNDS rounds; HOST:PORT as the row says):"
echo
echo "    iperf3 -c HOST -p PORT -t $SECONDS_PER_RUN -J              # iperf3 -s on srv"
echo "    sockfwd-bench connect -c HOST:PORT -n $CONN_COUNT       # sockfwd-peer -e -m answers on srv"
echo "    nft -f scripts/sockfwd-transparent.nft    # LAN_IF r0, SOCKFWD_PORT per row, SOCKFWD_MARK $MARK"
echo "    nft: iifname r0 ip daddr 192.0.2.2 tcp dport 5202 dnat to 203.0.113.2:5201   # the DNAT row"
echo "    sockfwd --mode sockmap|splice|copy --mark $MARK -l :PORT --transparent [-x socks5://203.0.113.2:1080|1090]"
echo "    redsocks -c CONF      # redirector iptables, type socks5, 203.0.113.2:1080|1090; the nft output chain deleted"
echo "    haproxy -db -f CONF   # mode tcp, option splice-auto, 192.0.2.2:5203 -> 203.0.113.2:5201"
echo "    danted -f CONF        # socksmethod none; on srv (1080) for the transparent rows, on rtr as a SOCKS5 server"
[ -z "$HAVE_SOCKS5_SERVER" ] ||
	echo "    sockfwd --mode sockmap -l 203.0.113.2:1090 --socks5-server    # on srv, maps of its own"
if [ -n "$SOCKS_ROWS" ]; then
	echo "    sockfwd --mode sockmap -l 192.0.2.2:1081 --socks5-server; microsocks -i 192.0.2.2 -p 1083"
	echo "    socks5-client.py bulk PROXY 203.0.113.2:5401 $SECONDS_PER_RUN    # sockfwd-peer -m -H sinks on srv"
	echo "    socks5-client.py connect PROXY 203.0.113.2:5301 $CONN_COUNT"
fi
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r); load average before: $load_before, after:" \
	"$(cut -d' ' -f1-3 /proc/loadavg); this benchmark took $(($(date +%s) - started)) s."
echo
