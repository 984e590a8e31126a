# shellcheck shell=bash disable=SC2034
# What the benchmark scripts share; source it first: . "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
TOOLS=$BUILD/tests

# bench_private_bpffs "$@": re-run the calling script in a mount namespace
# with a bpffs of its own, so its pins never meet a real installation's.
bench_private_bpffs() {
	[ -n "${BENCH_PRIVATE_BPFFS:-}" ] && return 0
	export BENCH_PRIVATE_BPFFS=1
	exec unshare -m --propagation private sh -c \
		'mount -t bpf bpf /sys/fs/bpf && exec "$0" "$@"' "$0" "$@"
}

# stats [DIGITS]: "median min max" of the numbers on stdin, one per line.
stats() {
	sort -g | awk -v d="${1:-10}" '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		f = "%." d "g %." d "g %." d "g\n"
		printf f, m, v[1], v[NR]
	}'
}

# nsx NS CMD...: CMD in the network namespace $id-NS ($id: the caller's).
# shellcheck disable=SC2154 # id
nsx() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$id-$ns" -- "$@"
}

listening() { nsx "$1" ss -ltnH "sport = :$2" | grep -q .; }

# wait_listening NS PORT [LOG]: up to 5 s for a listener; else says so and
# shows LOG.
wait_listening() {
	local try
	for try in $(seq 50); do
		listening "$1" "$2" && return 0
		: "$try"
		sleep 0.1
	done
	echo "nothing listens on $1 port $2" >&2
	[ -z "${3:-}" ] || cat "$3" >&2
	return 1
}

# bench_topology MID M0 M1 [NS...]: namespaces $id-cli, $id-MID, $id-srv
# (and $id-NS for each NS) with loopback up, joined cli c0 -- M0 MID M1 --
# s0 srv: 192.0.2.1 | 192.0.2.2, 203.0.113.1 | 203.0.113.2, MID forwarding.
# shellcheck disable=SC2154 # id
bench_topology() {
	local mid=$1 m0=$2 m1=$3 ns
	shift 3
	mkdir -p /run/netns
	for ns in cli "$mid" srv "$@"; do
		ip netns add "$id-$ns"
		nsx "$ns" ip link set lo up
		# the connection-rate runs leave thousands of TIME_WAIT sockets
		nsx "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
	done
	ip link add c0 netns "$id-cli" type veth peer name "$m0" netns "$id-$mid"
	ip link add "$m1" netns "$id-$mid" type veth peer name s0 netns "$id-srv"
	nsx cli ip link set c0 up
	nsx "$mid" ip link set "$m0" up
	nsx "$mid" ip link set "$m1" up
	nsx srv ip link set s0 up
	nsx cli ip addr add 192.0.2.1/24 dev c0
	nsx "$mid" ip addr add 192.0.2.2/24 dev "$m0"
	nsx "$mid" ip addr add 203.0.113.1/24 dev "$m1"
	nsx srv ip addr add 203.0.113.2/24 dev s0
	nsx cli ip route add default via 192.0.2.2
	nsx srv ip route add default via 203.0.113.1
	nsx "$mid" sysctl -qw net.ipv4.ip_forward=1
}
