# burrow-sim in network-namespace mode with latency, jitter and loss
# (`netem` lines): tc netem where the kernel has it, else the userspace
# forwarder (sim/impair.c). The lossy scenario must deliver every message;
# a run with 150 ms on every relay's outgoing frames must show a higher
# send->ack p50 than the same run without; nothing may be left behind
# (namespaces, bridge, the forwarder's extra veths). Runs only
# as root on a kernel that lets us make namespaces and a bridge; elsewhere it
# reports nothing (it is not a pass). Run it with `make test-netns`.
. "$(dirname "$0")/lib.sh"

# summary.json's send_to_ack_s p50 (seconds), or nothing.
ack_p50() {
	tr -d ' \n' <"$1" 2>/dev/null |
		sed -n 's/.*"send_to_ack_s":{[^}]*"p50":\([0-9.eE+-]*\).*/\1/p'
}

before=$(ip netns list 2>/dev/null | grep -c '^brw')

OUT=$E2E_TMP/lossy
if timeout 400 "$SIM" run sim/scenarios/lossy.scen --out "$OUT" >"$E2E_TMP/lossy.out" 2>&1 &&
   grep -q '"delivery_ratio": 1' "$OUT/summary.json"; then
	pass sim_netns_lossy_delivered
else
	fail sim_netns_lossy_delivered "$(tail -n 8 "$E2E_TMP/lossy.out"; grep -v ',delivered,' "$OUT/messages.csv" 2>/dev/null | head -5)"
fi
# Without tc netem the forwarder reports what it did when it is removed:
# with 5% and 2% loss over hundreds of frames, some must have been lost.
if grep -q 'no tc netem here' "$E2E_TMP/lossy.out"; then
	if grep 'userspace impairment removed' "$E2E_TMP/lossy.out" | grep -qv ' 0 lost'; then
		pass sim_netns_lossy_userspace_loss
	else
		fail sim_netns_lossy_userspace_loss "$(grep 'impairment' "$E2E_TMP/lossy.out")"
	fi
fi

# Latency: the same small run without and with 150 ms on every relay (the
# mailbox node, which also serves the clients' fetches, is left alone).
# Delivery is lossy.scen's business; here only the acknowledged count.
mkscen() {
	printf 'netns\nnetwork authorities 3 relays 4 mailboxes 1 epoch 10\n'
	printf 'load senders 2 messages 16 rate 2 delay 10ms\nsize const 500\n'
	if [ "$1" = delayed ]; then
		for n in relay1 relay2 relay3 relay4; do
			printf 'at 0 netem %s delay 150ms jitter 0ms loss 0%%\n' "$n"
		done
	fi
	printf 'settle 60\ntimeout 300\n'
}
mkscen base >"$E2E_TMP/base.scen"
mkscen delayed >"$E2E_TMP/delayed.scen"
ok=1
for v in base delayed; do
	if ! timeout 400 "$SIM" run "$E2E_TMP/$v.scen" --out "$E2E_TMP/$v" >"$E2E_TMP/$v.out" 2>&1; then
		ok=0
		fail "sim_netns_latency_$v" "$(tail -n 8 "$E2E_TMP/$v.out")"
	fi
done
b=$(ack_p50 "$E2E_TMP/base/summary.json")
d=$(ack_p50 "$E2E_TMP/delayed/summary.json")
echo "lossy.sh: send->ack p50 without delay ${b:-?} s, with 150 ms per relay ${d:-?} s" >&2
if [ $ok = 1 ] && [ -n "$b" ] && [ -n "$d" ] &&
   awk -v b="$b" -v d="$d" 'BEGIN { exit !(d > b) }'; then
	pass sim_netns_latency_grows
else
	fail sim_netns_latency_grows "p50 without ${b:-?} s, with ${d:-?} s"
fi

after=$(ip netns list 2>/dev/null | grep -c '^brw')
if [ "$after" -le "$before" ] && ! ip -o link show type bridge 2>/dev/null | grep -q ': brw[0-9]' &&
   ! ip -o link show 2>/dev/null | grep -q ': bv[0-9]*[ij][0-9]'; then
	pass sim_netns_lossy_cleaned_up
else
	fail sim_netns_lossy_cleaned_up "left: $(ip netns list | grep '^brw' | head -3) $(ip -o link show | grep -o 'bv[0-9]*[ij][0-9]*' | head -3)"
fi
e2e_finish
