# shellcheck shell=bash
# timeout: 120
# A short, fixed-seed pass of the differential fuzzer (make fuzz runs it for
# longer): classify.h and record_egress.h on the host against the loaded BPF
# programs (XDP, tc ingress, tc egress), the maps' state against the
# model's after every input that changed it, every drop confirmed by an
# independent forward parser.  Every drop reason, every outcome of the
# hop-count learning and both egress records must have been reached.

test_differential_fuzz_short() {
	local seconds=${FUZZ_TEST_SECONDS:-40} out=$TEST_TMP/fuzz.log
	[ -x "$BUILD/fuzz/clean-dns-fuzz" ] || fail "build/fuzz/clean-dns-fuzz not built (make tools)"
	mkdir -p "$TEST_TMP/seeds" "$TEST_TMP/corpus"
	"$TOOLS/clean-dns-vectors" --write-corpus "$TEST_TMP/seeds" || fail "write seeds"
	CLEAN_DNS_FUZZ_SEEDS=$TEST_TMP/seeds "$BUILD/fuzz/clean-dns-fuzz" || fail "write state seeds"
	(cd "$TEST_TMP" && CLEAN_DNS_BUILD=$BUILD "$BUILD/fuzz/clean-dns-fuzz" -seed=1 \
		-max_total_time="$seconds" -timeout=10 corpus seeds) >"$out" 2>&1
	local rc=$?
	grep -E 'clean-dns-fuzz:|ERROR|Done' "$out"
	[ "$rc" -eq 0 ] || { tail -n 30 "$out"; fail "the fuzzer found a disagreement (exit $rc)"; }
	local compared drops states verdicts v never=""
	compared=$(sed -n 's/^clean-dns-fuzz: \([0-9]*\) inputs compared.*/\1/p' "$out")
	drops=$(sed -n 's/.* \([0-9]*\) drops confirmed.*/\1/p' "$out")
	states=$(sed -n 's/^clean-dns-fuzz: \([0-9]*\) state changes compared.*/\1/p' "$out")
	verdicts=$(sed -n 's/^clean-dns-fuzz: .* verdicts: //p' "$out")
	[ "${compared:-0}" -gt 10000 ] || fail "only ${compared:-0} inputs compared"
	[ "${drops:-0}" -gt 0 ] || fail "no drop was exercised"
	[ "${states:-0}" -gt 0 ] || fail "no state change was compared"
	[ -n "$verdicts" ] || fail "no verdict statistics"
	for v in $verdicts; do
		case $v in
		drop_*=0 | hop_count_*=0 | queries_recorded=0) never="$never ${v%=0}" ;;
		esac
	done
	[ -z "$never" ] || fail "never reached:$never"
	log "ok: $compared inputs compared, $drops drops confirmed, $states state changes compared"
}

# sockfwd's SOCKS5 reply and address parsers under libFuzzer (ASan, UBSan),
# fixed seed, from seeds for every reply code, ATYP and truncation: no
# crash, no disagreement with the RFC oracle, every code exercised.
test_socks5_fuzz_short() {
	local seconds=${FUZZ_SOCKS5_SECONDS:-10} out=$TEST_TMP/socks5-fuzz.log stats
	local fuzzer=$BUILD/fuzz/socks5-fuzz
	[ -x "$fuzzer" ] || fail "build/fuzz/socks5-fuzz not built (make tools)"
	mkdir -p "$TEST_TMP/s5/seeds" "$TEST_TMP/s5/corpus"
	SOCKS5_FUZZ_SEEDS=$TEST_TMP/s5/seeds "$fuzzer" || fail "writing seeds"
	log "$(find "$TEST_TMP/s5/seeds" -type f | wc -l) seeds"
	(cd "$TEST_TMP/s5" && "$fuzzer" -seed=1 -max_total_time="$seconds" -timeout=10 \
		corpus seeds) >"$out" 2>&1
	local rc=$?
	grep -E 'socks5-fuzz:|ERROR|SUMMARY|Done' "$out"
	[ "$rc" -eq 0 ] || { tail -n 30 "$out"; fail "the fuzzer found a crash or a disagreement (exit $rc)"; }
	stats=$(grep '^socks5-fuzz: [0-9]* inputs' "$out" | tail -n1)
	[ -n "$stats" ] || fail "no statistics line"
	local inputs connected refused truncated urls codes atyps
	read -r inputs connected refused truncated urls codes atyps <<<"$(echo "$stats" |
		sed 's/^socks5-fuzz: \([0-9]*\) inputs, \([0-9]*\) handshakes connected, \([0-9]*\) refused, \([0-9]*\) truncated, \([0-9]*\) proxy URLs parsed, \([0-9]*\) reply codes, \([0-9]*\) address types/\1 \2 \3 \4 \5 \6 \7/')"
	[ "${inputs:-0}" -gt 100000 ] || fail "only ${inputs:-0} inputs"
	[ "${connected:-0}" -gt 0 ] && [ "${refused:-0}" -gt 0 ] && [ "${truncated:-0}" -gt 0 ] ||
		fail "not every outcome exercised: $stats"
	[ "${urls:-0}" -gt 0 ] || fail "no proxy URL parsed"
	check_eq "$codes" 256 "reply codes exercised"
	check_eq "$atyps" 256 "address types exercised"
}
