# burrow-sim in network-namespace mode: a partition scenario (a relay cut
# off, another rate-limited) must deliver every message exactly once, no
# mailbox node may receive a deposit from a sender's address, and every
# namespace and the bridge must be gone afterwards. Runs only as root on a
# kernel that lets us make namespaces and a bridge; elsewhere it reports
# nothing (it is not a pass). Run it with `make test-netns`.
. "$(dirname "$0")/lib.sh"

before=$(ip netns list 2>/dev/null | grep -c '^brw')
OUT=$E2E_TMP/part
if timeout 400 "$SIM" run sim/scenarios/partition.scen --out "$OUT" >"$E2E_TMP/part.out" 2>&1 &&
   grep -q '"delivery_ratio": 1' "$OUT/summary.json" &&
   grep -q '"sender_address_seen_by_mailbox": false' "$OUT/summary.json"; then
	pass sim_netns_partition
else
	fail sim_netns_partition "$(tail -n 8 "$E2E_TMP/part.out"; grep -v ',delivered,' "$OUT/messages.csv" 2>/dev/null | head -5)"
fi
if grep -q '"mailbox_deposit_sources": \[\]' "$OUT/summary.json" 2>/dev/null; then
	fail sim_netns_deposit_sources_observed "no deposit source was logged"
else
	pass sim_netns_deposit_sources_observed
fi
after=$(ip netns list 2>/dev/null | grep -c '^brw')
if [ "$after" -le "$before" ] && ! ip -o link show type bridge 2>/dev/null | grep -q ': brw[0-9]'; then
	pass sim_netns_cleaned_up
else
	fail sim_netns_cleaned_up "namespaces or bridge left: $(ip netns list | grep '^brw' | head -3)"
fi
e2e_finish
