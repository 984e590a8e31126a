# shellcheck shell=bash
# The runner's own plumbing: namespaces, veth, background processes, cleanup.

test_lib_namespaces_and_cleanup() {
	ns_add a
	ns_add b
	veth a va b vb
	nsx a ip addr add 192.0.2.1/24 dev va
	nsx b ip addr add 192.0.2.2/24 dev vb
	wait_for 5 nsx a ping -c1 -W1 192.0.2.2 || fail "no ping across the veth"
	bg b sleep 60
	kill -0 "$BG_PID" || fail "background process not running"
	# BG_PID must be the command itself (nsenter execs it once it has
	# entered the namespace), or cleanup would leave it running.
	wait_for 5 grep -qx sleep "/proc/$BG_PID/comm" ||
		fail "process behind BG_PID is $(cat "/proc/$BG_PID/comm"), not sleep"
}
