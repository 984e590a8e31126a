# shellcheck shell=bash
# clean-dns: the packet vector table, the user-facing load paths (ip, tc,
# bpftool) and the control script's behaviour and errors.
# timeout: 180

CLEAN_DNS=$ROOT/scripts/clean-dns
VECTORS=$TOOLS/clean-dns-vectors

# The whole table through BPF_PROG_TEST_RUN on the XDP (Ethernet and L3)
# and tc programs: verdict and counter movement per row, every truncation.
test_vector_table() {
	"$VECTORS" "$BUILD" >"$TEST_TMP/out" || { cat "$TEST_TMP/out"; fail "vector table"; }
	tail -n1 "$TEST_TMP/out"
	grep -q '^[1-9][0-9]* passed, 0 failed$' "$TEST_TMP/out" || fail "no rows ran"
}

# The compiled-in defaults that `clean-dns resolver list` shows are what the
# object really protects, rule for rule.
test_script_defaults_match_object() {
	local listed probed dir=/sys/fs/bpf/cdns-test-$TEST_ID
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	# An empty pin directory: only the compiled-in defaults are listed.
	listed=$(CLEAN_DNS_PIN_DIR=$dir "$CLEAN_DNS" resolver list | awk '$2 == "default" { print $1 "=" $3 }' |
		sed 's|/[0-9]*=|=|')
	[ "$(echo "$listed" | wc -l)" -ge 8 ] || fail "could not read the script's defaults"
	# shellcheck disable=SC2046
	probed=$("$VECTORS" --probe "$BUILD" $(echo "$listed" | cut -d= -f1))
	check_eq "$probed" "$listed" "rules per default resolver"
}

# The design's bpftool path: prog load, prog run on sample frames, counters
# read back through the script, net attach and detach.
test_bpftool_load_run_attach() {
	local pin=/sys/fs/bpf/cdns-test-$TEST_ID
	[ -e /sys/fs/bpf/cdns_counters ] && skip "a bpftool-loaded clean-dns already pins /sys/fs/bpf/cdns_*"
	on_exit "rm -f $pin /sys/fs/bpf/cdns_*"
	bpftool prog load "$BUILD/clean-dns.o" "$pin" type xdp || fail "bpftool prog load"
	"$VECTORS" --write-frames "$TEST_TMP" || fail "write frames"

	local frame want
	for frame in forged-ipid-zero:1 forged-aa-single:1 genuine:2 genuine-multi:2; do
		want=${frame#*:}
		frame=${frame%:*}
		bpftool prog run pinned "$pin" data_in "$TEST_TMP/$frame.bin" repeat 1 >"$TEST_TMP/run" 2>&1 ||
			fail "bpftool prog run $frame: $(cat "$TEST_TMP/run")"
		check_eq "$(sed -n 's/.*Return value: \([0-9]*\).*/\1/p' "$TEST_TMP/run")" "$want" "$frame verdict (1 drop, 2 pass)"
	done

	CLEAN_DNS_PIN_DIR=/sys/fs/bpf "$CLEAN_DNS" status >"$TEST_TMP/status" || fail "status"
	cat "$TEST_TMP/status"
	check_eq "$(awk '$1 == "inspected" { print $2 }' "$TEST_TMP/status")" 4 "inspected"
	check_eq "$(awk '$1 == "drop_ipid_zero" { print $2 }' "$TEST_TMP/status")" 1 "drop_ipid_zero"
	check_eq "$(awk '$1 == "drop_aa_single" { print $2 }' "$TEST_TMP/status")" 1 "drop_aa_single"
	check_eq "$(awk '$1 == "pass_multi_answer" { print $2 }' "$TEST_TMP/status")" 1 "pass_multi_answer"

	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	nsx host bpftool net attach xdpgeneric pinned "$pin" dev eth0 || fail "bpftool net attach"
	nsx host ip -d link show dev eth0 | grep -q 'prog/xdp id [0-9]* name clean_dns_eth' ||
		fail "not attached after bpftool net attach"
	nsx host bpftool net detach xdpgeneric dev eth0 || fail "bpftool net detach"
	nsx host ip -d link show dev eth0 | grep -q 'prog/xdp' && fail "still attached after detach"
	return 0
}

# attach picks the section from the device type, in every mode, and the
# programs report what they are.
test_attach_modes_and_sections() {
	on_exit "'$CLEAN_DNS' reset"
	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	nsx host ip link set eth0 up
	nsx host ip link set eth1 up
	nsx host ip tuntap add dev tun0 mode tun
	on_exit "nsx host $CLEAN_DNS detach eth0; nsx host $CLEAN_DNS detach tun0"

	local mode dev want
	for mode in generic:eth0:clean_dns_eth native:eth0:clean_dns_eth generic:tun0:clean_dns_l3; do
		dev=$(echo "$mode" | cut -d: -f2)
		want=$(echo "$mode" | cut -d: -f3)
		mode=${mode%%:*}
		nsx host "$CLEAN_DNS" attach "$dev" "$mode" || fail "attach $dev $mode"
		nsx host ip -d link show dev "$dev" | grep -q "prog/xdp id [0-9]* name $want" ||
			fail "$dev $mode: $want not attached"
		nsx host "$CLEAN_DNS" status | grep -q "^  $dev .*xdp $mode ($want)" || fail "status does not show $dev"
		nsx host "$CLEAN_DNS" detach "$dev" || fail "detach $dev"
		nsx host ip -d link show dev "$dev" | grep -q 'prog/xdp' && fail "$dev still attached"
	done
	for dev in eth0:clean_dns_tc tun0:clean_dns_tc_l3; do
		want=${dev#*:}
		dev=${dev%:*}
		nsx host "$CLEAN_DNS" attach "$dev" tc || fail "attach $dev tc"
		nsx host tc filter show dev "$dev" ingress | grep -q "name $want " || fail "$dev: $want not on ingress"
		nsx host "$CLEAN_DNS" detach "$dev" || fail "detach $dev tc"
		nsx host tc filter show dev "$dev" ingress | grep -q clean_dns && fail "$dev: tc filter left behind"
	done
	return 0
}

# Configuration lives in the pinned map: it survives detach and re-attach,
# and the attached program applies it.
test_config_survives_reattach() {
	on_exit "'$CLEAN_DNS' reset"
	local prefix=203.0.113.53
	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	on_exit "$CLEAN_DNS resolver del $prefix/32; nsx host $CLEAN_DNS detach eth0"
	"$VECTORS" --write-frames "$TEST_TMP" || fail "write frames"

	nsx host "$CLEAN_DNS" attach eth0 || fail "attach"
	"$CLEAN_DNS" resolver add $prefix ipid-zero || fail "resolver add"
	nsx host "$CLEAN_DNS" detach eth0 || fail "detach"
	nsx host "$CLEAN_DNS" attach eth0 || fail "re-attach"
	"$CLEAN_DNS" resolver list | grep -q "^$prefix/32 *map *ipid-zero$" || fail "entry lost over re-attach"

	# The sample frame comes from 8.8.8.8; rewrite its source to the
	# configured resolver (IPv4 source at offset 26) and run it through the
	# attached program.
	local id
	id=$(nsx host ip -d link show dev eth0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	[ -n "$id" ] || fail "no program id"
	{
		head -c 26 "$TEST_TMP/forged-ipid-zero.bin"
		printf '\313\000\161\065'
		tail -c +31 "$TEST_TMP/forged-ipid-zero.bin"
	} >"$TEST_TMP/from-configured.bin"
	bpftool prog run id "$id" data_in "$TEST_TMP/from-configured.bin" repeat 1 | grep -q 'Return value: 1' ||
		fail "the re-attached program did not apply the configured rule"
	"$CLEAN_DNS" resolver del $prefix/32 || fail "resolver del"
	bpftool prog run id "$id" data_in "$TEST_TMP/from-configured.bin" repeat 1 | grep -q 'Return value: 2' ||
		fail "an unconfigured TEST-NET source was dropped"
}

test_resolver_prefixes() {
	local dir=/sys/fs/bpf/cdns-test-$TEST_ID
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	export CLEAN_DNS_PIN_DIR=$dir
	"$CLEAN_DNS" resolver add 198.51.100.77/24 df ipid-zero >/dev/null || fail "add v4 /24"
	"$CLEAN_DNS" resolver add 2001:DB8:0:53::1/64 >/dev/null || fail "add v6 /64"
	"$CLEAN_DNS" resolver add 2001:db8::9 all >/dev/null || fail "add v6 host"
	"$CLEAN_DNS" resolver add 8.8.8.8 none >/dev/null || fail "switch a default off"
	"$CLEAN_DNS" resolver list >"$TEST_TMP/list"
	cat "$TEST_TMP/list"
	grep -q '^198.51.100.0/24 *map *ipid-zero,df$' "$TEST_TMP/list" || fail "v4 prefix with host bits cleared"
	grep -q '^2001:db8:0:53::/64 *map *aa-single,name-uncompressed,bogus-addr,edns-echo,hop-count$' "$TEST_TMP/list" ||
		fail "v6 /64 with default rules"
	grep -q '^2001:db8::9/128 *map *ipid-zero,df,aa-single,name-uncompressed,bogus-addr,edns-echo,hop-count,flow-label$' \
		"$TEST_TMP/list" || fail "v6 host, all rules"
	grep -q '^8.8.8.8/32 *map *none$' "$TEST_TMP/list" || fail "default overridden"
	grep -q '^8.8.8.8/32 *default' "$TEST_TMP/list" && fail "overridden default still listed as default"
	"$CLEAN_DNS" resolver del 198.51.100.0/24 >/dev/null || fail "del v4"
	"$CLEAN_DNS" resolver list | grep -q '^198.51.100' && fail "deleted prefix still listed"
	return 0
}

# expect_error WHAT PATTERN CMD...: CMD must exit non-zero and say PATTERN.
expect_error() {
	local what=$1 pattern=$2
	shift 2
	if "$@" >"$TEST_TMP/err" 2>&1; then
		fail "$what: succeeded"
	fi
	grep -q -- "$pattern" "$TEST_TMP/err" || fail "$what: said '$(cat "$TEST_TMP/err")', want '$pattern'"
	log "ok: $what -> $(head -n1 "$TEST_TMP/err")"
}

test_script_errors() {
	on_exit "'$CLEAN_DNS' reset"
	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	on_exit "nsx host $CLEAN_DNS detach eth0"
	expect_error "unknown interface" "no such interface: nope0" nsx host "$CLEAN_DNS" attach nope0
	expect_error "unknown mode" "unknown mode 'fast'" nsx host "$CLEAN_DNS" attach eth0 fast
	expect_error "detach when not attached" "not attached to eth0" nsx host "$CLEAN_DNS" detach eth0
	expect_error "bad prefix" "bad IPv4 address in '300.1.2.3'" "$CLEAN_DNS" resolver add 300.1.2.3
	expect_error "bad prefix length" "prefix length above 128" "$CLEAN_DNS" resolver add 2001:db8::/129
	expect_error "bad IPv6" "bad IPv6 address" "$CLEAN_DNS" resolver add 2001:db8::1::2
	expect_error "unknown rule" "unknown rule 'ttl'" "$CLEAN_DNS" resolver add 192.0.2.53 ttl
	expect_error "del of a default" "compiled-in default" "$CLEAN_DNS" resolver del 9.9.9.9
	expect_error "no command" "usage" "$CLEAN_DNS"
	expect_error "no bpffs" "no bpf filesystem" \
		nsx host unshare -m sh -c "umount /sys/fs/bpf && exec $CLEAN_DNS attach eth0"

	nsx host "$CLEAN_DNS" attach eth0 || fail "attach"
	expect_error "attach twice" "already attached to eth0" nsx host "$CLEAN_DNS" attach eth0
	expect_error "attach tc over xdp" "already attached to eth0" nsx host "$CLEAN_DNS" attach eth0 tc
	nsx host "$CLEAN_DNS" detach eth0 || fail "detach"

	# Someone else's XDP program is neither replaced nor removed.
	on_exit "rm -f /sys/fs/bpf/cdns-other-$TEST_ID"
	nsx host bpftool prog load "$BUILD/tests/xdp-pass.o" "/sys/fs/bpf/cdns-other-$TEST_ID" type xdp ||
		fail "load the empty XDP program"
	nsx host bpftool net attach xdpgeneric pinned "/sys/fs/bpf/cdns-other-$TEST_ID" dev eth0 || fail "attach other"
	expect_error "foreign XDP program" "already has an XDP program" nsx host "$CLEAN_DNS" attach eth0
	expect_error "detach foreign program" "not clean-dns: left alone" nsx host "$CLEAN_DNS" detach eth0
	nsx host ip -d link show dev eth0 | grep -q 'prog/xdp' || fail "foreign program was removed"
}
