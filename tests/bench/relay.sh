#!/bin/sh
# Benchmark: packets per second through a real burrow-relay over a
# loopback link against the in-process unwrap rate measured in the same
# run, with 1 and 2 workers, and the relay's peak RSS. The relay under test
# unwraps each packet, checks its replay tag and finds its next hop absent
# from the consensus (so no second relay competes for the 2 cores); it runs
# with UnroutedHoldMs 0, so that such packets are dropped as no_route at
# once instead of waiting in the hold queue for a fresher consensus.
# Prints: relay_vs_unwrap_1worker, relay_2workers_vs_1worker, relay_peak_rss_kb.
. "$(dirname "$0")/../e2e/lib.sh"	# free_port, PIDs killed on exit
RELAY=$BUILD/burrow-relay
DIR=$BUILD/burrow-dir
N=${RELAY_BENCH_PACKETS:-20000}
T=$E2E_TMP
freeport() { free_port; }
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
now() { date +%s.%N; }


AUTHLINES=""
for i in 1 2 3; do
	p=$(freeport); echo "$p" > "$T/a$i.port"
	pk=$($DIR keygen --out "$T/a$i.key" | tail -n 1)
	AUTHLINES="${AUTHLINES}Authority $pk 127.0.0.1:$p
"
done
for i in 1 2 3; do
	mkdir -p "$T/a$i"
	printf "IdentityKeyFile %s\nListen 127.0.0.1:%s\nEpochSeconds %s\nDataDirectory %s\n%s" \
		"$T/a$i.key" "$(cat "$T/a$i.port")" 5 "$T/a$i" "$AUTHLINES" > "$T/a$i.conf"
	$DIR --config "$T/a$i.conf" 2>/dev/null &
	E2E_PIDS="$E2E_PIDS $!"
done
DIRURL="http://127.0.0.1:$(cat "$T/a1.port")"

run_relay() {	# workers -> prints "seconds rss"
	w=$1
	p=$(freeport); mp=$(freeport)
	printf "Nickname B%s\nListen 127.0.0.1:%s\nDataDirectory %s\nMetricsListen 127.0.0.1:%s\nEpochSeconds 5\nWorkers %s\nPeerRateLimit 0\nQueueLimit 4096\nUnroutedHoldMs 0\nLogLevel info\n%s" \
		"$w" "$p" "$T/B$w" "$mp" "$w" "$AUTHLINES" > "$T/B$w.conf"
	$RELAY -f "$T/B$w.conf" 2>>"$T/B$w.log" &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	# Packets are built in chunks just before they are sent, so that the
	# keys they use (epochs of 5 s) are still live when they arrive; only
	# the time from the first packet sent (after the link handshake) to the
	# last packet processed counts, as the test client measures it.
	chunk=$((N / 4)); done_n=0; total=0
	for c in 1 2 3 4; do
		# Start each chunk early in an epoch, so that it is processed
		# before its key becomes the previous one (a relay tries the
		# current key first: a packet for the previous key costs one
		# more X25519, which would make the figures depend on timing).
		sleep "$(date +%s.%N | awk '{ l = 5 - ($1 % 5); printf "%.3f", (l < 3.5) ? l + 0.2 : 0 }')"
		i=0
		while [ $i -lt 150 ]; do
			$RELAY testclient send "$DIRURL" "B$w" --to-nowhere --count "$chunk" \
				--save "$T/p$w" >/dev/null 2>>"$T/inject.log" && break
			sleep 0.2; i=$((i + 1))
		done
		done_n=$((done_n + chunk))
		el=$($RELAY testclient inject "$DIRURL" "B$w" "$T/p$w" --metrics-port "$mp" \
			--expect "$done_n" 2>>"$T/inject.log" | awk '$1 == "elapsed" { print $2 }')
		d=$(metric "$mp" 'burrow_relay_packets_dropped_total{reason="no_route"}')
		if [ -z "$el" ] || [ "${d:-0}" -lt "$done_n" ]; then
			echo "bench: relay B$w processed only $d of $done_n" >&2
			tail -n 3 "$T/inject.log" "$T/B$w.log" >&2
		fi
		total=$(echo "$total ${el:-0}" | awk '{ printf "%.6f", $1 + $2 }')
	done
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	kill "$pid"
	echo "$total $rss"
}

# The in-process rate is taken just before and just after the 1-worker
# run and averaged, so that a neighbour's load weighs on both sides of the
# ratio alike.
u1=$($RELAY testclient unwrap-rate 5000)
run_relay 1 >"$T/res1"
u2=$($RELAY testclient unwrap-rate 5000)
unwrap=$(echo "$u1 $u2" | awk '{ printf "%.0f", ($1 + $2) / 2 }')
set -- $(cat "$T/res1")
r1=$(echo "$N $1" | awk '{ printf "%.0f", $1 / $2 }')
rss1=$2
run_relay 2 >"$T/res2"
set -- $(cat "$T/res2")
r2=$(echo "$N $1" | awk '{ printf "%.0f", $1 / $2 }')
rss2=$2
# Mailbox over the network: durable deposits per second (one-hop packets
# straight to the mailbox node, ACKed after grouped commits) and fetch
# throughput (HELLO/AUTH, then FETCH + ACK per batch of 4 until empty).
MB=${MAILBOX_BENCH_MESSAGES:-2000}
p=$(freeport); mp=$(freeport)
printf "Nickname MB\nListen 127.0.0.1:%s\nDataDirectory %s\nMetricsListen 127.0.0.1:%s\nEpochSeconds 5\nRoles mix,mailbox\nPeerRateLimit 0\nMailboxMaxMessages %s\nLogLevel warn\n%s" \
	"$p" "$T/MB" "$mp" "$MB" "$AUTHLINES" > "$T/MB.conf"
$RELAY -f "$T/MB.conf" 2>>"$T/MB.log" &
mbpid=$!
E2E_PIDS="$E2E_PIDS $mbpid"
OWNER=$($RELAY testclient keygen)
i=0
while [ $i -lt 150 ]; do
	$RELAY testclient send "$DIRURL" MB --owner "$OWNER" --count "$MB" --save "$T/mb.pkt" \
		>/dev/null 2>>"$T/inject.log" && break
	sleep 0.2; i=$((i + 1))
done
el=$($RELAY testclient inject "$DIRURL" MB "$T/mb.pkt" --metrics-port "$mp" --expect "$MB" \
	--metric burrow_mailbox_deposits_total 2>>"$T/inject.log" | awk '$1 == "elapsed" { print $2 }')
commits=$(metric "$mp" burrow_mailbox_commits_total)
t0=$(now)
got=$($RELAY testclient fetch "$DIRURL" MB "$OWNER" --ack 2>>"$T/inject.log" | awk '$1 == "acked" { print $2 }')
t1=$(now)
kill "$mbpid"

echo "relay_unwrap_inprocess_pps: $unwrap"
echo "relay_1worker_pps: $r1"
echo "relay_2workers_pps: $r2"
echo "relay_vs_unwrap_1worker: $(echo "$r1 $unwrap" | awk '{ printf "%.2f", $1 / $2 }')"
echo "relay_2workers_vs_1worker: $(echo "$r2 $r1" | awk '{ printf "%.2f", $1 / $2 }')"
echo "relay_peak_rss_kb: $(echo "$rss1 $rss2" | awk '{ print ($1 > $2) ? $1 : $2 }')"
echo "mailbox_net_deposits_per_s: $(echo "$MB ${el:-0}" | awk '{ printf "%.0f", ($2 > 0) ? $1 / $2 : 0 }')"
echo "mailbox_net_deposits_per_commit: $(echo "$MB ${commits:-0}" | awk '{ printf "%.1f", ($2 > 0) ? $1 / $2 : 0 }')"
echo "mailbox_net_fetch_acked_msgs_per_s: $(echo "${got:-0} $t0 $t1" | awk '{ printf "%.0f", $1 / ($3 - $2) }')"
