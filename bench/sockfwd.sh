#!/bin/bash
# sockfwd benchmarks, every path in one run, medians of ROUNDS runs, across a
# veth path between namespaces and loopback:
#  1. bulk throughput, iperf3 with 1 and 8 streams;
#  2. CPU seconds per GB moved (whole machine, /proc/stat, 1 stream), and
#     the same minus the direct path's: what the relay itself costs;
#     and one stream with the client alone on CPU 0, servers and relay on
#     CPU 1: how busy each CPU gets;
#  3. 64-byte request/response round trips on one connection: rate, p50, p99,
#     and the p50 again with client, server and relay on one CPU (each hop
#     across vCPUs costs a wake-up whose price follows the host's load);
#  4. connection setup rate: connect, one 64-byte exchange, close;
#  5. sockmap against splice per workload: what `--mode auto` should pick;
#  6. 10,000 idle connections held through sockfwd (sockmap, veth): memory
#     per connection (helper RSS, kernel slab).  A helper needs two
#     descriptors per flow: when the hard RLIMIT_NOFILE is too low for all of
#     them in one process, several helpers share the port (--reuseport).
# Paths: direct (routed, no relay: the limit), sockfwd sockmap / splice /
# copy, socat, rinetd, haproxy (splice-auto) when installed.
# veth: namespaces cli (192.0.2.1) -- fwd (192.0.2.2 | 203.0.113.1) -- srv (203.0.113.2).
# loopback: client, relay and server in one namespace of our own, 127.0.0.1.
#   bench/sockfwd.sh             (QUICK=1 for a short run)
# Writes Markdown to stdout and the figures to $BENCH_OUT/sockfwd.csv.
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_private_bpffs "$@"

if [ "${QUICK:-0}" = 1 ]; then
	ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-1} RR_COUNT=${RR_COUNT:-5000}
	CONN_COUNT=${CONN_COUNT:-300} IDLE_CONNS=${IDLE_CONNS:-2000}
	# the relays that matter most, to stay within two minutes with clean-dns
	PATHS=${PATHS:-direct sockmap splice socat} IDLE_SECONDS=${IDLE_SECONDS:-2}
else
	ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} RR_COUNT=${RR_COUNT:-20000}
	CONN_COUNT=${CONN_COUNT:-1000} IDLE_CONNS=${IDLE_CONNS:-10000}
fi
TOPOLOGIES=${TOPOLOGIES:-veth loopback} IDLE_SECONDS=${IDLE_SECONDS:-5}

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
	for ns in cli fwd srv lo; do
		ip netns del "$id-$ns" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT


# start NS CMD...: in the background, remembered for cleanup; PID in $pid
start() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$id-$ns" -- "$@" &
	pid=$!
	pids+=("$pid")
}



# pin_started CPUS: every process we started (servers, relays) and their
# threads; children forked later (socat, the echo peer) inherit it.
pin_started() {
	local p
	for p in "${pids[@]}"; do
		taskset -a -p -c "$1" "$p" >/dev/null 2>&1 || true
	done
}

busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# cpu_jiffies: "busy0 total0 busy1 total1" for CPUs 0 and 1
cpu_jiffies() {
	awk '$1 == "cpu0" || $1 == "cpu1" { b = $2 + $3 + $4 + $7 + $8 + $9; t = b + $5 + $6
		printf "%s %s ", b, t } END { print "" }' /proc/stat
}

# --- topology ------------------------------------------------------------
bench_topology fwd f0 f1 lo

PIN=/sys/fs/bpf/sockfwd-bench
"$ROOT/scripts/sockfwd-load" load -d "$PIN" >/dev/null

for where in srv:203.0.113.2 lo:127.0.0.1; do
	start "${where%%:*}" iperf3 -s -B "${where#*:}" -p 5201 >/dev/null 2>&1
	start "${where%%:*}" "$TOOLS/sockfwd-peer" -l "${where#*:}:5301" -e -m 2>/dev/null
	wait_listening "${where%%:*}" 5201
	wait_listening "${where%%:*}" 5301
done

# use_topology veth|loopback: the namespaces and addresses of each role
use_topology() {
	case $1 in
	veth) CLI=cli FWD=fwd FWD_IP=192.0.2.2 SRV_IP=203.0.113.2 ;;
	loopback) CLI=lo FWD=lo FWD_IP=127.0.0.1 SRV_IP=127.0.0.1 ;;
	esac
}

# path name -> how the client reaches iperf3 (port 5201) and the echo (5301)
paths="direct sockmap splice copy socat"
command -v rinetd >/dev/null 2>&1 && paths="$paths rinetd"
command -v haproxy >/dev/null 2>&1 && paths="$paths haproxy"
paths=${PATHS:-$paths}

relay_pid=
start_relay() {
	relay_pid=
	case $1 in
	direct) return 0 ;;
	sockmap | splice | copy)
		start $FWD "$BUILD/sockfwd" --maps "$PIN" --mode "$1" \
			-l $FWD_IP:1000 -t $SRV_IP:5201 -l $FWD_IP:1001 -t $SRV_IP:5301 \
			2>"$tmp/sockfwd-$1.log"
		;;
	socat)
		# (iperf3 resets its connections at the end: socat says so on stderr)
		start $FWD socat TCP-LISTEN:1000,bind=$FWD_IP,fork,reuseaddr TCP:$SRV_IP:5201 2>/dev/null
		relay_pid=$pid
		start $FWD socat TCP-LISTEN:1001,bind=$FWD_IP,fork,reuseaddr,nodelay \
			TCP:$SRV_IP:5301,nodelay 2>/dev/null
		wait_listening $FWD 1000
		wait_listening $FWD 1001
		return 0
		;;
	rinetd)
		printf '%s 1000 %s 5201\n%s 1001 %s 5301\n' $FWD_IP $SRV_IP $FWD_IP $SRV_IP >"$tmp/rinetd.conf"
		start $FWD rinetd -f -c "$tmp/rinetd.conf" >"$tmp/rinetd.log" 2>&1
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
		    bind $FWD_IP:1000
		    server s $SRV_IP:5201
		listen rr
		    bind $FWD_IP:1001
		    server s $SRV_IP:5301
		EOF
		start $FWD haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1
		;;
	esac
	relay_pid=$pid
	wait_listening $FWD 1000
	wait_listening $FWD 1001
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
	# iperf3 JSON: received bits/s and bytes (CLIENT_CPU: pin the client)
	${CLIENT_CPU:+taskset -c "$CLIENT_CPU"} nsenter --net="/run/netns/$id-$CLI" -- \
		iperf3 -c "$1" -p "$2" -t "$SECONDS_PER_RUN" -P "$3" -J >"$tmp/iperf.json" 2>/dev/null
	python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum_received"]; print(e["bits_per_second"], e["bytes"])' \
		"$tmp/iperf.json"
}

# rr HOST:PORT: "TOPO PATH exchanges/s mean p50 p99" of 64-byte round trips
# (CLIENT_CPU: pin the client)
rr() {
	${CLIENT_CPU:+taskset -c "$CLIENT_CPU"} nsenter --net="/run/netns/$id-$CLI" -- \
		"$TOOLS/sockfwd-bench" rr -c "$1" -n "$RR_COUNT" |
		sed -n "s/.*per_second=\([0-9.]*\) mean_us=\([0-9.]*\) p50_us=\([0-9.]*\) p99_us=\([0-9.]*\).*/$topo $path \1 \2 \3 \4/p"
}

for topo in $TOPOLOGIES; do
	use_topology "$topo"
	for path in $paths; do
		start_relay "$path"
		if [ "$path" = direct ]; then
			host=$SRV_IP port=5201 rrport=5301
		else
			host=$FWD_IP port=1000 rrport=1001
		fi
		for round in $(seq "$ROUNDS"); do
			j0=$(busy_jiffies)
			read -r bps bytes <<<"$(iperf "$host" $port 1)"
			j1=$(busy_jiffies)
			echo "$topo $path 1 $bps" >>"$tmp/tput"
			awk -v j=$((j1 - j0)) -v b="$bytes" -v hz="$(getconf CLK_TCK)" \
				'BEGIN { printf "%.4f\n", j / hz / (b / 1e9) }' | sed "s/^/$topo $path /" >>"$tmp/cpu"
			read -r bps bytes <<<"$(iperf "$host" $port 8)"
			echo "$topo $path 8 $bps" >>"$tmp/tput"
			if [ "$(nproc)" -ge 2 ]; then
				# One stream with the client alone on CPU 0, servers and
				# relay on CPU 1: how busy the client's CPU gets, where
				# the kernel also receives (veth, lo) and redirects.
				pin_started 1
				read -r b0 t0 b1 t1 <<<"$(cpu_jiffies)"
				read -r bps bytes <<<"$(CLIENT_CPU=0 iperf "$host" $port 1)"
				read -r e0 u0 e1 u1 <<<"$(cpu_jiffies)"
				pin_started "0-$(($(nproc) - 1))"
				echo "$topo $path $bps $(((e0 - b0) * 100 / (u0 - t0 + 1))) $(((e1 - b1) * 100 / (u1 - t1 + 1)))" >>"$tmp/split"
			fi
			rr "$host:$rrport" >>"$tmp/rr"
			pin_started 0
			CLIENT_CPU=0 rr "$host:$rrport" >>"$tmp/rr1"
			pin_started "0-$(($(nproc) - 1))"
			nsx $CLI "$TOOLS/sockfwd-bench" connect -c "$host:$rrport" -n "$CONN_COUNT" |
				sed -n "s/.*per_second=\([0-9.]*\).*/$topo $path \1/p" >>"$tmp/conn"
			: "$round"
		done
		stop_relay "$path"
	done
done

BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$BENCH_OUT"
csv=$BENCH_OUT/sockfwd.csv
echo "chart,category,series,median,min,max" >"$csv"

# of TOPO PATH COLUMN FILE [DIGITS]: "median min max" of that column
of() { awk -v t="$1" -v p="$2" -v c="$3" '$1 == t && $2 == p { print $c }' "$4" | stats "${5:-4}"; }
# tput TOPO PATH STREAMS: "median min max" Gbit/s
tput() { awk -v t="$1" -v p="$2" -v n="$3" '$1 == t && $2 == p && $3 == n { print $4 / 1e9 }' "$tmp/tput" | stats 4; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2f" : "-"), a / b }'; }
chart() { echo "$1,$2,$3,$4,$5,$6" >>"$csv"; }

echo "### sockfwd: bulk throughput and CPU (iperf3 ${SECONDS_PER_RUN}s, median of $ROUNDS, min-max)"
echo
echo "| topology | path | 1 stream Gbit/s | 8 streams Gbit/s | vs direct (1 / 8) | CPU s per GB (machine) | relay CPU s per GB (minus direct) |"
echo "|---|---|---|---|---|---|---|"
for topo in $TOPOLOGIES; do
	read -r d1 _ _ <<<"$(tput "$topo" direct 1)"
	read -r d8 _ _ <<<"$(tput "$topo" direct 8)"
	read -r dc _ _ <<<"$(of "$topo" direct 3 "$tmp/cpu")"
	for path in $paths; do
		read -r m1 n1 x1 <<<"$(tput "$topo" "$path" 1)"
		read -r m8 n8 x8 <<<"$(tput "$topo" "$path" 8)"
		read -r c cn cx <<<"$(of "$topo" "$path" 3 "$tmp/cpu")"
		over=$(awk -v a="$c" -v b="$dc" 'BEGIN { printf "%.3f", a - b }')
		echo "| $topo | $path | $m1 ($n1-$x1) | $m8 ($n8-$x8) | $(ratio "$m1" "$d1") / $(ratio "$m8" "$d8") | $c ($cn-$cx) | $over |"
		chart "Gbit/s with 1 stream (iperf3)" "$path" "$topo" "$m1" "$n1" "$x1"
		chart "Gbit/s with 8 streams (iperf3)" "$path" "$topo" "$m8" "$n8" "$x8"
		chart "CPU s per GB (whole machine; 1 stream)" "$path" "$topo" "$c" "$cn" "$cx"
	done
done
echo
echo "### sockfwd: 64-byte round trips ($RR_COUNT on one connection) and connection setup ($CONN_COUNT connections, each with one 64-byte exchange), median of $ROUNDS"
echo
echo "| topology | path | exchanges/s (min-max) | p50 us | p99 us | p50 vs direct | one CPU: p50 us (min-max) | vs direct | connections/s (min-max) | vs direct |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for topo in $TOPOLOGIES; do
	read -r dp50 _ _ <<<"$(of "$topo" direct 5 "$tmp/rr")"
	read -r dconn _ _ <<<"$(of "$topo" direct 3 "$tmp/conn")"
	read -r dp50one _ _ <<<"$(of "$topo" direct 5 "$tmp/rr1")"
	for path in $paths; do
		read -r r rn rx <<<"$(of "$topo" "$path" 3 "$tmp/rr" 7)"
		read -r p50 p50n p50x <<<"$(of "$topo" "$path" 5 "$tmp/rr")"
		read -r p99 p99n p99x <<<"$(of "$topo" "$path" 6 "$tmp/rr")"
		read -r one onen onex <<<"$(of "$topo" "$path" 5 "$tmp/rr1")"
		read -r cr crn crx <<<"$(of "$topo" "$path" 3 "$tmp/conn" 7)"
		echo "| $topo | $path | $r ($rn-$rx) | $p50 | $p99 | $(ratio "$p50" "$dp50")x | $one ($onen-$onex) | $(ratio "$one" "$dp50one")x | $cr ($crn-$crx) | $(ratio "$cr" "$dconn")x |"
		chart "64 B round trip p50 on one CPU (us)" "$path" "$topo" "$one" "$onen" "$onex"
		chart "64 B round trip p50 (us)" "$path" "$topo" "$p50" "$p50n" "$p50x"
		chart "64 B round trip p99 (us)" "$path" "$topo" "$p99" "$p99n" "$p99x"
		chart "connections/s (handshake + 64 B exchange)" "$path" "$topo" "$cr" "$crn" "$crx"
	done
done
echo

if [ -s "$tmp/split" ]; then
	echo "### sockfwd: one stream, client alone on CPU 0, servers and relay on CPU 1 (median of $ROUNDS)"
	echo
	echo "On veth and loopback the receiving socket's softirq runs on the sender's CPU, so CPU 0"
	echo "does the client's sends and everything the kernel does with those bytes on arrival:"
	echo "for direct, routing them on and the server's receive; for sockmap, the relay socket's"
	echo "receive, the verdict, the work item that sends them on, and the server's receive."
	echo
	echo "| topology | path | Gbit/s (min-max) | vs direct | CPU 0 busy % | CPU 1 busy % |"
	echo "|---|---|---|---|---|---|"
	for topo in $TOPOLOGIES; do
		read -r ds _ _ <<<"$(awk -v t="$topo" '$1 == t && $2 == "direct" { print $3 / 1e9 }' "$tmp/split" | stats 4)"
		for path in $paths; do
			read -r m n x <<<"$(awk -v t="$topo" -v p="$path" '$1 == t && $2 == p { print $3 / 1e9 }' "$tmp/split" | stats 4)"
			read -r c0 _ _ <<<"$(of "$topo" "$path" 4 "$tmp/split" 3)"
			read -r c1 _ _ <<<"$(of "$topo" "$path" 5 "$tmp/split" 3)"
			echo "| $topo | $path | $m ($n-$x) | $(ratio "$m" "$ds") | $c0 | $c1 |"
			chart "Gbit/s with 1 stream (client alone on CPU 0)" "$path" "$topo" "$m" "$n" "$x"
		done
	done
	echo
fi

# --- 5. sockmap or splice: which one auto should pick ---------------------
if [[ " $paths " == *" sockmap "* && " $paths " == *" splice "* ]]; then
	echo "### sockfwd: sockmap against splice per workload (medians of this run)"
	echo
	echo "\`--mode auto\` today: sockmap whenever the pinned maps open, the kernel is 6.1 or later"
	echo "and it takes the sockets, else splice, else copy; it does not look at the workload."
	echo
	echo "| topology | workload | sockmap | splice | sockmap / splice (better is >1) | faster path |"
	echo "|---|---|---|---|---|---|"
	for topo in $TOPOLOGIES; do
		# workload: label, file, column or streams, 1 when higher is better
		for w in "bulk, 1 stream (Gbit/s):tput:1:1" "bulk, 8 streams (Gbit/s):tput:8:1" \
			"CPU s per GB, 1 stream:cpu:3:0" "64 B round trip p50 (us):rr:5:0" \
			"64 B round trip p50, one CPU (us):rr1:5:0" \
			"64 B round trip p99 (us):rr:6:0" "connections/s:conn:3:1"; do
			IFS=: read -r label file col higher <<<"$w"
			if [ "$file" = tput ]; then
				read -r a _ _ <<<"$(tput "$topo" sockmap "$col")"
				read -r b _ _ <<<"$(tput "$topo" splice "$col")"
			else
				read -r a _ _ <<<"$(of "$topo" sockmap "$col" "$tmp/$file")"
				read -r b _ _ <<<"$(of "$topo" splice "$col" "$tmp/$file")"
			fi
			awk -v t="$topo" -v l="$label" -v a="$a" -v b="$b" -v h="$higher" 'BEGIN {
				r = h ? a / b : b / a
				printf "| %s | %s | %s | %s | %.2f | %s |\n", t, l, a, b, r,
					(r >= 1.05 ? "sockmap" : (r <= 0.95 ? "**splice**" : "tie (within 5%)")) }'
		done
	done
	echo
fi

# --- 6. idle connections --------------------------------------------------
# Two descriptors per flow in a helper: 10,000 flows need 20,005, one more
# than a hard RLIMIT_NOFILE of 20,000 (this machine, no CAP_SYS_RESOURCE to
# raise it).  Then several helpers share the port with --reuseport; the
# kernel picks one per connection by hash, so each is planned for at most
# 80% of what its descriptors allow.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
per_helper=$(((hard - 100) / 2 * 8 / 10))
helpers=$(((IDLE_CONNS + per_helper - 1) / per_helper))
reuseport=
[ "$helpers" -gt 1 ] && reuseport=--reuseport
start srv "$TOOLS/sockfwd-bench" hold-server -l 203.0.113.2:5401
wait_listening srv 5401
helper_pids=()
for i in $(seq "$helpers"); do
	start fwd "$BUILD/sockfwd" --maps "$PIN" --mode sockmap $reuseport \
		-l 192.0.2.2:1002 -t 203.0.113.2:5401 2>"$tmp/sockfwd-idle-$i.log"
	helper_pids+=("$pid")
	for _ in $(seq 50); do
		grep -q ready "$tmp/sockfwd-idle-$i.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q ready "$tmp/sockfwd-idle-$i.log" || { cat "$tmp/sockfwd-idle-$i.log" >&2; exit 1; }
done
# sum_helpers FILE AWK: AWK's output over /proc/PID/FILE of every helper, summed
sum_helpers() {
	local p
	for p in "${helper_pids[@]}"; do awk "$2" "/proc/$p/$1"; done | awk '{ s += $1 } END { print s + 0 }'
}
sync
echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true
slab0=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
rss0=$(sum_helpers status '/^VmRSS:/ { print $2 }')
start cli "$TOOLS/sockfwd-bench" hold-client -c 192.0.2.2:1002 \
	-n "$IDLE_CONNS" >/dev/null
holder=$pid
for _ in $(seq 600); do
	n=$(nsx fwd ss -tnH state established "( sport = :1002 )" | wc -l)
	[ "$n" -ge "$IDLE_CONNS" ] && break
	sleep 0.1
done
sleep 1
cpu0=$(sum_helpers stat '{ print $14 + $15 }')
sleep "$IDLE_SECONDS"
cpu1=$(sum_helpers stat '{ print $14 + $15 }')
slab1=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
rss1=$(sum_helpers status '/^VmRSS:/ { print $2 }')
entries=$(bpftool map dump pinned "$PIN/sockfwd_peers" 2>/dev/null | grep -c '^key' || true)
kill -USR1 "${helper_pids[@]}"
sleep 0.3
# flows each helper holds (its counters line: active=N)
shares=$(for i in $(seq "$helpers"); do
	sed -n 's/.*counters .* active=\([0-9]*\) .*/\1/p' "$tmp/sockfwd-idle-$i.log" | tail -n1
done | paste -sd/)
kill "$holder" 2>/dev/null || true
if [ "$helpers" -gt 1 ]; then
	helper_text="$helpers processes (--reuseport on one port), flows each $shares"
	rss_label="helper RSS growth (sum of $helpers processes)"
else
	helper_text="1 process, $shares flows"
	rss_label="helper RSS growth"
fi
echo "### sockfwd: $IDLE_CONNS idle connections through sockfwd (sockmap, veth)"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| connections established at the helper | $n |"
echo "| helpers (hard RLIMIT_NOFILE $hard, 2 descriptors per flow) | $helper_text |"
echo "| SOCKHASH entries (2 per flow) | $entries |"
echo "| $rss_label | $(((rss1 - rss0) / 1024)) MiB, $(((rss1 - rss0) * 1024 / IDLE_CONNS)) bytes per connection |"
echo "| kernel slab growth (whole machine: 4 sockets per connection) | $(((slab1 - slab0) / 1024)) MiB, $(((slab1 - slab0) * 1024 / IDLE_CONNS)) bytes per connection |"
echo "| helper CPU while they idle (all helpers) | $(awk -v j=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v s="$IDLE_SECONDS" 'BEGIN { printf "%.1f%% of a CPU", 100 * j / hz / s }') |"
echo
echo "Commands (each run $ROUNDS times per path and topology; HOST:PORT the relay's listener, or the server for direct):"
echo
echo "    iperf3 -c HOST -p PORT -t $SECONDS_PER_RUN -P 1|8 -J"
echo "    sockfwd-bench rr -c HOST:PORT -n $RR_COUNT          # sockfwd-peer -e -m answers"
echo "    taskset -c 0 sockfwd-bench rr -c HOST:PORT -n $RR_COUNT   # one CPU: servers and relay too (taskset -a -p)"
echo "    taskset -c 0 iperf3 -c HOST -p PORT -t $SECONDS_PER_RUN -J   # servers and relay on CPU 1 (taskset -a -p)"
echo "    sockfwd-bench connect -c HOST:PORT -n $CONN_COUNT"
echo "    sockfwd --maps PIN --mode sockmap|splice|copy -l FWD:1000 -t SRV:5201 -l FWD:1001 -t SRV:5301"
echo "    socat TCP-LISTEN:1000,bind=FWD,fork,reuseaddr TCP:SRV:5201     # nodelay on both ends for 1001"
echo "    rinetd -f -c CONF     # FWD 1000 SRV 5201 / FWD 1001 SRV 5301"
echo "    haproxy -db -f CONF   # mode tcp, option splice-auto"
echo "    sockfwd-bench hold-client -c FWD:1002 -n $IDLE_CONNS   # through $helpers x sockfwd --mode sockmap $reuseport"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
