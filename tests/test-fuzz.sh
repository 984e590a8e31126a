# shellcheck shell=bash
# timeout: 120
# A short, fixed-seed pass of the differential fuzzer (make fuzz runs it for
# longer): classify.h on the host against the loaded BPF program, every drop
# confirmed by an independent forward parser.

test_differential_fuzz_short() {
	local seconds=${FUZZ_TEST_SECONDS:-40} out=$TEST_TMP/fuzz.log
	[ -x "$BUILD/fuzz/clean-dns-fuzz" ] || fail "build/fuzz/clean-dns-fuzz not built (make tools)"
	mkdir -p "$TEST_TMP/seeds" "$TEST_TMP/corpus"
	"$TOOLS/clean-dns-vectors" --write-corpus "$TEST_TMP/seeds" || fail "write seeds"
	(cd "$TEST_TMP" && CLEAN_DNS_BUILD=$BUILD "$BUILD/fuzz/clean-dns-fuzz" -seed=1 \
		-max_total_time="$seconds" -timeout=10 corpus seeds) >"$out" 2>&1
	local rc=$?
	grep -E 'clean-dns-fuzz:|ERROR|Done' "$out"
	[ "$rc" -eq 0 ] || { tail -n 30 "$out"; fail "the fuzzer found a disagreement (exit $rc)"; }
	local compared drops
	compared=$(sed -n 's/^clean-dns-fuzz: \([0-9]*\) inputs compared.*/\1/p' "$out")
	drops=$(sed -n 's/.* \([0-9]*\) drops confirmed.*/\1/p' "$out")
	[ "${compared:-0}" -gt 10000 ] || fail "only ${compared:-0} inputs compared"
	[ "${drops:-0}" -gt 0 ] || fail "no drop was exercised"
	log "ok: $compared inputs compared, $drops drops confirmed"
}
