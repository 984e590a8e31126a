# shellcheck shell=bash
# Boot integration: make install's file list, the systemd units, the shell
# lint of everything shipped, the ifupdown hooks attaching for real in a
# namespace, and the OpenWrt procd script and hotplug hook under stubs.
# timeout: 300

BOOT_OWN_SCRIPTS="scripts/ifupdown/if-up.d/clean-dns scripts/ifupdown/if-down.d/clean-dns
scripts/openwrt/clean-dns.init scripts/openwrt/clean-dns.hotplug scripts/openwrt/clean-dns.config
scripts/systemd/clean-dns.default"

# installed_list DIR: "MODE PATH" of every file under DIR, sorted.
installed_list() {
	(cd "$1" && find . -type f -printf '%m %P\n' | LC_ALL=C sort -k2)
}

# check_list DIR WANT: the files under DIR are exactly WANT (one "MODE PATH" a line).
check_list() {
	local got
	got=$(installed_list "$1")
	if [ "$got" != "$2" ]; then
		diff <(echo "$2") <(echo "$got") | sed 's/^/# /'
		fail "installed files under $1 differ (< wanted, > got)"
	fi
	log "ok: $(echo "$got" | wc -l) files with the expected modes"
}

BOOT_FILES="644 etc/default/clean-dns
755 etc/network/if-down.d/clean-dns
755 etc/network/if-up.d/clean-dns
644 etc/sockfwd.conf.example
644 usr/lib/sysusers.d/sockfwd.conf"

test_install_boot_files() {
	local root=$TEST_TMP/root want
	make -s --no-print-directory install-boot DESTDIR="$root" PREFIX=/usr \
		SYSTEMDDIR=/lib/systemd/system OPENWRT=1 >"$TEST_TMP/make.log" 2>&1 ||
		{ cat "$TEST_TMP/make.log"; fail "make install-boot failed"; }
	want=$(printf '%s\n' "644 etc/config/clean-dns" "$BOOT_FILES" \
		"644 etc/hotplug.d/iface/30-clean-dns" "755 etc/init.d/clean-dns" \
		"644 lib/systemd/system/clean-dns@.service" "644 lib/systemd/system/sockfwd.service" \
		"644 lib/systemd/system/clean-dns-learn.service" "644 lib/systemd/system/clean-dns-learn.timer" |
		LC_ALL=C sort -k2)
	check_list "$root" "$want"

	# Paths are filled in; the hooks have names run-parts accepts.
	grep -rn '@[A-Z]*@' "$root" && fail "unsubstituted @VAR@ left in installed files"
	grep -q '^ExecStart=/usr/sbin/clean-dns attach %I \$CLEAN_DNS_MODE$' \
		"$root/lib/systemd/system/clean-dns@.service" || fail "clean-dns@.service ExecStart path"
	grep -q '^ExecStart=/usr/sbin/sockfwd -c /etc/sockfwd.conf --status-socket /run/sockfwd/status.sock$' \
		"$root/lib/systemd/system/sockfwd.service" || fail "sockfwd.service ExecStart path"
	grep -q '^CLEAN_DNS=${CLEAN_DNS_CMD:-/usr/sbin/clean-dns}$' "$root/etc/init.d/clean-dns" ||
		fail "OpenWrt init script: clean-dns path"
	local dir
	for dir in if-up.d if-down.d; do
		check_eq "$(run-parts --test "$root/etc/network/$dir")" \
			"$root/etc/network/$dir/clean-dns" "run-parts picks up $dir/clean-dns"
	done

	# An edited configuration survives a second install, and uninstall.
	echo 'CLEAN_DNS_INTERFACES="eth9"' >>"$root/etc/default/clean-dns"
	echo "# edited" >>"$root/etc/config/clean-dns"
	make -s --no-print-directory install-boot DESTDIR="$root" PREFIX=/usr \
		SYSTEMDDIR=/lib/systemd/system OPENWRT=1 >"$TEST_TMP/make.log" 2>&1 ||
		fail "second make install-boot failed"
	grep -q eth9 "$root/etc/default/clean-dns" || fail "install overwrote /etc/default/clean-dns"
	grep -q edited "$root/etc/config/clean-dns" || fail "install overwrote /etc/config/clean-dns"
	log "ok: edited configuration kept by a second install"

	make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr \
		SYSTEMDDIR=/lib/systemd/system >"$TEST_TMP/make.log" 2>&1 || fail "make uninstall failed"
	check_list "$root" "$(printf '%s\n' "644 etc/config/clean-dns" "644 etc/default/clean-dns")"
}

test_install_full() {
	local f
	for f in scripts/clean-dns scripts/sockfwd-load xdp/clean_dns.bpf.c sk_skb/sockfwd.bpf.c; do
		[ -e "$f" ] || skip "$f not written yet"
	done
	local helper=
	for f in sk_skb/*.c; do
		case $f in
		*.bpf.c) ;;
		*) [ -e "$f" ] && helper=$f ;;
		esac
	done
	[ -n "$helper" ] || skip "the sockfwd helper's sources are not written yet"

	local root=$TEST_TMP/root want
	make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr >"$TEST_TMP/make.log" 2>&1 ||
		{ tail -n 20 "$TEST_TMP/make.log"; fail "make install failed"; }
	want=$(printf '%s\n' "$BOOT_FILES" \
		"644 usr/lib/bpf/bpfeb/clean-dns-tc.o" "644 usr/lib/bpf/bpfeb/clean-dns.o" \
		"644 usr/lib/bpf/bpfeb/sockfwd.o" "644 usr/lib/bpf/clean-dns-tc.o" \
		"644 usr/lib/bpf/clean-dns.o" "644 usr/lib/bpf/sockfwd.o" \
		"755 usr/lib/clean-dns/clean-dns-tables" \
		"644 usr/lib/systemd/system/clean-dns@.service" \
		"644 usr/lib/systemd/system/sockfwd.service" \
		"644 usr/lib/systemd/system/clean-dns-learn.service" \
		"644 usr/lib/systemd/system/clean-dns-learn.timer" \
		"644 usr/share/clean-dns/forged-addresses.list" \
		"755 usr/sbin/clean-dns" "755 usr/sbin/clean-dns-watch" "755 usr/sbin/sockfwd" \
		"755 usr/sbin/sockfwd-load" "$(cd "$ROOT/man" && printf '644 usr/share/man/man8/%s\n' *.8)" |
		LC_ALL=C sort -k2)
	check_list "$root" "$want"

	# Every program a unit runs from $(SBINDIR) is installed there.
	local unit cmd
	for unit in "$root"/usr/lib/systemd/system/*.service; do
		for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\(\/usr\/sbin\/[^ ]*\).*/\1/p' "$unit"); do
			[ -x "$root$cmd" ] || fail "$(basename "$unit") runs $cmd, which make install did not install"
		done
	done
	log "ok: the units' commands are installed"

	make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr >"$TEST_TMP/make.log" 2>&1 ||
		fail "make uninstall failed"
	check_list "$root" "644 etc/default/clean-dns"
}

# verify_units DIR UNIT...: systemd-analyze verify, which must succeed and
# print nothing (it reports unknown keys and bad values on stderr but still
# exits 0).  Prints what it said.
verify_units() {
	local dir=$1 out rc
	shift
	out=$(cd "$dir" && systemd-analyze verify --man=no "$@" 2>&1)
	rc=$?
	printf '%s' "$out"
	[ "$rc" -eq 0 ] && [ -z "$out" ]
}

test_systemd_units_verify() {
	need systemd-analyze
	local root=$TEST_TMP/root vdir=$TEST_TMP/verify p out
	make -s --no-print-directory install-boot DESTDIR="$root" PREFIX=/usr >"$TEST_TMP/make.log" 2>&1 ||
		{ cat "$TEST_TMP/make.log"; fail "make install-boot failed"; }
	# verify checks that each command exists; the units name /usr/sbin,
	# which is not this host's: point them at an executable stand-in tree
	# (test_install_full checks that make install puts the real ones there).
	mkdir -p "$vdir/usr/sbin"
	for p in clean-dns sockfwd sockfwd-load; do
		printf '#!/bin/sh\nexit 0\n' >"$vdir/usr/sbin/$p"
		chmod 0755 "$vdir/usr/sbin/$p"
	done
	for p in "$root"/usr/lib/systemd/system/*; do
		sed "s#/usr/sbin/#$vdir/usr/sbin/#g" "$p" >"$vdir/$(basename "$p")"
	done
	# A template is verified through an instance.
	ln -s clean-dns@.service "$vdir/clean-dns@eth0.service"
	out=$(verify_units "$vdir" ./clean-dns@eth0.service ./sockfwd.service \
		./clean-dns-learn.service ./clean-dns-learn.timer) ||
		fail "systemd-analyze verify: $out"
	log "ok: systemd-analyze verify accepts clean-dns@eth0, clean-dns-learn and sockfwd units"

	# The check catches a typo in a key and in a value.
	sed 's/^RemainAfterExit=/RemainAfterExti=/' "$vdir/clean-dns@.service" >"$vdir/typo-key@.service"
	ln -s typo-key@.service "$vdir/typo-key@eth0.service"
	out=$(verify_units "$vdir" ./typo-key@eth0.service) && fail "verify missed a misspelt key"
	log "ok: a misspelt key is caught: $out"
	sed 's/^Type=exec/Type=exce/' "$vdir/sockfwd.service" >"$vdir/typo-value.service"
	out=$(verify_units "$vdir" ./typo-value.service) && fail "verify missed a bad value"
	log "ok: a bad value is caught: $out"

	# What the units promise: device binding, oneshot, bounded capabilities.
	local cd="$vdir/clean-dns@.service" sf="$vdir/sockfwd.service"
	grep -qx 'BindsTo=sys-subsystem-net-devices-%i.device' "$cd" || fail "clean-dns@: BindsTo"
	grep -qx 'After=sys-subsystem-net-devices-%i.device' "$cd" || fail "clean-dns@: After"
	grep -qx 'Type=oneshot' "$cd" && grep -qx 'RemainAfterExit=yes' "$cd" || fail "clean-dns@: oneshot"
	grep -qx 'EnvironmentFile=-/etc/default/clean-dns' "$cd" || fail "clean-dns@: EnvironmentFile"
	grep -q "^ExecStop=-$vdir/usr/sbin/clean-dns detach %I$" "$cd" || fail "clean-dns@: ExecStop"
	# sockfwd: only the loader is privileged ("+"); the helper is user
	# sockfwd with no capability at all.
	grep -q "^ExecStartPre=+$vdir/usr/sbin/sockfwd-load load -g sockfwd$" "$sf" || fail "sockfwd: ExecStartPre"
	grep -q "^ExecStopPost=+-$vdir/usr/sbin/sockfwd-load unload$" "$sf" || fail "sockfwd: ExecStopPost"
	grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$sf" || fail "sockfwd: ExecReload"
	check_eq "$(grep -c '^Exec.*=+' "$sf")" 3 "sockfwd: commands with full privileges (bpffs mount, load, unload)"
	check_eq "$(sed -n 's/^User=//p; s/^Group=//p' "$sf" | tr '\n' ' ')" "sockfwd sockfwd " "sockfwd: user and group"
	check_eq "$(sed -n 's/^CapabilityBoundingSet=/[/p; s/^AmbientCapabilities=/[/p' "$sf" | tr '\n' ']')" \
		"[][]" "sockfwd capabilities (bounding set, ambient)"
	grep -qx 'NoNewPrivileges=yes' "$sf" && grep -qx 'ProtectSystem=strict' "$sf" &&
		grep -qx 'PrivateTmp=yes' "$sf" && grep -qx 'RuntimeDirectory=sockfwd' "$sf" ||
		fail "sockfwd: sandbox"
	# The threshold is in tenths of the printed exposure level (0.0-10.0):
	# 3.0 here with the helper unprivileged (it was 4.x as root).
	out=$(cd "$vdir" && systemd-analyze security --offline=yes --threshold=35 ./sockfwd.service 2>&1) ||
		fail "sockfwd.service exposure above 3.5: $(echo "$out" | tail -n1)"
	log "ok: $(echo "$out" | tail -n1)"
}

test_shell_lint() {
	need shellcheck
	local f shells=dash scripts=$BOOT_OWN_SCRIPTS
	command -v busybox >/dev/null && shells="$shells busybox-ash"
	# Also the other shipped scripts, once they exist.
	for f in scripts/clean-dns scripts/sockfwd-load; do
		if [ -e "$f" ]; then
			scripts="$scripts $f"
		else
			log "not yet written, not checked: $f"
		fi
	done
	for f in $scripts; do
		dash -n "$f" || fail "dash -n $f"
		if command -v busybox >/dev/null; then
			busybox ash -n "$f" || fail "busybox ash -n $f"
		fi
		shellcheck -s sh -S warning "$f" || fail "shellcheck $f"
		log "ok: $f ($shells, shellcheck -s sh)"
	done
	for f in scripts/ifupdown/if-up.d/clean-dns scripts/ifupdown/if-down.d/clean-dns \
		scripts/openwrt/clean-dns.init; do
		[ -x "$f" ] || fail "$f is not executable"
	done
	# run-parts(8) runs only names made of [A-Za-z0-9_-].
	for f in scripts/ifupdown/*/*; do
		case $(basename "$f") in
		*[!A-Za-z0-9_-]*) fail "run-parts would skip $f" ;;
		esac
	done
	log "ok: hooks executable, names valid for run-parts"
}

# --- ifupdown hooks, for real, in a namespace ---

need_clean_dns() {
	[ -x scripts/clean-dns ] || skip "scripts/clean-dns not written yet"
	[ -f build/clean-dns.o ] && [ -f build/clean-dns-tc.o ] || skip "build/clean-dns.o not built yet"
	need ip tc bpftool
}

# xdp_name IFACE: name of the XDP program on IFACE in namespace a, or nothing.
xdp_name() {
	nsx a ip -d -o link show dev "$1" | sed -n 's/.*prog\/xdp id [0-9]* name \([^ ]*\).*/\1/p'
}

# hook up|down IFACE [VAR=VALUE...]: run the ifupdown hook as ifup/ifdown
# would, in namespace a; its stderr lands in $TEST_TMP/hook.err.  Fails
# the test if the hook exits non-zero: it must never fail ifup.
hook() {
	local dir mode phase iface=$2
	case $1 in
	up) dir=if-up.d mode=start phase=post-up ;;
	down) dir=if-down.d mode=stop phase=pre-down ;;
	esac
	shift 2
	nsx a env IFACE="$iface" LOGICAL="$iface" ADDRFAM=inet METHOD=manual \
		MODE="$mode" PHASE="$phase" VERBOSITY=1 \
		CLEAN_DNS_DEFAULTS="$TEST_TMP/clean-dns.defaults" CLEAN_DNS_CMD="$ROOT/scripts/clean-dns" \
		"$@" "$ROOT/scripts/ifupdown/$dir/clean-dns" 2>"$TEST_TMP/hook.err" ||
		{ cat "$TEST_TMP/hook.err"; fail "$dir hook exited non-zero for $iface"; }
	sed 's/^/#   hook: /' "$TEST_TMP/hook.err"
}

test_ifupdown_hooks_attach_detach() {
	need_clean_dns
	local progs name
	# The programs the object holds, as the kernel names them (15 chars).
	progs=$(readelf -sW build/clean-dns.o | awk '$4 == "FUNC" && $5 == "GLOBAL" { print substr($8, 1, 15) }')
	[ -n "$progs" ] || fail "no programs found in build/clean-dns.o"

	ns_add a
	ns_add b
	veth a va b vb
	nsx a ip link add vc type veth peer name vd
	nsx a ip link set vc up
	nsx a ip link set vd up
	cat >"$TEST_TMP/clean-dns.defaults" <<-'EOF'
		# listed: va, and one that does not exist
		CLEAN_DNS_INTERFACES="va nosuch0"
		CLEAN_DNS_MODE=generic
	EOF

	# Opting out in interfaces(5) wins over the list.
	hook up va IF_CLEAN_DNS_MODE=off
	check_eq "$(xdp_name va)" "" "XDP on va with clean-dns-mode off"

	hook up va
	name=$(xdp_name va)
	echo "$progs" | grep -qx "$name" || fail "va: XDP program '$name' is not one of build/clean-dns.o's: $progs"
	nsx a ip -o link show dev va | grep -q ' xdpgeneric ' || fail "va: not attached in generic mode"
	log "ok: if-up attached $name (generic) to va"

	# ifupdown runs the hook again for an inet6 stanza: no error, still attached.
	hook up va ADDRFAM=inet6
	grep -q 'failed' "$TEST_TMP/hook.err" && fail "second if-up on va reported a failure"
	check_eq "$(xdp_name va)" "$name" "XDP on va after a second if-up"

	# Not configured, loopback, the --all pass: left alone, silently.
	local i
	for i in vc lo --all; do
		hook up "$i"
		[ -s "$TEST_TMP/hook.err" ] && fail "the hook spoke about $i, which it should ignore"
	done
	check_eq "$(xdp_name vc)" "" "XDP on unconfigured vc"
	check_eq "$(xdp_name lo)" "" "XDP on lo"

	# Listed but missing: logged, and ifup goes on (hook() checks exit 0).
	hook up nosuch0
	grep -q 'attach failed' "$TEST_TMP/hook.err" || fail "no error logged for a missing interface"
	log "ok: a failed attach is logged and exits 0"

	# The interfaces(5) option alone: "clean-dns-mode tc" on vc.
	hook up vc IF_CLEAN_DNS_MODE=tc
	nsx a tc filter show dev vc ingress | grep -q 'clean_dns' || fail "vc: no tc filter after if-up"
	log "ok: clean-dns-mode tc in interfaces(5) attached a tc filter to vc"
	hook down vc IF_CLEAN_DNS_MODE=tc
	nsx a tc filter show dev vc ingress | grep -q 'clean_dns' && fail "vc: tc filter left after if-down"
	log "ok: if-down removed it"

	hook down va
	check_eq "$(xdp_name va)" "" "XDP on va after if-down"
	# Down again (second stanza): nothing to do, no failure.
	hook down va ADDRFAM=inet6
	grep -q 'failed' "$TEST_TMP/hook.err" && fail "second if-down on va reported a failure"
	true
}

# Running a unit's command lines the way systemd would, near enough for our
# units: %i and %I become the instance; Environment= and then ENVFILE
# (standing in for EnvironmentFile=) set variables, and a bare $VAR word is
# split or, when empty, dropped; commands run under the unit's
# CapabilityBoundingSet with no_new_privs, unless prefixed "+"; "-" ignores
# a failure.

# unit_bset UNIT: its CapabilityBoundingSet= in setpriv's --bounding-set form.
unit_bset() {
	local c bset=-all
	for c in $(sed -n 's/^CapabilityBoundingSet=//p' "$1"); do
		c=${c#CAP_}
		bset="$bset,+${c,,}"
	done
	echo "$bset"
}

# unit_env UNIT ENVFILE: export the unit's Environment= values, then ENVFILE's.
unit_env() {
	local line
	while IFS= read -r line; do
		export "${line?}"
	done < <(sed -n 's/^Environment=//p' "$1")
	set -a
	# shellcheck source=/dev/null
	. "$2"
	set +a
}

# unit_parse LINE INSTANCE: LINE's command in UNIT_ARGV, its prefixes in
# UNIT_FULL ("+") and UNIT_IGNORE ("-").
unit_parse() {
	local line=$1
	line=${line//%I/$2}
	line=${line//%i/$2}
	UNIT_FULL='' UNIT_IGNORE=''
	while :; do
		case $line in
		-*) UNIT_IGNORE=1 line=${line#-} ;;
		+*) UNIT_FULL=1 line=${line#+} ;;
		[@!:]*) fail "unit_parse: prefix ${line:0:1} not emulated" ;;
		*) break ;;
		esac
	done
	eval "UNIT_ARGV=($line)"
}

# unit_exec UNIT KEY INSTANCE ENVFILE: run the unit's KEY= lines in namespace a.
unit_exec() {
	local unit=$1 key=$2 inst=$3 envfile=$4
	(
		local line bset
		bset=$(unit_bset "$unit")
		unit_env "$unit" "$envfile"
		while IFS= read -r line; do
			unit_parse "$line" "$inst"
			log "$key: ${UNIT_ARGV[*]}${UNIT_FULL:+ (full privileges)}"
			if [ -n "$UNIT_FULL" ]; then
				nsx a "${UNIT_ARGV[@]}"
			else
				nsx a setpriv --no-new-privs --bounding-set="$bset" -- "${UNIT_ARGV[@]}"
			fi || [ -n "$UNIT_IGNORE" ] || fail "$key failed: ${UNIT_ARGV[*]}"
		done < <(sed -n "s/^$key=//p" "$unit")
	) || exit 1
}

test_systemd_unit_commands_run() {
	need_clean_dns
	need setpriv
	ns_add a
	ns_add b
	veth a va b vb
	# Units whose commands are the source tree's scripts.
	make -s --no-print-directory install-boot DESTDIR="$TEST_TMP/root" PREFIX=/usr SBINDIR="$ROOT/scripts" \
		>"$TEST_TMP/make.log" 2>&1 || { cat "$TEST_TMP/make.log"; fail "make install-boot failed"; }
	local unit env=$TEST_TMP/env mode
	unit=$TEST_TMP/root/usr/lib/systemd/system/clean-dns@.service
	grep -q "^ExecStart=$ROOT/scripts/clean-dns attach" "$unit" || fail "unit not generated with SBINDIR"

	# The shipped defaults file (auto), tc, generic, and an empty mode
	# (clean-dns's default, auto).  On a veth auto is tc.
	for mode in shipped:tc tc:tc generic:generic empty:tc; do
		case ${mode%:*} in
		shipped) cp scripts/systemd/clean-dns.default "$env" ;;
		empty) echo 'CLEAN_DNS_MODE=""' >"$env" ;;
		*) echo "CLEAN_DNS_MODE=${mode%:*}" >"$env" ;;
		esac
		unit_exec "$unit" ExecStartPre va "$env"
		unit_exec "$unit" ExecStart va "$env"
		if [ "${mode#*:}" = tc ]; then
			nsx a tc filter show dev va ingress | grep -q clean_dns || fail "no tc filter on va"
		else
			nsx a ip -o link show dev va | grep -q ' xdpgeneric ' || fail "no generic XDP on va"
			[ -n "$(xdp_name va)" ] || fail "no XDP program on va"
		fi
		log "ok: ExecStart attached to va in ${mode#*:} mode (CLEAN_DNS_MODE ${mode%:*})"
		unit_exec "$unit" ExecStop va "$env"
		check_eq "$(xdp_name va)$(nsx a tc filter show dev va ingress)" "" "XDP and tc on va after ExecStop"
	done
	# "-": ExecStop on an interface with nothing attached does not fail the stop.
	unit_exec "$unit" ExecStop va "$env"
}

# unit_user_priv UNIT: in UNIT_PRIV, the setpriv command that gives a
# command the unit's User= and Group=, its CapabilityBoundingSet= and
# AmbientCapabilities= and no_new_privs (what systemd does for a command
# without "+").
unit_user_priv() {
	local amb=-all c
	for c in $(sed -n 's/^AmbientCapabilities=//p' "$1"); do
		c=${c#CAP_}
		amb="$amb,+${c,,}"
	done
	UNIT_PRIV=(setpriv --reuid="$(sed -n 's/^User=//p' "$1")" --regid="$(sed -n 's/^Group=//p' "$1")"
		--init-groups --no-new-privs --bounding-set="$(unit_bset "$1")" --inh-caps="$amb"
		--ambient-caps="$amb" --)
}

# unit_user_exec UNIT CMD...: CMD so, in namespace a.
unit_user_exec() {
	unit_user_priv "$1"
	shift
	nsx a "${UNIT_PRIV[@]}" "$@"
}

# sfw_unit_start UNIT ENVFILE LOG: the unit's ExecStart in the background,
# as systemd keeps it; its PID (the helper's own) in SFW_UNIT_PID.
sfw_unit_start() {
	unit_parse "$(sed -n 's/^ExecStart=//p' "$1")" -
	unit_user_priv "$1"
	(
		unit_env "$1" "$2"
		exec nsenter --net="$(ns_path a)" -- "${UNIT_PRIV[@]}" "${UNIT_ARGV[@]}"
	) >"$3" 2>&1 &
	SFW_UNIT_PID=$!
	_lib_pids+=("$SFW_UNIT_PID")
}

# sockfwd.service's commands the way systemd runs them: the loader with
# full privileges ("+"), the helper as the unit's user with its (empty)
# capability sets and no_new_privs.  The user and group are sockfwd in
# the unit; here they are nobody and nogroup (no users are made on the
# host), the same substitution in "sockfwd-load -g".  RuntimeDirectory=
# is a directory of the test's, made as systemd would (owner, 0750).
test_systemd_sockfwd_commands_run() {
	local f
	for f in scripts/sockfwd-load build/sockfwd build/sockfwd.o; do
		[ -e "$f" ] || skip "$f not there yet"
	done
	need setpriv socat bpftool
	ns_add a
	chmod 0711 "$TEST_TMP" # the unit's user reads its configuration below
	local sbin=$TEST_TMP/sbin etc=$TEST_TMP/etc run=$TEST_TMP/run unit envfile=$TEST_TMP/env
	mkdir -p "$sbin" "$etc" "$run"
	chown nobody:nogroup "$run"
	chmod 0750 "$run"
	ln -s "$ROOT/build/sockfwd" "$sbin/sockfwd"
	ln -s "$ROOT/scripts/sockfwd-load" "$sbin/sockfwd-load"
	make -s --no-print-directory install-boot DESTDIR="$TEST_TMP/root" PREFIX=/usr \
		SBINDIR="$sbin" SYSCONFDIR="$etc" >"$TEST_TMP/make.log" 2>&1 ||
		{ cat "$TEST_TMP/make.log"; fail "make install-boot failed"; }
	unit=$TEST_TMP/root/usr/lib/systemd/system/sockfwd.service
	grep -q "^ConditionPathExists=$etc/sockfwd.conf$" "$unit" || fail "unit not generated with SYSCONFDIR"
	sed -i "s/^User=sockfwd$/User=nobody/; s/^Group=sockfwd$/Group=nogroup/
		s/ -g sockfwd$/ -g nogroup/; s#/run/sockfwd/#$run/#" "$unit"
	# A pin directory of our own (what an Environment= drop-in would set).
	local pins=/sys/fs/bpf/sockfwd-$TEST_ID
	printf 'SOCKFWD_PIN_DIR=%s\nSOCKFWD_OBJ=%s\n' "$pins" "$ROOT/build/sockfwd.o" >"$envfile"
	on_exit "SOCKFWD_PIN_DIR=$pins $ROOT/scripts/sockfwd-load unload"
	printf '# test\n127.0.0.1:8080 127.0.0.1:9090\n' >"$etc/sockfwd.conf"

	unit_exec "$unit" ExecStartPre - "$envfile"
	[ -e "$pins/sockfwd_peers" ] || fail "ExecStartPre did not pin the maps in $pins"
	check_eq "$(stat -c '%G %a' "$pins" "$pins/sockfwd_peers" | tr '\n' ' ')" "nogroup 750 nogroup 660 " \
		"pins' group and modes"
	log "ok: ExecStartPre (full privileges) loaded and pinned sockfwd for the unit's group"

	local sockfwd_pid status
	sfw_unit_start "$unit" "$envfile" "$TEST_TMP/sockfwd.log"
	sockfwd_pid=$SFW_UNIT_PID
	wait_for 5 grep -q 'ready' "$TEST_TMP/sockfwd.log" ||
		{ cat "$TEST_TMP/sockfwd.log"; fail "sockfwd did not start"; }
	grep -q "maps $pins" "$TEST_TMP/sockfwd.log" ||
		{ cat "$TEST_TMP/sockfwd.log"; fail "sockfwd is not using the pinned maps"; }
	log "ok: $(grep ready "$TEST_TMP/sockfwd.log")"
	status=/proc/$sockfwd_pid/status
	check_eq "$(awk '/^(Uid|Gid):/ { printf "%s ", $2 }' "$status")" "65534 65534 " "helper's uid and gid"
	check_eq "$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s ", $2 }' "$status")" \
		"$(printf '0000000000000000 %.0s' 1 2 3 4 5)" "helper's capability sets (inh prm eff bnd amb)"
	check_eq "$(awk '/^NoNewPrivs:/ { print $2 }' "$status")" 1 "helper's no_new_privs"

	bg a socat TCP-LISTEN:9090,bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo hello-through-sockfwd'
	wait_for 5 nsx a bash -c 'exec 3<>/dev/tcp/127.0.0.1/9090' || fail "target did not listen"
	check_eq "$(nsx a timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && cat <&3')" \
		"hello-through-sockfwd" "reply through sockfwd"
	# The flow went through the sockmap, not a fallback.  Its counter
	# moves when the flow closes, a moment after the client saw EOF.
	wait_for 5 grep -q ' close=' "$TEST_TMP/sockfwd.log" ||
		{ cat "$TEST_TMP/sockfwd.log"; fail "the flow did not close"; }
	grep ' close=' "$TEST_TMP/sockfwd.log" | grep -q ' mode=sockmap ' ||
		fail "flow not in sockmap mode: $(grep ' close=' "$TEST_TMP/sockfwd.log")"
	kill -USR1 "$sockfwd_pid"
	wait_for 5 grep -q 'counters' "$TEST_TMP/sockfwd.log" || fail "no counters after SIGUSR1"
	grep 'counters' "$TEST_TMP/sockfwd.log" | grep -q ' sockmap=1 ' ||
		fail "flow not in sockmap mode: $(grep counters "$TEST_TMP/sockfwd.log")"
	log "ok: the flow used the sockmap, as nobody with no capability"
	"$ROOT/build/sockfwd" --status="$run/status.sock" | grep -q "^sockfwd pid=$sockfwd_pid " ||
		fail "no --status on the runtime directory's socket"
	log "ok: sockfwd --status reads $run/status.sock"

	# ExecReload, as the unit's user: a new listener from the file.
	printf '127.0.0.1:8080 127.0.0.1:9090\n127.0.0.1:8081 127.0.0.1:9090\n' >"$etc/sockfwd.conf"
	unit_parse "$(sed -n 's/^ExecReload=//p' "$unit" | sed "s/\$MAINPID/$sockfwd_pid/")" -
	unit_user_exec "$unit" "${UNIT_ARGV[@]}" || fail "ExecReload failed"
	wait_for 5 grep -q 'reloaded .* 1 kept, 1 added\|reloaded .*1 listeners kept, 1 added' "$TEST_TMP/sockfwd.log" ||
		{ cat "$TEST_TMP/sockfwd.log"; fail "ExecReload did not reload"; }
	check_eq "$(nsx a timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8081 && cat <&3')" \
		"hello-through-sockfwd" "reply through the listener the reload added"

	# SIGTERM, systemd's stop: sockfwd exits 0, then ExecStopPost unloads.
	kill -TERM "$sockfwd_pid"
	wait "$sockfwd_pid"
	check_eq "$?" 0 "sockfwd's exit status after SIGTERM"
	unit_exec "$unit" ExecStopPost - "$envfile"
	[ -e "$pins" ] && fail "ExecStopPost left $pins"
	log "ok: ExecStopPost removed the pins"
}

# A listen port below 1024: the unit as shipped cannot bind it (and says
# so); with the drop-in its header documents, it can.  Also the sysusers.d
# file makes the unit's user and group.
test_systemd_sockfwd_low_port_and_user() {
	local f
	for f in scripts/sockfwd-load build/sockfwd; do
		[ -e "$f" ] || skip "$f not there yet"
	done
	need setpriv systemd-sysusers
	ns_add a
	chmod 0711 "$TEST_TMP"
	local etc=$TEST_TMP/etc unit=$TEST_TMP/sockfwd.service rc
	mkdir -p "$etc"
	printf '127.0.0.1:80 127.0.0.1:9\n' >"$etc/sockfwd.conf"
	sed "s#@SBINDIR@#$ROOT/build#; s#@SYSCONFDIR@#$etc#; s/^User=sockfwd$/User=nobody/
		s/^Group=sockfwd$/Group=nogroup/; s# --status-socket [^ ]*##" \
		scripts/systemd/sockfwd.service.in >"$unit"
	unit_parse "$(sed -n 's/^ExecStart=//p' "$unit")" -
	unit_user_exec "$unit" timeout 2 "${UNIT_ARGV[@]}" --mode copy >"$TEST_TMP/low.log" 2>&1
	rc=$?
	log "port 80 as shipped: exit $rc: $(cat "$TEST_TMP/low.log")"
	grep -q "cannot listen on 127.0.0.1:80: Permission denied" "$TEST_TMP/low.log" ||
		fail "port 80 without CAP_NET_BIND_SERVICE: $(cat "$TEST_TMP/low.log")"
	# The drop-in from the unit's header, as systemctl edit would add it.
	sed -n 's/^#   \(AmbientCapabilities=.*\)/\1/p; s/^#   \(CapabilityBoundingSet=.*\)/\1/p' \
		"$unit" >"$TEST_TMP/dropin"
	check_eq "$(tr '\n' ' ' <"$TEST_TMP/dropin")" \
		"AmbientCapabilities=CAP_NET_BIND_SERVICE CapabilityBoundingSet=CAP_NET_BIND_SERVICE " \
		"the documented drop-in"
	sed -i '/^AmbientCapabilities=/d; /^CapabilityBoundingSet=/d' "$unit"
	cat "$TEST_TMP/dropin" >>"$unit"
	unit_user_exec "$unit" timeout -s TERM 2 "${UNIT_ARGV[@]}" --mode copy >"$TEST_TMP/low.log" 2>&1
	log "port 80 with the drop-in: $(grep -m1 ready "$TEST_TMP/low.log")"
	grep -q "ready" "$TEST_TMP/low.log" || fail "port 80 with the drop-in: $(cat "$TEST_TMP/low.log")"

	mkdir -p "$TEST_TMP/sysroot/etc"
	systemd-sysusers --root="$TEST_TMP/sysroot" "$ROOT/scripts/systemd/sockfwd.sysusers" \
		>"$TEST_TMP/sysusers.log" 2>&1 || fail "systemd-sysusers failed: $(cat "$TEST_TMP/sysusers.log")"
	grep -q '^sockfwd:x:[0-9]*:[0-9]*:sockfwd helper:/nonexistent:/usr/sbin/nologin$' \
		"$TEST_TMP/sysroot/etc/passwd" || fail "no sockfwd user: $(cat "$TEST_TMP/sysroot/etc/passwd")"
	grep -q '^sockfwd:x:' "$TEST_TMP/sysroot/etc/group" || fail "no sockfwd group"
	log "ok: sysusers.d makes $(grep sockfwd "$TEST_TMP/sysroot/etc/passwd")"
}

# --- OpenWrt: the procd init script and hotplug hook under stubs ---

# owrt_stubs: a stand-in OpenWrt root in $OWRT with rc.common, the UCI
# config API of /lib/functions.sh, network.sh and procd.sh reduced to what
# the scripts use (same calling conventions, config read by sourcing the
# file, as uci export output is), and the init script installed as
# /etc/init.d/clean-dns.  OWRT_INIT runs it; procd calls go to $PROCD_LOG.
owrt_stubs() {
	OWRT=$TEST_TMP/owrt
	OWRT_SH=dash
	command -v busybox >/dev/null && OWRT_SH="busybox ash"
	mkdir -p "$OWRT"/lib/functions "$OWRT"/etc/init.d "$OWRT"/etc/config "$OWRT"/etc/rc.d \
		"$OWRT"/var/run "$OWRT"/bin
	cat >"$OWRT/lib/functions.sh" <<-'EOF'
		CONFIG_SECTIONS=
		CONFIG_SECTION=
		CONFIG_NUM_SECTIONS=0
		_stub_lists=
		config() {
			CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
			CONFIG_SECTION=${2:-cfg$CONFIG_NUM_SECTIONS}
			CONFIG_SECTIONS="$CONFIG_SECTIONS $CONFIG_SECTION"
			eval "CONFIG_${CONFIG_SECTION}_TYPE=\$1"
		}
		option() { eval "CONFIG_${CONFIG_SECTION}_$1=\$2"; }
		list() {
			local v="CONFIG_${CONFIG_SECTION}_$1"
			_stub_lists="$_stub_lists $v"
			eval "$v=\"\${$v:+\$$v }\$2\""
		}
		config_load() {
			local v
			for v in $_stub_lists; do unset "$v"; done
			_stub_lists=
			CONFIG_SECTIONS=
			CONFIG_NUM_SECTIONS=0
			[ -f "$UCI_CONFIG_DIR/$1" ] && . "$UCI_CONFIG_DIR/$1"
			return 0
		}
		config_get() {
			case $# in
			3) eval "$1=\${CONFIG_${2}_${3}:-}" ;;
			*) eval "$1=\${CONFIG_${2}_${3}:-\$4}" ;;
			esac
		}
		config_get_bool() {
			local _tmp
			config_get _tmp "$2" "$3" "$4"
			case $_tmp in
			1 | on | true | yes | enabled) _tmp=1 ;;
			0 | off | false | no | disabled) _tmp=0 ;;
			*) _tmp=$4 ;;
			esac
			eval "$1=\$_tmp"
		}
		config_foreach() {
			local fn=$1 type=$2 section t
			shift 2
			for section in $CONFIG_SECTIONS; do
				config_get t "$section" TYPE
				[ "$t" = "$type" ] && "$fn" "$section" "$@"
			done
			return 0
		}
		config_list_foreach() {
			local section=$1 opt=$2 fn=$3 vals v
			shift 3
			config_get vals "$section" "$opt"
			for v in $vals; do "$fn" "$v" "$@"; done
			return 0
		}
	EOF
	cat >"$OWRT/lib/functions/network.sh" <<-'EOF'
		# "logical device" lines in $STUB_NETWORK stand for the interfaces that are up.
		network_get_device() {
			eval "$1=\$(awk -v i=\"\$2\" '\$1 == i { print \$2 }' \"\$STUB_NETWORK\")"
			eval "[ -n \"\$$1\" ]"
		}
	EOF
	cat >"$OWRT/lib/functions/procd.sh" <<-'EOF'
		procd_open_service() { echo "open_service $*" >>"$PROCD_LOG"; }
		procd_close_service() { echo "close_service" >>"$PROCD_LOG"; }
		procd_add_reload_trigger() { echo "reload_trigger $*" >>"$PROCD_LOG"; }
		procd_open_instance() { echo "open_instance $*" >>"$PROCD_LOG"; }
		procd_close_instance() { echo "close_instance" >>"$PROCD_LOG"; }
		procd_set_param() { echo "set_param $*" >>"$PROCD_LOG"; }
		procd_kill() { echo "kill $*" >>"$PROCD_LOG"; }
	EOF
	# The control flow of OpenWrt's rc.common for USE_PROCD scripts.
	cat >"$OWRT/etc/rc.common" <<-'EOF'
		. "$IPKG_INSTROOT/lib/functions.sh"
		initscript=$1
		action=${2:-help}
		shift 2
		name=$(basename "$initscript")
		start_service() { return 0; }
		stop_service() { return 0; }
		service_triggers() { return 0; }
		enabled() { [ -x "$IPKG_INSTROOT/etc/rc.d/S$START$name" ]; }
		enable() { ln -sf "../init.d/$name" "$IPKG_INSTROOT/etc/rc.d/S$START$name"; }
		disable() { rm -f "$IPKG_INSTROOT/etc/rc.d/S"??"$name"; }
		. "$initscript"
		[ -n "$USE_PROCD" ] || { echo "rc.common stub: not a procd script" >&2; exit 1; }
		. "$IPKG_INSTROOT/lib/functions/procd.sh"
		start() {
			procd_open_service "$name" "$initscript"
			start_service "$@"
			service_triggers
			procd_close_service
		}
		stop() {
			stop_service "$@"
			procd_kill "$name"
		}
		reload() {
			if type reload_service >/dev/null 2>&1; then reload_service "$@"; else start; fi
		}
		restart() {
			stop
			start
		}
		boot() { start "$@"; }
		case " start stop reload restart boot enable disable enabled $EXTRA_COMMANDS " in
		*" $action "*) "$action" "$@" ;;
		*) echo "rc.common stub: unknown command $action" >&2; exit 1 ;;
		esac
	EOF
	cp scripts/openwrt/clean-dns.init "$OWRT/etc/init.d/clean-dns"
	chmod 0755 "$OWRT/etc/init.d/clean-dns"
	# The kernel would run /etc/rc.common from the shebang; run the stub.
	OWRT_INIT=$OWRT/bin/init-clean-dns
	printf '#!/bin/sh\nexec %s "%s/etc/rc.common" "%s/etc/init.d/clean-dns" "$@"\n' \
		"$OWRT_SH" "$OWRT" "$OWRT" >"$OWRT_INIT"
	chmod 0755 "$OWRT_INIT"
	export IPKG_INSTROOT=$OWRT UCI_CONFIG_DIR=$OWRT/etc/config STUB_NETWORK=$OWRT/network
	export PROCD_LOG=$OWRT/procd.log CLEAN_DNS_STATE=$OWRT/var/run/clean-dns.devices
	export CLEAN_DNS_INIT=$OWRT_INIT
	: >"$STUB_NETWORK"
	: >"$PROCD_LOG"
}

# hotplug ACTION INTERFACE DEVICE: source the hook in a subshell, as
# /sbin/hotplug-call does.
hotplug() {
	ACTION=$1 INTERFACE=$2 DEVICE=$3 $OWRT_SH -c '. "$1"' _ "$ROOT/scripts/openwrt/clean-dns.hotplug" ||
		fail "hotplug hook failed for $1 $2"
}

test_openwrt_procd_stub() {
	owrt_stubs
	# A stand-in clean-dns that records its calls; broken0 cannot attach.
	export FAKE_LOG=$OWRT/calls CLEAN_DNS_CMD=$OWRT/bin/clean-dns
	cat >"$CLEAN_DNS_CMD" <<-'EOF'
		#!/bin/sh
		echo "$*" >>"$FAKE_LOG"
		[ "$2" = broken0 ] && { echo "clean-dns: no such interface: broken0" >&2; exit 1; }
		exit 0
	EOF
	chmod 0755 "$CLEAN_DNS_CMD"
	: >"$FAKE_LOG"
	cp scripts/openwrt/clean-dns.config "$UCI_CONFIG_DIR/clean-dns"
	cat >>"$UCI_CONFIG_DIR/clean-dns" <<-'EOF'
		list interface 'lan'
		list device 'eth1'
		list device 'broken0'

		config clean-dns 'off'
			option enabled '0'
			list device 'eth7'
			list interface 'guest'
	EOF
	sed -i "s/option mode 'auto'/option mode 'tc'/" "$UCI_CONFIG_DIR/clean-dns"
	echo "lan br-lan" >"$STUB_NETWORK" # lan is up, wan is not

	"$OWRT_INIT" enable || fail "init enable"
	"$OWRT_INIT" enabled || fail "init not enabled after enable"
	"$OWRT_INIT" start || fail "init start"
	check_eq "$(cat "$FAKE_LOG")" "$(printf '%s\n' 'attach eth1 tc' 'attach broken0 tc' 'attach br-lan tc')" \
		"clean-dns calls at start"
	grep -qx 'reload_trigger clean-dns' "$PROCD_LOG" || fail "no reload trigger on the clean-dns config"
	grep -q 'instance' "$PROCD_LOG" && fail "start_service opened a procd instance"
	check_eq "$(cut -d' ' -f1 "$CLEAN_DNS_STATE" | tr '\n' ' ')" "eth1 br-lan " "devices recorded as attached"

	: >"$FAKE_LOG"
	hotplug ifup wan pppoe-wan   # configured: attach
	hotplug ifup lan br-lan      # already attached at start
	hotplug ifup guest br-guest  # in a disabled section
	hotplug ifup vpn tun0        # not configured
	hotplug ifupdate wan pppoe-wan
	check_eq "$(cat "$FAKE_LOG")" "attach pppoe-wan tc" "clean-dns calls from hotplug ifup"
	: >"$FAKE_LOG"
	hotplug ifdown wan pppoe-wan
	hotplug ifdown vpn tun0
	check_eq "$(cat "$FAKE_LOG")" "detach pppoe-wan" "clean-dns calls from hotplug ifdown"

	# uci commit -> reload: everything detached, the new config attached.
	: >"$FAKE_LOG"
	sed -i "/list device 'broken0'/d; /list device 'eth1'/d" "$UCI_CONFIG_DIR/clean-dns"
	"$OWRT_INIT" reload || fail "init reload"
	check_eq "$(cat "$FAKE_LOG")" "$(printf '%s\n' 'detach eth1' 'detach br-lan' 'attach br-lan tc')" \
		"clean-dns calls at reload"

	: >"$FAKE_LOG"
	"$OWRT_INIT" stop || fail "init stop"
	check_eq "$(cat "$FAKE_LOG")" "detach br-lan" "clean-dns calls at stop"
	[ -e "$CLEAN_DNS_STATE" ] && fail "state file left after stop"

	# Disabled service: the hotplug hook does nothing.
	"$OWRT_INIT" disable
	: >"$FAKE_LOG"
	hotplug ifup wan pppoe-wan
	check_eq "$(cat "$FAKE_LOG")" "" "clean-dns calls from hotplug with the service disabled"
}

test_openwrt_procd_real_attach() {
	need_clean_dns
	ns_add a
	ns_add b
	veth a va b vb
	owrt_stubs
	export CLEAN_DNS_CMD=$ROOT/scripts/clean-dns
	cat >"$UCI_CONFIG_DIR/clean-dns" <<-'EOF'
		config clean-dns 'main'
			option mode 'generic'
			list device 'va'
			list interface 'wan'
	EOF
	"$OWRT_INIT" enable || fail "init enable"
	nsx a "$OWRT_INIT" start || fail "init start"
	[ -n "$(xdp_name va)" ] || fail "init start did not attach to va"
	log "ok: init start attached $(xdp_name va) to va"
	nsx a ip link add vw type veth peer name vx
	nsx a ip link set vw up
	nsx a env ACTION=ifup INTERFACE=wan DEVICE=vw $OWRT_SH -c '. "$1"' _ scripts/openwrt/clean-dns.hotplug ||
		fail "hotplug hook failed"
	[ -n "$(xdp_name vw)" ] || fail "hotplug ifup wan did not attach to vw"
	log "ok: hotplug ifup wan attached $(xdp_name vw) to vw"
	nsx a "$OWRT_INIT" stop || fail "init stop"
	check_eq "$(xdp_name va)$(xdp_name vw)" "" "XDP on va and vw after stop"
}

# SYSTEMD_ARGV: one systemd command line (stdin) as NUL-separated words,
# quoting and C escapes as systemd reads them (inside quotes too), then
# "$$" and "%%" as systemd passes them on.  unit_parse's eval does not
# undo escapes inside single quotes; clean-dns-learn's first line has some.
SYSTEMD_ARGV='
import sys
line, words, word, quote, i = sys.stdin.read().rstrip("\n"), [], None, None, 0
escapes = {"n": "\n", "t": "\t", "\\": "\\", "\"": "\"", "\x27": "\x27", "$": "$"}
while i < len(line):
    c = line[i]
    if c == "\\" and i + 1 < len(line):
        word = (word or "") + escapes.get(line[i + 1], "\\" + line[i + 1])
        i += 2
        continue
    if quote:
        if c == quote:
            quote = None
        else:
            word += c
    elif c in "\"\x27":
        quote, word = c, word or ""
    elif c == " ":
        if word is not None:
            words.append(word)
        word = None
    else:
        word = (word or "") + c
    i += 1
if word is not None:
    words.append(word)
sys.stdout.write("\0".join(w.replace("$$", "$").replace("%%", "%") for w in words))
'

# clean-dns-learn.service: its commands the way systemd runs them (root
# under the unit's bounding set and no_new_privs, PATH from Environment=,
# RuntimeDirectory= a directory of the test's): dig must run as nobody.
# A listener on 127.0.0.1:53 notes the uid of the socket that connects
# (from /proc/net/tcp) and answers nothing.  The learn touches no clean-dns
# pin: CLEAN_DNS_PIN_DIR is a directory that does not exist.
test_systemd_learn_dig_unprivileged() {
	need setpriv dig
	ns_add a
	local unit=$TEST_TMP/clean-dns-learn.service rt=$TEST_TMP/run line
	mkdir -p "$rt"
	sed "s#@SBINDIR@#$ROOT/scripts#; s#@SYSCONFDIR@#$TEST_TMP/etc#; s#/run/clean-dns-learn:#$rt:#" \
		scripts/systemd/clean-dns-learn.service.in >"$unit"
	bg a /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 53))
s.listen()
open(sys.argv[1] + ".ready", "w").close()
c, (host, port) = s.accept()
for row in open("/proc/net/tcp").read().splitlines()[1:]:
    f = row.split()
    if int(f[1].split(":")[1], 16) == port:
        open(sys.argv[1], "w").write(f[7])
' "$TEST_TMP/uid"
	wait_for 5 test -e "$TEST_TMP/uid.ready" || fail "listener did not start"
	local bset
	bset=$(unit_bset "$unit")
	line=$(sed -n 's/^ExecStartPre=//p' "$unit")
	mapfile -d '' -t UNIT_ARGV < <(printf '%s' "$line" | python3 -c "$SYSTEMD_ARGV")
	RUNTIME_DIRECTORY=$rt nsx a setpriv --no-new-privs --bounding-set="$bset" -- "${UNIT_ARGV[@]}" ||
		fail "ExecStartPre failed"
	log "the dig it wrote: $(tr '\n' '|' <"$rt/dig")"
	local path
	path=$(sed -n 's/^Environment=PATH=//p' "$unit")
	unit_parse "$(sed -n 's/^ExecStart=//p' "$unit")" -
	CLEAN_DNS_PIN_DIR=/sys/fs/bpf/cdns-none-$TEST_ID CLEAN_DNS_LEARN=127.0.0.1 PATH=$path \
		nsx a setpriv --no-new-privs --bounding-set="$bset" -- \
		"${UNIT_ARGV[0]}" "${UNIT_ARGV[1]}" 127.0.0.1 >"$TEST_TMP/learn.log" 2>&1
	log "learn: $(cat "$TEST_TMP/learn.log")"
	wait_for 5 test -s "$TEST_TMP/uid" || fail "dig did not connect"
	check_eq "$(cat "$TEST_TMP/uid")" 65534 "uid of dig's socket"
}
