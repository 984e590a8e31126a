# shellcheck shell=bash
# timeout: 300
# The kernel matrix on Debian's own kernels (tests/kernels): in a qemu guest
# per kernel, the verifier must accept the objects, the vector table must
# pass, and sockfwd must move bytes intact in whatever mode the kernel
# allows.  The host kernel is covered by the rest of the suite.

test_kernel_matrix_debian() {
	local out=$TEST_TMP/matrix.log
	# Bounded: each guest has its own time limit (GUEST_TIMEOUT).
	GUEST_TIMEOUT=${GUEST_TIMEOUT:-120} "$ROOT/tests/kernels/run" 5.10 6.1 6.12 >"$out" 2>&1
	local rc=$?
	grep -E '^\| [0-9]' "$out"
	[ "$rc" -eq 0 ] || { grep -E 'status=fail|run-guest|fetch' "$out" | tail -n 20; fail "kernel matrix (exit $rc)"; }
	local k
	for k in 5.10 6.1 6.12; do
		grep -q "^| ${k}[.0-9+a-z-]* | [a-z]* | pass: clean_dns_eth clean_dns_l3 | pass:.*| pass: [0-9]* passed, 0 failed |" \
			"$out" || fail "kernel $k: clean-dns not accepted or vectors not passed"
	done
	log "ok: clean-dns objects accepted and vector table passed on 5.10, 6.1 and 6.12"
	# The listener-child behaviour differs between kernels (lost or
	# delivered); the contract must hold under either, and we log which.
	for k in 5.10 6.1 6.12; do
		grep "^| ${k}" "$out" | grep -q '| pass: listener_child: \(lost\|delivered\|other\) ' ||
			fail "kernel $k: the sockmap_listen contract failed or did not run"
		log "kernel $k: $(grep "^| ${k}" "$out" | grep -o 'listener_child: [a-z]*' | head -n1)"
	done
}
