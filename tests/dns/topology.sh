# shellcheck shell=bash disable=SC2034
# DNS topologies for the clean-dns tests, sourced after tests/lib.sh:
#   . "$ROOT/tests/dns/topology.sh"
#
#   client (c0) ---- (r0) censor (r1) ---- (s0) resolver
#   192.0.2.2/26        192.0.2.1          198.51.100.1      198.51.100.53
#   2001:db8:1::2       2001:db8:1::1      2001:db8:2::1     2001:db8:2::53
#
# The censor routes between the two links and runs the injector on r0.  The
# resolver namespace holds unbound on .53 and, on loopback, knot behind
# dns-delay, so the genuine answer leaves at least DNS_DELAY_MS after the
# query while the forgery leaves at once.
#
# dns_tun_client replaces the client's veth by a tun device (an L3 link
# without link-layer header) carried by dns-tunwire to the censor's w0:
#   client (tun0) ==dns-tunwire== (w1) wire namespace -- (w0) censor
#   192.0.2.66/26                                        192.0.2.65
#   2001:db8:3::2/64                                     2001:db8:3::1
# w1 sits in a namespace of its own, with no addresses and no forwarding:
# in the censor, the kernel would route each frame dns-tunwire reads on w1
# back out of w0, and round again until the TTL ran out.
#
# DNS_HOPS=N (default 0) puts N routers between censor and resolver, so the
# resolver's packets reach the client with a TTL/hop limit N lower than the
# censor's forgeries (what clean-dns's hop-count rule sees):
#   censor (r1) -- (h0) hop1 (h1) -- (h0) hop2 (h1) -- (s0) resolver
#   link i between censor or hop(i-1) and hop i: 192.0.2.(128+8(i-1))/29,
#   .1 on the censor's side, .2 on the far side; 2001:db8:10:i::1/2 /64.
# hopN holds 198.51.100.1 and 2001:db8:2::1 on the resolver's link.
# dns_route_detour and dns_route_direct then add and remove one hop
# between hop1 and hop2 (needs DNS_HOPS >= 2):
#   hop1 (d0) -- (d1) detour (d2) -- (d3) hop2
#   192.0.2.193/29 .194   192.0.2.201/29 .202   2001:db8:20::/64, 2001:db8:21::/64
#
# DNS_NAT_ROUTER=1 puts a home router with masquerading (nft, IPv4 and
# IPv6) between client and censor; the router holds the client's old
# addresses on its upstream u0, the client sits on the router's LAN:
#   client (c0) ---- (l0) router (u0) ---- (r0) censor ...
#   192.0.2.162/29      192.0.2.161  192.0.2.2
#   2001:db8:4::2/64    2001:db8:4::1 2001:db8:1::2

DNS_DIR=$ROOT/tests/dns
CLEAN_DNS=$ROOT/scripts/clean-dns

CLIENT4=192.0.2.2
CLIENT6=2001:db8:1::2
CENSOR_CLIENT_SIDE4=192.0.2.1
CENSOR_CLIENT_SIDE6=2001:db8:1::1
CENSOR_RESOLVER_SIDE4=198.51.100.1
CENSOR_RESOLVER_SIDE6=2001:db8:2::1
RESOLVER4=198.51.100.53
RESOLVER6=2001:db8:2::53
TUN_CLIENT4=192.0.2.66
TUN_CLIENT6=2001:db8:3::2
TUN_CENSOR4=192.0.2.65
TUN_CENSOR6=2001:db8:3::1
DNS_HOPS=${DNS_HOPS:-0}
DNS_NAT_ROUTER=${DNS_NAT_ROUTER:-0}
ROUTER_UPSTREAM4=192.0.2.2
ROUTER_UPSTREAM6=2001:db8:1::2
ROUTER_LAN4=192.0.2.161
ROUTER_LAN6=2001:db8:4::1
LAN_CLIENT4=192.0.2.162
LAN_CLIENT6=2001:db8:4::2
# MACs of the censor's end of the tun wire, fixed so dns-tunwire can be told.
TUN_CENSOR_MAC=02:00:00:00:c0:01
TUN_WIRE_MAC=02:00:00:00:c0:02

# What the zone answers, and what the injector forges.
DNS_ZONE=cdns.test
GENUINE4=198.51.100.80
GENUINE6=2001:db8:2::80
FORGED4=203.0.113.66
FORGED6=2001:db8:bad::66
DNS_DELAY_MS=${DNS_DELAY_MS:-100}

# dns_render TEMPLATE OUT KEY=VALUE...: copy TEMPLATE to OUT with each
# @KEY@ replaced by VALUE (which may span lines).
dns_render() {
	local template=$1 out=$2 text pair
	shift 2
	text=$(<"$template")
	for pair in "$@"; do
		text=${text//"@${pair%%=*}@"/"${pair#*=}"}
	done
	printf '%s\n' "$text" >"$out"
}

# dns_bg NS CMD...: bg, but with BG_PID the PID of CMD itself (nsenter
# execs it), so a SIGTERM reaches the daemon.  "bg NS CMD" backgrounds the
# nsx shell function, so its $! is a subshell's, and killing that leaves
# CMD running after the test.
dns_bg() {
	local ns=$1
	shift
	bg - nsenter --net="$(ns_path "$ns")" -- "$@"
}

# addr6 NS DEV ADDR/LEN: an IPv6 address usable at once (no DAD wait).
addr6() { nsx "$1" ip -6 addr add "$3" dev "$2" nodad; }

# dns_topology: the namespaces above (DNS_HOPS routers between censor and
# resolver, DNS_NAT_ROUTER), routed, no servers yet.
dns_topology() {
	local i
	ns_add client
	ns_add censor
	ns_add resolver
	for ((i = 1; i <= DNS_HOPS; i++)); do
		ns_add "hop$i"
	done
	if [ "$DNS_NAT_ROUTER" = 1 ]; then
		dns_nat_router
	else
		veth client c0 censor r0
		nsx client ip addr add "$CLIENT4/26" dev c0
		addr6 client c0 "$CLIENT6/64"
		# Routes to the test prefixes only, never a default route:
		# whatever a server tries (root priming, say), no packet can
		# leave the test.
		nsx client ip route add 198.51.100.0/24 via "$CENSOR_CLIENT_SIDE4"
		nsx client ip -6 route add 2001:db8::/32 via "$CENSOR_CLIENT_SIDE6"
	fi
	nsx censor ip addr add "$CENSOR_CLIENT_SIDE4/26" dev r0
	addr6 censor r0 "$CENSOR_CLIENT_SIDE6/64"
	nsx censor sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	if [ "$DNS_HOPS" -eq 0 ]; then
		veth censor r1 resolver s0
		nsx censor ip addr add "$CENSOR_RESOLVER_SIDE4/24" dev r1
		addr6 censor r1 "$CENSOR_RESOLVER_SIDE6/64"
	else
		veth censor r1 hop1 h0
		dns_hop_link censor r1 hop1 h0 1
		for ((i = 1; i <= DNS_HOPS; i++)); do
			[ "$i" -gt 1 ] || continue
			veth "hop$((i - 1))" h1 "hop$i" h0
			dns_hop_link "hop$((i - 1))" h1 "hop$i" h0 "$i"
		done
		veth "hop$DNS_HOPS" h1 resolver s0
		nsx "hop$DNS_HOPS" ip addr add "$CENSOR_RESOLVER_SIDE4/24" dev h1
		addr6 "hop$DNS_HOPS" h1 "$CENSOR_RESOLVER_SIDE6/64"
	fi
	nsx resolver ip addr add "$RESOLVER4/24" dev s0
	addr6 resolver s0 "$RESOLVER6/64"
	nsx resolver ip route add 192.0.2.0/24 via "$CENSOR_RESOLVER_SIDE4"
	nsx resolver ip -6 route add 2001:db8::/32 via "$CENSOR_RESOLVER_SIDE6"
	# No ip_no_pmtu_disc here: unbound sets IP_PMTUDISC_OMIT on its UDP
	# sockets, so its answers leave without DF and, DF clear, with a
	# non-zero IPv4 ID, like 8.8.8.8's (test-clean-dns-servers.sh checks
	# this).  Any of the four rules is safe for it.
	wait_for 5 nsx client ping -c1 -W1 "$RESOLVER4" || fail "no route client -> resolver"
	wait_for 5 nsx client ping -6 -c1 -W1 "$RESOLVER6" || fail "no IPv6 route client -> resolver"
}

# dns_hop_link NEAR NEAR_IF FAR FAR_IF I: address link I (see above) and
# route over it: NEAR sends the resolver's prefixes to FAR, FAR sends the
# client side (all of 192.0.2.0/24 and 2001:db8::/32 but the resolver's
# link) back to NEAR.  FAR forwards.
dns_hop_link() {
	local near=$1 near_if=$2 far=$3 far_if=$4 i=$5 base
	base=192.0.2.$((128 + 8 * (i - 1)))
	nsx "$near" ip addr add "${base%.*}.$((${base##*.} + 1))/29" dev "$near_if"
	nsx "$far" ip addr add "${base%.*}.$((${base##*.} + 2))/29" dev "$far_if"
	addr6 "$near" "$near_if" "2001:db8:10:$i::1/64"
	addr6 "$far" "$far_if" "2001:db8:10:$i::2/64"
	nsx "$near" ip route add 198.51.100.0/24 via "${base%.*}.$((${base##*.} + 2))"
	nsx "$near" ip -6 route add 2001:db8:2::/64 via "2001:db8:10:$i::2"
	nsx "$far" ip route add 192.0.2.0/24 via "${base%.*}.$((${base##*.} + 1))"
	nsx "$far" ip -6 route add 2001:db8::/32 via "2001:db8:10:$i::1"
	nsx "$far" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# dns_nat_router: the router namespace between client and censor, with
# masquerading on its upstream device u0 (IPv4 and IPv6, one nft table).
dns_nat_router() {
	ns_add router
	veth router u0 censor r0
	veth client c0 router l0
	nsx router ip addr add "$ROUTER_UPSTREAM4/26" dev u0
	addr6 router u0 "$ROUTER_UPSTREAM6/64"
	nsx router ip addr add "$ROUTER_LAN4/29" dev l0
	addr6 router l0 "$ROUTER_LAN6/64"
	nsx router ip route add 198.51.100.0/24 via "$CENSOR_CLIENT_SIDE4"
	nsx router ip -6 route add 2001:db8::/32 via "$CENSOR_CLIENT_SIDE6"
	nsx router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	nsx router nft -f - <<-EOF || fail "nft masquerade in the router"
		table inet cdns_nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "u0" masquerade
			}
		}
	EOF
	nsx client ip addr add "$LAN_CLIENT4/29" dev c0
	addr6 client c0 "$LAN_CLIENT6/64"
	nsx client ip route add 198.51.100.0/24 via "$ROUTER_LAN4"
	nsx client ip -6 route add 2001:db8::/32 via "$ROUTER_LAN6"
}

# dns_route_detour: the resolver's traffic between hop1 and hop2 goes
# through one more router (the detour namespace, made on first use).
# dns_route_direct: back to the direct link.  Both ways change, so TCP
# (what clean-dns learns from) and UDP answers take the same path.
dns_route_detour() {
	[ "$DNS_HOPS" -ge 2 ] || fail "dns_route_detour needs DNS_HOPS >= 2"
	if ! [ -e "$(ns_path detour)" ]; then
		ns_add detour
		veth hop1 d0 detour d1
		veth detour d2 hop2 d3
		nsx hop1 ip addr add 192.0.2.193/29 dev d0
		nsx detour ip addr add 192.0.2.194/29 dev d1
		nsx detour ip addr add 192.0.2.201/29 dev d2
		nsx hop2 ip addr add 192.0.2.202/29 dev d3
		addr6 hop1 d0 2001:db8:20::1/64
		addr6 detour d1 2001:db8:20::2/64
		addr6 detour d2 2001:db8:21::1/64
		addr6 hop2 d3 2001:db8:21::2/64
		nsx detour ip route add 198.51.100.0/24 via 192.0.2.202
		nsx detour ip -6 route add 2001:db8:2::/64 via 2001:db8:21::2
		nsx detour ip route add 192.0.2.0/24 via 192.0.2.193
		nsx detour ip -6 route add 2001:db8::/32 via 2001:db8:20::1
		nsx detour sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	fi
	nsx hop1 ip route replace 198.51.100.0/24 via 192.0.2.194
	nsx hop1 ip -6 route replace 2001:db8:2::/64 via 2001:db8:20::2
	nsx hop2 ip route replace 192.0.2.0/24 via 192.0.2.201
	nsx hop2 ip -6 route replace 2001:db8::/32 via 2001:db8:21::1
	dns_route_check
}

dns_route_direct() {
	nsx hop1 ip route replace 198.51.100.0/24 via 192.0.2.138
	nsx hop1 ip -6 route replace 2001:db8:2::/64 via 2001:db8:10:2::2
	nsx hop2 ip route replace 192.0.2.0/24 via 192.0.2.137
	nsx hop2 ip -6 route replace 2001:db8::/32 via 2001:db8:10:2::1
	dns_route_check
}

# dns_route_check: the resolver answers pings over the new path, both
# families (which also settles the new links' neighbour entries).
dns_route_check() {
	wait_for 5 nsx client ping -c1 -W1 "$RESOLVER4" || fail "no route to the resolver"
	wait_for 5 nsx client ping -6 -c1 -W1 "$RESOLVER6" || fail "no IPv6 route to the resolver"
}

# dns_tun_client [INJECT_STYLES]: move the client's routes to the resolver onto
# tun0, carried by dns-tunwire to the censor's w0.  With styles, dns-tunwire
# itself forges (a censor on the L3 link); its log is $TEST_TMP/tunwire.log.
dns_tun_client() {
	local inject=()
	[ -n "${1:-}" ] && inject=(--inject "$1" --resolver "$RESOLVER4" --resolver "$RESOLVER6")
	ns_add wire
	nsx wire sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add w0 netns "$TEST_ID-censor" address "$TUN_CENSOR_MAC" type veth \
		peer name w1 netns "$TEST_ID-wire" address "$TUN_WIRE_MAC" ||
		fail "cannot create veth w0/w1"
	nsx censor ip link set w0 up
	nsx wire ip link set w1 up
	nsx censor ip addr add "$TUN_CENSOR4/26" dev w0
	addr6 censor w0 "$TUN_CENSOR6/64"
	nsx censor ip neigh replace "$TUN_CLIENT4" lladdr "$TUN_WIRE_MAC" dev w0 nud permanent
	nsx censor ip -6 neigh replace "$TUN_CLIENT6" lladdr "$TUN_WIRE_MAC" dev w0 nud permanent
	dns_bg client "$TOOLS/dns-tunwire" --tun tun0 --peer-netns "$(ns_path wire)" \
		--peer-iface w1 --peer-mac "$TUN_CENSOR_MAC" "${inject[@]}" \
		>"$TEST_TMP/tunwire.log" 2>&1
	TUNWIRE_PID=$BG_PID
	wait_for 5 grep -q '^wire ' "$TEST_TMP/tunwire.log" ||
		fail "dns-tunwire did not start: $(cat "$TEST_TMP/tunwire.log")"
	nsx client ip link set tun0 up
	nsx client ip addr add "$TUN_CLIENT4/26" dev tun0
	addr6 client tun0 "$TUN_CLIENT6/64"
	nsx client ip route replace 198.51.100.0/24 dev tun0
	nsx client ip -6 route replace 2001:db8::/32 dev tun0
	wait_for 5 nsx client ping -c1 -W1 "$RESOLVER4" || fail "no route over tun0 -> resolver"
	wait_for 5 nsx client ping -6 -c1 -W1 "$RESOLVER6" || fail "no IPv6 route over tun0"
}

# dns_start_knot NS NAME LISTEN ZONES: knotd in NS with config
# $TEST_TMP/NAME/knot.conf.  LISTEN is knot's listen list ("127.0.0.1@5301"),
# ZONES the "zone:" entries in knot's YAML.
dns_start_knot() {
	local ns=$1 dir=$TEST_TMP/$2
	mkdir -p "$dir"
	dns_render "$DNS_DIR/knot.conf.in" "$dir/knot.conf" DIR="$dir" LISTEN="$3" ZONES="$4"
	dns_bg "$ns" knotd -c "$dir/knot.conf" >"$dir/knotd.log" 2>&1
}

# dns_start_unbound NS NAME INTERFACES STUBS [MODULES [LOCAL_ZONES [EXTRA]]]
dns_start_unbound() {
	local ns=$1 dir=$TEST_TMP/$2 interfaces=$3 stubs=$4
	local modules=${5:-iterator} local_zones=${6:-} extra=${7:-} addr lines=
	mkdir -p "$dir"
	for addr in $interfaces; do
		lines+="    interface: $addr"$'\n'
	done
	dns_render "$DNS_DIR/unbound.conf.in" "$dir/unbound.conf" DIR="$dir" \
		INTERFACES="$lines" MODULES="$modules" LOCAL_ZONES="$local_zones" \
		SERVER_EXTRA="$extra" STUBS="$stubs"
	dns_bg "$ns" unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1
}

# dns_answers NS SERVER NAME TYPE [DIG OPTION...]: dig +short from NS.
dns_answers() {
	nsx "$1" dig +short +tries=1 +timeout=2 "@$2" "$3" "$4" "${@:5}" 2>/dev/null
}

# dns_resolving NS SERVER NAME TYPE [DIG OPTION...]: true once SERVER
# answers NAME at all.
dns_resolving() {
	[ -n "$(dns_answers "$@")" ]
}

# dns_censored_resolver [UNBOUND_EXTRA]: knot serving cdns.test on the
# resolver's loopback, behind dns-delay, and unbound on RESOLVER4/RESOLVER6
# using it; UNBOUND_EXTRA goes into unbound's server section.
dns_censored_resolver() {
	cp "$DNS_DIR/cdns.test.zone" "$TEST_TMP/cdns.test.zone"
	dns_start_knot resolver knot "127.0.0.1@5301" \
		"  - domain: $DNS_ZONE"$'\n'"    file: \"$TEST_TMP/cdns.test.zone\""
	dns_bg resolver "$TOOLS/dns-delay" --listen 127.0.0.1 --port 5300 --upstream 127.0.0.1 \
		--upstream-port 5301 --delay "$DNS_DELAY_MS" >"$TEST_TMP/delay.log" 2>&1
	dns_start_unbound resolver unbound "$RESOLVER4 $RESOLVER6" \
		"stub-zone:
    name: \"$DNS_ZONE.\"
    stub-addr: 127.0.0.1@5300" iterator \
		"    local-zone: \"$DNS_ZONE.\" transparent" "${1:-}"
	wait_for 10 dns_resolving resolver 127.0.0.1 "mail.$DNS_ZONE" A -p 5301 ||
		fail "knot does not answer: $(cat "$TEST_TMP/knot/knotd.log")"
	wait_for 10 dns_resolving client "$RESOLVER4" "mail.$DNS_ZONE" A ||
		fail "unbound does not answer: $(cat "$TEST_TMP/unbound/unbound.log")"
}

# dns_unique_name: a name no cache has seen (the wildcard answers it).  The
# clock in microseconds keeps it unique across the subshells of $(...).
dns_unique_name() {
	printf 'q%s-%d.w.%s' "${EPOCHREALTIME/./}" "$BASHPID" "$DNS_ZONE"
}

# dns_start_injector IFACE STYLES [NS [OPTION...]]: dns-inject on IFACE in
# the censor namespace (or NS), forging for both resolver addresses, with
# more dns-inject options if given.  Log in $TEST_TMP/inject.log, PID in
# INJECT_PID.
dns_start_injector() {
	dns_bg "${3:-censor}" "$TOOLS/dns-inject" -i "$1" -s "$2" \
		-r "$RESOLVER4" -r "$RESOLVER6" "${@:4}" >"$TEST_TMP/inject.log" 2>&1
	INJECT_PID=$BG_PID
	wait_for 5 grep -q '^listening ' "$TEST_TMP/inject.log" ||
		fail "dns-inject did not start: $(cat "$TEST_TMP/inject.log")"
}

# dns_forgeries [STYLE]: forgeries sent so far (of STYLE).
dns_forgeries() {
	if [ -n "${1:-}" ]; then
		grep -c "^forgery .* style=$1 " "$TEST_TMP/inject.log"
	else
		grep -c '^forgery ' "$TEST_TMP/inject.log"
	fi
}

# dns_stop_injector: SIGTERM dns-inject; its own total must match its lines.
dns_stop_injector() {
	kill -TERM "$INJECT_PID"
	wait "$INJECT_PID" 2>/dev/null
	check_eq "$(sed -n 's/^total \([0-9]*\)$/\1/p' "$TEST_TMP/inject.log")" "$(dns_forgeries)" \
		"injector total at SIGTERM"
}

# dns_client_resolv_conf SERVER: a resolv.conf for the client's glibc.
dns_client_resolv_conf() {
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$1" >"$TEST_TMP/resolv.conf"
}

# dns_getent NAME: getent ahosts NAME in the client, with
# $TEST_TMP/resolv.conf bind-mounted over /etc/resolv.conf in a mount
# namespace of its own (the host's file is never touched).
dns_getent() {
	nsx client unshare --mount --propagation private sh -c \
		'mount --bind "$1" /etc/resolv.conf && exec getent ahosts "$2"' _ \
		"$TEST_TMP/resolv.conf" "$1"
}

# dns_getent_addresses NAME: the distinct addresses getent found, sorted.
dns_getent_addresses() {
	dns_getent "$1" | awk '{ print $1 }' | sort -u
}

# dns_start_named NS NAME LISTEN4 LISTEN6 FORWARDER TRUST_ANCHORS: named in
# the foreground (-g), as root (-u root: no bind user needed), config in
# $TEST_TMP/NAME/named.conf.  TRUST_ANCHORS holds trust-anchors entries.
dns_start_named() {
	local ns=$1 dir=$TEST_TMP/$2
	mkdir -p "$dir"
	dns_render "$DNS_DIR/named.conf.in" "$dir/named.conf" DIR="$dir" LISTEN4="$3" \
		LISTEN6="$4" FORWARDER="$5" TRUST_ANCHORS="$6"
	dns_bg "$ns" named -g -u root -c "$dir/named.conf" >"$dir/named.log" 2>&1
}

# dns_start_dnsmasq NS NAME LISTEN4 LISTEN6 UPSTREAM: dnsmasq forwarding
# everything to UPSTREAM, in the foreground, with no host files at all.
dns_start_dnsmasq() {
	local ns=$1 dir=$TEST_TMP/$2
	mkdir -p "$dir"
	dns_bg "$ns" dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null \
		--no-resolv --no-hosts --user=root --group=root --pid-file="$dir/dnsmasq.pid" \
		--bind-interfaces --listen-address="$3" --listen-address="$4" --port=53 \
		--server="$5" >"$dir/dnsmasq.log" 2>&1
}
