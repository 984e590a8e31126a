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

# xdp_id_of DEV: the id of the XDP program on DEV in namespace host.
xdp_id_of() {
	local id
	id=$(nsx host ip -d link show dev "$1" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	[ -n "$id" ] || fail "no XDP program on $1"
	echo "$id"
}

# host_attached_generic: clean-dns from scratch (reset now and at the end),
# attached in generic mode to eth0 of a namespace "host", the sample frames
# in TEST_TMP.  Uses the shared pins (run under the lock).
host_attached_generic() {
	on_exit "'$CLEAN_DNS' reset"
	"$CLEAN_DNS" reset >/dev/null
	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	on_exit "nsx host $CLEAN_DNS detach eth0"
	"$VECTORS" --write-frames "$TEST_TMP" || fail "write frames"
	nsx host "$CLEAN_DNS" attach eth0 generic || fail "attach"
}

# from_203_0_113_53 FRAME: the sample frame (from 8.8.8.8, Ethernet and
# IPv4) with its source address, at offset 26, rewritten to 203.0.113.53.
from_203_0_113_53() {
	head -c 26 "$1"
	printf '\313\000\161\065'
	tail -c +31 "$1"
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

	nsx host "$CLEAN_DNS" attach eth0 generic || fail "attach"
	"$CLEAN_DNS" resolver add $prefix ipid-zero || fail "resolver add"
	nsx host "$CLEAN_DNS" detach eth0 || fail "detach"
	nsx host "$CLEAN_DNS" attach eth0 generic || fail "re-attach"
	"$CLEAN_DNS" resolver list | grep -q "^$prefix/32 *map *ipid-zero$" || fail "entry lost over re-attach"

	# The sample frame comes from 8.8.8.8; rewrite its source to the
	# configured resolver (IPv4 source at offset 26) and run it through the
	# attached program.
	local id
	id=$(xdp_id_of eth0) || exit 1
	from_203_0_113_53 "$TEST_TMP/forged-ipid-zero.bin" >"$TEST_TMP/from-configured.bin"
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
	grep -q '^2001:db8:0:53::/64 *map *aa-single,name-uncompressed,bogus-addr,edns-echo,hop-count,query-echo$' "$TEST_TMP/list" ||
		fail "v6 /64 with default rules"
	grep -q '^2001:db8::9/128 *map *ipid-zero,df,aa-single,name-uncompressed,bogus-addr,edns-echo,hop-count,flow-label,query-echo$' \
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

	nsx host "$CLEAN_DNS" attach eth0 generic || fail "attach"
	expect_error "attach twice" "already attached to eth0" nsx host "$CLEAN_DNS" attach eth0 generic
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

# --- the forged-address list and the bogus subcommands ---

# list_prefixes FILE: the prefixes a forged-address list holds, sorted.
list_prefixes() {
	sed 's/#.*//' "$1" | awk 'NF { print $1 }' | sort
}

# bogus_keys PIN: the keys of a cdns_bogus map as "LEN ADDRESS-BYTES",
# read with bpftool, not with the script, one a line, sorted.
bogus_keys() {
	bpftool -j map dump pinned "$1" | grep -o '"key":\[[^]]*\]' |
		sed 's/"key":\[//; s/\]//; s/"//g; s/0x//g; s/,/ /g' |
		while read -r b0 b1 b2 b3 address; do
			echo "$((16#$b3$b2$b1$b0)) $address" # the length: a little-endian u32
		done | LC_ALL=C sort
}

# answering FRAME ADDRESS OUT: FRAME (the genuine single-answer frame from
# 8.8.8.8 that clean-dns-vectors writes) answering the IPv4 ADDRESS instead.
answering() {
	local a b c d
	IFS=. read -r a b c d <<<"$2"
	{
		head -c 82 "$1"
		# shellcheck disable=SC2059 # the format is built from octal escapes
		printf "$(printf '\\%03o\\%03o\\%03o\\%03o' "$a" "$b" "$c" "$d")"
		tail -c +87 "$1"
	} >"$3"
}

# verdict_of ID FRAME: 1 (drop) or 2 (pass), from the program with that id.
verdict_of() {
	bpftool prog run id "$1" data_in "$2" repeat 1 2>&1 | sed -n 's/.*Return value: \([0-9]*\).*/\1/p'
}

# attach loads xdp/forged-addresses.list into an empty cdns_bogus: bogus
# list shows every entry, and the attached program drops a genuine-looking
# answer from 8.8.8.8 that carries any of its IPv4 addresses, then follows
# bogus del, add and defaults.  Uses the shared pins (run under the lock).
test_attach_loads_forged_address_list() {
	local list=$ROOT/xdp/forged-addresses.list id addr drops=0 got
	host_attached_generic
	"$CLEAN_DNS" bogus list | sort >"$TEST_TMP/listed"
	list_prefixes "$list" >"$TEST_TMP/shipped"
	[ "$(wc -l <"$TEST_TMP/shipped")" -ge 30 ] || fail "could not read $list"
	diff "$TEST_TMP/shipped" "$TEST_TMP/listed" || fail "bogus list after attach is not the shipped list"
	log "ok: attach loaded $(wc -l <"$TEST_TMP/listed") prefixes"
	check_eq "$(bogus_keys /sys/fs/bpf/tc/globals/cdns_bogus | wc -l)" "$(wc -l <"$TEST_TMP/shipped")" \
		"entries in cdns_bogus"

	id=$(xdp_id_of eth0) || exit 1
	check_eq "$(verdict_of "$id" "$TEST_TMP/genuine.bin")" 2 "genuine answer (142.250.72.14)"
	for addr in $(sed -n 's|^\([0-9.]*\)/32$|\1|p' "$TEST_TMP/shipped"); do
		answering "$TEST_TMP/genuine.bin" "$addr" "$TEST_TMP/forged.bin"
		got=$(taskset -c 0 bpftool prog run id "$id" data_in "$TEST_TMP/forged.bin" repeat 1 2>&1 |
			sed -n 's/.*Return value: \([0-9]*\).*/\1/p')
		[ "$got" = 1 ] || fail "answer $addr from 8.8.8.8: verdict '$got', want 1 (drop)"
		drops=$((drops + 1))
	done
	log "ok: $drops listed IPv4 addresses dropped"
	# Counted on CPU 0 (taskset): status must sum the per-CPU values.
	check_eq "$("$CLEAN_DNS" status | awk '$1 == "drop_bogus_addr" { print $2 }')" "$drops" \
		"drop_bogus_addr in status"

	answering "$TEST_TMP/genuine.bin" 93.46.8.89 "$TEST_TMP/listed.bin"
	"$CLEAN_DNS" bogus del 93.46.8.89 || fail "bogus del"
	check_eq "$(verdict_of "$id" "$TEST_TMP/listed.bin")" 2 "93.46.8.89 after bogus del"
	"$CLEAN_DNS" bogus list | grep -qx '93.46.8.89/32' && fail "bogus list still shows 93.46.8.89/32"
	"$CLEAN_DNS" bogus defaults || fail "bogus defaults"
	check_eq "$(verdict_of "$id" "$TEST_TMP/listed.bin")" 1 "93.46.8.89 after bogus defaults"

	answering "$TEST_TMP/genuine.bin" 198.51.100.66 "$TEST_TMP/added.bin"
	check_eq "$(verdict_of "$id" "$TEST_TMP/added.bin")" 2 "198.51.100.66 before bogus add"
	"$CLEAN_DNS" bogus add 198.51.100.0/24 || fail "bogus add"
	check_eq "$(verdict_of "$id" "$TEST_TMP/added.bin")" 1 "198.51.100.66 after bogus add 198.51.100.0/24"
	"$CLEAN_DNS" bogus del 198.51.100.0/24 || fail "bogus del"
	check_eq "$(verdict_of "$id" "$TEST_TMP/added.bin")" 2 "198.51.100.66 after bogus del"

	# A second attach keeps what is configured: the list is loaded only
	# into an empty map.
	"$CLEAN_DNS" bogus del 93.46.8.89 >/dev/null || fail "bogus del"
	nsx host "$CLEAN_DNS" detach eth0 || fail "detach"
	nsx host "$CLEAN_DNS" attach eth0 generic || fail "re-attach"
	"$CLEAN_DNS" bogus list | grep -qx '93.46.8.89/32' && fail "re-attach reloaded the list over a configured map"
	return 0
}

# Every bogus subcommand on a private pin directory, checked in the map
# with bpftool: add (IPv4, IPv6, host bits cleared), list, del, defaults,
# and the errors.
test_bogus_subcommands() {
	local dir=/sys/fs/bpf/cdns-test-$TEST_ID list=$ROOT/xdp/forged-addresses.list
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	export CLEAN_DNS_PIN_DIR=$dir
	check_eq "$("$CLEAN_DNS" bogus list)" "" "bogus list before any add"

	"$CLEAN_DNS" bogus add 198.51.100.66 || fail "bogus add v4"
	"$CLEAN_DNS" bogus add 2001:DB8:BAD:1::5/48 || fail "bogus add v6 /48"
	"$CLEAN_DNS" bogus add 203.0.113.77/25 || fail "bogus add v4 /25"
	check_eq "$(bogus_keys "$dir/cdns_bogus" | tr '\n' ';')" \
"121 00 00 00 00 00 00 00 00 00 00 ff ff cb 00 71 00;\
128 00 00 00 00 00 00 00 00 00 00 ff ff c6 33 64 42;\
48 20 01 0d b8 0b ad 00 00 00 00 00 00 00 00 00 00;" "cdns_bogus keys (length, IPv4-mapped address)"
	check_eq "$("$CLEAN_DNS" bogus list | sort | tr '\n' ' ')" "198.51.100.66/32 2001:db8:bad::/48 203.0.113.0/25 " \
		"bogus list"

	"$CLEAN_DNS" bogus del 198.51.100.66/32 || fail "bogus del v4"
	"$CLEAN_DNS" bogus del 2001:db8:bad::/48 || fail "bogus del v6"
	check_eq "$(bogus_keys "$dir/cdns_bogus" | tr '\n' ';')" \
		"121 00 00 00 00 00 00 00 00 00 00 ff ff cb 00 71 00;" "cdns_bogus keys after del"
	check_eq "$("$CLEAN_DNS" bogus list)" "203.0.113.0/25" "bogus list after del"
	expect_error "del of an unknown address" "198.51.100.66/32 is not a known forged address" \
		"$CLEAN_DNS" bogus del 198.51.100.66
	expect_error "bad address" "bad IPv4 address in '198.51.100.256'" "$CLEAN_DNS" bogus add 198.51.100.256
	expect_error "no address" "usage" "$CLEAN_DNS" bogus add
	expect_error "unknown subcommand" "usage" "$CLEAN_DNS" bogus flush

	"$CLEAN_DNS" bogus defaults >"$TEST_TMP/out" || fail "bogus defaults"
	cat "$TEST_TMP/out"
	list_prefixes "$list" >"$TEST_TMP/shipped"
	grep -q "^clean-dns: $(wc -l <"$TEST_TMP/shipped") forged-address prefixes loaded from " "$TEST_TMP/out" ||
		fail "bogus defaults does not say how many it loaded"
	{ cat "$TEST_TMP/shipped"; echo 203.0.113.0/25; } | sort >"$TEST_TMP/want"
	"$CLEAN_DNS" bogus list | sort >"$TEST_TMP/listed"
	diff "$TEST_TMP/want" "$TEST_TMP/listed" || fail "bogus list after defaults"
	check_eq "$(bogus_keys "$dir/cdns_bogus" | wc -l)" "$(wc -l <"$TEST_TMP/want")" "cdns_bogus entries after defaults"
	bogus_keys "$dir/cdns_bogus" | grep -qx '128 00 00 00 00 00 00 00 00 00 00 ff ff 5d 2e 08 59' ||
		fail "93.46.8.89 (in the shipped list) is not in cdns_bogus"
	bogus_keys "$dir/cdns_bogus" | grep -qx '32 20 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00' ||
		fail "2001::/32 (in the shipped list) is not in cdns_bogus"

	# A bad line is named, with its number.
	printf '192.0.2.1\nnot-a-prefix\n' >"$TEST_TMP/bad.list"
	CLEAN_DNS_BOGUS_LIST=$TEST_TMP/bad.list expect_error "bad list line" "bad.list:2: not a prefix: not-a-prefix" \
		"$CLEAN_DNS" bogus defaults
}

# A resolver with every rule: its genuine answers pass, over IPv4 (where
# there is no flow label to judge) and IPv6 (with a label); the same IPv6
# answer with label 0 is dropped by flow-label.  Uses the shared pins.
test_every_rule_passes_genuine_answers() {
	local id
	host_attached_generic
	"$CLEAN_DNS" resolver add 203.0.113.53 all || fail "resolver add v4"
	"$CLEAN_DNS" resolver add 2001:4860:4860::8888 all || fail "resolver add v6"
	id=$(xdp_id_of eth0) || exit 1
	from_203_0_113_53 "$TEST_TMP/genuine.bin" >"$TEST_TMP/genuine-v4.bin"
	check_eq "$(verdict_of "$id" "$TEST_TMP/genuine-v4.bin")" 2 "genuine IPv4 answer, every rule"
	check_eq "$(verdict_of "$id" "$TEST_TMP/genuine-ipv6.bin")" 2 "genuine IPv6 answer (flow label set), every rule"
	# The flow label is the low 20 bits of the IPv6 header's first word
	# (frame offset 14): keep version and traffic class, clear the label.
	{
		head -c 15 "$TEST_TMP/genuine-ipv6.bin"
		printf '\000\000\000'
		tail -c +19 "$TEST_TMP/genuine-ipv6.bin"
	} >"$TEST_TMP/label0.bin"
	head -c 16 "$TEST_TMP/genuine-ipv6.bin" | tail -c 2 | od -An -tx1 | grep -q '^ 60 05$' ||
		fail "unexpected IPv6 frame layout"
	check_eq "$(verdict_of "$id" "$TEST_TMP/label0.bin")" 1 "IPv6 answer with flow label 0"
	check_eq "$("$CLEAN_DNS" status | awk '$1 == "drop_flow_label" { print $2 }')" 1 "drop_flow_label"
}

# clean-dns set writes struct clean_dns_settings (xdp/clean_dns_common.h):
# a mask of the fields set, then hop_tolerance, hop_max_age_sec and
# query_max_age_ms, host-order u32s; a field not set keeps 0 (the
# program's default).  Checked with bpftool on a private pin directory.
test_set_writes_settings() {
	local dir=/sys/fs/bpf/cdns-test-$TEST_ID
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	export CLEAN_DNS_PIN_DIR=$dir
	settings() {
		bpftool -j map lookup pinned "$dir/cdns_settings" key hex 00 00 00 00 |
			grep -o '"value":\[[^]]*\]' | sed 's/"value":\[//; s/\]//; s/"//g; s/0x//g; s/,/ /g' |
			while read -r -a b; do
				local i out=
				for ((i = 0; i < ${#b[@]}; i += 4)); do
					out+=" $((16#${b[i + 3]}${b[i + 2]}${b[i + 1]}${b[i]}))"
				done
				echo "${out# }"
			done
	}
	"$CLEAN_DNS" set hop-tolerance 3 || fail "set hop-tolerance"
	check_eq "$(settings | cut -d' ' -f1-3)" "1 3 0" "mask, tolerance, max age after set hop-tolerance 3"
	"$CLEAN_DNS" set hop-max-age 600 || fail "set hop-max-age"
	check_eq "$(settings | cut -d' ' -f1-3)" "3 3 600" "mask, tolerance, max age after set hop-max-age 600"
	"$CLEAN_DNS" set hop-tolerance 0 || fail "set hop-tolerance 0"
	check_eq "$(settings | cut -d' ' -f1-3)" "3 0 600" "after set hop-tolerance 0 (0 is a value, not unset)"
	expect_error "not a number" "not a number: 1h" "$CLEAN_DNS" set hop-max-age 1h
	expect_error "unknown setting" "unknown setting 'ttl'" "$CLEAN_DNS" set ttl 1
}

# attach with no mode picks tc on every device kind the bench measured
# (bench/clean-dns-attach.sh: generic XDP costs TCP bulk, tc does not),
# says so and why, and status shows the tc attachment; a bare
# `ip link ... xdpgeneric obj clean-dns.o` still attaches.
test_attach_default_mode() {
	on_exit "'$CLEAN_DNS' reset"
	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	nsx host ip link add mv0 link eth1 type macvlan mode bridge
	nsx host ip link add br0 type bridge
	nsx host ip link add port0 type veth peer name port1
	nsx host ip link set port0 master br0
	nsx host ip tuntap add dev tun0 mode tun
	local dev kind want
	for dev in eth0:veth:clean_dns_tc mv0:macvlan:clean_dns_tc port0:"bridge port":clean_dns_tc \
		tun0:tun:clean_dns_tc_l3; do
		IFS=: read -r dev kind want <<<"$dev"
		nsx host "$CLEAN_DNS" attach "$dev" >"$TEST_TMP/out" 2>&1 || fail "attach $dev: $(cat "$TEST_TMP/out")"
		cat "$TEST_TMP/out"
		grep -q "^clean-dns: attached to $dev (tc)$" "$TEST_TMP/out" || fail "$dev: not attached in tc mode"
		grep -q "^clean-dns: tc by default: $kind" "$TEST_TMP/out" || fail "$dev: no reason naming '$kind'"
		nsx host tc filter show dev "$dev" ingress | grep -q "name $want " || fail "$dev: $want not on ingress"
		nsx host ip -d link show dev "$dev" | grep -q 'prog/xdp' && fail "$dev: an XDP program was attached"
		nsx host "$CLEAN_DNS" status | grep -q "^  $dev *tc ingress" || fail "status does not show $dev in tc"
		nsx host "$CLEAN_DNS" detach "$dev" >/dev/null || fail "detach $dev"
	done
	# An explicit mode is obeyed and says nothing about defaults.
	nsx host "$CLEAN_DNS" attach eth0 generic >"$TEST_TMP/out" || fail "attach eth0 generic"
	grep -q 'by default' "$TEST_TMP/out" && fail "explicit mode reported as a default"
	nsx host "$CLEAN_DNS" detach eth0 >/dev/null || fail "detach eth0"
	# The bare ip command still works on its own.
	nsx host ip link set dev eth0 xdpgeneric obj "$BUILD/clean-dns.o" sec prog || fail "bare ip link xdpgeneric"
	nsx host ip -d link show dev eth0 | grep -q 'prog/xdp id [0-9]* name clean_dns_eth' ||
		fail "bare ip link: not attached"
	nsx host ip link set dev eth0 xdpgeneric off
}

# clean-dns set mode writes struct clean_dns_settings' mode (the fifth u32,
# mask bit 8: 1 observe, 0 enforce) and keeps the other fields; resolver add
# ADDR observe sets RULE_OBSERVE (bit 15) beside the rules.  Checked with
# bpftool on a private pin directory.
test_set_mode_and_observed_resolver() {
	local dir=/sys/fs/bpf/cdns-test-$TEST_ID
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	export CLEAN_DNS_PIN_DIR=$dir
	u32s() {
		grep -o '"value":\[[^]]*\]' | sed 's/"value":\[//; s/\]//; s/"//g; s/0x//g; s/,/ /g' |
			while read -r -a b; do
				local i out=
				for ((i = 0; i < ${#b[@]}; i += 4)); do
					out+=" $((16#${b[i + 3]}${b[i + 2]}${b[i + 1]}${b[i]}))"
				done
				echo "${out# }"
			done
	}
	settings() { bpftool -j map lookup pinned "$dir/cdns_settings" key hex 00 00 00 00 | u32s; }
	"$CLEAN_DNS" set hop-tolerance 2 >/dev/null || fail "set hop-tolerance"
	"$CLEAN_DNS" set mode observe || fail "set mode observe"
	check_eq "$(settings)" "9 2 0 0 1" "settings after set mode observe"
	"$CLEAN_DNS" status | grep -qx 'mode: observe' || fail "status does not say observe"
	"$CLEAN_DNS" set mode enforce || fail "set mode enforce"
	check_eq "$(settings)" "9 2 0 0 0" "settings after set mode enforce"
	"$CLEAN_DNS" status | grep -qx 'mode: enforce' || fail "status does not say enforce"
	expect_error "bad mode" "observe or enforce, not 'dry'" "$CLEAN_DNS" set mode dry

	"$CLEAN_DNS" resolver add 198.51.100.53 observe ipid-zero >/dev/null || fail "resolver add observe"
	check_eq "$(bpftool -j map dump pinned "$dir/cdns_resolvers" | u32s)" $((32768 | 1)) \
		"rules of 198.51.100.53 (RULE_OBSERVE | ipid-zero)"
	"$CLEAN_DNS" resolver list | grep -q '^198.51.100.53/32 *map *observe:ipid-zero$' ||
		fail "resolver list: $("$CLEAN_DNS" resolver list | grep 198.51)"
	"$CLEAN_DNS" resolver add 198.51.100.53 observe >/dev/null || fail "resolver add observe (default rules)"
	check_eq "$(bpftool -j map dump pinned "$dir/cdns_resolvers" | u32s)" $((32768 | 4 | 8 | 16 | 32 | 64 | 256)) \
		"observe alone: the default rules"
	"$CLEAN_DNS" resolver add 198.51.100.53 ipid-zero >/dev/null || fail "resolver add (enforce)"
	check_eq "$(bpftool -j map dump pinned "$dir/cdns_resolvers" | u32s)" 1 "enforced again"
}

# status --json and --prometheus, parsed (python3's json; a strict reading
# of the Prometheus text format), agree with what bpftool dumps of the maps:
# counters summed over CPUs, hop profiles, configured resolvers, and the
# attachments tc and ip show.  Uses the shared pins.
test_status_json_and_prometheus() {
	need python3
	local ids eg in
	on_exit "'$CLEAN_DNS' reset"
	"$CLEAN_DNS" reset >/dev/null
	ns_add host
	nsx host ip link add eth0 type veth peer name eth1
	nsx host ip link add eth2 type veth peer name eth3
	on_exit "nsx host $CLEAN_DNS detach eth0; nsx host $CLEAN_DNS detach eth2"
	"$VECTORS" --write-frames "$TEST_TMP" || fail "write frames"
	nsx host "$CLEAN_DNS" attach eth0 >/dev/null || fail "attach eth0"
	nsx host "$CLEAN_DNS" attach eth2 generic >/dev/null || fail "attach eth2 generic"
	"$CLEAN_DNS" resolver add 198.51.100.53 observe ipid-zero >/dev/null || fail "resolver add"
	"$CLEAN_DNS" set mode observe >/dev/null || fail "set mode"
	# Counters on both CPUs, and a hop count learned from a connection of
	# ours to 8.8.8.8 (SYN out, SYN-ACK and data in).
	eg=$(nsx host tc filter show dev eth0 egress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -n1)
	in=$(nsx host tc filter show dev eth0 ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -n1)
	[ -n "$eg" ] && [ -n "$in" ] || fail "no program ids"
	bpftool prog run id "$eg" data_in "$TEST_TMP/syn-to-resolver.bin" repeat 1 >/dev/null || fail "run syn"
	bpftool prog run id "$in" data_in "$TEST_TMP/synack-from-resolver.bin" repeat 1 >/dev/null || fail "run synack"
	bpftool prog run id "$in" data_in "$TEST_TMP/tcp-data-from-resolver.bin" repeat 1 >/dev/null || fail "run data"
	for ids in 0:forged-ipid-zero 1:forged-aa-single 0:genuine 1:genuine-multi 1:forged-ipid-zero; do
		taskset -c "${ids%%:*}" bpftool prog run id "$in" data_in "$TEST_TMP/${ids#*:}.bin" repeat 1 >/dev/null ||
			fail "run ${ids#*:}"
	done
	nsx host "$CLEAN_DNS" status --json >"$TEST_TMP/status.json" || fail "status --json"
	nsx host "$CLEAN_DNS" status --prometheus >"$TEST_TMP/status.prom" || fail "status --prometheus"
	cat "$TEST_TMP/status.prom"
	local pins=/sys/fs/bpf/tc/globals
	bpftool -j map dump pinned $pins/cdns_counters >"$TEST_TMP/counters.json"
	bpftool -j map dump pinned $pins/cdns_hops >"$TEST_TMP/hops.json"
	bpftool -j map dump pinned $pins/cdns_resolvers >"$TEST_TMP/resolvers.json"
	nsx host tc filter show dev eth0 ingress >"$TEST_TMP/tc-in"
	nsx host tc filter show dev eth0 egress >"$TEST_TMP/tc-eg"
	nsx host ip -d link show dev eth2 >"$TEST_TMP/ip-eth2"
	python3 - "$TEST_TMP" <<'PY' || fail "status --json / --prometheus disagree with bpftool"
import json, re, sys
d = sys.argv[1]
status = json.load(open(d + "/status.json"))
# bpftool: per-CPU values of the counters struct, by field name (BTF).
want = {}
for cpu in json.load(open(d + "/counters.json"))[0]["formatted"]["values"]:
    for k, v in cpu["value"].items():
        want[k] = want.get(k, 0) + v
assert status["counters"] == want, (status["counters"], want)
assert want["would_drop_ipid_zero"] == 2 and want["drop_ipid_zero"] == 0, want
assert want["hop_count_learned"] == 1, want
assert status["mode"] == "observe", status["mode"]
# hop profiles: {addr key, ttl}
hops = {}
for e in json.load(open(d + "/hops.json")):
    k = [int(b, 16) for b in e["key"]]
    addr = ".".join(str(b) for b in k[16:20]) if k[14:16] == [255, 255] else None
    v = [int(b, 16) for b in e["value"]]
    hops[addr] = int.from_bytes(bytes(v[8:12]), "little")
got = {h["resolver"]: h["ttl"] for h in status["hop_profiles"]}
assert got == hops and len(got) == 1, (got, hops)
# resolvers configured in the map: prefix -> rules word
res = {}
for e in json.load(open(d + "/resolvers.json")):
    k = [int(b, 16) for b in e["key"]]
    plen = int.from_bytes(bytes(k[0:4]), "little")
    res[".".join(str(b) for b in k[16:20]) + "/" + str(plen - 96)] = int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little")
mapped = {r["prefix"]: r for r in status["resolvers"] if r["source"] == "map"}
assert set(mapped) == set(res), (mapped, res)
assert mapped["198.51.100.53/32"]["observe"] is True and res["198.51.100.53/32"] == 0x8001
assert mapped["198.51.100.53/32"]["rules"] == ["ipid-zero"]
assert any(r["prefix"] == "8.8.8.8/32" and r["source"] == "default" for r in status["resolvers"])
# attachments, as tc and ip show them
tc_in = re.search(r"name (clean_dns_\w+)", open(d + "/tc-in").read()).group(1)
tc_eg = re.search(r"name (clean_dns_\w+)", open(d + "/tc-eg").read()).group(1)
xdp = re.search(r"prog/xdp id \d+ name (\w+)", open(d + "/ip-eth2").read()).group(1)
att = {(a["interface"], a["hook"], a.get("mode", a.get("direction")), a["program"]) for a in status["attachments"]}
assert att == {("eth0", "tc", "ingress", tc_in), ("eth0", "tc", "egress", tc_eg),
               ("eth2", "xdp", "generic", xdp), ("eth2", "tc", "egress", "clean_dns_eg")}, att

# Prometheus text format, read strictly: HELP and TYPE before a family's
# samples, names and labels as the format defines them, one value each.
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
sample_re = re.compile(r"^(" + name_re + r")(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$")
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)')
types, samples, seen = {}, [], set()
for line in open(d + "/status.prom").read().splitlines():
    if line.startswith("# HELP "):
        name = line.split(" ")[2]
        assert re.fullmatch(name_re, name), line
    elif line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ")
        assert kind in ("counter", "gauge") and name not in types, line
        types[name] = kind
    else:
        m = sample_re.match(line)
        assert m, "not a sample: " + line
        name, labels = m.group(1), {}
        assert name in types, "sample before its TYPE: " + line
        pos, text = 0, m.group(3) or ""
        while pos < len(text):
            lm = label_re.match(text, pos)
            assert lm, "bad labels: " + line
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, "duplicate: " + line
        seen.add(key)
        samples.append((name, labels, float(m.group(4))))
prom = {}
for name, labels, value in samples:
    if name == "clean_dns_inspected_packets_total":
        prom["inspected"] = value
    elif name == "clean_dns_passed_packets_total":
        prom["pass_" + labels["reason"]] = value
    elif name == "clean_dns_dropped_packets_total":
        prom["drop_" + labels["rule"]] = value
    elif name == "clean_dns_would_drop_packets_total":
        prom["would_drop_" + labels["rule"]] = value
    elif name == "clean_dns_events_total":
        prom[labels["event"]] = value
assert prom == {k: float(v) for k, v in want.items()}, (prom, want)
for t in ("clean_dns_inspected_packets_total", "clean_dns_dropped_packets_total"):
    assert types[t] == "counter"
assert ("clean_dns_observe_mode", (), ) and any(n == "clean_dns_observe_mode" and v == 1 for n, _, v in samples)
ttl = [(l["resolver"], v) for n, l, v in samples if n == "clean_dns_hop_profile_ttl"]
assert ttl == [(a, float(t)) for a, t in hops.items()], ttl
attp = {(l["interface"], l["hook"], l["mode"], l["program"]) for n, l, v in samples if n == "clean_dns_attached"}
assert attp == att, attp
obs = {l["rule"] for n, l, v in samples if n == "clean_dns_resolver_rule" and l["prefix"] == "198.51.100.53/32" and l["observe"] == "1"}
assert obs == {"ipid-zero"}, obs
print("json and prometheus agree with bpftool: %d counters, %d hop profile(s), %d samples" % (len(want), len(hops), len(samples)))
PY
}
