# shellcheck shell=bash
# timeout: 90
# clean-dns end to end: client -- censor -- resolver in namespaces
# (tests/dns/topology.sh).  unbound answers a wildcard zone from knot behind
# dns-delay (100 ms); dns-inject on the censor races forged answers to
# every query.  Without clean-dns, dig and getent in the client must get the
# forged address (so the race is real and a pass is not vacuous); with it,
# the genuine one, and clean-dns must have dropped exactly the forgeries:
# drop_<rule> equals the forgeries of the style with that fingerprint.

. "$ROOT/tests/dns/topology.sh"

# The drop counter each injector style must move, one fingerprint each.
declare -A DROP_COUNTER_OF_STYLE=(
	[ipid0]=drop_ipid_zero
	[df]=drop_df
	[aa]=drop_aa_single
	[rawname]=drop_name_uncompressed
)
DROP_COUNTERS="drop_ipid_zero drop_df drop_aa_single drop_name_uncompressed"
# All four rules protect the test resolver: its genuine answers are unbound's
# (non-zero IPv4 ID, no DF, no AA, answer name compressed), which carry none
# of the four fingerprints.
ALL_RULES="ipid-zero df aa-single name-uncompressed"

need_clean_dns() {
	[ -x "$CLEAN_DNS" ] || fail "scripts/clean-dns missing"
	[ -f "$BUILD/clean-dns.o" ] && [ -f "$BUILD/clean-dns-tc.o" ] ||
		fail "build/clean-dns.o or clean-dns-tc.o missing: run make"
	[ -x "$TOOLS/dns-inject" ] || fail "test tools missing: run make tools"
	need unbound knotd dig getent unshare
}

# counter NAME: a clean-dns counter summed over CPUs (0 before any attach).
counter() {
	"$CLEAN_DNS" status | awk -v name="$1" '$1 == name { value = $2 } END { print value + 0 }'
}

# expect GOT WANT WHAT: check_eq, with a message that says which side of
# the race went wrong, and clean-dns's counters when it is attached
# (E2E_ATTACHED names where).
E2E_ATTACHED=
expect() {
	if [ "$1" != "$2" ]; then
		[ -z "$E2E_ATTACHED" ] &&
			fail "$3: got '$1', want '$2' (without clean-dns the forgery must win the race)"
		"$CLEAN_DNS" status >&2
		case $1 in
		*"$FORGED4"* | *"$FORGED6"*)
			fail "$3: clean-dns ($E2E_ATTACHED) let a forgery through: got '$1', want '$2'" ;;
		esac
		fail "$3: clean-dns ($E2E_ATTACHED): got '$1', want '$2' (genuine answer dropped?)"
	fi
	log "ok: $3 = '$1'"
}

# e2e_queries TRANSPORT WANT4 WANT6: dig A, dig AAAA and getent ahosts via
# the resolver's IPv4 or IPv6 address (TRANSPORT 4 or 6), every name new.
e2e_queries() {
	local transport=$1 want4=$2 want6=$3 server=$RESOLVER4 got
	[ "$transport" = 6 ] && server=$RESOLVER6
	got=$(dns_answers client "$server" "$(dns_unique_name)" A)
	expect "$got" "$want4" "dig A via IPv$transport"
	got=$(dns_answers client "$server" "$(dns_unique_name)" AAAA)
	expect "$got" "$want6" "dig AAAA via IPv$transport"
	dns_client_resolv_conf "$server"
	got=$(dns_getent_addresses "$(dns_unique_name)" | tr '\n' ' ')
	expect "$got" "$(printf '%s\n' "$want4" "$want6" | sort -u | tr '\n' ' ')" \
		"getent ahosts via IPv$transport"
}

# e2e_round IFACE MODE STYLES TRANSPORT...: one full round against an
# injector already forging STYLES (comma-separated):
#   1. without clean-dns: the forgeries win;
#   2. clean-dns attached to IFACE in MODE: the genuine answers win;
#   3. each drop_ counter equals the forgeries of its style sent in step 2,
#      pass_clean the genuine answers (one per query), and inspected the two
#      together.
e2e_round() {
	local iface=$1 mode=$2 styles=$3 transport style name want mark sent queries drops=0
	shift 3

	"$CLEAN_DNS" reset >/dev/null
	on_exit "'$CLEAN_DNS' reset"
	# shellcheck disable=SC2086 # one word per rule
	"$CLEAN_DNS" resolver add "$RESOLVER4" $ALL_RULES >/dev/null || fail "resolver add"
	# shellcheck disable=SC2086
	"$CLEAN_DNS" resolver add "$RESOLVER6" $ALL_RULES >/dev/null || fail "resolver add"

	log "styles $styles, without clean-dns: the forgery must win"
	for transport in "$@"; do
		e2e_queries "$transport" "$FORGED4" "$FORGED6"
	done
	# The genuine answers of this phase are still on their way (they lose
	# by DNS_DELAY_MS); let them land before clean-dns starts counting.
	sleep 0.4

	nsx client "$CLEAN_DNS" attach "$iface" "$mode" || fail "clean-dns attach $iface $mode"
	E2E_ATTACHED="$mode on $iface"
	mark=$(wc -l <"$TEST_TMP/inject.log")
	log "styles $styles, with clean-dns ($mode on $iface): the genuine answer must win"
	for transport in "$@"; do
		e2e_queries "$transport" "$GENUINE4" "$GENUINE6"
	done

	tail -n "+$((mark + 1))" "$TEST_TMP/inject.log" | grep '^forgery ' >"$TEST_TMP/forged-now"
	sent=$(wc -l <"$TEST_TMP/forged-now")
	queries=$(sed 's/.* id=\([^ ]*\) qname=\([^ ]*\) qtype=\([0-9]*\).*/\1 \2 \3/' \
		"$TEST_TMP/forged-now" | sort -u | wc -l)
	[ "$sent" -gt 0 ] || fail "the injector sent no forgeries"
	log "$sent forgeries for $queries queries"
	nsx client "$CLEAN_DNS" status
	for style in ${styles//,/ }; do
		name=${DROP_COUNTER_OF_STYLE[$style]}
		want=$(grep -c " style=$style " "$TEST_TMP/forged-now")
		check_eq "$(counter "$name")" "$want" "$name (forgeries of style $style)"
		drops=$((drops + want))
	done
	for name in $DROP_COUNTERS; do
		case ",$styles," in *",$(style_of_counter "$name"),"*) continue ;; esac
		check_eq "$(counter "$name")" 0 "$name (no forgery has its fingerprint)"
	done
	check_eq "$drops" "$sent" "forgeries dropped"
	check_eq "$(counter pass_clean)" "$queries" "pass_clean (one genuine answer per query)"
	check_eq "$(counter inspected)" "$((sent + queries))" "inspected"
	nsx client "$CLEAN_DNS" detach "$iface" >/dev/null || fail "clean-dns detach $iface"
	E2E_ATTACHED=
}

style_of_counter() {
	local style
	for style in "${!DROP_COUNTER_OF_STYLE[@]}"; do
		[ "${DROP_COUNTER_OF_STYLE[$style]}" = "$1" ] && echo "$style"
	done
}

e2e_setup() {
	need_clean_dns
	dns_topology
	dns_censored_resolver
}

# Each style on its own, IPv4, xdpgeneric on the client's veth.
test_e2e_styles_ipv4_generic() {
	local style
	e2e_setup
	for style in ipid0 df aa rawname; do
		dns_start_injector r0 "$style"
		e2e_round c0 generic "$style" 4
		dns_stop_injector
	done
}

# IPv6 has no IPv4 ID or DF: only the DNS-level styles apply.
test_e2e_styles_ipv6_generic() {
	local style
	e2e_setup
	for style in aa rawname; do
		dns_start_injector r0 "$style"
		e2e_round c0 generic "$style" 6
		dns_stop_injector
	done
}

# Native XDP (veth's own XDP support) on the client's veth: four forgeries
# per IPv4 query, one of each style, and two per IPv6 query (aa, rawname:
# dns-inject forges ipid0 and df over IPv4 only), all to be dropped.
test_e2e_native_all_styles() {
	e2e_setup
	dns_start_injector r0 ipid0,df,aa,rawname
	e2e_round c0 native ipid0,df,aa,rawname 4 6
	dns_stop_injector
}

test_e2e_tc_all_styles() {
	e2e_setup
	dns_start_injector r0 ipid0,df,aa,rawname
	e2e_round c0 tc ipid0,df,aa,rawname 4 6
	dns_stop_injector
}

# The client on a tun device (no link-layer header: section "l3"), the
# censor forging on its side of the wire with dns-inject.
test_e2e_tun_generic() {
	e2e_setup
	dns_tun_client
	dns_start_injector w0 ipid0,df,aa,rawname
	e2e_round tun0 generic ipid0,df,aa,rawname 4 6
	dns_stop_injector
}

# The same tun client under tc (section "classifier_l3"), this time with
# the forgeries written into the tun by dns-tunwire itself (a censor at the
# far end of the L3 link).
test_e2e_tun_tc() {
	e2e_setup
	dns_tun_client ipid0,df,aa,rawname
	INJECT_PID=$TUNWIRE_PID
	ln -s tunwire.log "$TEST_TMP/inject.log"
	e2e_round tun0 tc ipid0,df,aa,rawname 4 6
}

# forged_signatures MARK: "ID DF FLAGS NAME" of each forgery the client's
# watcher saw after line MARK of its log, sorted.  Forgeries are the
# responses without OPT record (ar=0): dig asks with EDNS, so unbound's
# genuine answers carry one.
forged_signatures() {
	tail -n "+$(($1 + 1))" "$TEST_TMP/watch.log" | awk '
	$1 == "response" && / ar=0 / {
		delete f
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			f[kv[1]] = kv[2]
		}
		print (f["ipid"] == "0" ? "id=0" : "id>0"), "df=" f["df"], f["flags"], f["name"], \
			"an=" f["an"] "/ns=" f["ns"]
	}' | sort | tr '\n' ';'
}

# The injector itself: each style's forgeries, as the client receives them,
# carry exactly the fingerprint it promises (and gfw2025 its pair).
test_e2e_injector_fingerprints() {
	local style mark want
	need_clean_dns
	dns_topology
	dns_censored_resolver
	dns_bg client "$TOOLS/dns-inject" -i c0 --watch >"$TEST_TMP/watch.log" 2>&1
	wait_for 5 grep -q '^listening ' "$TEST_TMP/watch.log" || fail "dns-inject --watch did not start"
	declare -A expected=(
		[ipid0]="id=0 df=0 0x8180 pointer an=1/ns=0;"
		[df]="id>0 df=1 0x8180 pointer an=1/ns=0;"
		[aa]="id>0 df=0 0x8580 pointer an=1/ns=0;"
		[rawname]="id>0 df=0 0x8180 full an=1/ns=0;"
		[gfw2025]="id>0 df=0 0x8180 pointer an=1/ns=0;id>0 df=1 0x8180 pointer an=1/ns=0;"
	)
	for style in ipid0 df aa rawname gfw2025; do
		dns_start_injector r0 "$style"
		mark=$(wc -l <"$TEST_TMP/watch.log")
		check_eq "$(dns_answers client "$RESOLVER4" "$(dns_unique_name)" A)" "$FORGED4" \
			"$style: dig gets the forged address"
		sleep 0.3 # the genuine answer, too, for the watcher
		check_eq "$(forged_signatures "$mark")" "${expected[$style]}" "$style forgeries"
		dns_stop_injector
	done
	# gfw2025 answers an RD=0 query with 0x8400 (AA, no RA), the pair again.
	dns_start_injector r0 gfw2025
	mark=$(wc -l <"$TEST_TMP/watch.log")
	nsx client dig +norecurse +tries=1 +timeout=2 "@$RESOLVER4" "$(dns_unique_name)" A >/dev/null
	sleep 0.3
	want="id>0 df=0 0x8400 pointer an=1/ns=0;id>0 df=1 0x8400 pointer an=1/ns=0;"
	check_eq "$(forged_signatures "$mark")" "$want" "gfw2025 forgeries to an RD=0 query"
	# Cyclic pool, restarted with this injector: the pair took .66 and .67.
	check_eq "$(grep -o 'answer=[^ ]*' "$TEST_TMP/inject.log" | sort -u | tr '\n' ' ')" \
		"answer=203.0.113.66 answer=203.0.113.67 " "gfw2025 answers from its address pool"
}
