#!/bin/bash
# clean-dns benchmarks, every figure next to its baseline from the same run:
#  1. ns per packet through BPF_PROG_TEST_RUN (bpftool prog run ... repeat N)
#     for several frames, clean-dns next to an empty XDP program;
#  2. forged answers dropped, and genuine answers passed, per second on a
#     veth receiver, clean-dns in generic and native XDP mode next to an
#     iptables u32 rule and an nft netdev-ingress rule matching the same
#     packets (sender in another namespace, bounded runs).
# Medians of ROUNDS runs, with min and max.  Writes Markdown to stdout and
# the figures to $BENCH_OUT/clean-dns.csv (chart,category,series,median,min,max).
#   bench/clean-dns.sh            (QUICK=1 for a short run)
set -eu

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_private_bpffs "$@"

if [ "${QUICK:-0}" = 1 ]; then
	REPEAT=${REPEAT:-200000} ROUNDS=${ROUNDS:-3} BLAST_SECONDS=${BLAST_SECONDS:-1}
else
	REPEAT=${REPEAT:-1000000} ROUNDS=${ROUNDS:-5} BLAST_SECONDS=${BLAST_SECONDS:-3}
fi

tmp=$(mktemp -d)
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$BENCH_OUT"
csv=$BENCH_OUT/clean-dns.csv
echo "chart,category,series,median,min,max" >"$csv"
ns_tx=cdns-bench-tx-$$
ns_rx=cdns-bench-rx-$$
cleanup() {
	ip netns del "$ns_tx" 2>/dev/null || true
	ip netns del "$ns_rx" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"$TOOLS/clean-dns-vectors" --write-frames "$tmp" >/dev/null


# --- 1. per-packet cost -------------------------------------------------
bpftool prog load "$TOOLS/xdp-pass.o" /sys/fs/bpf/bench-pass type xdp
bpftool prog load "$BUILD/clean-dns.o" /sys/fs/bpf/bench-cdns type xdp

# cost_row FILE KEY FLOOR_TAG CHART FLOOR_LABEL: one table row (and two CSV
# lines) from "KEY FLOOR_TAG ns" and "KEY cdns ns" lines in FILE.
cost_row() {
	local pm pmin pmax cm cmin cmax ratio
	read -r pm pmin pmax <<<"$(awk -v f="$2" -v t="$3" '$1 == f && $2 == t { print $3 }' "$1" | stats)"
	read -r cm cmin cmax <<<"$(awk -v f="$2" '$1 == f && $2 == "cdns" { print $3 }' "$1" | stats)"
	ratio=$(awk -v a="$cm" -v b="$pm" 'BEGIN { printf (b > 0 ? "%.2fx" : "-"), a / b }')
	echo "| $2 | $pm ($pmin-$pmax) | $cm ($cmin-$cmax) | $ratio |"
	echo "$4,$2,$5,$pm,$pmin,$pmax" >>"$csv"
	echo "$4,$2,clean-dns,$cm,$cmin,$cmax" >>"$csv"
}

prog_run_ns() {
	bpftool prog run pinned "$1" data_in "$2" repeat "$REPEAT" 2>&1 |
		sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p'
}

frames="non-dns-udp genuine genuine-ipv6 genuine-vlan forged-ipid-zero forged-aa-single genuine-multi"
for round in $(seq "$ROUNDS"); do
	for frame in $frames; do
		# interleaved, so drift hits both programs alike
		echo "$frame pass $(prog_run_ns /sys/fs/bpf/bench-pass "$tmp/$frame.bin")" >>"$tmp/cost"
		echo "$frame cdns $(prog_run_ns /sys/fs/bpf/bench-cdns "$tmp/$frame.bin")" >>"$tmp/cost"
	done
	: "$round"
done

echo "### clean-dns: cost per packet (BPF_PROG_TEST_RUN, repeat $REPEAT, median of $ROUNDS)"
echo
echo "| frame | empty XDP ns (min-max) | clean-dns ns (min-max) | clean-dns / empty |"
echo "|---|---|---|---|"
for frame in $frames; do
	cost_row "$tmp/cost" "$frame" pass "ns per packet (BPF_PROG_TEST_RUN)" "empty XDP"
done
echo

# --- 1b. the stateful rules with their maps in place ---------------------
# bpftool pins the maps by name under /sys/fs/bpf, so the tc object loaded
# second reuses the XDP object's: egress records what ingress checks.
bpftool prog loadall "$BUILD/clean-dns-tc.o" /sys/fs/bpf/bench-tc type tc
bpftool prog load "$TOOLS/tc-pass.o" /sys/fs/bpf/bench-tc-pass type tc
export CLEAN_DNS_PIN_DIR=/sys/fs/bpf
"$ROOT/scripts/clean-dns" bogus defaults >/dev/null
"$ROOT/scripts/clean-dns" resolver add 198.51.100.0/24 >/dev/null
"$ROOT/scripts/clean-dns" resolver add 2001:db8:53::/48 >/dev/null
# A connection of ours to 8.8.8.8:53 (SYN on egress, SYN-ACK and answer on
# ingress) teaches its hop count; then an EDNS query is recorded.
for step in bench-tc/clean_dns_eg:syn-to-resolver bench-cdns:synack-from-resolver \
	bench-cdns:tcp-data-from-resolver bench-tc/clean_dns_eg:query-edns; do
	bpftool prog run pinned "/sys/fs/bpf/${step%%:*}" data_in "$tmp/${step#*:}.bin" repeat 1 >/dev/null
done

# what: label, floor program, clean-dns program, frame
stateful="egress-non-dns:/sys/fs/bpf/bench-tc-pass:/sys/fs/bpf/bench-tc/clean_dns_eg:non-dns-udp
egress-query-edns:/sys/fs/bpf/bench-tc-pass:/sys/fs/bpf/bench-tc/clean_dns_eg:query-edns
egress-query-plain:/sys/fs/bpf/bench-tc-pass:/sys/fs/bpf/bench-tc/clean_dns_eg:query-plain
egress-tcp-syn:/sys/fs/bpf/bench-tc-pass:/sys/fs/bpf/bench-tc/clean_dns_eg:syn-to-resolver
ingress-tcp-learning:/sys/fs/bpf/bench-pass:/sys/fs/bpf/bench-cdns:tcp-data-from-resolver
ingress-tcp-unsolicited:/sys/fs/bpf/bench-pass:/sys/fs/bpf/bench-cdns:tcp-from-resolver
ingress-forged-2025:/sys/fs/bpf/bench-pass:/sys/fs/bpf/bench-cdns:forged-2025
ingress-forged-https:/sys/fs/bpf/bench-pass:/sys/fs/bpf/bench-cdns:forged-https
ingress-genuine:/sys/fs/bpf/bench-pass:/sys/fs/bpf/bench-cdns:genuine"
for round in $(seq "$ROUNDS"); do
	for row in $stateful; do
		IFS=: read -r what floor prog frame <<<"$row"
		echo "$what floor $(prog_run_ns "$floor" "$tmp/$frame.bin")" >>"$tmp/stateful"
		echo "$what cdns $(prog_run_ns "$prog" "$tmp/$frame.bin")" >>"$tmp/stateful"
	done
	: "$round"
done
drops=$("$ROOT/scripts/clean-dns" status 2>/dev/null | awk '$1 == "drop_edns_echo" { print $2 }')
unset CLEAN_DNS_PIN_DIR

echo "### clean-dns: stateful rules with their maps in place (repeat $REPEAT, median of $ROUNDS)"
echo
echo "35 known forged prefixes, configured resolver prefixes, a hop count learned from a"
echo "recorded connection and a recorded EDNS query; the floor is an empty program of the"
echo "same hook (tc for egress).  The TCP rows are a segment of that connection (it teaches"
echo "again each time) and one outside any connection (the censor's lie, not learned)."
echo
echo "| path | empty program ns (min-max) | clean-dns ns (min-max) | clean-dns / empty |"
echo "|---|---|---|---|"
for row in $stateful; do
	cost_row "$tmp/stateful" "${row%%:*}" floor "ns per packet with the maps in place" "empty program"
done
echo
echo "(the 2025-style forgery was dropped by edns-echo $drops times over these runs)"
echo

# --- 2. drop rate on a veth ---------------------------------------------
ip netns add "$ns_tx"
ip netns add "$ns_rx"
ip link add tx0 netns "$ns_tx" type veth peer name rx0 netns "$ns_rx"
# The frames are addressed to 02:00:00:00:00:01 / 192.0.2.2.
ip -n "$ns_rx" link set rx0 address 02:00:00:00:00:01
ip -n "$ns_rx" addr add 192.0.2.2/24 dev rx0
ip -n "$ns_tx" link set tx0 up
ip -n "$ns_rx" link set rx0 up
ip -n "$ns_rx" link set lo up
rx() { nsenter --net="/run/netns/$ns_rx" "$@"; }

counter_of() {
	# (ip complains on stderr about the veth peer in another namespace)
	rx "$ROOT/scripts/clean-dns" status 2>/dev/null | awk -v c="$1" '$1 == c { print $2 }'
}

# blast FRAME: prints "sent_per_second"
blast() {
	nsenter --net="/run/netns/$ns_tx" "$TOOLS/frame-blast" tx0 "$tmp/$1.bin" "$BLAST_SECONDS" |
		awk '{ printf "%.0f\n", $2 / $5 }'
}

# measure NAME READ_DROPS: runs ROUNDS blasts of a forgery, then ROUNDS of a
# genuine answer; records drops/s and sent/s, then passed/s and sent/s
measure() {
	local name=$1 read_drops=$2 before after sent
	for _ in $(seq "$ROUNDS"); do
		before=$($read_drops)
		sent=$(blast forged-ipid-zero)
		after=$($read_drops)
		echo "$name $(((after - before) / BLAST_SECONDS)) $sent" >>"$tmp/drops"
		before=$(passed)
		sent=$(blast genuine)
		after=$(passed)
		echo "$name $(((after - before) / BLAST_SECONDS)) $sent" >>"$tmp/passes"
	done
}

# Whatever a filter passes reaches IP: the last raw rule counts it and
# discards it there (the same work for every filter), so "passed" is the
# filter's cost, not UDP's port-unreachable path.
rx iptables -t raw -N cdnsbench_passed
rx iptables -t raw -A cdnsbench_passed -j DROP
rx iptables -t raw -A PREROUTING -p udp --sport 53 -j cdnsbench_passed
passed() { rx iptables -t raw -L PREROUTING -v -x -n | awk '/cdnsbench_passed/ { print $1 }'; }

cdns_drops() { counter_of drop_ipid_zero; }
ipt_drops() { rx iptables -t raw -L PREROUTING -v -x -n | awk '/u32/ { print $1 }'; }
no_drops() { echo 0; }
nft_drops() { rx nft list table netdev cdnsbench | awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'; }

measure "no filter" no_drops
rx "$ROOT/scripts/clean-dns" attach rx0 generic >/dev/null
measure "clean-dns, XDP generic" cdns_drops
rx "$ROOT/scripts/clean-dns" detach rx0 >/dev/null
rx "$ROOT/scripts/clean-dns" attach rx0 native >/dev/null
measure "clean-dns, XDP native" cdns_drops
rx "$ROOT/scripts/clean-dns" detach rx0 >/dev/null

# Same match as the ipid-zero rule: UDP from port 53 with IPv4 ID 0.
rx iptables -t raw -I PREROUTING -p udp --sport 53 -m u32 --u32 "4>>16=0" -j DROP
measure "iptables -m u32 (raw PREROUTING)" ipt_drops
rx iptables -t raw -D PREROUTING 1

rx nft add table netdev cdnsbench
rx nft add chain netdev cdnsbench ingress "{ type filter hook ingress device rx0 priority 0; }"
rx nft add rule netdev cdnsbench ingress ip id 0 udp sport 53 counter drop
measure "nft (netdev ingress)" nft_drops
rx nft delete table netdev cdnsbench

echo "### clean-dns: frames per second on a veth receiver (${BLAST_SECONDS} s runs, median of $ROUNDS)"
echo
echo "Forgeries (IPv4 ID 0) dropped per second, and genuine answers passed per second (counted"
echo "by a raw iptables rule after the filter, the same for every row)."
echo
echo "| filter | forgeries dropped/s (min-max) | sender frames/s | vs iptables u32 | genuine passed/s (min-max) | vs no filter |"
echo "|---|---|---|---|---|---|"
# median FILE NAME COLUMN_FROM_END: "median min max" of NAME's rows
median() { awk -v n="$2" -v c="$3" 'substr($0, 1, length(n)) == n { print $(NF - c) }' "$1" | stats; }
read -r ipt_median _ _ <<<"$(median "$tmp/drops" "iptables" 1)"
read -r none_median _ _ <<<"$(median "$tmp/passes" "no filter" 1)"
for name in "no filter" "clean-dns, XDP generic" "clean-dns, XDP native" "iptables -m u32 (raw PREROUTING)" "nft (netdev ingress)"; do
	read -r dm dmin dmax <<<"$(median "$tmp/drops" "$name" 1)"
	read -r sm _ _ <<<"$(median "$tmp/drops" "$name" 0)"
	read -r pm pmin pmax <<<"$(median "$tmp/passes" "$name" 1)"
	ratio=$(awk -v a="$dm" -v b="$ipt_median" 'BEGIN { printf (b > 0 ? "%.2fx" : "-"), a / b }')
	pratio=$(awk -v a="$pm" -v b="$none_median" 'BEGIN { printf (b > 0 ? "%.2fx" : "-"), a / b }')
	mpps() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { print a / 1e6 "," b / 1e6 "," c / 1e6 }'; }
	if [ "$name" = "no filter" ]; then
		echo "| $name | - | $sm | - | $pm ($pmin-$pmax) | $pratio |"
	else
		echo "| $name | $dm ($dmin-$dmax) | $sm | $ratio | $pm ($pmin-$pmax) | $pratio |"
		echo "Mpackets/s on a veth,${name//,/},forgeries dropped,$(mpps "$dm" "$dmin" "$dmax")" >>"$csv"
	fi
	echo "Mpackets/s on a veth,${name//,/},genuine passed,$(mpps "$pm" "$pmin" "$pmax")" >>"$csv"
done
echo
echo "Commands (each run $ROUNDS times, interleaved):"
echo
echo "    bpftool prog run pinned PROG data_in FRAME.bin repeat $REPEAT     # PROG: xdp-pass.o, clean-dns.o; tc-pass.o, clean-dns-tc.o"
echo "    nsenter --net=TX frame-blast tx0 FRAME.bin $BLAST_SECONDS      # FRAME: forged-ipid-zero, genuine (from clean-dns-vectors --write-frames)"
echo "    clean-dns attach rx0 generic|native"
echo "    iptables -t raw -I PREROUTING -p udp --sport 53 -m u32 --u32 \"4>>16=0\" -j DROP"
echo "    nft add rule netdev cdnsbench ingress ip id 0 udp sport 53 counter drop"
echo
echo "Kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(date -u +%Y-%m-%d)."

# --- 3. what attaching costs other traffic, per mode and device kind -----
"$(dirname "$0")/clean-dns-attach.sh"
