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
