#!/bin/sh
# Benchmark: packets per second through a real burrow-relay over a
# loopback link against the in-process unwrap rate measured in the same
# run, with 1 and 2 workers, and the relay's peak RSS. The relay under test
# unwraps each packet, checks its replay tag and finds its next hop absent
# from the consensus (so no second relay competes for the 2 cores).
# Prints: relay_vs_unwrap_1worker, relay_2workers_vs_1worker, relay_peak_rss_kb.
BUILD=${BUILD:-build}
RELAY=$BUILD/burrow-relay
DIR=$BUILD/burrow-dir
N=${RELAY_BENCH_PACKETS:-20000}
T=$(mktemp -d "${TMPDIR:-/tmp}/burrow-relay-bench.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
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
	PIDS="$PIDS $!"
done
DIRURL="http://127.0.0.1:$(cat "$T/a1.port")"

run_relay() {	# workers -> prints "rate rss"
	w=$1
	p=$(freeport); mp=$(freeport)
	printf "Nickname B%s\nListen 127.0.0.1:%s\nDataDirectory %s\nMetricsListen 127.0.0.1:%s\nEpochSeconds 5\nWorkers %s\nPeerRateLimit 0\nQueueLimit 4096\nLogLevel info\n%s" \
		"$w" "$p" "$T/B$w" "$mp" "$w" "$AUTHLINES" > "$T/B$w.conf"
	$RELAY -f "$T/B$w.conf" 2>>"$T/B$w.log" &
	pid=$!
	PIDS="$PIDS $pid"
	i=0
	while [ $i -lt 150 ]; do
		$RELAY testclient send "$DIRURL" "B$w" --to-nowhere --next-epoch --count "$N" --save "$T/p$w" \
			>/dev/null 2>&1 && break
		sleep 0.2; i=$((i + 1))
	done
	t0=$(now)
	$RELAY testclient inject "$DIRURL" "B$w" "$T/p$w" >/dev/null 2>&1
	k=0
	while [ $k -lt 1200 ]; do	# at most 60 s
		d=$(metric "$mp" 'burrow_relay_packets_dropped_total{reason="no_route"}')
		[ -n "$d" ] && [ "$d" -ge "$N" ] && break
		sleep 0.05; k=$((k + 1))
	done
	[ $k -ge 1200 ] && { echo "bench: relay B$w processed only $d of $N" >&2; \
		curl -s "http://127.0.0.1:$mp/metrics" | grep -E "dropped|packets_in" >&2; }
	t1=$(now)
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	kill "$pid"
	[ -n "$BENCH_DEBUG" ] && grep -E "epoch|key" "$T/B$w.log" >&2
	echo "$t0 $t1 $rss"
}

unwrap=$($RELAY testclient unwrap-rate 5000)
set -- $(run_relay 1)
r1=$(echo "$N $1 $2" | awk '{ printf "%.0f", $1 / ($3 - $2) }')
rss1=$3
set -- $(run_relay 2)
r2=$(echo "$N $1 $2" | awk '{ printf "%.0f", $1 / ($3 - $2) }')
rss2=$3
echo "relay_unwrap_inprocess_pps: $unwrap"
echo "relay_1worker_pps: $r1"
echo "relay_2workers_pps: $r2"
echo "relay_vs_unwrap_1worker: $(echo "$r1 $unwrap" | awk '{ printf "%.2f", $1 / $2 }')"
echo "relay_2workers_vs_1worker: $(echo "$r2 $r1" | awk '{ printf "%.2f", $1 / $2 }')"
echo "relay_peak_rss_kb: $(echo "$rss1 $rss2" | awk '{ print ($1 > $2) ? $1 : $2 }')"
