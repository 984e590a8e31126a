# shellcheck shell=bash disable=SC2034
# Helpers for tests: throwaway namespaces, background processes and pins that
# are cleaned up when the test's shell exits, whatever the outcome.
# A test is a function; it fails by returning non-zero or calling fail,
# and skips (exit 77) with skip or need when a tool is missing, or with
# skip_kernel/skip_hardware when this machine cannot run it at all.  Under
# CI=true the runner counts only the last two as skips: CI installs every
# package (scripts/install-deps), so a missing tool there is a failure.

ROOT=${ROOT:-$(pwd)}
BUILD=$ROOT/build
TOOLS=$BUILD/tests
TEST_ID=t$$
TEST_TMP=
_lib_pids=()
_lib_netns=()
_lib_cleanups=()

lib_begin() {
	TEST_TMP=$(mktemp -d "/tmp/cleandns-test.XXXXXX")
	trap lib_cleanup EXIT
	trap 'exit 143' TERM INT
}

lib_cleanup() {
	local rc=$? i pid ns
	set +e
	for ((i = ${#_lib_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_lib_cleanups[i]}" >/dev/null 2>&1
	done
	for pid in "${_lib_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${_lib_pids[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${_lib_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$TEST_TMP" ] && rm -rf "$TEST_TMP"
	exit "$rc"
}

# on_exit CMD: run CMD (a string) at cleanup, last registered first.
on_exit() { _lib_cleanups+=("$1"); }

log() { printf '# %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
# skip REASON: a tool, a package or some state is missing (a FAIL under CI).
skip() { printf 'skip: %s\n' "$*"; exit 77; }
# skip_kernel REASON: the running kernel lacks a feature, e.g.
# skip_kernel "no veth XDP native mode" (a SKIP under CI too).
skip_kernel() { printf 'skip (kernel): %s\n' "$*"; exit 77; }
# skip_hardware REASON: the machine lacks a device or CPU feature, e.g. a NIC
# with native XDP (a SKIP under CI too).
skip_hardware() { printf 'skip (hardware): %s\n' "$*"; exit 77; }

# check_eq GOT WANT WHAT
check_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
	log "ok: $3 = '$1'"
}

# ns_add NAME: create namespace $TEST_ID-NAME with loopback up.
ns_add() {
	local ns="$TEST_ID-$1"
	ip netns add "$ns" || fail "cannot create namespace $ns"
	_lib_netns+=("$ns")
	nsx "$1" ip link set lo up
}

ns_path() { printf '/run/netns/%s-%s' "$TEST_ID" "$1"; }

# nsx NAME CMD...: run CMD in namespace NAME.  nsenter (unlike
# ip netns exec) keeps /sys and so /sys/fs/bpf as they are.
nsx() {
	local ns=$1
	shift
	nsenter --net="$(ns_path "$ns")" -- "$@"
}

# veth NS_A IF_A NS_B IF_B: a veth pair between two namespaces, both up.
veth() {
	ip link add "$2" netns "$TEST_ID-$1" type veth peer name "$4" netns "$TEST_ID-$3" ||
		fail "cannot create veth $2/$4"
	nsx "$1" ip link set "$2" up
	nsx "$3" ip link set "$4" up
}

# bg NS CMD...: start CMD in namespace NS (or "-" for this one) in the
# background; its PID is in BG_PID and it is killed at cleanup.
BG_PID=
bg() {
	local ns=$1
	shift
	# Not through the nsx function: backgrounding a function forks a
	# subshell, and $! would be its PID rather than the command's.
	if [ "$ns" = - ]; then
		"$@" &
	else
		nsenter --net="$(ns_path "$ns")" -- "$@" &
	fi
	BG_PID=$!
	_lib_pids+=("$BG_PID")
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time runs out.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# need CMD...: skip the test when a command is missing (a FAIL under CI).
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || skip "$c not installed"
	done
}
