# shellcheck shell=bash
# timeout: 120
# clean-dns's stateful rules end to end, against today's injector (dns-inject
# style gfw2025: two forgeries per query, one with DF and one without, both
# with non-zero IPv4 IDs, flags 0x8180 to RD=1 and 0x8400 to RD=0 queries,
# answer name 0xc00c, AR=0, addresses cycling through a pool of four):
#
#   client -- censor -- hop1 -- hop2 -- resolver      (DNS_HOPS=2)
#
# The forgeries leave the censor with TTL 64 and reach the client so; the
# resolver's answers, three routers later, with 61.  Nothing in a forgery is
# unlike a genuine answer but what needs state: no OPT record although the
# query carried one (edns-echo), a TTL unlike the resolver's TCP segments'
# (hop-count), flow label 0 over IPv6 (flow-label).  So the resolver is
# protected with clean-dns's default rules, none of which can match these
# forgeries without state.  Without clean-dns, dig and the glibc stub get the
# forged address (the race is real); with it, the genuine one, and each drop
# is accounted for, in xdpgeneric, tc and xdpdrv mode.  Then: RD=0 queries
# (0x8400 forgeries) and a full query map; the flow labels and TTLs as
# measured at the client, and the flow-label rule alone; no false drops
# from four server implementations with the stateful rules on, across a
# route change and with the query map full; the same protection on a NAT
# router's upstream device; and a censor's TCP RST, which must not become
# the resolver's hop-count profile.

. "$ROOT/tests/dns/topology.sh"
# Its servers, rules per server, QUERIES and ask_all; its test functions are
# not run from here (tests/run runs only the test_ functions of this file).
# shellcheck source=tests/test-clean-dns-servers.sh
. "$ROOT/tests/test-clean-dns-servers.sh"

# Set after the sources above, which read the defaults.
DNS_HOPS=2
# What a forgery's TTL (64, sent by the censor) and a genuine answer's (64
# less one per router on the way) are at the client.
FORGED_TTL=64
GENUINE_TTL=$((64 - DNS_HOPS - 1))
# gfw2025 cycles its answers through four addresses from these.
FORGED_POOL="203.0.113.66 203.0.113.67 203.0.113.68 203.0.113.69
2001:db8:bad::66 2001:db8:bad::67 2001:db8:bad::68 2001:db8:bad::69"
DROP_COUNTERS="drop_ipid_zero drop_df drop_aa_single drop_name_uncompressed drop_bogus_addr
drop_edns_echo drop_query_echo_rd drop_query_echo_type drop_query_echo_qtype drop_query_echo_qr drop_hop_count
drop_flow_label"
# Where clean-dns runs (client, or router for the NAT case) and on what.
CDNS_NS=client
CDNS_IFACE=c0
CDNS_ATTACHED=

stateful_setup() {
	stateful_setup_checks
	dns_topology
}

# stateful_setup_checks: what every test here needs, and a clean-dns
# without state, reset again at the end.
stateful_setup_checks() {
	[ -x "$CLEAN_DNS" ] || fail "scripts/clean-dns missing"
	[ -f "$BUILD/clean-dns.o" ] && [ -f "$BUILD/clean-dns-tc.o" ] ||
		fail "build/clean-dns.o or clean-dns-tc.o missing: run make"
	[ -x "$TOOLS/dns-inject" ] && [ -x "$TOOLS/dns-flood" ] ||
		fail "test tools missing: run make tools"
	need unbound knotd dig getent unshare nft
	"$CLEAN_DNS" reset >/dev/null
	on_exit "'$CLEAN_DNS' reset"
}

# censored_setup [INJECTOR OPTION...]: the censored resolver (unbound, knot
# behind dns-delay) and the injector.  unbound answers RD=0 queries from its
# cache (allow_snoop), as public resolvers do.
censored_setup() {
	stateful_setup
	dns_censored_resolver "    access-control: 0.0.0.0/0 allow_snoop
    access-control: ::/0 allow_snoop"
	dns_start_injector r0 gfw2025 censor "$@"
}

# kind_of WANT_COUNT ADDRESS...: "genuine" when there are WANT_COUNT
# addresses and all are the zone's, "forged" when all are from the
# injector's pool, "no answer" when there are none, else what they were.
kind_of() {
	local want=$1 address genuine=0 forged=0
	shift
	for address in "$@"; do
		case $address in
		"$GENUINE4" | "$GENUINE6") genuine=$((genuine + 1)) ;;
		*) case " ${FORGED_POOL//$'\n'/ } " in *" $address "*) forged=$((forged + 1)) ;; esac ;;
		esac
	done
	if [ $# -eq 0 ]; then
		echo "no answer"
	elif [ $# -eq "$want" ] && [ "$genuine" -eq "$want" ]; then
		echo genuine
	elif [ $# -eq "$want" ] && [ "$forged" -eq "$want" ]; then
		echo forged
	else
		echo "'$*'"
	fi
}

# answers SERVER NAME TYPE [DIG OPTION...]: dns_answers from the client,
# without dig's ";;" lines (a timeout is no answer at all).
answers() {
	dns_answers client "$@" | grep -v '^;' || true
}

# expect_kind GOT WANT WHAT: check_eq with a message saying which side of
# the race went wrong, and clean-dns's counters when it is attached.
expect_kind() {
	[ "$1" = "$2" ] && { log "ok: $3: $1"; return 0; }
	[ -z "$CDNS_ATTACHED" ] &&
		fail "$3: got $1, want $2 (without clean-dns the forgery must win the race)"
	nsx "$CDNS_NS" "$CLEAN_DNS" status >&2
	[ "$1" = forged ] && fail "$3: clean-dns ($CDNS_ATTACHED) let a forgery through"
	fail "$3: clean-dns ($CDNS_ATTACHED): got $1, want $2 (genuine answer dropped?)"
}

# getent_with OPTIONS NAME: the addresses getent ahosts finds, with
# "options OPTIONS" in the client's private resolv.conf.
getent_with() {
	printf 'nameserver %s\noptions timeout:2 attempts:1 %s\n' "$SERVER" "$1" \
		>"$TEST_TMP/resolv.conf"
	dns_getent_addresses "$2"
}

# lookups TRANSPORT WANT: dig with EDNS (its default) for A and AAAA, dig
# +noedns, getent ahosts without and with "options edns0", through the
# resolver's IPv4 or IPv6 address; every name new, every answer WANT
# (genuine or forged).
lookups() {
	local transport=$1 want=$2 got
	SERVER=$RESOLVER4
	[ "$transport" = 6 ] && SERVER=$RESOLVER6
	# shellcheck disable=SC2046 # one word per address
	got=$(kind_of 1 $(answers "$SERVER" "$(dns_unique_name)" A))
	expect_kind "$got" "$want" "dig A (EDNS) via IPv$transport"
	# shellcheck disable=SC2046
	got=$(kind_of 1 $(answers "$SERVER" "$(dns_unique_name)" AAAA))
	expect_kind "$got" "$want" "dig AAAA (EDNS) via IPv$transport"
	# shellcheck disable=SC2046
	got=$(kind_of 1 $(answers "$SERVER" "$(dns_unique_name)" A +noedns))
	expect_kind "$got" "$want" "dig +noedns A via IPv$transport"
	# shellcheck disable=SC2046
	got=$(kind_of 2 $(getent_with "" "$(dns_unique_name)"))
	expect_kind "$got" "$want" "getent ahosts (no EDNS) via IPv$transport"
	# shellcheck disable=SC2046
	got=$(kind_of 2 $(getent_with edns0 "$(dns_unique_name)"))
	expect_kind "$got" "$want" "getent ahosts (options edns0) via IPv$transport"
}

# forgeries_since MARK: the injector's forgery lines after line MARK.
forgeries_since() {
	tail -n "+$(($1 + 1))" "$TEST_TMP/inject.log" | grep '^forgery ' || true
}

# queries_of: distinct queries (id, client port, name, type) in forgery lines
# on stdin.
queries_of() {
	sed 's/.* client=\([^ ]*\) .* id=\([^ ]*\) qname=\([^ ]*\) qtype=\([0-9]*\).*/\1 \2 \3 \4/' |
		sort -u | wc -l
}

# protect: clean-dns's state from scratch, both resolver addresses
# protected by the default rules (what `resolver add` gives without rules).
protect() {
	"$CLEAN_DNS" reset >/dev/null 2>&1
	"$CLEAN_DNS" resolver add "$RESOLVER4" >/dev/null || fail "resolver add $RESOLVER4"
	"$CLEAN_DNS" resolver add "$RESOLVER6" >/dev/null || fail "resolver add $RESOLVER6"
	check_eq "$("$CLEAN_DNS" resolver list | awk -v a="$RESOLVER4/32" '$1 == a { print $3 }')" \
		aa-single,name-uncompressed,bogus-addr,edns-echo,hop-count,query-echo "default rules"
}

# attach MODE: clean-dns on CDNS_IFACE in CDNS_NS.
attach() {
	nsx "$CDNS_NS" "$CLEAN_DNS" attach "$CDNS_IFACE" "$1" ||
		fail "clean-dns attach $CDNS_IFACE $1"
	CDNS_ATTACHED="$1 on $CDNS_NS's $CDNS_IFACE"
}

detach() {
	nsx "$CDNS_NS" "$CLEAN_DNS" detach "$CDNS_IFACE" >/dev/null || fail "clean-dns detach"
	CDNS_ATTACHED=
}

# learned_ttl ADDRESS: the TTL clean-dns learned for ADDRESS (empty if none).
learned_ttl() {
	"$CLEAN_DNS" status | awk -v a="$1" '$1 == a && $3 ~ /^[0-9]+$/ { print $2 }'
}

# learn ADDRESS...: clean-dns learn from CDNS_NS, then each ADDRESS's
# profile must hold the resolver's TTL at the point of capture.
learn() {
	local address
	nsx "$CDNS_NS" "$CLEAN_DNS" learn "$@" >/dev/null || fail "clean-dns learn $*"
	for address in "$@"; do
		check_eq "$(learned_ttl "$address")" "${LEARN_WANT:-$GENUINE_TTL}" \
			"TTL learned for $address"
	done
}

# mark_now: remember where the injector's log and clean-dns's counters
# stand; forgeries_since_mark, delta and check_drops count from there.
MARK=0
mark_now() {
	MARK=0
	[ -f "$TEST_TMP/inject.log" ] && MARK=$(wc -l <"$TEST_TMP/inject.log")
	"$CLEAN_DNS" status >"$TEST_TMP/counters-at-mark"
}

forgeries_since_mark() { forgeries_since "$MARK"; }

# delta NAME: how far counter NAME moved since mark_now.
delta() {
	local before
	before=$(awk -v name="$1" '$1 == name { v = $2 } END { print v + 0 }' \
		"$TEST_TMP/counters-at-mark")
	echo $(($(counter "$1") - before))
}

# counters_moved COUNTERS WHAT NAME=WANT...: since mark_now, each counter
# of the list COUNTERS moved by its WANT (0 when not named), and all of them
# together by the forgeries the injector sent.
counters_moved() {
	local counters=$1 what=$2 pair name total=0 sent
	shift 2
	declare -A want=()
	for pair in "$@"; do
		want[${pair%%=*}]=${pair#*=}
	done
	for name in $counters; do
		check_eq "$(delta "$name")" "${want[$name]:-0}" "$name"
		total=$((total + ${want[$name]:-0}))
	done
	sent=$(forgeries_since_mark | wc -l)
	[ "$sent" -gt 0 ] || fail "the injector sent no forgeries"
	check_eq "$total" "$sent" "$what, all rules together, = forgeries the injector sent"
}

# check_drops NAME=WANT...: counters_moved over the drop counters.
check_drops() { counters_moved "$DROP_COUNTERS" drops "$@"; }

# check_race_drops EDNS PLAIN: since mark_now, the forgeries of EDNS queries
# (EDNS of them) went to edns-echo and the others (PLAIN) to hop-count, no
# other rule moved, and every forgery was dropped.  A forgery that arrives
# after the genuine answer (the injector lost the race, as it can on a busy
# machine) finds the query's record gone with that answer and is dropped by
# hop-count instead: that is allowed, and logged.
check_race_drops() {
	local edns=$1 plain=$2 got late
	got=$(delta drop_edns_echo)
	[ "$got" -le "$edns" ] || fail "drop_edns_echo moved by $got, more than the $edns EDNS forgeries"
	late=$((edns - got))
	[ "$late" -eq 0 ] || log "$late EDNS forgeries came after the genuine answer: hop-count took them"
	check_drops drop_edns_echo="$got" drop_hop_count=$((plain + late))
}

# stateful_round MODE TRANSPORT...: clean-dns in MODE with the default rules,
# learned, then every lookup must get the genuine answer; the EDNS queries'
# forgeries must have gone to edns-echo, the others' to hop-count.
stateful_round() {
	local mode=$1 transport edns_forgeries plain_forgeries edns_queries queries
	shift
	protect
	attach "$mode"
	learn "$RESOLVER4" "$RESOLVER6"
	[ "$(counter hop_count_learned)" -gt 0 ] || fail "hop_count_learned did not move"
	mark_now
	log "with clean-dns ($mode): the genuine answer must win"
	for transport in "$@"; do
		lookups "$transport" genuine
	done
	nsx "$CDNS_NS" "$CLEAN_DNS" status
	edns_forgeries=$(forgeries_since_mark | grep -c ' edns=1 ')
	plain_forgeries=$(forgeries_since_mark | grep -c ' edns=0 ')
	edns_queries=$(forgeries_since_mark | grep ' edns=1 ' | queries_of)
	queries=$(forgeries_since_mark | queries_of)
	log "$queries queries ($edns_queries with EDNS), $edns_forgeries + $plain_forgeries forgeries"
	check_eq "$((edns_forgeries + plain_forgeries))" "$((2 * queries))" \
		"gfw2025: two forgeries per query"
	check_race_drops "$edns_forgeries" "$plain_forgeries"
	check_eq "$(delta queries_recorded)" "$queries" "queries_recorded (one per query)"
	check_eq "$(delta pass_clean)" "$queries" "pass_clean (one genuine answer per query)"
}

# The race without clean-dns, then clean-dns in each mode on the client's
# veth: dig (EDNS and not) and getent (edns0 and not), IPv4 and IPv6.
test_stateful_race_all_modes() {
	local mode
	censored_setup
	log "without clean-dns, the forgery must win, EDNS or not"
	lookups 4 forged
	lookups 6 forged
	# The forgeries really are today's: flags, c00c, DF pair, non-zero IDs,
	# cycling addresses (dns-inject logs what it sends; AR=0 and the rest
	# as the client receives them: test-clean-dns-e2e's fingerprints test).
	check_eq "$(grep -c '^forgery .* flags=0x8180 name=pointer ' "$TEST_TMP/inject.log")" \
		"$(dns_forgeries)" "every forgery 0x8180 with the c00c pointer"
	check_eq "$(grep '^forgery ' "$TEST_TMP/inject.log" | grep -c ' df=1 ')" \
		"$(grep '^forgery .* client=192' "$TEST_TMP/inject.log" | grep -c ' df=0 ')" \
		"one IPv4 forgery with DF, one without, per query"
	check_eq "$(grep -c '^forgery .* ipid=0 ' "$TEST_TMP/inject.log")" 0 \
		"IPv4 forgeries with ID 0"
	[ "$(grep -o 'answer=[^ ]*' "$TEST_TMP/inject.log" | sort -u | wc -l)" -eq 8 ] ||
		fail "the injector's answers did not cycle through its pools"
	# The genuine answers of this phase lose by DNS_DELAY_MS: let them land.
	sleep 0.4
	for mode in generic tc native; do
		stateful_round "$mode" 4 6
		detach
	done
	dns_stop_injector
}

# An RD=0 query gets two 0x8400 (AA, no RA) forgeries: aa-single passes
# them (RD is clear), the stateful rules do not.  Then the same lookups as
# in the race, with the query map full, and with the pools in cdns_bogus.
test_stateful_rd0_and_full_query_map() {
	local got sent recorded entries name name6
	censored_setup
	protect
	attach generic
	learn "$RESOLVER4" "$RESOLVER6"
	# unbound answers an RD=0 query from its cache only, at once: no
	# dns-delay on that path, so there is no reliable race to lose without
	# clean-dns.  Each name is asked with RD=1 first, then with RD=0 from
	# the cache: the genuine answer must come through, and each forgery
	# must be dropped, by edns-echo when it comes first and by hop-count
	# when the genuine answer has already closed the query.
	name=$(dns_unique_name)
	name6=$(dns_unique_name)
	dns_answers client "$RESOLVER4" "$name" A >/dev/null
	dns_answers client "$RESOLVER6" "$name6" A >/dev/null
	mark_now
	# shellcheck disable=SC2046
	got=$(kind_of 1 $(answers "$RESOLVER4" "$name" A +norecurse))
	expect_kind "$got" genuine "dig +norecurse (EDNS) via IPv4"
	# shellcheck disable=SC2046
	got=$(kind_of 1 $(answers "$RESOLVER6" "$name6" A +norecurse +noedns))
	expect_kind "$got" genuine "dig +norecurse +noedns via IPv6"
	sleep 0.2 # forgeries that lost the race to the cache
	check_eq "$(forgeries_since_mark | grep -c ' flags=0x8400 ')" 4 \
		"two 0x8400 forgeries per RD=0 query"
	got=$(delta drop_edns_echo)
	log "RD=0 EDNS query: $got of its forgeries dropped by edns-echo, the rest by hop-count"
	[ "$got" -le 2 ] || fail "drop_edns_echo moved by $got for one EDNS query"
	check_drops drop_edns_echo="$got" drop_hop_count=$((4 - got))

	# Fill cdns_queries (LRU, 16384 entries) with EDNS queries to a
	# protected address the censor blackholes: nothing answers them, and
	# the injector does not forge for that address.  The newest queries go
	# last, so the forgeries are still caught; and a genuine answer carries
	# OPT, so edns-echo can never drop it, full map or not.
	"$CLEAN_DNS" resolver add 198.51.100.99 >/dev/null || fail "resolver add 198.51.100.99"
	nsx censor ip route add blackhole 198.51.100.99/32
	recorded=$(counter queries_recorded)
	sent=$(nsx client "$TOOLS/dns-flood" --server 198.51.100.99 --count 20000 --sockets 4 \
		--seconds 20) || fail "dns-flood: $sent"
	log "dns-flood: $sent"
	check_eq "$(($(counter queries_recorded) - recorded))" 20000 \
		"queries_recorded by the flood"
	# One raw "key":[bytes] per entry (BTF adds a formatted "key":{...}).
	entries=$(bpftool -j map dump pinned /sys/fs/bpf/tc/globals/cdns_queries |
		grep -o '"key":\[' | wc -l)
	[ "$entries" -ge 16000 ] || fail "cdns_queries holds $entries entries after the flood: not full"
	log "ok: cdns_queries full, $entries entries of 16384"
	mark_now
	lookups 4 genuine
	lookups 6 genuine
	check_race_drops "$(forgeries_since_mark | grep -c ' edns=1 ')" \
		"$(forgeries_since_mark | grep -c ' edns=0 ')"
	check_eq "$(delta pass_clean)" "$(forgeries_since_mark | queries_of)" \
		"pass_clean (one genuine answer per query)"

	# Once the pools are known (clean-dns bogus add), bogus-addr, checked
	# before the stateful rules, takes every forgery.
	"$CLEAN_DNS" bogus add 203.0.113.64/28 >/dev/null || fail "bogus add"
	"$CLEAN_DNS" bogus add 2001:db8:bad::/64 >/dev/null || fail "bogus add"
	mark_now
	lookups 4 genuine
	lookups 6 genuine
	check_drops drop_bogus_addr="$(forgeries_since_mark | wc -l)"
	dns_stop_injector
}

# watch_fields FILTER FIELD: the distinct values of FIELD over the response
# lines of the client's watch log for which the awk condition FILTER holds
# (f["NAME"] is the line's NAME=VALUE field), sorted, on one line.
watch_fields() {
	awk -v field="$2" '
	$1 != "response" { next }
	{
		delete f
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			f[kv[1]] = kv[2]
		}
		if ('"$1"') print f[field]
	}' "$TEST_TMP/watch.log" | sort -u | tr '\n' ' '
}

start_watch() {
	dns_bg client "$TOOLS/dns-inject" -i c0 --watch >"$TEST_TMP/watch.log" 2>&1
	wait_for 5 grep -q '^listening ' "$TEST_TMP/watch.log" || fail "dns-inject --watch did not start"
}

# Measured at the client: the forgeries' IPv6 flow label is 0, the
# resolver's (Linux, net.ipv6.auto_flowlabels=1: a hash of the flow) is not.
# So the flow-label rule alone, on the IPv6 resolver address, drops every
# IPv6 forgery and no genuine answer.  Also measured: the TTLs both arrive
# with (the hop-count rule's premise).
test_stateful_flow_label() {
	local i forged_flows genuine_flows
	censored_setup
	start_watch
	for i in 1 2 3; do
		dns_answers client "$RESOLVER6" "$(dns_unique_name)" AAAA >/dev/null
		dns_answers client "$RESOLVER6" "$(dns_unique_name)" A >/dev/null
		dns_answers client "$RESOLVER4" "$(dns_unique_name)" A >/dev/null
	done
	sleep 0.3 # the genuine answers, too, for the watcher
	# dig asks with EDNS: the genuine answers carry OPT (ar=1), the
	# forgeries do not.
	log "auto_flowlabels in the resolver: $(nsx resolver sysctl -n net.ipv6.auto_flowlabels)"
	forged_flows=$(watch_fields 'f["family"] == 6 && f["ar"] == 0' flow)
	genuine_flows=$(watch_fields 'f["family"] == 6 && f["ar"] == 1' flow)
	log "measured: IPv6 flow labels of forgeries: $forged_flows; of genuine answers: $genuine_flows"
	log "measured: TTL of forgeries: IPv4 $(watch_fields 'f["family"] == 4 && f["ar"] == 0' ttl)" \
		"IPv6 $(watch_fields 'f["family"] == 6 && f["ar"] == 0' ttl); of genuine answers:" \
		"IPv4 $(watch_fields 'f["family"] == 4 && f["ar"] == 1' ttl)" \
		"IPv6 $(watch_fields 'f["family"] == 6 && f["ar"] == 1' ttl)"
	check_eq "$(watch_fields 'f["ar"] == 0' ttl)" "$FORGED_TTL " "forgeries' TTL at the client"
	check_eq "$(watch_fields 'f["ar"] == 1' ttl)" "$GENUINE_TTL " "genuine answers' TTL at the client"
	check_eq "$forged_flows" "0x00000 " "flow label of the IPv6 forgeries"
	[ -n "$genuine_flows" ] || fail "no genuine IPv6 answer seen"
	case " $genuine_flows" in
	*" 0x00000 "*) fail "a genuine IPv6 answer has flow label 0: the flow-label rule would drop it" ;;
	esac
	sleep 0.2

	"$CLEAN_DNS" resolver add "$RESOLVER6" flow-label >/dev/null || fail "resolver add"
	attach generic
	mark_now
	lookups 6 genuine
	check_drops drop_flow_label="$(forgeries_since_mark | wc -l)"
	check_eq "$(delta pass_clean)" "$(forgeries_since_mark | queries_of)" \
		"pass_clean (one genuine answer per query)"
	dns_stop_injector
}

# dig_once SERVER NAME TYPE [DIG OPTION...]: the answer, or nothing within a
# second (dig's ";;" lines about the timeout left out).
dig_once() {
	nsx client dig +short +tries=1 +timeout=1 "@$1" "$2" "$3" "${@:4}" 2>/dev/null |
		grep -v '^;' || true
}

# expect_same_answers WHAT: ask every server everything again (ask_all of
# test-clean-dns-servers.sh); the answers must be those without clean-dns,
# and no drop counter may have moved since mark_now.
expect_same_answers() {
	local dir=$TEST_TMP/with-$1 digs name
	mark_now
	digs=$(ask_all "$dir")
	for name in $DROP_COUNTERS pass_unprotected; do
		check_eq "$(delta "$name")" 0 "$name ($1)"
	done
	diff -r "$TEST_TMP/without" "$dir" >&2 || fail "answers differ with clean-dns ($1)"
	log "ok: $digs answers as without clean-dns ($1)"
	check_eq "$(delta inspected)" "$digs" "inspected, one UDP response per dig ($1)"
}

# expect_answers WHAT: a shorter round than expect_same_answers: each server
# address asked www.var.test A without EDNS and AAAA with it.
expect_answers() {
	local server addr name
	mark_now
	for server in $SERVERS; do
		for addr in ${ADDRESSES_OF_SERVER[$server]}; do
			check_eq "$(dig_once "$addr" www.var.test A +noedns)" "$GENUINE4" \
				"$server at $addr, A without EDNS ($1)"
			check_eq "$(dig_once "$addr" www.var.test AAAA)" "$GENUINE6" \
				"$server at $addr, AAAA with EDNS ($1)"
		done
	done
	for name in $DROP_COUNTERS; do
		check_eq "$(delta "$name")" 0 "$name ($1)"
	done
}

# learn_servers: clean-dns learn for every server address.
learn_servers() {
	local server
	# shellcheck disable=SC2046,SC2086 # one word per address
	learn $(for server in $SERVERS; do echo ${ADDRESSES_OF_SERVER[$server]}; done)
}

# No false drops with the stateful rules: knot, named, dnsmasq and unbound
# (test-clean-dns-servers.sh) behind two routers, each protected by its own
# rules plus bogus-addr, edns-echo and hop-count (and flow-label over IPv6);
# then after a route change (one router more), with a zero tolerance until
# the profiles re-learn or expire, and with the query map full.
test_stateful_servers_no_false_drops() {
	local server addr rules got
	stateful_setup_checks
	need named dnsmasq
	servers_setup
	ask_all "$TEST_TMP/warm-up" >/dev/null
	start_watch
	ask_all "$TEST_TMP/without" >/dev/null
	sleep 0.2
	check_eq "$(watch_fields 1 ttl)" "$GENUINE_TTL " "TTL of every server's answers at the client"
	got=$(watch_fields 'f["family"] == 6' flow)
	case " $got" in
	*" 0x00000 "*) fail "an IPv6 answer with flow label 0: flow-label is not safe here" ;;
	esac
	log "ok: $(grep -c ' family=6 ' "$TEST_TMP/watch.log") IPv6 answers, none with flow label 0"

	for server in $SERVERS; do
		for addr in ${ADDRESSES_OF_SERVER[$server]}; do
			rules="${RULES_OF_SERVER[$server]} bogus-addr edns-echo hop-count"
			case $addr in *:*) rules+=" flow-label" ;; esac
			# shellcheck disable=SC2086 # one word per rule
			"$CLEAN_DNS" resolver add "$addr" $rules || fail "resolver add $addr"
		done
	done
	attach generic
	learn_servers
	expect_same_answers learned
	[ "$(delta queries_recorded)" -gt 0 ] || fail "no EDNS query recorded"

	log "route change: one router more between censor and resolver (TTL $((GENUINE_TTL - 1)))"
	dns_route_detour
	check_eq "$(nsx client ping -c1 -W1 "$UNBOUND4" | sed -n 's/.* ttl=\([0-9]*\).*/\1/p')" \
		"$((GENUINE_TTL - 1))" "TTL of the resolver's packets after the detour"
	expect_same_answers "route change, tolerance 1"

	log "the same with hop-tolerance 0: drops until the profiles re-learn"
	"$CLEAN_DNS" set hop-tolerance 0 >/dev/null || fail "set hop-tolerance 0"
	check_eq "$(dig_once "$UNBOUND4" www.var.test A +noedns)" "" \
		"an answer one hop off at tolerance 0 (dropped)"
	check_eq "$(delta drop_hop_count)" 1 "drop_hop_count at tolerance 0"
	LEARN_WANT=$((GENUINE_TTL - 1)) learn_servers
	expect_answers "route change, tolerance 0, learned again"

	log "back to the direct route: drops until the profiles expire"
	dns_route_direct
	check_eq "$(dig_once "$UNBOUND6" www.var.test AAAA +noedns)" "" \
		"an answer one hop off at tolerance 0 (dropped)"
	check_eq "$(delta drop_hop_count)" 1 "drop_hop_count at tolerance 0"
	"$CLEAN_DNS" set hop-max-age 1 >/dev/null || fail "set hop-max-age 1"
	sleep 1.1
	check_eq "$(dig_once "$UNBOUND6" www.var.test AAAA +noedns)" "$GENUINE6" \
		"the same answer once the profile has expired"
	"$CLEAN_DNS" set hop-max-age 3600 >/dev/null || fail "set hop-max-age 3600"
	learn_servers
	expect_answers "direct route, learned again"

	log "the query map full: 20000 EDNS queries to a protected address that never answers"
	"$CLEAN_DNS" resolver add 198.51.100.99 >/dev/null || fail "resolver add 198.51.100.99"
	nsx censor ip route add blackhole 198.51.100.99/32
	got=$(nsx client "$TOOLS/dns-flood" --server 198.51.100.99 --count 20000 --sockets 4 \
		--seconds 20) || fail "dns-flood: $got"
	log "dns-flood: $got"
	expect_same_answers "query map full"
	nsx client "$CLEAN_DNS" status
}

# A home router: client -- router (masquerade) -- censor -- hop1 -- hop2 --
# resolver, clean-dns on the router's upstream device.  Its egress program
# sees the queries after SNAT and its ingress programs the answers before
# de-NAT, so the query map's keys (resolver, port, ID) match.
test_stateful_nat_router() {
	DNS_NAT_ROUTER=1
	CDNS_NS=router
	CDNS_IFACE=u0
	censored_setup
	log "without clean-dns, the forgery must win"
	lookups 4 forged
	lookups 6 forged
	check_eq "$(grep '^forgery ' "$TEST_TMP/inject.log" | grep -vc \
		" client=\($ROUTER_UPSTREAM4\|$ROUTER_UPSTREAM6\)#")" 0 \
		"queries at the censor come from the router's address (masqueraded)"
	sleep 0.4
	stateful_round generic 4 6
	detach
	stateful_round tc 4
	detach
	dns_stop_injector
}

# The hop-count profile is learned from the resolver's TCP segments.  A
# censor that resets DNS over TCP for the names it censors (a RST to each
# end, in window, so the resolver sends nothing after it) sends a segment
# from port 53 itself, with its own TTL: the profile must not take it.
# Were it taken (as clean-dns did before it learned from data segments
# only), the forgeries (the censor's TTL) would match the profile and pass,
# and the genuine answers (the resolver's) would be dropped, until the next
# learn.
test_stateful_hop_profile_vs_tcp_reset() {
	local transport server got_plain got_edns ttl reset wrong=
	censored_setup --tcp-reset "censored.$DNS_ZONE"
	protect
	attach generic
	learn "$RESOLVER4" "$RESOLVER6"
	for transport in 4 6; do
		server=$RESOLVER4
		[ "$transport" = 6 ] && server=$RESOLVER6
		nsx client dig +tcp +tries=1 +timeout=2 "@$server" "q$transport.censored.$DNS_ZONE" A \
			>"$TEST_TMP/tcp-dig-$transport" 2>&1
		grep -q 'reset\|refused\|error' "$TEST_TMP/tcp-dig-$transport" ||
			fail "dig +tcp for a censored name was not reset: $(cat "$TEST_TMP/tcp-dig-$transport")"
		reset=$(grep "^reset .* qname=q$transport.censored" "$TEST_TMP/inject.log" | tail -n1)
		[ -n "$reset" ] || fail "the injector sent no reset over IPv$transport"
		log "IPv$transport: $reset"
		sleep 0.3 # what the resolver still sends, if anything
		ttl=$(learned_ttl "$server")
		mark_now
		# shellcheck disable=SC2046 # one word per address
		got_plain=$(kind_of 1 $(answers "$server" "$(dns_unique_name)" A +noedns))
		# shellcheck disable=SC2046
		got_edns=$(kind_of 1 $(answers "$server" "$(dns_unique_name)" A))
		log "IPv$transport after the reset: profile TTL $ttl; dig +noedns: $got_plain;" \
			"dig (EDNS): $got_edns; drop_hop_count +$(delta drop_hop_count)," \
			"drop_edns_echo +$(delta drop_edns_echo)"
		if [ "$ttl" != "$GENUINE_TTL" ] || [ "$got_plain" != genuine ] ||
			[ "$got_edns" != genuine ]; then
			wrong+=" IPv$transport: $server's profile re-learned as TTL $ttl (want"
			wrong+=" $GENUINE_TTL), dig +noedns got $got_plain, dig (EDNS) got $got_edns;"
		fi
	done
	dns_stop_injector
	[ -z "$wrong" ] && return 0
	"$CLEAN_DNS" status >&2
	fail "hop-count: the censor's TCP RST (TTL $FORGED_TTL) poisons the resolver's profile:" \
		"$wrong so forgeries to non-EDNS queries pass and genuine answers are dropped by" \
		"hop-count until the next learn (learn_from_tcp in xdp/classify.h must not learn" \
		"from the censor's RST)"
}
