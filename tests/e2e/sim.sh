# End-to-end tests of burrow-sim's local networks: a bad scenario line is
# reported as file:line; up/down leave no process behind; the smoke
# scenario delivers every message exactly once; the demo works.
. "$(dirname "$0")/lib.sh"
SIM=$BUILD/burrow-sim

# Is pid still a live (not zombie) process?
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pids_of() {
	grep '"pid"' "$1/network.json" | grep -o '[0-9][0-9]*'
}

# 1. a bad scenario line is named by file and line, and nothing starts
cat >"$E2E_TMP/bad.scen" <<'SCEN'
network relays 5
load senders two
at 3 kill relay9
SCEN
out=$("$SIM" run "$E2E_TMP/bad.scen" --out "$E2E_TMP/bad" 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q "bad.scen:2: senders" &&
   echo "$out" | grep -q "bad.scen:3: no node 'relay9'" && [ ! -d "$E2E_TMP/bad/net" ]; then
	pass sim_bad_scenario_line
else
	fail sim_bad_scenario_line "rc=$rc: $out"
fi

# 2. up returns after a real probe drop; down stops every process by pid
NET=$E2E_TMP/net
if timeout 240 "$SIM" up --dir "$NET" --epoch 6 >"$E2E_TMP/up.out" 2>&1; then
	ok=1
	for p in $(pids_of "$NET"); do
		E2E_PIDS="$E2E_PIDS $p"	# cleanup kills them if down fails
		alive "$p" || ok=0
	done
	[ -s "$NET/client.conf" ] && grep -q '"metrics_url"' "$NET/network.json" || ok=0
	[ $ok = 1 ] && pass sim_up_probe || fail sim_up_probe "a node is not running after up"
	"$SIM" down --dir "$NET" >"$E2E_TMP/down.out" 2>&1
	rc=$?
	left=""
	for p in $(pids_of "$NET"); do
		alive "$p" && left="$left $p"
	done
	if [ $rc -eq 0 ] && [ -z "$left" ]; then
		pass sim_down_leaves_nothing
	else
		fail sim_down_leaves_nothing "rc=$rc, still running:$left"
	fi
else
	fail sim_up_probe "$(tail -n 5 "$E2E_TMP/up.out")"
	for p in $(pids_of "$NET" 2>/dev/null); do E2E_PIDS="$E2E_PIDS $p"; done
fi

# 3. the smoke scenario, with its own assertions (require lines)
OUT=$E2E_TMP/smoke
if timeout 300 "$SIM" run sim/scenarios/smoke.scen --out "$OUT" >"$E2E_TMP/smoke.out" 2>&1 &&
   grep -q '"delivery_ratio": 1' "$OUT/summary.json" && [ -s "$OUT/messages.csv" ]; then
	pass sim_smoke_scenario
else
	fail sim_smoke_scenario "$(tail -n 8 "$E2E_TMP/smoke.out"; grep -v ',delivered,' "$OUT/messages.csv" 2>/dev/null | head -5)"
fi
for p in $(pids_of "$OUT/net" 2>/dev/null); do
	alive "$p" && { fail sim_smoke_leaves_nothing "pid $p still running"; kill -9 "$p"; }
done

# 4. the README's main job
if timeout 240 "$SIM" demo >"$E2E_TMP/demo.out" 2>&1 && grep -q "Hello Bob" "$E2E_TMP/demo.out"; then
	pass sim_demo
else
	fail sim_demo "$(tail -n 8 "$E2E_TMP/demo.out")"
fi

e2e_finish
