#!/bin/bash
# What attaching clean-dns costs the other traffic of an interface: one
# iperf3 TCP stream into a receiver whose interface has clean-dns attached
# in each mode (generic XDP, native XDP, tc), next to nothing attached and
# next to an empty program of each hook, on every device kind the kernel
# gives us: veth, macvlan (on a veth), a veth that is a bridge port, and a
# tun (carried by the dns-tunwire helper, so its figures include a
# user-space pump).  Throughput and CPU seconds (whole machine, /proc/stat)
# per GB moved; medians of ROUNDS, interleaved so that drift hits every
# mode alike.  The default mode of `clean-dns attach IFACE` follows from
# these tables (scripts/clean-dns, choose_mode).
#   bench/clean-dns-attach.sh        (QUICK=1: shorter; run by bench/clean-dns.sh)
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_private_bpffs "$@"

if [ "${QUICK:-0}" = 1 ]; then
	ROUNDS=${ROUNDS:-2} SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}
else
	ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
fi
KINDS=${KINDS:-veth macvlan bridge-port tun}
MODES=${MODES:-none empty-xdp-generic empty-tc clean-dns-generic clean-dns-native clean-dns-tc}
CLEAN_DNS=$ROOT/scripts/clean-dns
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$BENCH_OUT"
csv=$BENCH_OUT/clean-dns-attach.csv
echo "chart,category,series,median,min,max" >"$csv"

tmp=$(mktemp -d)
id=cdns-att-$$
pids=()
cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for ns in tx rx wire; do ip netns del "$id-$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
# The programs' own run time (bpftool prog show: run_time_ns, run_cnt),
# which the machine's noise does not blur: on for the run, then restored.
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
trap 'cleanup; sysctl -qw kernel.bpf_stats_enabled="$stats_was"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
mkdir -p /run/netns
# prog_ns: run_time_ns and run_cnt summed over the programs attached to
# DEV (XDP, tc ingress and egress), none when nothing is.
prog_ns() {
	local ids
	ids=$({
		nsx rx ip -d link show dev "$DEV" 2>/dev/null | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'
		nsx rx tc filter show dev "$DEV" ingress 2>/dev/null | sed -n 's/.* id \([0-9]*\) .*/\1/p'
		nsx rx tc filter show dev "$DEV" egress 2>/dev/null | sed -n 's/.* id \([0-9]*\) .*/\1/p'
	} | sort -u | paste -sd, -)
	bpftool -j prog show | jq -r --arg ids "${ids:-none}" '($ids | split(",")) as $want
		| [.[] | select((.id | tostring) as $i | $want | index($i))]
		| "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

RX_ADDR=192.0.2.2
TX_ADDR=192.0.2.1
WIRE_MAC=02:00:00:00:0a:02
TX_MAC=02:00:00:00:0a:01

# topology KIND: sender namespace tx, receiver namespace rx (iperf3 server
# on $RX_ADDR); sets DEV, the receiver's interface that clean-dns goes on.
topology() {
	local ns p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	for ns in tx rx wire; do ip netns del "$id-$ns" 2>/dev/null || true; done
	ip netns add "$id-tx"
	ip netns add "$id-rx"
	nsx tx ip link set lo up
	nsx rx ip link set lo up
	case $1 in
	veth)
		ip link add tx0 netns "$id-tx" type veth peer name rx0 netns "$id-rx"
		DEV=rx0 ADDR_DEV=rx0
		;;
	macvlan)
		ip link add tx0 netns "$id-tx" type veth peer name low0 netns "$id-rx"
		nsx rx ip link set low0 up
		nsx rx ip link add mv0 link low0 type macvlan mode bridge
		DEV=mv0 ADDR_DEV=mv0
		;;
	bridge-port)
		ip link add tx0 netns "$id-tx" type veth peer name port0 netns "$id-rx"
		nsx rx ip link add br0 type bridge
		nsx rx ip link set port0 master br0
		nsx rx ip link set port0 up
		DEV=port0 ADDR_DEV=br0
		;;
	tun)
		# tx0 -- w1 (wire namespace) ==dns-tunwire== tun0 (rx)
		ip netns add "$id-wire"
		ip link add tx0 netns "$id-tx" address "$TX_MAC" type veth \
			peer name w1 netns "$id-wire" address "$WIRE_MAC"
		nsx wire ip link set w1 up
		# nsenter itself in the background (not the nsx function, whose
		# subshell's PID $! would be): cleanup kills the helper by its PID.
		nsenter --net="/run/netns/$id-rx" -- "$TOOLS/dns-tunwire" --tun tun0 \
			--peer-netns "/run/netns/$id-wire" --peer-iface w1 --peer-mac "$TX_MAC" \
			>"$tmp/tunwire.log" 2>&1 &
		pids+=($!)
		for _ in $(seq 50); do
			grep -q '^wire ' "$tmp/tunwire.log" && break
			sleep 0.1
		done
		DEV=tun0 ADDR_DEV=tun0
		;;
	esac
	nsx tx ip link set tx0 up
	nsx tx ip addr add "$TX_ADDR/24" dev tx0
	[ "$1" = tun ] && nsx tx ip neigh replace "$RX_ADDR" lladdr "$WIRE_MAC" dev tx0 nud permanent
	nsx rx ip link set "$ADDR_DEV" up
	nsx rx ip addr add "$RX_ADDR/24" dev "$ADDR_DEV"
	nsenter --net="/run/netns/$id-rx" -- iperf3 -s -B "$RX_ADDR" >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		nsx tx ping -c1 -W1 "$RX_ADDR" >/dev/null 2>&1 && nsx rx ss -ltn | grep -q ':5201 ' && return 0
		sleep 0.1
	done
	echo "bench: $1: no route to the receiver" >&2
	return 1
}

# attach MODE: prints nothing; fails when the mode is not available.
attach() {
	case $1 in
	none) ;;
	empty-xdp-generic) nsx rx ip link set dev "$DEV" xdpgeneric obj "$TOOLS/xdp-pass.o" sec prog ;;
	empty-tc)
		nsx rx tc qdisc replace dev "$DEV" clsact &&
			nsx rx tc filter add dev "$DEV" ingress pref 1 bpf da obj "$TOOLS/tc-pass.o" sec classifier
		;;
	clean-dns-*) nsx rx "$CLEAN_DNS" attach "$DEV" "${1#clean-dns-}" >/dev/null ;;
	esac
}

detach() {
	case $1 in
	none) ;;
	empty-xdp-generic) nsx rx ip link set dev "$DEV" xdpgeneric off ;;
	empty-tc) nsx rx tc filter del dev "$DEV" ingress pref 1 ;;
	clean-dns-*) nsx rx "$CLEAN_DNS" detach "$DEV" >/dev/null ;;
	esac
}

# iperf: "bits/s bytes" of one stream from tx to rx.
iperf() {
	nsx tx iperf3 -c "$RX_ADDR" -t "$SECONDS_PER_RUN" -J 2>/dev/null |
		jq -r '.end.sum_received | "\(.bits_per_second) \(.bytes)"'
}

for kind in $KINDS; do
	topology "$kind"
	for round in $(seq "$ROUNDS"); do
		for mode in $MODES; do
			if ! attach "$mode" 2>"$tmp/err"; then
				echo "bench: $kind: $mode: $(head -n1 "$tmp/err")" >&2
				echo "$kind $mode n/a" >>"$tmp/na"
				detach "$mode" 2>/dev/null || true
				continue
			fi
			read -r p0 c0 <<<"$(prog_ns)"
			j0=$(busy_jiffies)
			read -r bps bytes <<<"$(iperf)"
			j1=$(busy_jiffies)
			read -r p1 c1 <<<"$(prog_ns)"
			detach "$mode"
			[ -n "$bytes" ] && [ "$bytes" != null ] || continue
			echo "$kind $mode $bps" >>"$tmp/tput"
			awk -v j=$((j1 - j0)) -v b="$bytes" -v hz="$(getconf CLK_TCK)" -v k="$kind" -v m="$mode" \
				'BEGIN { printf "%s %s %.4f\n", k, m, j / hz / (b / 1e9) }' >>"$tmp/cpu"
			# programs' ms per GB, and runs per MB (how many skbs or frames they saw)
			awk -v p=$((p1 - p0)) -v c=$((c1 - c0)) -v b="$bytes" -v k="$kind" -v m="$mode" \
				'BEGIN { printf "%s %s %.4f %.1f\n", k, m, p / 1e6 / (b / 1e9), c / (b / 1e6) }' >>"$tmp/prog"
		done
		: "$round"
	done
done

# of FILE KIND MODE: "median min max" of that row's figures
of() { awk -v k="$2" -v m="$3" '$1 == k && $2 == m { print $3 }' "$1" 2>/dev/null | stats 4; }

echo "### clean-dns: what attaching costs other traffic (iperf3, 1 TCP stream, ${SECONDS_PER_RUN} s, median of $ROUNDS)"
echo
echo "TCP bulk into a receiver whose interface has the program attached; CPU is the whole"
echo "machine's busy time per GB received. \"vs none\" compares medians from the same run;"
echo "n/a: the device has no such hook. The tun figures include dns-tunwire, a user-space"
echo "pump between the tun and a veth, which bounds them."
echo
echo "The last two columns are the attached programs' own run time (kernel.bpf_stats_enabled)"
echo "per GB received, and how many times they ran per MB (skbs or frames they saw); against"
echo "the whole machine's CPU per GB they are the hook's direct cost, free of the noise of"
echo "the throughput columns."
echo
echo "| device | attached | Gbit/s (min-max) | vs none | CPU s per GB (min-max) | vs none | program ms per GB | runs per MB |"
echo "|---|---|---|---|---|---|---|---|"
for kind in $KINDS; do
	read -r none_bps _ _ <<<"$(of "$tmp/tput" "$kind" none)"
	read -r none_cpu _ _ <<<"$(of "$tmp/cpu" "$kind" none)"
	for mode in $MODES; do
		if ! awk -v k="$kind" -v m="$mode" '$1 == k && $2 == m { f = 1 } END { exit !f }' "$tmp/tput" 2>/dev/null; then
			echo "| $kind | $mode | n/a | | | | | |"
			continue
		fi
		read -r bm bmin bmax <<<"$(of "$tmp/tput" "$kind" "$mode")"
		read -r cm cmin cmax <<<"$(of "$tmp/cpu" "$kind" "$mode")"
		read -r pm _ _ <<<"$(of "$tmp/prog" "$kind" "$mode")"
		read -r rm _ _ <<<"$(awk -v k="$kind" -v m="$mode" '$1 == k && $2 == m { print $4 }' "$tmp/prog" | stats 4)"
		gbps() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.2f", v / 1e9 }'; }
		ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
		echo "| $kind | $mode | $(gbps "$bm") ($(gbps "$bmin")-$(gbps "$bmax")) | $(ratio "$bm" "$none_bps") |" \
			"$cm ($cmin-$cmax) | $(ratio "$cm" "$none_cpu") | $pm | $rm |"
		echo "TCP Gbit/s through the interface,$kind,$mode,$(gbps "$bm"),$(gbps "$bmin"),$(gbps "$bmax")" >>"$csv"
	done
done
echo
echo "Commands: \`clean-dns attach DEV generic|native|tc\`, \`ip link set dev DEV xdpgeneric obj xdp-pass.o\`,"
echo "\`tc filter add dev DEV ingress bpf da obj tc-pass.o\`; \`iperf3 -c RX -t $SECONDS_PER_RUN -J\` from another namespace."
echo "Kernel $(uname -r), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
