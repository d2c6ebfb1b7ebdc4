#!/bin/sh
# anchor: the same small-message drop workload on a private Tor network
# and on a local Burrow network, both on 127.0.0.1 on this machine,
# reported as ratios (Burrow / Tor) of median latency and of relay CPU
# per message. See docs/anchor.md for the method and what is comparable.
#
# Run by `make bench` (tests/bench/run) with sh. Prints `name: value`
# lines; when a side cannot run it prints `anchor: skipped: <reason>` and
# still exits 0. Everything is bounded in time and every process started
# here is killed by PID on exit.
#
# Environment:
#   ANCHOR_N=50            messages per side
#   ANCHOR_SIZE=1024       message size in bytes
#   ANCHOR_FETCH_N=10      Burrow messages also timed until the recipient
#                          fetched them (0 to skip)
#   ANCHOR_BURROW_DELAY=0  per-hop mixing delay (ms) for burrow-sim up;
#                          empty to use burrow-sim's default
#   ANCHOR_IDLE_S=5        idle window measuring the relays' background
#                          CPU, subtracted from the loop's CPU
#   ANCHOR_POLL_MS=10      the Burrow client's PollIntervalMs (how often
#                          `send --wait` looks for its ACK); empty for the
#                          client's default (500)
#   ANCHOR_SIDES="tor burrow"
#   ANCHOR_KEEP=1          keep the work directory
#   BUILD=build

BUILD=${BUILD:-build}
N=${ANCHOR_N:-50}
SIZE=${ANCHOR_SIZE:-1024}
FETCH_N=${ANCHOR_FETCH_N:-10}
BDELAY=${ANCHOR_BURROW_DELAY-0}
SIDES=${ANCHOR_SIDES:-tor burrow}
BOOT_SECS=90
IDLE_S=${ANCHOR_IDLE_S:-5}
POLL_MS=${ANCHOR_POLL_MS-10}

top=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$top" || exit 1
. tests/e2e/pids.sh
TPL=$top/tests/bench/tor

W=$(mktemp -d "${TMPDIR:-/tmp}/burrow-anchor.XXXXXX") || exit 1
PIDS=""
PORTS=""
BNET=""

cleanup() {
	if [ -n "$BNET" ] && [ -f "$BNET/network.json" ]; then
		timeout 30 "$BUILD/burrow-sim" down --dir "$BNET" \
		    >>"$W/burrow-down.log" 2>&1
		# Whatever `down` did not stop: only a burrow-* process whose
		# command line names this network's directory.
		for p in $(json_pids "$BNET/network.json" '.'); do
			ours "$p" && kill -9 "$p" 2>/dev/null
		done
	fi
	# shellcheck disable=SC2086
	stop_pids $PIDS
	if [ -n "$ANCHOR_KEEP" ]; then
		echo "anchor: kept $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

skip() {
	echo "anchor: skipped: $*"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# A TCP port in 20000..32767 that nothing listens on (checked in
# /proc/net/tcp{,6}) and that this script has not handed out yet.
free_port() {
	n=0
	while [ $n -lt 200 ]; do
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + r % 12768))
		n=$((n + 1))
		case " $PORTS " in *" $p "*) continue ;; esac
		hex=$(printf '%04X' "$p")
		if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		    awk '{print $2}' | grep -q ":$hex\$"; then
			continue
		fi
		PORTS="$PORTS $p"
		echo "$p"
		return 0
	done
	return 1
}

# Run CMD every 0.5 s until it succeeds or SECS pass; 1 if it never did.
wait_for() {
	secs=$1
	shift
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" && return 0
		sleep "${PAUSE:-0.5}"
	done
	return 1
}

now_ns() {
	date +%s%N
}

# CPU time in nanoseconds used so far by the given PIDs, all threads.
# schedstat's first field is the task's run time in ns; where the kernel
# lacks it, fall back to utime+stime from /proc/PID/stat (clock ticks).
cpu_ns() {
	tot=0
	for p in "$@"; do
		t=0
		if [ -r "/proc/$p/schedstat" ]; then
			t=$(cat /proc/"$p"/task/*/schedstat 2>/dev/null |
			    awk '{s += $1} END {printf "%.0f", s}')
		elif [ -r "/proc/$p/stat" ]; then
			hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
			t=$(sed 's/^.*) //' "/proc/$p/stat" |
			    awk -v hz="$hz" '{printf "%.0f", ($12 + $13) * 1e9 / hz}')
		fi
		tot=$((tot + ${t:-0}))
	done
	echo "$tot"
}

# Median and 90th percentile of the numbers in FILE (one a line).
median() {
	sort -n "$1" | awk '{a[NR] = $1} END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) m = a[(NR + 1) / 2]; else m = (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.2f\n", m }'
}
p90() {
	sort -n "$1" | awk '{a[NR] = $1} END {
		if (NR == 0) { print "nan"; exit }
		i = int(NR * 0.9 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
		printf "%.2f\n", a[i] }'
}

# Background CPU of PIDS while nothing is sent: ns of CPU per second over
# an IDLE_S window. Measured before and after each loop and averaged, so
# that a background that fades (descriptor fetches, self-tests after
# start-up) is followed to first order.
idle_rate() {
	i0=$(cpu_ns "$@")
	w0=$(now_ns)
	sleep "$IDLE_S"
	i1=$(cpu_ns "$@")
	w1=$(now_ns)
	awk -v c=$((i1 - i0)) -v w=$((w1 - w0)) 'BEGIN {printf "%.0f", c * 1e9 / w}'
}

# CPU ns used over a loop of WALL ns, less RATE ns/s of background, >= 0.
net_cpu() {
	awk -v c="$1" -v w="$2" -v r="$3" 'BEGIN {
		n = c - r * w / 1e9; if (n < 0) n = 0; printf "%.0f", n }'
}

# ns / messages as ms per message
per_msg_ms() {
	awk -v t="$1" -v n="$2" 'BEGIN {
		if (n > 0) printf "%.3f\n", t / 1e6 / n; else print "nan" }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "nan" || b == "nan" || b + 0 == 0) print "nan"
		else printf "%.2f\n", a / b }'
}

# The message body: SIZE bytes starting with a tag line.
make_body() {
	{
		echo "anchor-tag-$1"
		head -c "$SIZE" /dev/zero | tr '\0' 'x'
	} | head -c "$SIZE" >"$2"
}

# ------------------------------------------------------------ Tor side

TOR_MEDIAN=nan
TOR_FLOOR=nan
TOR_CPU=nan

# fill TEMPLATE OUT: substitute the @NAME@ fields from the current
# variables into OUT (appending).
fill() {
	sed -e "s|@DIR@|$f_dir|g" -e "s|@NICK@|$f_nick|g" \
	    -e "s|@OWNER@|$$|g" -e "s|@ORPORT@|$f_or|g" \
	    -e "s|@DIRPORT@|$f_dirport|g" -e "s|@SINKPORT@|$SINKPORT|g" \
	    -e "s|@SOCKSPORT@|$SOCKSPORT|g" -e "s|@AUTHFPS@|$AUTHFPS|g" \
	    "$1" >>"$2"
}

tor_start() {
	tor --defaults-torrc "$W/tor/empty" -f "$1/torrc" \
	    >>"$1/stdout.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "TORPID_$2=$!"
}

client_bootstrapped() {
	grep -q 'Bootstrapped 100%' "$W/tor/client/notice.log" 2>/dev/null
}

# One message through Tor; prints the wall-clock latency in ms, or
# fails. A fresh SOCKS stream each time; Tor reuses its circuit.
tor_send() {
	t0=$(now_ns)
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
	    --socks5-hostname "127.0.0.1:$SOCKSPORT" -H 'Expect:' \
	    -H 'Content-Type: application/octet-stream' \
	    --data-binary @"$1" "http://127.0.0.1:$SINKPORT/drop") || return 1
	t1=$(now_ns)
	[ "$code" = 200 ] || return 1
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e6}'
}

tor_probe() {
	tor_send "$W/tor/body" >/dev/null
}

tor_side() {
	for t in tor tor-gencert curl socat timeout; do
		if ! have "$t"; then
			skip "tor side: $t is not installed (apt-get install tor curl socat)"
			return 0
		fi
	done
	mkdir -p "$W/tor" || return 1
	: >"$W/tor/empty"
	make_body probe "$W/tor/body"

	SINKPORT=$(free_port) && SOCKSPORT=$(free_port) || {
		skip "tor side: no free port"
		return 0
	}

	# The sink: one sh per connection, reads the request, answers 200.
	socat "TCP-LISTEN:$SINKPORT,bind=127.0.0.1,reuseaddr,fork,backlog=256" \
	    "EXEC:sh $TPL/sink.sh" >"$W/tor/sink.log" 2>&1 &
	SINKPID=$!
	PIDS="$PIDS $SINKPID"

	# Authorities: v3 keys with tor-gencert, relay identity with
	# --list-fingerprint, then one DirAuthority line each.
	: >"$W/tor/dirauths"
	AUTHFPS=""
	for i in 1 2 3; do
		f_nick=anchorauth$i
		f_dir=$W/tor/auth$i
		f_or=$(free_port) && f_dirport=$(free_port) || {
			skip "tor side: no free port"
			return 0
		}
		mkdir -p "$f_dir/keys" && chmod 700 "$f_dir"
		if ! echo "" | timeout 30 tor-gencert --create-identity-key -m 12 \
		    -a "127.0.0.1:$f_dirport" \
		    -i "$f_dir/keys/authority_identity_key" \
		    -s "$f_dir/keys/authority_signing_key" \
		    -c "$f_dir/keys/authority_certificate" \
		    --passphrase-fd 0 >"$f_dir/gencert.log" 2>&1; then
			skip "tor side: tor-gencert failed (see $f_dir/gencert.log)"
			return 0
		fi
		v3=$(sed -n 's/^fingerprint \([0-9A-F]*\).*/\1/p' \
		    "$f_dir/keys/authority_certificate")
		fp=$(timeout 30 tor --quiet --ignore-missing-torrc \
		    --defaults-torrc "$W/tor/empty" --list-fingerprint \
		    --DataDirectory "$f_dir" --ORPort 1 --Nickname "$f_nick" \
		    2>/dev/null | awk '{$1 = ""; gsub(/ /, ""); print}' | tail -n 1)
		if [ -z "$v3" ] || [ -z "$fp" ]; then
			skip "tor side: cannot read authority $i's fingerprints"
			return 0
		fi
		echo "DirAuthority $f_nick orport=$f_or no-v2 v3ident=$v3 127.0.0.1:$f_dirport $fp" \
		    >>"$W/tor/dirauths"
		AUTHFPS="${AUTHFPS:+$AUTHFPS,}\$$fp"
		eval "OR_auth$i=$f_or DIRP_auth$i=$f_dirport"
	done

	nodes="auth1 auth2 auth3 relay1 relay2 relay3 relay4 exit1 client"
	for n in $nodes; do
		f_nick=anchor$n
		f_dir=$W/tor/$n
		mkdir -p "$f_dir" && chmod 700 "$f_dir"
		case $n in
		auth*) eval "f_or=\$OR_$n f_dirport=\$DIRP_$n"; role=authority ;;
		relay*) f_or=$(free_port); f_dirport=0; role=relay ;;
		exit*) f_or=$(free_port); f_dirport=0; role=exit ;;
		client) f_or=0; f_dirport=0; role=client ;;
		esac
		[ -n "$f_or" ] || { skip "tor side: no free port"; return 0; }
		: >"$f_dir/torrc"
		fill "$TPL/common.torrc" "$f_dir/torrc"
		cat "$W/tor/dirauths" >>"$f_dir/torrc"
		fill "$TPL/$role.torrc" "$f_dir/torrc"
	done

	t_start=$(now_ns)
	for n in $nodes; do
		tor_start "$W/tor/$n" "$n"
	done
	sleep 1
	for n in $nodes; do
		eval "p=\$TORPID_$n"
		if ! kill -0 "$p" 2>/dev/null; then
			skip "tor side: tor $n exited at start (see $W/tor/$n/notice.log)"
			tail -n 5 "$W/tor/$n/stdout.log" >&2
			return 0
		fi
	done
	if ! wait_for "$BOOT_SECS" client_bootstrapped; then
		skip "tor side: the client did not bootstrap within ${BOOT_SECS}s"
		tail -n 5 "$W/tor/client/notice.log" >&2
		return 0
	fi
	t_boot=$(now_ns)
	# Ready when a drop goes through end to end.
	if ! wait_for 30 tor_probe; then
		skip "tor side: bootstrapped but no request reached the sink in 30s"
		tail -n 5 "$W/tor/client/notice.log" >&2
		return 0
	fi
	echo "anchor_tor_bootstrap_s: $(awk -v a="$t_start" -v b="$t_boot" \
	    'BEGIN {printf "%.1f", (b - a) / 1e9}')"
	# Warm-up, not measured.
	for i in 1 2 3 4 5; do
		tor_probe
	done

	# Baseline: the same request straight to the sink, no Tor.
	: >"$W/tor/direct.ms"
	i=0
	while [ $i -lt 20 ]; do
		t0=$(now_ns)
		curl -s -o /dev/null --max-time 5 -H 'Expect:' \
		    --data-binary @"$W/tor/body" "http://127.0.0.1:$SINKPORT/drop"
		t1=$(now_ns)
		awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e6}' \
		    >>"$W/tor/direct.ms"
		i=$((i + 1))
	done

	relays="$TORPID_relay1 $TORPID_relay2 $TORPID_relay3 $TORPID_relay4 $TORPID_exit1"
	auths="$TORPID_auth1 $TORPID_auth2 $TORPID_auth3"
	: >"$W/tor/lat.ms"
	ok=0
	fail=0
	idle=$(idle_rate $relays)
	w0=$(now_ns)
	c0=$(cpu_ns $relays)
	a0=$(cpu_ns $auths)
	k0=$(cpu_ns "$TORPID_client")
	deadline=$(($(date +%s) + 300))
	i=0
	while [ $i -lt "$N" ] && [ "$(date +%s)" -lt "$deadline" ]; do
		make_body "tor-$i" "$W/tor/msg"
		if ms=$(tor_send "$W/tor/msg"); then
			echo "$ms" >>"$W/tor/lat.ms"
			ok=$((ok + 1))
		else
			fail=$((fail + 1))
		fi
		i=$((i + 1))
	done
	c1=$(cpu_ns $relays)
	w1=$(now_ns)
	a1=$(cpu_ns $auths)
	k1=$(cpu_ns "$TORPID_client")
	idle=$(( (idle + $(idle_rate $relays)) / 2 ))

	TOR_MEDIAN=$(median "$W/tor/lat.ms")
	TOR_FLOOR=$(median "$W/tor/direct.ms")
	TOR_CPU=$(per_msg_ms "$(net_cpu $((c1 - c0)) $((w1 - w0)) "$idle")" "$ok")
	echo "anchor_tor_messages_ok: $ok"
	echo "anchor_tor_messages_failed: $fail"
	echo "anchor_direct_median_ms: $TOR_FLOOR"
	echo "anchor_tor_median_ms: $TOR_MEDIAN"
	echo "anchor_tor_p90_ms: $(p90 "$W/tor/lat.ms")"
	echo "anchor_tor_relay_cpu_ms_per_msg: $TOR_CPU"
	echo "anchor_tor_relay_cpu_raw_ms_per_msg: $(per_msg_ms $((c1 - c0)) "$ok")"
	echo "anchor_tor_relay_idle_cpu_ms_per_s: $(per_msg_ms "$idle" 1)"
	echo "anchor_tor_authority_cpu_ms_per_msg: $(per_msg_ms $((a1 - a0)) "$ok")"
	echo "anchor_tor_client_cpu_ms_per_msg: $(per_msg_ms $((k1 - k0)) "$ok")"

}

# Stop Tor and the sink now so that they do not share the CPU with Burrow.
tor_stop() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
}

# --------------------------------------------------------- Burrow side

BURROW_ACK=nan
BURROW_FLOOR=nan
BURROW_CPU=nan

# PIDs of the nodes in network.json whose role or name matches the
# extended regex PAT. Reads one flat object per node with sed (no jq).
json_pids() {
	tr -d '\n' <"$1" | tr '{}' '\n\n' |
	    grep -E "\"(role|name)\" *: *\"($2)" |
	    sed -n 's/.*"pid" *: *\([0-9][0-9]*\).*/\1/p'
}

ours() {
	case $(cat "/proc/$1/comm" 2>/dev/null) in
	burrow*) ;;
	*) return 1 ;;
	esac
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$BNET"
}

# One drop from alice to bob, timed until `send --wait` returns (the
# mailbox node's ACK came back through the reply block).
burrow_send() {
	t0=$(now_ns)
	timeout 60 "$BUILD/burrow" --home "$W/burrow/alice" \
	    --config "$BCONF" --passphrase-file "$W/burrow/pass" \
	    send "$BOB" --wait --file "$1" >>"$W/burrow/send.log" 2>&1 ||
	    return 1
	t1=$(now_ns)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e6}'
}

bob_has() {
	timeout 20 "$BUILD/burrow" --home "$W/burrow/bob" \
	    --config "$BCONF" --passphrase-file "$W/burrow/pass" \
	    fetch </dev/null >>"$W/burrow/fetch.log" 2>&1
	timeout 20 "$BUILD/burrow" --home "$W/burrow/bob" \
	    --config "$BCONF" --passphrase-file "$W/burrow/pass" \
	    export --format text </dev/null 2>>"$W/burrow/fetch.log" |
	    grep -q "anchor-tag-$1\$"
}

burrow_side() {
	if [ ! -x "$BUILD/burrow-sim" ] || [ ! -x "$BUILD/burrow" ]; then
		skip "burrow side: $BUILD/burrow-sim or $BUILD/burrow not built (make)"
		return 0
	fi
	if ! have timeout; then
		skip "burrow side: timeout (coreutils) is missing"
		return 0
	fi
	mkdir -p "$W/burrow" || return 1
	BNET=$W/burrow/net
	echo "anchor-passphrase" >"$W/burrow/pass"
	chmod 600 "$W/burrow/pass"
	set -- up --dir "$BNET" --authorities 3 --relays 5 --mailboxes 1
	[ -n "$BDELAY" ] && set -- "$@" --delay "$BDELAY"
	t_start=$(now_ns)
	if ! timeout 240 "$BUILD/burrow-sim" "$@" >"$W/burrow/up.log" 2>&1; then
		skip "burrow side: burrow-sim up failed: $(tail -n 1 "$W/burrow/up.log")"
		return 0
	fi
	t_up=$(now_ns)
	echo "anchor_burrow_up_s: $(awk -v a="$t_start" -v b="$t_up" \
	    'BEGIN {printf "%.1f", (b - a) / 1e9}')"
	# The network's client.conf, with the mailbox poll interval that
	# `send --wait` sleeps between looks for its ACK set to POLL_MS.
	BCONF=$W/burrow/client.conf
	cp "$BNET/client.conf" "$BCONF" || return 1
	[ -n "$POLL_MS" ] && echo "PollIntervalMs $POLL_MS" >>"$BCONF"
	echo "anchor_burrow_poll_ms: ${POLL_MS:-default}"
	relays=$(json_pids "$BNET/network.json" 'relay')
	mboxes=$(json_pids "$BNET/network.json" 'mail|mbox')
	auths=$(json_pids "$BNET/network.json" 'auth|dir')
	if [ -z "$relays" ]; then
		skip "burrow side: no relay pids in $BNET/network.json"
		return 0
	fi

	for who in alice bob; do
		if ! timeout 60 "$BUILD/burrow" --home "$W/burrow/$who" \
		    --config "$BCONF" \
		    --passphrase-file "$W/burrow/pass" init </dev/null \
		    >"$W/burrow/init-$who.log" 2>&1; then
			skip "burrow side: burrow init failed: $(tail -n 1 "$W/burrow/init-$who.log")"
			return 0
		fi
	done
	BOB=$(timeout 30 "$BUILD/burrow" --home "$W/burrow/bob" \
	    --config "$BCONF" --passphrase-file "$W/burrow/pass" \
	    address </dev/null 2>>"$W/burrow/init-bob.log" | tail -n 1)
	if [ -z "$BOB" ]; then
		skip "burrow side: burrow address printed nothing"
		return 0
	fi

	# Warm-up, not measured (as on the Tor side).
	make_body warm "$W/burrow/msg"
	for i in 1 2 3; do
		burrow_send "$W/burrow/msg" >/dev/null
	done

	# The client's own floor: `burrow flush` with nothing outstanding
	# starts, unlocks the key (Argon2id) and makes one ACK poll of its
	# mailbox node, as every `send --wait` does at least once.
	: >"$W/burrow/floor.ms"
	i=0
	while [ $i -lt 10 ]; do
		t0=$(now_ns)
		timeout 30 "$BUILD/burrow" --home "$W/burrow/alice" \
		    --config "$BCONF" --passphrase-file "$W/burrow/pass" \
		    flush </dev/null >>"$W/burrow/flush.log" 2>&1
		t1=$(now_ns)
		awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e6}' \
		    >>"$W/burrow/floor.ms"
		i=$((i + 1))
	done
	BURROW_FLOOR=$(median "$W/burrow/floor.ms")

	: >"$W/burrow/ack.ms"
	ok=0
	fail=0
	idle=$(idle_rate $relays)
	deadline=$(($(date +%s) + 300))
	w0=$(now_ns)
	c0=$(cpu_ns $relays)
	m0=$(cpu_ns $mboxes)
	a0=$(cpu_ns $auths)
	i=0
	while [ $i -lt "$N" ] && [ "$(date +%s)" -lt "$deadline" ]; do
		make_body "burrow-$i" "$W/burrow/msg"
		if ms=$(burrow_send "$W/burrow/msg"); then
			echo "$ms" >>"$W/burrow/ack.ms"
			ok=$((ok + 1))
		else
			fail=$((fail + 1))
		fi
		i=$((i + 1))
	done
	c1=$(cpu_ns $relays)
	w1=$(now_ns)
	m1=$(cpu_ns $mboxes)
	a1=$(cpu_ns $auths)
	idle=$(( (idle + $(idle_rate $relays)) / 2 ))

	BURROW_ACK=$(median "$W/burrow/ack.ms")
	BURROW_CPU=$(per_msg_ms "$(net_cpu $((c1 - c0)) $((w1 - w0)) "$idle")" "$ok")
	echo "anchor_burrow_messages_ok: $ok"
	echo "anchor_burrow_messages_failed: $fail"
	echo "anchor_burrow_client_floor_ms: $BURROW_FLOOR"
	echo "anchor_burrow_median_ack_ms: $BURROW_ACK"
	echo "anchor_burrow_p90_ack_ms: $(p90 "$W/burrow/ack.ms")"
	echo "anchor_burrow_relay_cpu_ms_per_msg: $BURROW_CPU"
	echo "anchor_burrow_relay_cpu_raw_ms_per_msg: $(per_msg_ms $((c1 - c0)) "$ok")"
	echo "anchor_burrow_relay_idle_cpu_ms_per_s: $(per_msg_ms "$idle" 1)"
	echo "anchor_burrow_mailbox_cpu_ms_per_msg: $(per_msg_ms $((m1 - m0)) "$ok")"
	echo "anchor_burrow_authority_cpu_ms_per_msg: $(per_msg_ms $((a1 - a0)) "$ok")"

	# Until the recipient has it: send, then fetch until it shows up.
	if [ "$FETCH_N" -gt 0 ]; then
		: >"$W/burrow/fetch.ms"
		i=0
		while [ $i -lt "$FETCH_N" ] && [ "$(date +%s)" -lt "$deadline" ]; do
			make_body "fetch-$i" "$W/burrow/msg"
			t0=$(now_ns)
			if burrow_send "$W/burrow/msg" >/dev/null &&
			    PAUSE=0.01 wait_for 30 bob_has "fetch-$i"; then
				t1=$(now_ns)
				awk -v a="$t0" -v b="$t1" \
				    'BEGIN {printf "%.3f\n", (b - a) / 1e6}' \
				    >>"$W/burrow/fetch.ms"
			fi
			i=$((i + 1))
		done
		echo "anchor_burrow_fetched: $(wc -l <"$W/burrow/fetch.ms" | tr -d ' ')/$FETCH_N"
		echo "anchor_burrow_median_fetch_ms: $(median "$W/burrow/fetch.ms")"
	fi
}

echo "anchor_messages: $N"
echo "anchor_message_bytes: $SIZE"
case " $SIDES " in *" tor "*) tor_side; tor_stop ;; esac
case " $SIDES " in *" burrow "*) burrow_side ;; esac
echo "anchor_latency_ratio_burrow_vs_tor: $(ratio "$BURROW_ACK" "$TOR_MEDIAN")"
echo "anchor_cpu_ratio_burrow_vs_tor: $(ratio "$BURROW_CPU" "$TOR_CPU")"
# The same latency ratio with each side's client floor taken off (Burrow:
# start + key unlock + one poll; Tor: curl + sink without Tor): roughly
# the network's own share. A difference of medians, so only indicative.
echo "anchor_latency_ratio_net_of_floor: $(awk -v b="$BURROW_ACK" \
    -v bf="$BURROW_FLOOR" -v t="$TOR_MEDIAN" -v tf="$TOR_FLOOR" 'BEGIN {
	if (b == "nan" || bf == "nan" || t == "nan" || tf == "nan" || t - tf <= 0)
		print "nan"
	else printf "%.2f\n", (b - bf) / (t - tf) }')"
exit 0
