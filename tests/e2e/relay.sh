#!/bin/sh
# End-to-end test of burrow-relay on loopback: 3 authorities, 5 relays
# (R5 also a mailbox), and the hidden test client. Prints PASS/FAIL lines.
. "$(dirname "$0")/lib.sh"
RELAY=$BUILD/burrow-relay
DIR=$BUILD/burrow-dir
T=$E2E_TMP
ok() { pass "relay/$1"; }
bad() { fail "relay/$1" "$2"; }
freeport() { free_port; }
metric() { e2e_metric "$@"; }
ge() { e2e_metric_ge "$@"; }

EPOCH=4
e2e_authorities 3 $EPOCH

for i in 1 2 3 4 5; do
	p=$(freeport); mp=$(freeport)
	echo "$mp" > "$T/R$i.mport"
	roles=mix
	[ $i = 5 ] && roles=mix,mailbox
	{
		echo "Nickname R$i"
		echo "Listen 127.0.0.1:$p"
		echo "DataDirectory $T/R$i"
		echo "Roles $roles"
		echo "MetricsListen 127.0.0.1:$mp"
		echo "EpochSeconds $EPOCH"
		echo "KeyGrace 1"
		echo "HandshakeTimeout 2"
		echo "IdleTimeout 30"
		echo "MaxHopDelayMs 200"
		echo "Workers 1"
		echo "LogLevel info"
		echo "DrainTimeout 3"
		echo "QueueLimit 512"
		echo "LinkSocketBuffer 131072"
		printf "%s" "$AUTHLINES"
	} > "$T/R$i.conf"
done

# --check-config: good passes, a bad line is reported as file:line.
if $RELAY --check-config -f "$T/R1.conf" >/dev/null 2>&1; then
	printf 'Nickname bad name!\nListen nowhere\n' > "$T/bad.conf"
	out=$($RELAY --check-config -f "$T/bad.conf" 2>&1)
	if [ $? -ne 0 ] && echo "$out" | grep -q "bad.conf:1:" && echo "$out" | grep -q "bad.conf:2:"; then
		ok check_config
	else
		bad check_config "$out"
	fi
else
	bad check_config "$($RELAY --check-config -f "$T/R1.conf" 2>&1)"
fi

for i in 1 2 3 4 5; do
	$RELAY -f "$T/R$i.conf" 2>"$T/R$i.log" &
	echo $! > "$T/R$i.pid"
	E2E_PIDS="$E2E_PIDS $!"
done

# Keys created 0600 on first start.
if wait_for 10 test -f "$T/R1/keys/identity.key" && \
   [ "$(stat -c %a "$T/R1/keys/identity.key")" = 600 ] && \
   [ "$(stat -c %a "$T/R1/keys/link.key")" = 600 ]; then
	ok keys_created
else
	bad keys_created
fi

if e2e_wait_view 40 5 R1 R2 R3 R4 R5; then
	ok consensus_lists_5_relays
else
	bad consensus_lists_5_relays "R1 sees $(metric R1 burrow_relay_consensus_relays) relays"
	tail -n 5 "$T"/R1.log "$T"/a1.log >&2
fi

send() { $RELAY testclient send "$DIRURL" "$@" >/dev/null 2>>"$T/tc.log"; }

# 1. A packet crosses 3 relays to its last node.
d0=$(metric R5 burrow_relay_packets_delivered_total)
if send R1,R2,R5 && wait_for 10 ge R5 burrow_relay_packets_delivered_total $((d0 + 1)) && \
   ge R2 burrow_relay_packets_forwarded_total 1; then
	ok three_hops
else
	bad three_hops "$(tail -n 3 "$T/tc.log")"
fi

# 2. The same packet twice: forwarded once, replay counted.
d0=$(metric R5 burrow_relay_packets_delivered_total)
r0=$(metric R1 'burrow_relay_packets_dropped_total{reason="replay"}')
f0=$(metric R1 burrow_relay_packets_forwarded_total)
if send R1,R3,R5 --dup && wait_for 10 ge R1 'burrow_relay_packets_dropped_total{reason="replay"}' $((r0 + 1)) && \
   wait_for 10 ge R5 burrow_relay_packets_delivered_total $((d0 + 1)) && sleep 1 && \
   [ "$(metric R1 burrow_relay_packets_forwarded_total)" -eq $((f0 + 1)) ] && \
   [ "$(metric R5 burrow_relay_packets_delivered_total)" -eq $((d0 + 1)) ]; then
	ok replay_dropped
else
	bad replay_dropped
fi

# 3. A tampered packet is dropped and counted.
a0=$(metric R1 'burrow_relay_packets_dropped_total{reason="auth"}')
if send R1,R4,R5 --tamper && wait_for 10 ge R1 'burrow_relay_packets_dropped_total{reason="auth"}' $((a0 + 1)); then
	ok tampered_dropped
else
	bad tampered_dropped
fi

# 4. Misbehaving peers are closed while a good sender gets through.
for how in garbage truncated oversize silent; do
	$RELAY testclient raw "$DIRURL" R1 $how > "$T/raw.$how" 2>&1 &
	echo $! > "$T/raw.$how.pid"
done
d0=$(metric R5 burrow_relay_packets_delivered_total)
good=0
send R1,R2,R5 --count 5 && wait_for 10 ge R5 burrow_relay_packets_delivered_total $((d0 + 5)) && good=1
for how in garbage truncated oversize silent; do
	wait "$(cat "$T/raw.$how.pid")"
	if [ $? -eq 0 ] && grep -q closed "$T/raw.$how"; then ok "bad_peer_$how"; else bad "bad_peer_$how" "$(cat "$T/raw.$how")"; fi
done
if [ $good = 1 ] && kill -0 "$(cat "$T/R1.pid")" 2>/dev/null; then
	ok good_sender_unaffected
else
	bad good_sender_unaffected
fi

# 5. Epoch change: a saved packet injected at once passes (the save and
# inject path keeps packets intact); the same kind of packet injected once
# its key is destroyed (two epochs later) is dropped as auth; packets for
# the new keys pass.
f0=$(metric R1 burrow_relay_packets_forwarded_total)
$RELAY testclient send "$DIRURL" R1,R2,R5 --save "$T/fresh.pkt" >/dev/null 2>>"$T/tc.log"
$RELAY testclient inject "$DIRURL" R1 "$T/fresh.pkt" >/dev/null 2>>"$T/tc.log"
if wait_for 10 ge R1 burrow_relay_packets_forwarded_total $((f0 + 1)); then
	ok saved_packet_passes
else
	bad saved_packet_passes
fi
pe=$($RELAY testclient send "$DIRURL" R1,R2,R5 --save "$T/old.pkt" 2>>"$T/tc.log" |
	awk '$1 == "epoch" { print $2 }')
wait_for 20 ge R1 burrow_relay_epoch $((pe + 2))
wait_for 5 test ! -e "$T/R1/keys/packet-$pe.key"
sleep 1	# a consensus with the new keys
a0=$(metric R1 'burrow_relay_packets_dropped_total{reason="auth"}')
d0=$(metric R5 burrow_relay_packets_delivered_total)
re=$(metric R1 burrow_relay_epoch)
$RELAY testclient inject "$DIRURL" R1 "$T/old.pkt" >/dev/null 2>>"$T/tc.log"
if [ -n "$pe" ] && [ "$re" -ge $((pe + 2)) ] && [ ! -e "$T/R1/keys/packet-$pe.key" ] && \
   wait_for 10 ge R1 'burrow_relay_packets_dropped_total{reason="auth"}' $((a0 + 1)); then
	ok expired_key_dropped
else
	bad expired_key_dropped "packet epoch $pe, R1 epoch $re, keys: $(ls "$T/R1/keys" | tr '\n' ' ')"
fi
if send R1,R3,R5 && wait_for 10 ge R5 burrow_relay_packets_delivered_total $((d0 + 1)); then
	ok new_key_passes
else
	bad new_key_passes "$(tail -n 3 "$T/tc.log")"
fi
old=$(ls "$T/R1/keys" | grep -c '^packet-')
if [ "$old" -le 3 ]; then ok old_keys_destroyed; else bad old_keys_destroyed "$(ls "$T/R1/keys")"; fi

# 6. Relay links: an authenticated relay no consensus lists is refused
# (after the relay looked for a fresher consensus) and counted.
u0=$(metric R1 'burrow_relay_links_refused_total{reason="unknown_relay"}')
out=$($RELAY testclient raw "$DIRURL" R1 unknown-relay 2>&1)
if [ "$out" = refused ] && ge R1 'burrow_relay_links_refused_total{reason="unknown_relay"}' $((u0 + 1)); then
	ok unknown_relay_refused
else
	bad unknown_relay_refused "$out"
fi

# 7. A packet for a next hop no consensus lists is held while a fresher
# consensus is fetched, then dropped as no_route.
h0=$(metric R1 burrow_relay_unrouted_held_total)
n0=$(metric R1 'burrow_relay_packets_dropped_total{reason="no_route"}')
c0=$(metric R1 burrow_relay_consensus_refreshes_total)
send R1 --to-nowhere
if wait_for 5 ge R1 burrow_relay_unrouted_held_total $((h0 + 1)) && \
   wait_for 10 ge R1 'burrow_relay_packets_dropped_total{reason="no_route"}' $((n0 + 1)) && \
   ge R1 burrow_relay_consensus_refreshes_total $((c0 + 1)) && \
   [ "$(metric R1 burrow_relay_queue_unrouted)" = 0 ]; then
	ok unrouted_held_then_dropped
else
	bad unrouted_held_then_dropped "held=$(metric R1 burrow_relay_unrouted_held_total)"
fi

# 8. Backpressure: the next hop (R3) stops reading. R1's output and queue
# stay bounded, nothing is dropped, and R1 stops reading from the sender;
# once R3 reads again every packet gets through. The packets are built
# just after an epoch boundary, so that their key (KeyGrace 1: usable
# until 1 s into the next epoch) is still live while R3 is stopped, and
# injected through a small socket buffer so that the sender blocks after
# about 1,400 packets. RELAY_E2E_BACKPRESSURE=0 skips this section.
if [ "${RELAY_E2E_BACKPRESSURE:-1}" != 0 ]; then
N=2000
i0=$(metric R1 burrow_relay_packets_in_total)
a0=$(metric R1 'burrow_relay_packets_dropped_total{reason="auth"}')
sleep "$(date +%s.%N | awk -v e=$EPOCH '{ printf "%.3f", e - ($1 % e) + 0.05 }')"
t_build=$(date +%s.%N)
pe=$($RELAY testclient send "$DIRURL" R1,R3,R5 --count $N --save "$T/bp.pkt" 2>>"$T/tc.log" |
	awk '$1 == "epoch" { print $2 }')
R3PID=$(cat "$T/R3.pid")
p0=$(metric R3 burrow_relay_packets_in_total)
f0=$(metric R1 burrow_relay_packets_forwarded_total)
l0=$(metric R1 'burrow_relay_packets_dropped_total{reason="link"}')
q0=$(metric R1 'burrow_relay_packets_dropped_total{reason="queue_full"}')
kill -STOP "$R3PID"
t_inject=$(date +%s.%N)
re=$(metric R1 burrow_relay_epoch)
$RELAY testclient inject "$DIRURL" R1 "$T/bp.pkt" --sndbuf 65536 > "$T/bp.out" 2>&1 &
INJ=$!
E2E_PIDS="$E2E_PIDS $INJ"
wait_for 5 sh -c "[ \"\$(curl -s http://127.0.0.1:$(cat "$T/R1.mport")/metrics | awk '\$1 == \"burrow_relay_input_paused\" { print \$2 }')\" = 1 ]"
sleep 0.5
in1=$(metric R1 burrow_relay_packets_in_total)
sleep 0.5
in2=$(metric R1 burrow_relay_packets_in_total)
paused=$(metric R1 burrow_relay_input_paused)
outb=$(metric R1 burrow_relay_queue_output_bytes)
unw=$(metric R1 burrow_relay_queue_unwrap)
auth=$(( $(metric R1 'burrow_relay_packets_dropped_total{reason="auth"}') - a0 ))
blocked=0
kill -0 "$INJ" 2>/dev/null && blocked=1
t_cont=$(date +%s.%N)
kill -CONT "$R3PID"
timing=$(echo "$t_build $t_inject $t_cont" | awk '{ printf "build %.1f s, stopped %.1f s", $2 - $1, $3 - $2 }')
info="packet epoch $pe, R1 epoch $re at injection; $timing; paused=$paused in=$((in1 - i0))/$((in2 - i0)) out_bytes=$outb unwrap=$unw auth_drops=$auth sender_blocked=$blocked"
echo "  backpressure while stopped: $info" >&2
if [ "$paused" = 1 ] && [ "$in1" = "$in2" ] && [ "$blocked" = 1 ] && [ "$auth" = 0 ] && \
   [ "$outb" -le $((2048 * 2069)) ] && [ "$unw" -le 1024 ] && \
   [ "$(metric R1 'burrow_relay_packets_dropped_total{reason="link"}')" = "$l0" ] && \
   [ "$(metric R1 'burrow_relay_packets_dropped_total{reason="queue_full"}')" = "$q0" ]; then
	ok backpressure_bounded
else
	bad backpressure_bounded "$info"
fi
wait "$INJ"
irc=$?
# Every packet reaches R1, and all R1 forwarded reach R3 (a packet whose
# key ran out while it waited is dropped as auth at R1: not a loss of
# backpressure).
if [ $irc -eq 0 ] && wait_for 30 ge R1 burrow_relay_packets_in_total $((i0 + N)) && \
   sleep 1 && fwd=$(( $(metric R1 burrow_relay_packets_forwarded_total) - f0 )) && \
   [ "$fwd" -gt 0 ] && wait_for 30 ge R3 burrow_relay_packets_in_total $((p0 + fwd)) && \
   [ "$(metric R1 burrow_relay_input_paused)" = 0 ]; then
	ok backpressure_resumes
else
	bad backpressure_resumes "inject exit $irc, R3 got $(( $(metric R3 burrow_relay_packets_in_total) - p0 )) of $N; R1: $(curl -s http://127.0.0.1:$(cat "$T/R1.mport")/metrics | grep -E "^burrow_relay_(packets|queue)" | tr "\n" " ")"
fi
fi

# 9. SIGHUP reloads; SIGTERM drains and exits 0.
kill -HUP "$(cat "$T/R2.pid")"
sleep 0.5
if kill -0 "$(cat "$T/R2.pid")" 2>/dev/null && grep -q "configuration reloaded" "$T/R2.log"; then
	ok sighup_reload
else
	bad sighup_reload
fi
pid=$(cat "$T/R4.pid")
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ $rc -eq 0 ]; then ok sigterm_exit0; else bad sigterm_exit0 "exit $rc"; fi
e2e_finish
