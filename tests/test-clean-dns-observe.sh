# shellcheck shell=bash
# timeout: 150
# Rolling clean-dns out: observe mode, end to end against today's injector
# in the topology of test-clean-dns-stateful.sh (client -- censor -- hop1 --
# hop2 -- resolver; gfw2025 forgeries, two per query).  In observe mode
# (`clean-dns set mode observe`, or one resolver with `resolver add ADDR
# observe`) the rules judge as before and count would_drop_RULE, and every
# forgery passes: the client gets what it gets without clean-dns.  Back in
# enforce mode the same forgeries are dropped.

. "$ROOT/tests/dns/topology.sh"
# shellcheck source=tests/test-clean-dns-stateful.sh
. "$ROOT/tests/test-clean-dns-stateful.sh"

WOULD_DROP_COUNTERS=${DROP_COUNTERS//drop_/would_drop_}

# check_would_drops NAME=WANT...: since mark_now, no drop_ counter moved,
# each listed would_drop_ counter moved by WANT and every other by 0, and
# together by the forgeries the injector sent.
check_would_drops() {
	local name
	for name in $DROP_COUNTERS; do
		check_eq "$(delta "$name")" 0 "$name in observe mode"
	done
	counters_moved "$WOULD_DROP_COUNTERS" would-drops "$@"
}

# forgeries_of FAMILY EDNS: forgeries since the mark to the resolver's
# IPv4 (4) or IPv6 (6) address, from queries with EDNS (1) or without (0).
forgeries_of() {
	local server=$RESOLVER4
	[ "$1" = 6 ] && server=$RESOLVER6
	forgeries_since_mark | grep -F "resolver=$server " | grep -c " edns=$2 " || true
}

# Globally: every lookup gets the forgery, each forgery is counted under
# the rule that would have dropped it; then enforce, and the same lookups
# get the genuine answers.
test_observe_mode_global() {
	censored_setup
	protect
	attach tc
	learn "$RESOLVER4" "$RESOLVER6"
	"$CLEAN_DNS" set mode observe || fail "set mode observe"
	nsx "$CDNS_NS" "$CLEAN_DNS" status | grep -qx 'mode: observe' || fail "status does not say observe"
	mark_now
	lookups 4 forged
	lookups 6 forged
	check_would_drops would_drop_edns_echo="$(forgeries_since_mark | grep -c ' edns=1 ')" \
		would_drop_hop_count="$(forgeries_since_mark | grep -c ' edns=0 ')"

	"$CLEAN_DNS" set mode enforce || fail "set mode enforce"
	nsx "$CDNS_NS" "$CLEAN_DNS" status | grep -qx 'mode: enforce' || fail "status does not say enforce"
	mark_now
	lookups 4 genuine
	check_drops drop_edns_echo="$(forgeries_since_mark | grep -c ' edns=1 ')" \
		drop_hop_count="$(forgeries_since_mark | grep -c ' edns=0 ')"
	dns_stop_injector
}

# One resolver address observed, the other enforced, at the same time.
test_observe_mode_per_resolver() {
	local edns plain
	censored_setup
	protect
	"$CLEAN_DNS" resolver add "$RESOLVER4" observe >"$TEST_TMP/add" || fail "resolver add observe"
	grep -q "rules observe:aa-single,name-uncompressed,bogus-addr,edns-echo,hop-count,query-echo$" \
		"$TEST_TMP/add" || fail "resolver add observe said: $(cat "$TEST_TMP/add")"
	"$CLEAN_DNS" resolver list | grep -q "^$RESOLVER4/32 *map *observe:aa-single," ||
		fail "resolver list does not show $RESOLVER4 observed"
	attach tc
	learn "$RESOLVER4" "$RESOLVER6"
	mark_now
	lookups 4 forged
	lookups 6 genuine
	edns=$(forgeries_of 4 1) plain=$(forgeries_of 4 0)
	log "to $RESOLVER4: $edns + $plain forgeries (observed)"
	for name in $DROP_COUNTERS; do
		case $name in
		drop_edns_echo) check_eq "$(delta "$name")" "$(forgeries_of 6 1)" "$name ($RESOLVER6 enforced)" ;;
		drop_hop_count) check_eq "$(delta "$name")" "$(forgeries_of 6 0)" "$name ($RESOLVER6 enforced)" ;;
		*) check_eq "$(delta "$name")" 0 "$name" ;;
		esac
	done
	check_eq "$(delta would_drop_edns_echo)" "$edns" "would_drop_edns_echo ($RESOLVER4 observed)"
	check_eq "$(delta would_drop_hop_count)" "$plain" "would_drop_hop_count ($RESOLVER4 observed)"
	"$CLEAN_DNS" resolver add "$RESOLVER4" >/dev/null || fail "resolver add (enforce)"
	lookups 4 genuine
	dns_stop_injector
}

# first_seen FILE PATTERN: EPOCHREALTIME when PATTERN first shows in FILE,
# polled every 10 ms for at most 5 s (empty if never).
first_seen() {
	local i
	for ((i = 0; i < 500; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && { echo "$EPOCHREALTIME"; return 0; }
		sleep 0.01
	done
}

# clean-dns watch prints each forgery of a lookup, by name, within a second
# of the injector sending it: as a drop when enforcing, as a would-drop in
# observe mode; clean-dns log shows them afterwards.
test_watch_shows_forgeries() {
	local name label sent seen lines
	censored_setup
	protect
	attach tc
	learn "$RESOLVER4" "$RESOLVER6"
	bg - "$CLEAN_DNS" watch >"$TEST_TMP/watch.log" 2>&1
	sleep 0.3
	kill -0 "$BG_PID" || fail "clean-dns watch exited: $(cat "$TEST_TMP/watch.log")"
	for mode in enforce observe; do
		"$CLEAN_DNS" set mode "$mode" >/dev/null || fail "set mode $mode"
		name=$(dns_unique_name)
		label=${name%%.*}
		dns_answers client "$RESOLVER4" "$name" A >"$TEST_TMP/dig.out" &
		sent=$(first_seen "$TEST_TMP/inject.log" "qname=$label")
		seen=$(first_seen "$TEST_TMP/watch.log" " $label\.")
		wait $!
		[ -n "$sent" ] || fail "the injector did not forge for $name"
		[ -n "$seen" ] || fail "clean-dns watch did not show $name: $(cat "$TEST_TMP/watch.log")"
		log "$mode: forged at $sent, shown at $seen"
		awk -v a="$sent" -v b="$seen" 'BEGIN { exit !(b - a < 1.0) }' ||
			fail "watch showed the forgery $(awk -v a="$sent" -v b="$seen" 'BEGIN { print b - a }') s after it was sent"
		sleep 0.2
		lines=$(grep -c " $label\." "$TEST_TMP/watch.log")
		check_eq "$lines" "$(grep -c "qname=$label" "$TEST_TMP/inject.log")" "$mode: watch lines = forgeries of $name"
		local verdict=drop
		[ "$mode" = observe ] && verdict=would-drop
		grep " $label\." "$TEST_TMP/watch.log" | while read -r line; do
			echo "$line" | grep -Eq "^[0-9-]+T[0-9:.]+Z $verdict (edns_echo|hop_count) from $RESOLVER4 to port [0-9]+ id 0x[0-9a-f]{4} $label\.[^ ]* A answer (${FORGED_POOL//[$'\n' ]/|})$" ||
				fail "watch line: '$line'"
		done || exit 1
		"$CLEAN_DNS" log | grep -c " $verdict .* $label\." >"$TEST_TMP/n"
		check_eq "$(cat "$TEST_TMP/n")" "$lines" "$mode: clean-dns log shows them too"
	done
	grep " $label\." "$TEST_TMP/watch.log"
	dns_stop_injector
}
