#!/bin/sh
# burrow-sim model from the command line: help, a config error reported as
# file:line with a non-zero exit, and a small run that writes every output
# (plots only when gnuplot is installed).
BUILD=${BUILD:-build}
SIM="$BUILD/burrow-sim"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/burrow-e2e-model.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

check() {	# name, then a command that must succeed
	name=$1; shift
	if "$@"; then echo "PASS model/$name"; else echo "FAIL model/$name"; fi
}

check help sh -c "'$SIM' --help | grep -q model && '$SIM' model --help | grep -q -- --out"

printf 'Relays 20\nPathLength 9\nLinkLatency lognormal 20\n' >"$tmp/bad.conf"
"$SIM" model "$tmp/bad.conf" --out "$tmp/o" 2>"$tmp/err"
rc=$?
check config_error_exit test "$rc" -ne 0
check config_error_line grep -q "^$tmp/bad.conf:2:" "$tmp/err"
check config_error_line3 grep -q "^$tmp/bad.conf:3:" "$tmp/err"

printf 'Relays 40\nMailboxes 3\nClients 50\nMessages 300\nSendRate 1\nSeeds 2\n' >"$tmp/ok.conf"
check run "$SIM" model "$tmp/ok.conf" --out "$tmp/out" --seed 3
ok=1
for f in summary.json delivery.csv latency_cdf.csv entropy_cdf.csv compromise.csv \
	first_compromise.csv first_compromise_msgs.csv messages.csv plots.gp timing.txt; do
	[ -s "$tmp/out/$f" ] || { echo "missing $f" >&2; ok=0; }
done
if command -v gnuplot >/dev/null 2>&1; then
	for f in latency_cdf.png compromise.png first_compromise.png entropy_cdf.png; do
		[ -s "$tmp/out/$f" ] || { echo "missing $f" >&2; ok=0; }
	done
fi
check outputs test "$ok" = 1
check summary_json sh -c "grep -q '\"delivery_ratio\"' '$tmp/out/summary.json'"
