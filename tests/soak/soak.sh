# shellcheck shell=bash
# The sockfwd soak: hundreds of concurrent connections of random sizes and
# endings (build/tests/sockfwd-soak) through sockfwd, directly and through
# dante, while faults are injected on a schedule: the proxy killed and
# restarted, the verdict program detached and re-attached, the helper sent
# SIGTERM and restarted.  Then the invariants: transfers whole or ended by
# an error (the tool judges each), the helper's descriptors and the maps
# back to zero, its RSS and the kernel's TCP memory bounded.
# Needs tests/lib.sh and tests/test-sockfwd.sh sourced (topology, dante,
# sfw_start, sfw_stop).  Every process it kills is one it started (or a
# child of one: dante forks).

SOAK_TOOL=$TOOLS/sockfwd-soak
SOAK_RSS_LIMIT_KB=${SOAK_RSS_LIMIT_KB:-65536}
SOAK_TCP_MEM_LIMIT_KB=${SOAK_TCP_MEM_LIMIT_KB:-524288}
SOAK_SFW_ARGS=(-l 192.0.2.2:1000 -t 203.0.113.2:5001
	-l 192.0.2.2:1001 -t 203.0.113.2:5001 -x socks5://198.51.100.2:1080
	--timeout 3000 --drain-timeout 2000)

soak_now() { date +%s%3N; }

# descendants PID: the processes PID started, and theirs.
descendants() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$child"
		descendants "$child"
	done
}

map_count() { bpftool -j map dump pinned "$PIN/$1" 2>/dev/null | grep -o '"key"' | wc -l; }
helper_fds() { find "/proc/$SFW_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
helper_rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SFW_PID/status" 2>/dev/null; }
# tcp_mem_kb: memory charged to the TCP sockets of our four namespaces
# (receive queue + send queue + forward allocation, from ss -m), so that
# other work on the machine does not count.
tcp_mem_kb() {
	local ns
	for ns in cli fwd px srv; do
		nsx "$ns" ss -tanmH 2>/dev/null
	done | sed -n 's/.*skmem:(r\([0-9]*\),rb[0-9]*,t[0-9]*,tb[0-9]*,f\([0-9]*\),w\([0-9]*\),.*/\1 \2 \3/p' |
		awk '{sum += $1 + $2 + $3} END {print int(sum / 1024)}'
}

# soak_check_maps_empty WHEN: nothing left in the three maps.
soak_check_maps_empty() {
	local name n
	for name in sockfwd_peers sockfwd_ctl sockfwd_state; do
		n=$(map_count "$name")
		[ "$n" -eq 0 ] || fail "$1: $name holds $n entries"
	done
	log "ok: $1: sockfwd_peers, sockfwd_ctl, sockfwd_state empty"
}

soak_helper_start() {
	sfw_start "${SOAK_SFW_ARGS[@]}"
	# the descriptors of an idle helper (stdio, epoll, signalfd, listeners,
	# maps), counted before any traffic: a restarted one is busy at once
	[ -n "${SOAK_FD_BASE:-}" ] || SOAK_FD_BASE=$(helper_fds)
}

soak_fault_proxy_kill() {
	local pid pids
	pids="$DANTE_PID $(descendants "$DANTE_PID")"
	for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
	wait_for 5 sh -c "! kill -0 $DANTE_PID 2>/dev/null" || fail "dante did not die"
	sleep 1
	dante_start none
	DANTE_PID=$BG_PID
}

soak_fault_detach() {
	bpftool prog detach pinned "$PIN/sockfwd_verdict" stream_verdict pinned "$PIN/sockfwd_peers" ||
		fail "detach failed"
	sleep 1.5
	"$ROOT/scripts/sockfwd-load" load -d "$PIN" >/dev/null || fail "re-attach failed"
}

soak_fault_helper_term() {
	local exits
	kill -TERM "$SFW_PID"
	wait_for 10 sh -c "! kill -0 $SFW_PID 2>/dev/null" || fail "sockfwd did not exit on SIGTERM"
	exits=$(grep -c 'counters accepted=.* active=0 ' "$SFW_LOG")
	SOAK_TERMS=$((SOAK_TERMS + 1))
	[ "$exits" -ge "$SOAK_TERMS" ] || fail "the helper exited with flows active"
	soak_check_maps_empty "after SIGTERM $SOAK_TERMS"
	soak_helper_start
}

# soak_sample: one line of the helper's and the kernel's resources.
soak_sample() {
	local fds rss mem
	fds=$(helper_fds)
	rss=$(helper_rss_kb)
	mem=$(tcp_mem_kb)
	echo "$(soak_now) fds=${fds:-0} rss_kb=${rss:-0} tcp_mem_kb=${mem:-0}" >>"$SOAK_SAMPLES"
	[ "${rss:-0}" -gt "$SOAK_MAX_RSS" ] && SOAK_MAX_RSS=$rss
	[ "${mem:-0}" -gt "$SOAK_MAX_MEM" ] && SOAK_MAX_MEM=$mem
	[ "${fds:-0}" -gt "$SOAK_MAX_FDS" ] && SOAK_MAX_FDS=$fds
	return 0
}

# soak_run SECONDS [CONNS] [MAX_SIZE]
soak_run() {
	local duration=$1 conns=${2:-200} max_size=${3:-$((4 << 20))} interval=20
	local kinds=(proxy-kill detach helper-term) next k=0 start t0 t1 kind rc mem_base
	[ -x "$SOAK_TOOL" ] || fail "$SOAK_TOOL not built (make tools)"
	[ "$duration" -le 90 ] && interval=15
	sfw_topology
	sfw_load_maps
	dante_start none
	DANTE_PID=$BG_PID
	SOAK_TERMS=0 SOAK_MAX_RSS=0 SOAK_MAX_MEM=0 SOAK_MAX_FDS=0
	SOAK_FAULTS=$TEST_TMP/faults SOAK_SAMPLES=$TEST_TMP/samples
	: >"$SOAK_FAULTS"
	on_exit "cp '$TEST_TMP/sockfwd.log' '$ROOT/build/test-logs/soak-sockfwd.log'"
	mem_base=$(tcp_mem_kb)
	soak_helper_start
	log "helper descriptors idle: $SOAK_FD_BASE; TCP memory of our sockets before: $mem_base kB"
	bg - "$SOAK_TOOL" --client-ns "$(ns_path cli)" --server-ns "$(ns_path srv)" \
		--server 203.0.113.2:5001 --direct 192.0.2.2:1000 --proxied 192.0.2.2:1001 \
		--duration "$duration" --conns "$conns" --max-size "$max_size" \
		--seed "${SOAK_SEED:-1}" --faults "$SOAK_FAULTS" >"$TEST_TMP/soak.out" 2>&1
	local tool=$BG_PID
	start=$SECONDS
	next=$((interval / 2))
	# The schedule: one fault every $interval s, in turn, none in the last 10 s.
	while kill -0 "$tool" 2>/dev/null && [ $((SECONDS - start)) -lt $((duration + 120)) ]; do
		if [ $((SECONDS - start)) -ge "$next" ] && [ "$next" -le $((duration - 10)) ]; then
			kind=${kinds[k % 3]}
			k=$((k + 1))
			t0=$(soak_now)
			"soak_fault_${kind//-/_}"
			t1=$(soak_now)
			echo "$kind $t0 $t1" >>"$SOAK_FAULTS"
			log "fault $kind at +$((SECONDS - start)) s, $((t1 - t0)) ms"
			next=$((next + interval))
		fi
		# no fault left: the tool may judge
		if [ "$next" -gt $((duration - 10)) ] && ! grep -q '^done' "$SOAK_FAULTS"; then
			echo 'done' >>"$SOAK_FAULTS"
		fi
		soak_sample
		sleep 1
	done
	grep -q '^done' "$SOAK_FAULTS" || echo 'done' >>"$SOAK_FAULTS"
	wait_for 30 sh -c "! kill -0 $tool 2>/dev/null" || fail "soak tool did not finish"
	wait "$tool"
	rc=$?
	cat "$TEST_TMP/soak.out"
	[ "$rc" -eq 0 ] || { tail -n 40 "$SFW_LOG"; fail "soak: the tool found violations (exit $rc)"; }
	[ "$k" -ge 3 ] || fail "only $k faults injected"

	# The tool has closed every connection: the last sample once the helper
	# says it has no flow left, not after a guessed pause.
	wait_for 10 counters_say "active=0 " || fail "the helper still has flows after the tool ended"
	soak_sample
	log "helper: flows logged $(grep -c 'conn client=' "$SFW_LOG"), modes:" \
		"$(grep -o 'mode=[a-z]*' "$SFW_LOG" | sort | uniq -c | tr '\n' ' ')"
	check_eq "$(sfw_counter active)" 0 "active flows at the end"
	check_eq "$(sfw_counter map_entries)" 0 "SOCKHASH entries seen by the helper"
	soak_check_maps_empty "at the end"
	wait_for 5 sh -c "[ \$(find /proc/$SFW_PID/fd -mindepth 1 -maxdepth 1 | wc -l) -eq $SOAK_FD_BASE ]" ||
		fail "helper holds $(helper_fds) descriptors, $SOAK_FD_BASE when idle"
	log "ok: helper descriptors back to $SOAK_FD_BASE (at most $SOAK_MAX_FDS during the run)"
	check_eq "$(nsx fwd ss -tanH state close-wait | wc -l)" 0 "CLOSE_WAIT sockets in fwd"
	log "helper RSS at most $((SOAK_MAX_RSS >> 10)) MiB, now $(($(helper_rss_kb) >> 10)) MiB" \
		"(limit $((SOAK_RSS_LIMIT_KB >> 10)) MiB)"
	[ "$SOAK_MAX_RSS" -le "$SOAK_RSS_LIMIT_KB" ] || fail "helper RSS reached $SOAK_MAX_RSS kB"
	local mem_end i
	for ((i = 0; i < 50; i++)); do
		mem_end=$(tcp_mem_kb)
		[ "$mem_end" -le $((mem_base + 4096)) ] && break
		sleep 0.2
	done
	log "TCP memory of our sockets: $mem_base kB before, at most $SOAK_MAX_MEM kB during," \
		"$mem_end kB after (limit $SOAK_TCP_MEM_LIMIT_KB kB)"
	[ "$SOAK_MAX_MEM" -le "$SOAK_TCP_MEM_LIMIT_KB" ] || fail "TCP memory reached $SOAK_MAX_MEM kB"
	[ "$mem_end" -le $((mem_base + 4096)) ] || fail "TCP memory did not come back: $mem_end kB"
	log "soak: PASS in $((SECONDS - start)) s"
}
