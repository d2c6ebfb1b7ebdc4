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
metric() {	# node name: print the value of a metric line
	curl -s "http://127.0.0.1:$(cat "$T/$1.mport")/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
ge() { v=$(metric "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }

EPOCH=4
AUTHLINES=""
for i in 1 2 3; do
	p=$(freeport)
	echo "$p" > "$T/a$i.port"
	pk=$($DIR keygen --out "$T/a$i.key" | tail -n 1)
	AUTHLINES="${AUTHLINES}Authority $pk 127.0.0.1:$p
"
done
for i in 1 2 3; do
	mkdir -p "$T/a$i"
	{
		echo "IdentityKeyFile $T/a$i.key"
		echo "Listen 127.0.0.1:$(cat "$T/a$i.port")"
		echo "EpochSeconds $EPOCH"
		echo "DataDirectory $T/a$i"
		printf "%s" "$AUTHLINES"
	} > "$T/a$i.conf"
	$DIR --config "$T/a$i.conf" 2>"$T/a$i.log" &
	E2E_PIDS="$E2E_PIDS $!"
done
DIRURL="http://127.0.0.1:$(cat "$T/a1.port")"

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

if wait_for 40 ge R1 burrow_relay_consensus_relays 5 && wait_for 10 ge R5 burrow_relay_consensus_relays 5; then
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

# 5. Epoch change: a packet built now is dropped once its key expired;
# packets for the new keys pass.
$RELAY testclient send "$DIRURL" R1,R2,R5 --save "$T/old.pkt" >/dev/null 2>>"$T/tc.log"
e0=$(metric R1 burrow_relay_epoch)
wait_for 20 ge R1 burrow_relay_epoch $((e0 + 2))
sleep 2	# past the grace window, and a consensus with the new keys
a0=$(metric R1 'burrow_relay_packets_dropped_total{reason="auth"}')
d0=$(metric R5 burrow_relay_packets_delivered_total)
$RELAY testclient inject "$DIRURL" R1 "$T/old.pkt" >/dev/null 2>>"$T/tc.log"
if wait_for 10 ge R1 'burrow_relay_packets_dropped_total{reason="auth"}' $((a0 + 1)); then
	ok expired_key_dropped
else
	bad expired_key_dropped
fi
if send R1,R3,R5 && wait_for 10 ge R5 burrow_relay_packets_delivered_total $((d0 + 1)); then
	ok new_key_passes
else
	bad new_key_passes "$(tail -n 3 "$T/tc.log")"
fi
old=$(ls "$T/R1/keys" | grep -c '^packet-')
if [ "$old" -le 3 ]; then ok old_keys_destroyed; else bad old_keys_destroyed "$(ls "$T/R1/keys")"; fi

# 6. SIGHUP reloads; SIGTERM drains and exits 0.
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
