#!/bin/sh
# End-to-end throughput of `burrow send --wait` + `burrow fetch` of a
# 16 MiB file over a loopback network (3 authorities, 5 mix relays, 1
# mailbox node), against the client's own packet build rate measured in
# the same run (bench_client), which bounds it.
BUILD=${BUILD:-build}
SIZE_MIB=${CLIENT_BENCH_MIB:-16}
CLIENT_E2E_NET_ONLY=1
CLIENT_E2E_DIR=tests/e2e
CLIENT_E2E_SEND_WINDOW=2048
. tests/e2e/client.sh > /dev/null
alice init > "$T/alice.addr" 2>"$T/init.err" && bob init > "$T/bob.addr" 2>>"$T/init.err" || {
	echo "client_e2e_error: init failed: $(cat "$T/init.err")" >&2
	exit 1
}
head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$T/big"
t0=$(date +%s.%N)
alice send "$(cat "$T/bob.addr")" --file "$T/big" --wait > "$T/send.out" 2>&1 || {
	echo "client_e2e_error: send exit $?" >&2
	echo "client_e2e_error: send failed: $(tail -n 2 "$T/send.out")" >&2
	exit 1
}
t1=$(date +%s.%N)
n=0
until bob --json inbox 2>/dev/null | grep -q '"state": "complete"'; do
	bob fetch > /dev/null 2>&1
	n=$((n + 1))
	[ $n -gt 100 ] && { echo "client_e2e_error: not complete after fetching" >&2; exit 1; }
done
t2=$(date +%s.%N)
bob read 1 --out "$T/big.got" 2>/dev/null
cmp -s "$T/big" "$T/big.got" || { echo "client_e2e_error: file differs" >&2; exit 1; }
sent=$(sed -n 's/.*acknowledged, \([0-9]*\) sent.*/\1/p' "$T/send.out")
build=$("$BUILD/bench/bench_client" | awk '/client_packet_build_3relay_per_s/ { print $2 }')
awk -v a="$t0" -v b="$t1" -v c="$t2" -v mib="$SIZE_MIB" -v sent="$sent" -v build="$build" 'BEGIN {
	send = b - a; fetch = c - b; total = c - a
	printf "client_e2e_%dmib_send_wait_s: %.1f\n", mib, send
	printf "client_e2e_%dmib_fetch_s: %.1f\n", mib, fetch
	printf "client_e2e_%dmib_total_s: %.1f\n", mib, total
	printf "client_e2e_mib_per_s: %.2f\n", mib / total
	printf "client_e2e_packets_sent: %d\n", sent
	if (build > 0 && send > 0)
		printf "client_e2e_send_vs_build_rate: %.2f\n", (sent / send) / build
}'
