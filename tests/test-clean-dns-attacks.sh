# shellcheck shell=bash
# timeout: 120
# A censor that fights back (docs/threat-model.md): each test is an attack an
# on-path censor can make against clean-dns's stateful rules, end to end in
# the topology of test-clean-dns-stateful.sh (client -- censor -- hop1 --
# hop2 -- resolver, forgeries at TTL 64, genuine answers at 61):
# - TCP segments "from the resolver's port 53" outside any connection, one
#   per query, to teach the hop-count rule the censor's TTL;
# - a forged SYN-ACK and data segment in window of the connection that
#   `clean-dns learn` opens, racing the resolver's own;
# - a QR=0 packet with the query's port and ID before the forgeries, to
#   clear the query's record;
# - the 2025 injector pair that sets AA and clears RD whatever the query;
# - the 2026 injector's forged HTTPS records, and the older one's A answers
#   to HTTPS queries.
# Each asserts what the client gets (genuine answers, compared) and how
# clean-dns's counters account for every forgery and lie.

. "$ROOT/tests/dns/topology.sh"
# shellcheck source=tests/test-clean-dns-stateful.sh
. "$ROOT/tests/test-clean-dns-stateful.sh"

POISON_LOG=

# start_poison MODE: hop-poison on the censor's client-facing r0.
start_poison() {
	POISON_LOG=$TEST_TMP/poison.log
	dns_bg censor "$TOOLS/hop-poison" -i r0 -r "$RESOLVER4" -r "$RESOLVER6" "$1" >"$POISON_LOG" 2>&1
	POISON_PID=$BG_PID
	wait_for 5 grep -q '^listening ' "$POISON_LOG" ||
		fail "hop-poison did not start: $(cat "$POISON_LOG")"
}

stop_poison() {
	kill -TERM "$POISON_PID"
	wait "$POISON_PID" 2>/dev/null
}

# lies KIND: segments of KIND hop-poison sent so far.
lies() { grep -c "^lie .* kind=$1 " "$POISON_LOG" || true; }

# attack_setup STYLES [INJECTOR OPTION...]: the censored resolver, the
# injector forging in STYLES, clean-dns attached (tc, its default rules on
# both resolver addresses), nothing learned yet.
attack_setup() {
	stateful_setup
	dns_censored_resolver "    access-control: 0.0.0.0/0 allow_snoop
    access-control: ::/0 allow_snoop"
	dns_start_injector r0 "$@"
	"$CLEAN_DNS" resolver add "$RESOLVER4" >/dev/null || fail "resolver add $RESOLVER4"
	"$CLEAN_DNS" resolver add "$RESOLVER6" >/dev/null || fail "resolver add $RESOLVER6"
	attach tc
}

# One TCP data segment from the resolver's port 53 per query, outside any
# connection, with the censor's TTL: were it learned, the forgeries (TTL 64)
# would match the profile and the genuine answers (61) would be dropped.
test_attack_unsolicited_tcp_segments() {
	local sent
	attack_setup gfw2025
	learn "$RESOLVER4" "$RESOLVER6"
	start_poison --unsolicited
	mark_now
	lookups 4 genuine
	lookups 6 genuine
	stop_poison
	sent=$(lies unsolicited)
	[ "$sent" -gt 0 ] || fail "hop-poison sent nothing"
	check_eq "$(delta hop_count_unsolicited)" "$sent" "hop_count_unsolicited = the censor's segments"
	check_eq "$(delta hop_count_learned)" 0 "hop_count_learned while under attack"
	check_eq "$(learned_ttl "$RESOLVER4")" "$GENUINE_TTL" "profile of $RESOLVER4 after the attack"
	check_eq "$(learned_ttl "$RESOLVER6")" "$GENUINE_TTL" "profile of $RESOLVER6 after the attack"
	check_race_drops "$(forgeries_since_mark | grep -c ' edns=1 ')" \
		"$(forgeries_since_mark | grep -c ' edns=0 ')"
	dns_stop_injector
}

# The censor sees learn's SYN and answers it first, in window, with its
# TTL; the resolver's SYN-ACK follows.  The connection's segments disagree:
# it must teach nothing (and take back what the forged pair taught), so the
# profile is never the censor's.  Without a profile the hop-count rule is
# off: EDNS lookups stay protected by edns-echo, and a later learn without
# the attack restores everything.
test_attack_in_window_tcp_segments() {
	local address ttl
	attack_setup gfw2025
	start_poison --in-window
	mark_now
	for address in "$RESOLVER4" "$RESOLVER6"; do
		nsx client "$CLEAN_DNS" learn "$address" >"$TEST_TMP/learn.log" 2>&1
		log "learn $address under attack: $(tr '\n' ' ' <"$TEST_TMP/learn.log")"
		ttl=$(learned_ttl "$address")
		[ "$ttl" = "$FORGED_TTL" ] && fail "$address's profile holds the censor's TTL $ttl"
		[ -z "$ttl" ] || [ "$ttl" = "$GENUINE_TTL" ] || fail "$address's profile: TTL $ttl"
		log "ok: $address's profile after the attack: '${ttl:-none}'"
	done
	stop_poison
	[ "$(lies synack)" -ge 2 ] || fail "hop-poison forged no SYN-ACK"
	[ "$(delta hop_count_conflict)" -ge 2 ] ||
		fail "hop_count_conflict moved by $(delta hop_count_conflict), want one per connection"
	# shellcheck disable=SC2046 # one word per address
	expect_kind "$(kind_of 1 $(answers "$RESOLVER4" "$(dns_unique_name)" A))" genuine \
		"dig A (EDNS) with no profile"
	# shellcheck disable=SC2046
	expect_kind "$(kind_of 1 $(answers "$RESOLVER6" "$(dns_unique_name)" AAAA))" genuine \
		"dig AAAA (EDNS) over IPv6 with no profile"
	learn "$RESOLVER4" "$RESOLVER6"
	lookups 4 genuine
	dns_stop_injector
}

# A QR=0 packet with the query's port and ID, from the resolver's address,
# before the forgeries.  Were it taken for an answer by clean-dns, it would
# remove the query's record and the forgery (no OPT) would pass edns-echo;
# dig and glibc take it for an empty answer and stop waiting.  Nothing is
# learned here, so edns-echo and query-echo are all that stand.
test_attack_qr0_packet() {
	local got qr0 late
	attack_setup qr0,gfw2025
	mark_now
	# shellcheck disable=SC2046 # one word per address
	got=$(kind_of 1 $(answers "$RESOLVER4" "$(dns_unique_name)" A))
	expect_kind "$got" genuine "dig A (EDNS) after the censor's QR=0 packet"
	# shellcheck disable=SC2046
	got=$(kind_of 1 $(answers "$RESOLVER6" "$(dns_unique_name)" AAAA))
	expect_kind "$got" genuine "dig AAAA (EDNS) over IPv6 after the censor's QR=0 packet"
	SERVER=$RESOLVER4
	# shellcheck disable=SC2046
	got=$(kind_of 2 $(getent_with edns0 "$(dns_unique_name)"))
	expect_kind "$got" genuine "getent ahosts (options edns0) after the censor's QR=0 packets"
	qr0=$(forgeries_since_mark | grep -c ' style=qr0 ')
	check_eq "$qr0" 4 "QR=0 packets sent (dig A, dig AAAA, getent A and AAAA)"
	# A packet of the censor's that comes after the genuine answer (it lost
	# the race, as it can on a busy machine) finds the record gone and
	# passes; the client has its answer by then.
	late=$(($(delta pass_not_response) + $(delta pass_clean) - 4))
	[ "$late" -eq 0 ] || log "$late of the censor's packets came after the genuine answer"
	[ "$(delta drop_query_echo_qr)" -gt 0 ] || fail "no QR=0 packet was dropped"
	check_eq "$(($(delta drop_query_echo_qr) + $(delta pass_not_response)))" "$qr0" \
		"QR=0 packets dropped (drop_query_echo_qr) or late (pass_not_response)"
	check_eq "$(($(delta drop_edns_echo) + $(delta pass_clean) - 4))" 8 \
		"forgeries dropped by edns-echo or late (two per query)"
	dns_stop_injector
}

# Two injectors per query (net4people #466): 0x8180 with DF, and 0x8400
# (AA, RD clear) without, whatever the query's RD.  aa-single takes the
# second from the recorded RD=1; the first goes to edns-echo or hop-count.
test_attack_cyclic_injector() {
	local aa edns plain got_aa got_edns
	attack_setup cyclic
	learn "$RESOLVER4" "$RESOLVER6"
	mark_now
	lookups 4 genuine
	lookups 6 genuine
	aa=$(forgeries_since_mark | grep -c ' flags=0x8400 ')
	edns=$(forgeries_since_mark | grep ' flags=0x8180 ' | grep -c ' edns=1 ')
	plain=$(forgeries_since_mark | grep ' flags=0x8180 ' | grep -c ' edns=0 ')
	log "$aa forgeries 0x8400, $edns 0x8180 to EDNS queries, $plain to others"
	[ "$aa" -gt 0 ] || fail "the injector sent no 0x8400 forgery"
	# As in check_race_drops: a forgery later than the genuine answer finds
	# no record (aa-single's RD, edns-echo's OPT) and goes to hop-count.
	got_aa=$(delta drop_aa_single)
	got_edns=$(delta drop_edns_echo)
	[ "$got_aa" -le "$aa" ] && [ "$got_edns" -le "$edns" ] ||
		fail "drop_aa_single $got_aa of $aa, drop_edns_echo $got_edns of $edns"
	[ $((aa - got_aa + edns - got_edns)) -eq 0 ] ||
		log "$((aa - got_aa + edns - got_edns)) forgeries came after the genuine answer"
	[ "$got_aa" -gt 0 ] || fail "aa-single took none of the 0x8400 forgeries"
	check_drops drop_aa_single="$got_aa" drop_edns_echo="$got_edns" \
		drop_hop_count=$((plain + aa - got_aa + edns - got_edns))
	dns_stop_injector
}

# https_hint NS SERVER NAME [DIG OPTION...]: the ipv4hint of the HTTPS answer.
https_hint() {
	dns_answers client "$@" | sed -n 's/.* ipv4hint=\([0-9.]*\).*/\1/p'
}

# The 2026 injector answers HTTPS queries with a forged HTTPS record whose
# hints come from its pools; before 2026 it answered them with an A record.
# dig HTTPS with and without EDNS: forged without clean-dns, genuine with
# it; then with the pools known, bogus-addr reads the hints.
test_attack_https_forgeries() {
	local got opt
	stateful_setup
	dns_censored_resolver ""
	dns_start_injector r0 gfw2026
	for opt in +edns +noedns; do
		got=$(https_hint "$RESOLVER4" "$(dns_unique_name)" HTTPS "$opt")
		case $got in 203.0.113.*) log "ok: without clean-dns, dig HTTPS $opt gets the forgery ($got)" ;;
		*) fail "without clean-dns, dig HTTPS $opt got '$got', want a forged hint" ;;
		esac
	done
	sleep 0.4 # the genuine answers of this phase lose by DNS_DELAY_MS: let them land
	"$CLEAN_DNS" resolver add "$RESOLVER4" >/dev/null || fail "resolver add $RESOLVER4"
	"$CLEAN_DNS" resolver add "$RESOLVER6" >/dev/null || fail "resolver add $RESOLVER6"
	attach tc
	learn "$RESOLVER4" "$RESOLVER6"
	mark_now
	check_eq "$(https_hint "$RESOLVER4" "$(dns_unique_name)" HTTPS)" "$GENUINE4" "dig HTTPS (EDNS)"
	check_eq "$(https_hint "$RESOLVER4" "$(dns_unique_name)" HTTPS +noedns)" "$GENUINE4" "dig HTTPS +noedns"
	check_eq "$(https_hint "$RESOLVER6" "$(dns_unique_name)" HTTPS +noedns)" "$GENUINE4" \
		"dig HTTPS +noedns over IPv6"
	check_eq "$(forgeries_since_mark | grep -c ' type=65$')" 6 "forged HTTPS records"
	check_race_drops 2 4
	"$CLEAN_DNS" bogus add 203.0.113.64/28 >/dev/null || fail "bogus add"
	mark_now
	check_eq "$(https_hint "$RESOLVER4" "$(dns_unique_name)" HTTPS)" "$GENUINE4" \
		"dig HTTPS (EDNS), pools known"
	check_drops drop_bogus_addr=2
	dns_stop_injector

	log "the older injector: A records to HTTPS queries"
	dns_start_injector r0 gfw2025
	mark_now
	check_eq "$(https_hint "$RESOLVER4" "$(dns_unique_name)" HTTPS +noedns)" "$GENUINE4" \
		"dig HTTPS +noedns, A forgeries"
	check_drops drop_bogus_addr=2
	"$CLEAN_DNS" bogus del 203.0.113.64/28 >/dev/null || fail "bogus del"
	mark_now
	check_eq "$(https_hint "$RESOLVER4" "$(dns_unique_name)" HTTPS +noedns)" "$GENUINE4" \
		"dig HTTPS +noedns, A forgeries, pools unknown"
	check_drops drop_query_echo_type=2
	dns_stop_injector
}
