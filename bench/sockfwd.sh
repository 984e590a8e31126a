#!/bin/bash
# sockfwd benchmarks, every path in one run, medians of ROUNDS runs:
#  1. bulk throughput, iperf3 with 1 and 8 streams;
#  2. CPU seconds per GB moved (whole machine, /proc/stat, 1 stream), and
#     the same minus the direct path's: what the relay itself costs;
#  3. 64-byte request/response round trips on one connection;
#  4. 10,000 idle connections held through sockfwd (sockmap): memory per
#     connection (helper RSS, kernel slab).
# Paths: direct (routed, no relay: the limit), sockfwd sockmap / splice /
# copy, socat, haproxy (splice-auto) when installed.
# Namespaces cli (192.0.2.1) -- fwd (192.0.2.2 | 203.0.113.1) -- srv (203.0.113.2).
#   bench/sockfwd.sh             (QUICK=1 for a short run)
# Writes Markdown to stdout.
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_private_bpffs "$@"

if [ "${QUICK:-0}" = 1 ]; then
	ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-2} RR_COUNT=${RR_COUNT:-5000}
	IDLE_CONNS=${IDLE_CONNS:-2000}
else
	ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-4} RR_COUNT=${RR_COUNT:-20000}
	# two descriptors per flow in the helper: 10,000 flows need 20,005, one
	# more than a hard RLIMIT_NOFILE of 20,000 (this machine, no
	# CAP_SYS_RESOURCE to raise it)
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && hard=1048576
	IDLE_CONNS=${IDLE_CONNS:-$((hard > 20100 ? 10000 : (hard - 100) / 200 * 100))}
fi

tmp=$(mktemp -d)
id=sfwb$$
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	sleep 0.3
	for pid in "${pids[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	for ns in cli fwd srv; do
		ip netns del "$id-$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

nsx() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$id-$ns" -- "$@"
}

# start NS CMD...: in the background, remembered for cleanup; PID in $pid
start() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$id-$ns" -- "$@" &
	pid=$!
	pids+=("$pid")
}

listening() { nsx "$1" ss -ltnH "sport = :$2" | grep -q .; }

wait_listening() {
	local try
	for try in $(seq 50); do
		listening "$1" "$2" && return 0
		: "$try"
		sleep 0.1
	done
	echo "nothing listens on $1 port $2" >&2
	return 1
}


busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# --- topology ------------------------------------------------------------
mkdir -p /run/netns
for ns in cli fwd srv; do
	ip netns add "$id-$ns"
	nsx $ns ip link set lo up
done
ip link add c0 netns "$id-cli" type veth peer name f0 netns "$id-fwd"
ip link add f1 netns "$id-fwd" type veth peer name s0 netns "$id-srv"
nsx cli ip link set c0 up
nsx fwd ip link set f0 up
nsx fwd ip link set f1 up
nsx srv ip link set s0 up
nsx cli ip addr add 192.0.2.1/24 dev c0
nsx fwd ip addr add 192.0.2.2/24 dev f0
nsx fwd ip addr add 203.0.113.1/24 dev f1
nsx srv ip addr add 203.0.113.2/24 dev s0
nsx cli ip route add default via 192.0.2.2
nsx srv ip route add default via 203.0.113.1
nsx fwd sysctl -qw net.ipv4.ip_forward=1

PIN=/sys/fs/bpf/sockfwd-bench
"$ROOT/scripts/sockfwd-load" load -d "$PIN" >/dev/null

start srv iperf3 -s -B 203.0.113.2 -p 5201 >/dev/null 2>&1
start srv "$TOOLS/sockfwd-peer" -l 203.0.113.2:5301 -e -m 2>/dev/null
wait_listening srv 5201
wait_listening srv 5301

# path name -> how the client reaches iperf3 (port 5201) and the echo (5301)
paths="direct sockmap splice copy socat"
command -v haproxy >/dev/null 2>&1 && paths="$paths haproxy"
paths=${PATHS:-$paths}

relay_pid=
start_relay() {
	relay_pid=
	case $1 in
	direct) return 0 ;;
	sockmap | splice | copy)
		start fwd "$BUILD/sockfwd" --maps "$PIN" --mode "$1" \
			-l 192.0.2.2:1000 -t 203.0.113.2:5201 -l 192.0.2.2:1001 -t 203.0.113.2:5301 \
			2>"$tmp/sockfwd-$1.log"
		;;
	socat)
		start fwd socat TCP-LISTEN:1000,bind=192.0.2.2,fork,reuseaddr TCP:203.0.113.2:5201
		relay_pid=$pid
		start fwd socat TCP-LISTEN:1001,bind=192.0.2.2,fork,reuseaddr,nodelay \
			TCP:203.0.113.2:5301,nodelay
		wait_listening fwd 1000
		wait_listening fwd 1001
		return 0
		;;
	haproxy)
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
		    bind 192.0.2.2:1000
		    server s 203.0.113.2:5201
		listen rr
		    bind 192.0.2.2:1001
		    server s 203.0.113.2:5301
		EOF
		start fwd haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1
		;;
	esac
	relay_pid=$pid
	wait_listening fwd 1000
	wait_listening fwd 1001
}

stop_relay() {
	[ -n "$relay_pid" ] || return 0
	if [ "$1" = socat ]; then
		# both socat listeners
		kill "${pids[-1]}" "${pids[-2]}" 2>/dev/null || true
	else
		kill "$relay_pid" 2>/dev/null || true
	fi
	wait "$relay_pid" 2>/dev/null || true
	sleep 0.3
}

iperf() {
	# iperf3 JSON: received bits/s and bytes
	nsx cli iperf3 -c "$1" -p "$2" -t "$SECONDS_PER_RUN" -P "$3" -J >"$tmp/iperf.json" 2>/dev/null
	python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum_received"]; print(e["bits_per_second"], e["bytes"])' \
		"$tmp/iperf.json"
}

for path in $paths; do
	start_relay "$path"
	if [ "$path" = direct ]; then
		host=203.0.113.2 port=5201 rrport=5301
	else
		host=192.0.2.2 port=1000 rrport=1001
	fi
	for round in $(seq "$ROUNDS"); do
		j0=$(busy_jiffies)
		read -r bps bytes <<<"$(iperf $host $port 1)"
		j1=$(busy_jiffies)
		echo "$path 1 $bps" >>"$tmp/tput"
		awk -v j=$((j1 - j0)) -v b="$bytes" -v hz="$(getconf CLK_TCK)" \
			'BEGIN { printf "%.4f\n", j / hz / (b / 1e9) }' | sed "s/^/$path /" >>"$tmp/cpu"
		read -r bps bytes <<<"$(iperf $host $port 8)"
		echo "$path 8 $bps" >>"$tmp/tput"
		nsx cli "$TOOLS/sockfwd-bench" rr -c "$host:$rrport" -n "$RR_COUNT" |
			sed -n "s/.*per_second=\([0-9.]*\) mean_us=\([0-9.]*\).*/$path \1 \2/p" >>"$tmp/rr"
		: "$round"
	done
	stop_relay "$path"
done

col() { awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$3" | stats 4; }

echo "### sockfwd: bulk throughput and CPU (iperf3 ${SECONDS_PER_RUN}s, median of $ROUNDS, min-max)"
echo
echo "| path | 1 stream Gbit/s | 8 streams Gbit/s | vs direct (1 / 8) | CPU s per GB (machine) | relay CPU s per GB (minus direct) |"
echo "|---|---|---|---|---|---|"
read -r d1 _ _ <<<"$(awk '$1 == "direct" && $2 == 1 { print $3 / 1e9 }' "$tmp/tput" | stats 4)"
read -r d8 _ _ <<<"$(awk '$1 == "direct" && $2 == 8 { print $3 / 1e9 }' "$tmp/tput" | stats 4)"
read -r dc _ _ <<<"$(col direct 2 "$tmp/cpu")"
for path in $paths; do
	read -r m1 n1 x1 <<<"$(awk -v p="$path" '$1 == p && $2 == 1 { print $3 / 1e9 }' "$tmp/tput" | stats 4)"
	read -r m8 n8 x8 <<<"$(awk -v p="$path" '$1 == p && $2 == 8 { print $3 / 1e9 }' "$tmp/tput" | stats 4)"
	read -r c cn cx <<<"$(col "$path" 2 "$tmp/cpu")"
	rel=$(awk -v a="$m1" -v b="$d1" -v c="$m8" -v d="$d8" 'BEGIN { printf "%.0f%% / %.0f%%", 100 * a / b, 100 * c / d }')
	over=$(awk -v a="$c" -v b="$dc" 'BEGIN { printf "%.3f", a - b }')
	echo "| $path | $m1 ($n1-$x1) | $m8 ($n8-$x8) | $rel | $c ($cn-$cx) | $over |"
done
echo
echo "### sockfwd: 64-byte request/response on one connection ($RR_COUNT exchanges, median of $ROUNDS)"
echo
echo "| path | exchanges/s (min-max) | mean round trip us | vs direct |"
echo "|---|---|---|---|"
read -r drr _ _ <<<"$(col direct 3 "$tmp/rr")"
for path in $paths; do
	read -r r rn rx <<<"$(col "$path" 2 "$tmp/rr")"
	read -r us _ _ <<<"$(col "$path" 3 "$tmp/rr")"
	echo "| $path | $r ($rn-$rx) | $us | $(awk -v a="$us" -v b="$drr" 'BEGIN { printf "%.2fx", a / b }') |"
done
echo

# --- 4. idle connections --------------------------------------------------
start srv "$TOOLS/sockfwd-bench" hold-server -l 203.0.113.2:5401
wait_listening srv 5401
start fwd "$BUILD/sockfwd" --maps "$PIN" --mode sockmap \
	-l 192.0.2.2:1002 -t 203.0.113.2:5401 2>"$tmp/sockfwd-idle.log"
helper=$pid
wait_listening fwd 1002 || { cat "$tmp/sockfwd-idle.log" >&2; exit 1; }
sync
echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true
slab0=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$helper/status")
start cli "$TOOLS/sockfwd-bench" hold-client -c 192.0.2.2:1002 \
	-n "$IDLE_CONNS" >/dev/null
holder=$pid
for _ in $(seq 600); do
	n=$(nsx fwd ss -tnH state established "( sport = :1002 )" | wc -l)
	[ "$n" -ge "$IDLE_CONNS" ] && break
	sleep 0.1
done
sleep 1
cpu0=$(awk '{ print $14 + $15 }' "/proc/$helper/stat")
sleep 5
cpu1=$(awk '{ print $14 + $15 }' "/proc/$helper/stat")
slab1=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$helper/status")
entries=$(bpftool map dump pinned "$PIN/sockfwd_peers" 2>/dev/null | grep -c '^key' || true)
kill -USR1 "$helper"
sleep 0.3
kill "$holder" 2>/dev/null || true
echo "### sockfwd: $IDLE_CONNS idle connections through sockfwd (sockmap)"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| connections established at the helper | $n |"
echo "| SOCKHASH entries (2 per flow) | $entries |"
echo "| helper RSS growth | $(((rss1 - rss0) / 1024)) MiB, $(((rss1 - rss0) * 1024 / IDLE_CONNS)) bytes per connection |"
echo "| kernel slab growth (whole machine: 4 sockets per connection) | $(((slab1 - slab0) / 1024)) MiB, $(((slab1 - slab0) * 1024 / IDLE_CONNS)) bytes per connection |"
echo "| helper CPU while they idle | $(awk -v j=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f%% of a CPU", 100 * j / hz / 5 }') |"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
