# shellcheck shell=bash
# timeout: 120
# clean-dns: no false drops.  Four DNS server implementations answer a
# varied, DNSSEC-signed zone (tests/dns/var.test.zone) to dig in the client,
# over IPv4 and IPv6, first without clean-dns and then with it attached and
# each server protected by the rules its own answers allow.  Every answer
# must come out the same, no drop counter may move, and "inspected" must
# have seen every response: with clean-dns in xdpgeneric, xdpdrv and tc mode.
#
#   knot     198.51.100.10  2001:db8:2::10  authoritative, signs var.test
#   named    198.51.100.11  2001:db8:2::11  validating, forwards to knot
#   dnsmasq  198.51.100.13  2001:db8:2::13  forwarder to knot
#   unbound  198.51.100.53  2001:db8:2::53  validating recursive, stub to knot

. "$ROOT/tests/dns/topology.sh"

KNOT4=198.51.100.10
KNOT6=2001:db8:2::10
NAMED4=198.51.100.11
NAMED6=2001:db8:2::11
DNSMASQ4=198.51.100.13
DNSMASQ6=2001:db8:2::13
UNBOUND4=$RESOLVER4
UNBOUND6=$RESOLVER6

servers_setup() {
	local addr anchors_unbound anchors_named key
	dns_topology
	for addr in 10 11 13; do
		nsx resolver ip addr add "198.51.100.$addr/24" dev s0
		addr6 resolver s0 "2001:db8:2::$addr/64"
	done
	cp "$DNS_DIR/var.test.zone" "$TEST_TMP/var.test.zone"
	dns_start_knot resolver knot "$KNOT4@53, $KNOT6@53" \
		"  - domain: var.test
    file: \"$TEST_TMP/var.test.zone\"
    dnssec-signing: on
    dnssec-policy: test"
	wait_for 10 dns_resolving client "$KNOT4" var.test DNSKEY ||
		fail "knot does not serve a signed var.test: $(cat "$TEST_TMP/knot/knotd.log")"
	# Trust anchors: the zone's own keys, as knot generated them just now.
	anchors_unbound=$(dns_answers client "$KNOT4" var.test DNSKEY | sed 's/^/var.test. IN DNSKEY /')
	printf '%s\n' "$anchors_unbound" >"$TEST_TMP/var.test.anchor"
	anchors_named=$(dns_answers client "$KNOT4" var.test DNSKEY | while read -r flags proto alg key; do
		printf '\tvar.test. static-key %s %s %s "%s";\n' "$flags" "$proto" "$alg" "$key"
	done)
	dns_start_unbound resolver unbound "$UNBOUND4 $UNBOUND6" \
		"stub-zone:
    name: \"var.test.\"
    stub-addr: $KNOT4" "validator iterator" \
		"    local-zone: \"var.test.\" transparent" \
		"    trust-anchor-file: \"$TEST_TMP/var.test.anchor\""
	dns_start_named resolver named "$NAMED4" "$NAMED6" "$KNOT4" "$anchors_named"
	dns_start_dnsmasq resolver dnsmasq "$DNSMASQ4" "$DNSMASQ6" "$KNOT4"
	for addr in "$UNBOUND4" "$NAMED4" "$DNSMASQ4" "$UNBOUND6" "$NAMED6" "$DNSMASQ6"; do
		wait_for 10 dns_resolving client "$addr" www.var.test A ||
			fail "$addr does not answer: $(tail -n 5 "$TEST_TMP"/*/*.log)"
	done
}

# Rules per server, from its fingerprint (measured by dns-inject --watch in
# the client; this test re-checks the enabled ones on every run):
#   knot: authoritative, so AA on every answer, single ones with no
#     authority section included: aa-single would drop them.  Its UDP
#     sockets leave DF off (non-zero IPv4 ID), and it compresses names.
#   named: recursive (no AA), DF off, non-zero ID, compressed: all four.
#   dnsmasq: DF on its answers, and AA on answers it serves from its cache
#     (0x8580, one answer, no authority): neither df nor aa-single.
#   unbound: recursive, IP_PMTUDISC_OMIT (DF off, non-zero ID), compressed:
#     all four.
declare -A RULES_OF_SERVER=(
	[knot]="ipid-zero df name-uncompressed"
	[named]="ipid-zero df aa-single name-uncompressed"
	[dnsmasq]="ipid-zero name-uncompressed"
	[unbound]="ipid-zero df aa-single name-uncompressed"
)
declare -A ADDRESSES_OF_SERVER=(
	[knot]="$KNOT4 $KNOT6"
	[named]="$NAMED4 $NAMED6"
	[dnsmasq]="$DNSMASQ4 $DNSMASQ6"
	[unbound]="$UNBOUND4 $UNBOUND6"
)
SERVERS="knot named dnsmasq unbound"

# NAME TYPE [DIG OPTIONS]: what each server is asked, over IPv4 and IPv6.
QUERIES=(
	"www.var.test A"
	"www.var.test AAAA"
	"dual.var.test A"                    # two answers
	"alias.var.test A"                   # CNAME chain of three
	"alias.var.test AAAA +dnssec"        # chain with RRSIGs
	"var.test MX"
	"txt.var.test TXT"
	"nope.var.test A"                    # NXDOMAIN
	"nope.var.test A +dnssec"            # NXDOMAIN with NSEC proof
	"www.var.test MX"                    # NODATA
	"www.var.test A +noedns"             # no OPT record
	"www.var.test A +dnssec"             # DO bit: RRSIG, AD from validators
	"big.var.test TXT +noedns +ignore"   # over 512 bytes: TC=1, kept as is
	"big.var.test TXT"                   # ~850 bytes with EDNS
	"many.var.test A"                    # 40 answers
	"svc.var.test HTTPS"                 # one HTTPS record with hints
	"var.test SOA"                       # one SOA record
	"_dns._udp.var.test SRV"             # one SRV record
	"www.var.test HTTPS +noedns"         # NODATA, no OPT
)

counter() {
	"$CLEAN_DNS" status | awk -v name="$1" '$1 == name { value = $2 } END { print value + 0 }'
}

# ask_all DIR: every query to every server over both families, each answer
# in DIR/SERVER-FAMILY-N, normalised: TTLs and message ID hidden, sections
# sorted (rotating RRsets), timing lines left out.  Prints the dig count.
ask_all() {
	local dir=$1 server addr family n query count=0
	mkdir -p "$dir"
	for server in $SERVERS; do
		for addr in ${ADDRESSES_OF_SERVER[$server]}; do
			family=4
			case $addr in *:*) family=6 ;; esac
			n=0
			for query in "${QUERIES[@]}"; do
				n=$((n + 1))
				# shellcheck disable=SC2086 # NAME TYPE OPTIONS are words
				nsx client dig +tries=1 +timeout=2 +nocookie +nottlid +noall +comments \
					+answer +authority +additional "@$addr" $query 2>&1 |
					sed -e 's/id: [0-9]*/id: -/' -e '/^;; \(Query time\|SERVER\|WHEN\|MSG SIZE\)/d' |
					sort >"$dir/$server-$family-$n"
				count=$((count + 1))
			done
		done
	done
	echo "$count"
}

# fingerprint_matches RULE ADDRESSES: genuine responses from ADDRESSES in
# the watch log that carry RULE's fingerprint (what clean-dns would drop).
fingerprint_matches() {
	local rule=$1
	shift
	awk -v rule="$rule" -v addrs=" $* " '
	$1 != "response" { next }
	{
		delete f
		for (i = 3; i <= NF; i++) {
			split($i, kv, "=")
			f[kv[1]] = kv[2]
		}
		if (index(addrs, " " f["src"] " ") == 0 || f["an"] != 1)
			next
		# AA (0x0400) and RD (0x0100) share the second hex digit of 0xNNNN
		nibble = index("0123456789abcdef", substr(f["flags"], 4, 1)) - 1
		aa = int(nibble / 4) % 2
		rd = nibble % 2
		if (rule == "ipid-zero" && f["family"] == 4 && f["ipid"] == "0") n++
		if (rule == "df" && f["family"] == 4 && f["df"] == 1) n++
		if (rule == "aa-single" && aa && rd && f["ns"] == 0) n++
		if (rule == "name-uncompressed" && f["name"] == "full") n++
	}
	END { print n + 0 }' "$TEST_TMP/watch.log"
}

test_servers_no_false_drops() {
	local server rule matches digs mode
	[ -x "$CLEAN_DNS" ] && [ -f "$BUILD/clean-dns.o" ] || fail "clean-dns not built: run make"
	need unbound knotd named dnsmasq dig
	servers_setup

	# Warm every cache first: a forwarder answers differently the first
	# time (dnsmasq adds AA to what it serves from its cache), and both
	# compared rounds must see the same state.
	ask_all "$TEST_TMP/warm-up" >/dev/null

	dns_bg client "$TOOLS/dns-inject" -i c0 --watch >"$TEST_TMP/watch.log" 2>&1
	wait_for 5 grep -q '^listening ' "$TEST_TMP/watch.log" || fail "dns-inject --watch did not start"
	digs=$(ask_all "$TEST_TMP/without")
	sleep 0.2
	log "fingerprints of $(grep -c '^response ' "$TEST_TMP/watch.log") genuine responses:"
	for server in $SERVERS; do
		for rule in ipid-zero df aa-single name-uncompressed; do
			# shellcheck disable=SC2086
			matches=$(fingerprint_matches "$rule" ${ADDRESSES_OF_SERVER[$server]})
			case " ${RULES_OF_SERVER[$server]} " in
			*" $rule "*) check_eq "$matches" 0 "$server answers with the $rule fingerprint" ;;
			*) log "$server: $matches answers with the $rule fingerprint (rule not used)" ;;
			esac
		done
	done

	if grep -l 'no servers could be reached\|timed out\|communications error' -r "$TEST_TMP/without"; then
		fail "some queries got no answer even without clean-dns"
	fi
	# The zone's features really are in the answers.
	grep -q 'flags:.* ad' "$TEST_TMP/without/unbound-4-12" || fail "unbound: no AD on a signed answer"
	grep -q 'flags:.* ad' "$TEST_TMP/without/named-6-12" || fail "named: no AD on a signed answer"
	grep -q 'flags:.* tc' "$TEST_TMP/without/knot-4-13" || fail "knot: no TC=1 on the large TXT"
	grep -q 'status: NXDOMAIN' "$TEST_TMP/without/dnsmasq-6-8" || fail "dnsmasq: no NXDOMAIN"
	check_eq "$(grep -c 'IN.A.203.0.113' "$TEST_TMP/without/named-4-15")" 40 "named: 40 answers"

	for mode in generic native tc; do
		with_clean_dns "$mode" "$digs"
	done
}

# with_clean_dns MODE DIGS: the same questions with clean-dns attached to
# the client's veth in MODE and every server protected by its rules.
with_clean_dns() {
	local mode=$1 digs=$2 server addr name
	"$CLEAN_DNS" reset >/dev/null
	on_exit "'$CLEAN_DNS' reset"
	for server in $SERVERS; do
		for addr in ${ADDRESSES_OF_SERVER[$server]}; do
			# shellcheck disable=SC2086 # one word per rule
			"$CLEAN_DNS" resolver add "$addr" ${RULES_OF_SERVER[$server]} >/dev/null ||
				fail "resolver add $addr"
		done
	done
	nsx client "$CLEAN_DNS" attach c0 "$mode" || fail "clean-dns attach c0 $mode"
	ask_all "$TEST_TMP/with-$mode" >/dev/null
	nsx client "$CLEAN_DNS" status

	diff -r "$TEST_TMP/without" "$TEST_TMP/with-$mode" ||
		fail "answers differ with clean-dns attached ($mode)"
	log "ok: $digs answers identical with and without clean-dns ($mode)"
	for name in drop_ipid_zero drop_df drop_aa_single drop_name_uncompressed pass_unprotected; do
		check_eq "$(counter "$name")" 0 "$name ($mode)"
	done
	check_eq "$(counter inspected)" "$digs" "inspected, one UDP response per dig ($mode)"
	[ "$(counter pass_clean)" -gt 0 ] || fail "no single answer went through the rules ($mode)"
	nsx client "$CLEAN_DNS" detach c0 >/dev/null || fail "clean-dns detach c0"
}
