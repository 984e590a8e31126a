# shellcheck shell=bash
# clean-dns-tables: the tables scripts/clean-dns reads from it agree with
# the compiled objects (their BTF, read with bpftool) and with the maps the
# script creates, its address conversions agree with Python's ipaddress,
# and the installed script finds the installed tool.
# timeout: 120

TABLES_TOOL=$BUILD/clean-dns-tables

# The maps (name, type, key and value size, max entries, flags), the
# counters' struct size, and the rules' counters, as each object
# built from xdp/clean_dns.bpf.c holds them in BTF, against what
# clean-dns-tables tells the script.  A stale tool or object, or a map
# defined outside CLEAN_DNS_MAPS, fails here.
test_tables_match_objects() {
	need python3 bpftool
	local obj
	"$TABLES_TOOL" shell >"$TEST_TMP/tables.sh" || fail "clean-dns-tables shell"
	for obj in clean-dns.o clean-dns-tc.o bpfeb/clean-dns.o bpfeb/clean-dns-tc.o; do
		bpftool -j btf dump file "$BUILD/$obj" >"$TEST_TMP/btf.json" || fail "bpftool btf dump $obj"
		python3 - "$TEST_TMP/tables.sh" "$TEST_TMP/btf.json" "$obj" <<'PY' || fail "$obj and clean-dns-tables disagree"
import json, shlex, sys

tables = {}
for word in shlex.split(open(sys.argv[1]).read()):
    name, _, value = word.partition("=")
    tables[name] = value
btf = {t["id"]: t for t in json.load(open(sys.argv[2]))["types"]}
obj = sys.argv[3]

# The kernel's map type numbers (include/uapi/linux/bpf.h, a stable ABI)
# under the names bpftool map create takes.
MAP_TYPES = {2: "array", 6: "percpu_array", 9: "lru_hash", 11: "lpm_trie", 27: "ringbuf"}

def size_of(tid):
    t = btf[tid]
    if t["kind"] in ("TYPEDEF", "VOLATILE", "CONST"):
        return size_of(t["type_id"])
    if t["kind"] == "ARRAY":
        return t["nr_elems"] * size_of(t["type_id"])
    return t["size"]

def map_spec(var):
    # libbpf's BTF map definition: __uint(m, N) is a pointer to int[N],
    # __type(m, T) a pointer to T.
    members = {m["name"]: btf[m["type_id"]] for m in btf[var["type_id"]]["members"]}
    num = lambda m: btf[members[m]["type_id"]]["nr_elems"] if m in members else 0
    size = lambda m: size_of(members[m]["type_id"]) if m in members else 0
    kind = MAP_TYPES.get(num("type"), "type %d" % num("type"))
    return "%s:%s:%d:%d:%d:%d" % (var["name"], kind, size("key"), size("value"),
                                  num("max_entries"), num("map_flags"))

maps_sec = [t for t in btf.values() if t["kind"] == "DATASEC" and t["name"] == ".maps"][0]
in_object = sorted(map_spec(btf[v["type_id"]]) for v in maps_sec["vars"])
in_tables = sorted(tables["MAPS"].split())
if in_object != in_tables:
    print("%s maps:\n  object: %s\n  tables: %s" % (obj, in_object, in_tables))
    sys.exit(1)

# The counters struct, whose size the script creates cdns_counters with.
counters = [t for t in btf.values() if t["kind"] == "STRUCT" and t["name"] == "clean_dns_counters"][0]
names = [m["name"] for m in counters["members"]]
counters_map = [m for m in in_tables if m.startswith("cdns_counters:")][0]
if int(counters_map.split(":")[3]) != counters["size"]:
    print("%s: struct clean_dns_counters is %d bytes, tables say %s" % (obj, counters["size"], counters_map))
    sys.exit(1)

# Each rule has its drop_ and would_drop_ counters in the object (query-echo
# has several), and each drop_ counter belongs to a rule.
rules = dict(r.split(":") for r in tables["RULES"].split())
bits = [int(b) for b in rules.values()]
assert all(b & (b - 1) == 0 for b in bits) and len(set(bits)) == len(bits), rules
assert sum(bits) == int(tables["RULES_ALL"]) and not int(tables["OBSERVE_BIT"]) & sum(bits), tables
claimed = set()
for rule in rules:
    stem = rule.replace("-", "_")
    for verdict in ("drop_", "would_drop_"):
        mine = [n for n in names if n == verdict + stem or n.startswith(verdict + stem + "_")]
        if not mine:
            print("%s: rule %s has no %s%s counter" % (obj, rule, verdict, stem))
            sys.exit(1)
        claimed.update(mine)
unclaimed = [n for n in names if n.startswith(("drop_", "would_drop_")) and n not in claimed]
if unclaimed:
    print("%s: counters of no rule the script knows: %s" % (obj, unclaimed))
    sys.exit(1)
# The settings fields `clean-dns set` writes: at their offsets in the
# object's struct clean_dns_settings, set_mask first, the size the map's.
settings = [t for t in btf.values() if t["kind"] == "STRUCT" and t["name"] == "clean_dns_settings"][0]
offsets = {m["name"]: m["bits_offset"] // 8 for m in settings["members"]}
if offsets.get("set_mask") != 0 or settings["size"] != int(tables["SETTINGS_SIZE"]):
    print("%s: struct clean_dns_settings %s, %d bytes; tables say %s bytes" % (obj, offsets, settings["size"],
                                                                         tables["SETTINGS_SIZE"]))
    sys.exit(1)
written = sorted(int(row.split(":")[2]) for row in tables["SETTINGS"].split())
if written != sorted(o for n, o in offsets.items() if n != "set_mask"):
    print("%s: struct clean_dns_settings fields at %s; tables write %s" % (obj, offsets, tables["SETTINGS"]))
    sys.exit(1)
for entry in tables["DEFAULT_RESOLVERS"].split() + ["recursive=" + ",".join(tables["RULES_RECURSIVE"].split())]:
    unknown = set(entry.split("=")[1].split(",")) - set(rules)
    assert not unknown, entry
print("%s: %d maps, %d counters (%d bytes), %d rules agree" % (obj, len(in_object), len(names),
                                                                counters["size"], len(rules)))
PY
	done
}

# The maps the script creates before the first attach (resolver add, bogus
# add, set), as the kernel made them (bpftool map show), are the rows of
# clean-dns-tables, which test_tables_match_objects holds to the objects:
# the programs reuse them.  On a private pin directory.
test_maps_the_script_creates() {
	need python3 bpftool
	local dir=/sys/fs/bpf/cdns-test-$TEST_ID name
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	export CLEAN_DNS_PIN_DIR=$dir
	"$ROOT/scripts/clean-dns" resolver add 192.0.2.53 >/dev/null || fail "resolver add"
	"$ROOT/scripts/clean-dns" bogus add 198.51.100.66 >/dev/null || fail "bogus add"
	"$ROOT/scripts/clean-dns" set hop-tolerance 1 >/dev/null || fail "set"
	"$TABLES_TOOL" shell >"$TEST_TMP/tables.sh" || fail "clean-dns-tables shell"
	for name in cdns_resolvers cdns_bogus cdns_settings; do
		bpftool -j map show pinned "$dir/$name" >"$TEST_TMP/$name.json" || fail "no $name created"
	done
	python3 - "$TEST_TMP" <<'PY' || fail "a map the script created differs from clean-dns-tables"
import json, shlex, sys
d = sys.argv[1]
rows = {}
for word in shlex.split(open(d + "/tables.sh").read()):
    if word.startswith("MAPS="):
        rows = {r.split(":")[0]: r for r in word[5:].split()}
for name in ("cdns_resolvers", "cdns_bogus", "cdns_settings"):
    m = json.load(open("%s/%s.json" % (d, name)))
    made = "%s:%s:%d:%d:%d:%d" % (m["name"], m["type"], m["bytes_key"], m["bytes_value"],
                                  m["max_entries"], m["flags"])
    assert made == rows[name], "created %s, tables say %s" % (made, rows[name])
    print("ok: %s" % made)
PY
}

# Prefixes and addresses, random and at the edges, through the tool both
# ways (key: text to struct addr_key bytes; text: bytes back to text),
# against Python's ipaddress; and every kind of bad input named.
test_address_conversions() {
	need python3
	python3 - "$TABLES_TOOL" <<'PY' || fail "clean-dns-tables conversions"
import ipaddress, random, subprocess, sys
tool = sys.argv[1]
rng = random.Random(16)

def key_bytes(net):
    # struct addr_key: host-order prefix length, then the address; IPv4
    # mapped into ::ffff:0:0/96.
    if net.version == 4:
        addr = b"\0" * 10 + b"\xff\xff" + net.network_address.packed
        plen = net.prefixlen + 96
    else:
        addr, plen = net.network_address.packed, net.prefixlen
    return plen.to_bytes(4, sys.byteorder) + addr

cases = ["0.0.0.0/0", "255.255.255.255", "198.51.100.77/24", "203.0.113.77/25", "::/0",
         "2001:DB8:0:53::1/64", "2001:db8::9", "2001:db8:bad:1::5/48", "fe80::1/10", "8.8.8.8/31"]
for _ in range(300):
    if rng.random() < 0.5:
        cases.append("%s/%d" % (ipaddress.IPv4Address(rng.getrandbits(32)), rng.randint(0, 32)))
    else:
        # A first group that is not zero: inet_ntop writes ::a.b.c.d for
        # ::/96 addresses, ipaddress does not; both are valid text.
        addr = ipaddress.IPv6Address(rng.randint(1 << 112, (1 << 128) - 1))
        cases.append("%s/%d" % (addr, rng.randint(0, 128)))
keys = []
for case in cases:
    out = subprocess.run([tool, "key", case], capture_output=True, text=True)
    net = ipaddress.ip_network(case, strict=False)
    want = "%s %s" % (net.compressed, key_bytes(net).hex(" "))
    assert out.returncode == 0 and out.stdout == want + "\n", (case, out.stdout, out.stderr, want)
    keys.append((",".join("0x%02x" % b for b in key_bytes(net)), net.compressed))
# text: one line per key, its value carried through; an address without
# its prefix length.
lines = "".join("%s 0x01,0x00\n" % k for k, _ in keys)
lines += "00,00,00,00,00,00,00,00,00,00,ff,ff,08,08,04,04\n20,01,0d,b8,00,00,00,00,00,00,00,00,00,00,00,09 x\n"
out = subprocess.run([tool, "text"], input=lines, capture_output=True, text=True)
want = ["%s 0x01,0x00" % text for _, text in keys] + ["8.8.4.4", "2001:db8::9 x"]
assert out.returncode == 0 and out.stdout.splitlines() == want, (out.stdout, out.stderr)
print("%d prefixes both ways agree with ipaddress" % len(cases))

bad = {"300.1.2.3": "bad IPv4 address in '300.1.2.3'",
       "1.2.3": "bad IPv4 address in '1.2.3'",
       "2001:db8::1::2": "bad IPv6 address in '2001:db8::1::2'",
       "2001:db8::g": "bad IPv6 address in '2001:db8::g'",
       "1.2.3.4/33": "prefix length above 32 in '1.2.3.4/33'",
       "2001:db8::/129": "prefix length above 128 in '2001:db8::/129'",
       "1.2.3.4/": "bad prefix length in '1.2.3.4/'",
       "1.2.3.4/-1": "bad prefix length in '1.2.3.4/-1'",
       "1.2.3.4/24/1": "bad prefix length in '1.2.3.4/24/1'",
       "resolver": "not an address or prefix: 'resolver'",
       "": "not an address or prefix: ''"}
for case, message in bad.items():
    out = subprocess.run([tool, "key", case], capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout == "" and out.stderr == "clean-dns: " + message + "\n", (case, out)
for line in ("00,01", "zz,00", "00," * 20 + "00", "80,00,00,00," + "00," * 15 + "1ff"):
    out = subprocess.run([tool, "text"], input=line + "\n", capture_output=True, text=True)
    assert out.returncode == 1 and "not the bytes of an address or a prefix: " + line in out.stderr, (line, out)
print("%d bad inputs named" % (len(bad) + 4))
PY
}

# make install puts the tool where the installed script looks for it
# (../lib/clean-dns beside sbin), and the installed script lists the
# defaults and configures a map with it; without the tool it says what is
# missing.
test_installed_script_finds_tables() {
	local root=$TEST_TMP/root dir=/sys/fs/bpf/cdns-test-$TEST_ID
	make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr >"$TEST_TMP/make.log" 2>&1 ||
		{ tail -n 20 "$TEST_TMP/make.log"; fail "make install failed"; }
	[ -x "$root/usr/lib/clean-dns/clean-dns-tables" ] || fail "clean-dns-tables not installed"
	mkdir -p "$dir"
	on_exit "rm -rf $dir"
	# Only the installed tree: no source tree's build/ beside the script.
	local run="env -u CLEAN_DNS_TABLES CLEAN_DNS_PIN_DIR=$dir $root/usr/sbin/clean-dns"
	$run resolver add 192.0.2.0/24 df >/dev/null || fail "installed clean-dns resolver add"
	$run resolver list >"$TEST_TMP/list" || fail "installed clean-dns resolver list"
	grep -q '^192.0.2.0/24 *map *df$' "$TEST_TMP/list" || fail "configured prefix not listed: $(cat "$TEST_TMP/list")"
	check_eq "$(grep -c ' default ' "$TEST_TMP/list")" \
		"$(eval "$("$TABLES_TOOL" shell)" && echo "$DEFAULT_RESOLVERS" | grep -c =)" "defaults listed"
	rm "$root/usr/lib/clean-dns/clean-dns-tables"
	if [ -x /usr/lib/clean-dns/clean-dns-tables ] || [ -x /usr/local/lib/clean-dns/clean-dns-tables ]; then
		log "a system-wide clean-dns-tables is installed: the missing-tool message is not checked"
		return 0
	fi
	$run resolver list >"$TEST_TMP/err" 2>&1 && fail "ran without clean-dns-tables"
	grep -q 'cannot find clean-dns-tables' "$TEST_TMP/err" || fail "without the tool: $(cat "$TEST_TMP/err")"
	log "ok: without the tool: $(cat "$TEST_TMP/err")"
}

# `clean-dns rules` explains every rule the programs have, and no other;
# clean-dns(8) names the recursive set as the default rules.
test_rule_texts_follow_the_tables() {
	local rules recursive described
	# shellcheck disable=SC2016 # expanded by the inner shell
	rules=$(sh -c 'eval "$("$1" shell)" && for r in $RULES; do echo "${r%%:*}"; done' sh "$TABLES_TOOL" | sort)
	# shellcheck disable=SC2016
	recursive=$(sh -c 'eval "$("$1" shell)" && echo "$RULES_RECURSIVE"' sh "$TABLES_TOOL")
	[ "$(echo "$rules" | wc -l)" -ge 9 ] && [ -n "$recursive" ] || fail "could not read the rules"
	described=$("$ROOT/scripts/clean-dns" rules | awk 'NR > 1 && /^[a-z-]+  +[a-z]/ { print $1 }' | sort)
	check_eq "$(echo "$described" | tr '\n' ' ')" "$(echo "$rules" | tr '\n' ' ')" "rules clean-dns rules describes"
	grep -qx "\.Cm $recursive ) ," "$ROOT/man/clean-dns.8" ||
		fail "clean-dns(8) does not give the default rules as: $recursive"
	log "ok: clean-dns(8) gives the default rules as $recursive"
}
