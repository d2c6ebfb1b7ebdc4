#!/bin/sh
# End-to-end test of the client `burrow` against a real loopback network:
# 3 authorities, 5 mix relays and 1 mailbox node. Prints PASS/FAIL lines.
. "${CLIENT_E2E_DIR:-$(dirname "$0")}/lib.sh"
BURROW=$BUILD/burrow
RELAY=$BUILD/burrow-relay
DIRB=$BUILD/burrow-dir
T=$E2E_TMP
EPOCH=${CLIENT_E2E_EPOCH:-10}
# Test hooks (docs/spec.md part 6): fast key files, send --test-forge-signature.
export BURROW_TEST_HOOKS=unsafe-for-tests-only

for b in "$BURROW" "$RELAY" "$DIRB"; do
	if [ ! -x "$b" ]; then
		fail client/setup "$b not built"
		e2e_finish
	fi
done

# --- the network ---------------------------------------------------------
e2e_authorities 3 "$EPOCH" || exit 1

relay_conf() {	# i roles
	{
		echo "Nickname R$1"
		echo "Listen 127.0.0.1:$(cat "$T/R$1.port")"
		echo "DataDirectory $T/R$1"
		echo "Roles $2"
		echo "MetricsListen 127.0.0.1:$(cat "$T/R$1.mport")"
		echo "EpochSeconds $EPOCH"
		echo "MaxHopDelayMs 1000"
		echo "MailboxMaxMessages 200000"
		echo "MailboxMaxBytes 1073741824"
		echo "LogLevel info"
		printf "%s" "$AUTHLINES"
	} > "$T/R$1.conf"
}
for i in 1 2 3 4 5 6; do
	free_port > "$T/R$i.port" || exit 1
	free_port > "$T/R$i.mport" || exit 1
	if [ "$i" = 6 ]; then relay_conf "$i" mailbox; else relay_conf "$i" mix; fi
	start_daemon "R$i" "$RELAY" -f "$T/R$i.conf"
done

# The client's config, as a network harness writes it.
{
	echo "# client configuration for the e2e network"
	printf "%s" "$AUTHLINES"
	echo "PathLength 3"
	echo "MeanHopDelayMs 0"
	echo "AckTimeoutMs 4000"
	echo "Retries 6"
	echo "PollIntervalMs 300"
	echo "WaitTimeout 120"
} > "$T/client.conf"

[ -n "$CLIENT_E2E_SEND_WINDOW" ] && echo "SendWindow $CLIENT_E2E_SEND_WINDOW" >> "$T/client.conf"

A="$T/alice"
B="$T/bob"
M="$T/mallory"
printf 'correct horse battery staple\n' > "$T/alice.pass"
printf 'bob s passphrase\n' > "$T/bob.pass"
printf 'mallory\n' > "$T/mallory.pass"
printf 'not the passphrase\n' > "$T/wrong.pass"
alice() { "$BURROW" --home "$A" --config "$T/client.conf" --passphrase-file "$T/alice.pass" "$@"; }
bob() { "$BURROW" --home "$B" --config "$T/client.conf" --passphrase-file "$T/bob.pass" "$@"; }
mallory() { "$BURROW" --home "$M" --config "$T/client.conf" --passphrase-file "$T/mallory.pass" "$@"; }

consensus_ready() {	# every relay listed with the Mailbox flag present
	c=$(curl -s "http://127.0.0.1:$(cat "$T/a1.port")/consensus") || return 1
	[ "$(echo "$c" | grep -c '^relay ')" -ge 6 ] && echo "$c" | grep -q Mailbox
}
if wait_for 90 consensus_ready; then
	pass client/network_up
else
	fail client/network_up "no consensus listing 6 relays"
	tail -n 5 "$T"/a1.log "$T"/R1.log >&2
	e2e_finish
fi
# tests/bench/client.sh sources this file for the network alone.
[ -n "$CLIENT_E2E_NET_ONLY" ] && return 0

# --- identities ------------------------------------------------------------
if alice init > "$T/alice.addr" 2>"$T/alice.init.err" && bob init > "$T/bob.addr" 2>/dev/null &&
   mallory init > /dev/null 2>&1; then
	pass client/init
else
	fail client/init "$(cat "$T/alice.init.err")"
	e2e_finish
fi
AADDR=$(cat "$T/alice.addr")
cp "$A/consensus" "$T/old.consensus"	# stale by the end of the run
BADDR=$(cat "$T/bob.addr")
[ "$(alice address)" = "$AADDR" ] && pass client/address || fail client/address

# Key file 0600, sealed: the seed is not in it, and a wrong passphrase fails.
mode=$(stat -c %a "$A/identity.key")
out=$("$BURROW" --home "$A" --config "$T/client.conf" --passphrase-file "$T/wrong.pass" fetch 2>&1)
rc=$?
if [ "$mode" = 600 ] && [ $rc -eq 4 ] && echo "$out" | grep -q "wrong passphrase"; then
	pass client/keyfile_0600_and_wrong_passphrase
else
	fail client/keyfile_0600_and_wrong_passphrase "mode $mode, exit $rc: $out"
fi

# Without a passphrase (no file, no terminal) the key stays sealed.
out=$(setsid "$BURROW" --home "$A" --config "$T/client.conf" fetch < /dev/null 2>&1)
rc=$?
if [ $rc -eq 4 ] && echo "$out" | grep -q "passphrase"; then
	pass client/key_sealed_without_passphrase
else
	fail client/key_sealed_without_passphrase "exit $rc: $out"
fi

# Safety numbers agree on both sides.
alice contacts add bob "$BADDR" >/dev/null && bob contacts add alice "$AADDR" >/dev/null
sa=$(alice fingerprint bob | tail -n 2 | tr -d '\n')
sb=$(bob fingerprint alice | tail -n 2 | tr -d '\n')
if [ -n "$sa" ] && [ "$sa" = "$sb" ] && [ "$(echo "$sa" | tr -cd 0-9 | wc -c)" -eq 60 ]; then
	pass client/safety_number
else
	fail client/safety_number "$sa / $sb"
fi

# --- clear errors ------------------------------------------------------------
bad=$(echo "$BADDR" | sed 's/^\(brw1.....\)\(.\)/\1\2/' | awk '{ c = substr($0, 20, 1); r = (c == "a") ? "b" : "a"; print substr($0, 1, 19) r substr($0, 21) }')
out=$(echo hi | alice send "$bad" 2>&1)
rc=$?
if [ $rc -eq 5 ] && echo "$out" | grep -q "checksum mismatch"; then
	pass client/bad_checksum
else
	fail client/bad_checksum "exit $rc: $out"
fi
out=$(echo hi | alice send nobody 2>&1)
rc=$?
if [ $rc -eq 6 ] && echo "$out" | grep -q "unknown contact"; then
	pass client/unknown_contact
else
	fail client/unknown_contact "exit $rc: $out"
fi
# Under-signed: pin the 3 real authorities and 4 that never sign.
{
	cat "$T/client.conf"
	for k in 1 2 3 4; do
		p=$($DIRB keygen --out "$T/fake$k.key" | tail -n 1)
		echo "Authority $p 127.0.0.1:1"
	done
} > "$T/under.conf"
mkdir -p "$T/under"
out=$("$BURROW" --home "$T/under" --config "$T/under.conf" --passphrase-file "$T/alice.pass" init 2>&1)
rc=$?
if [ $rc -eq 7 ] && echo "$out" | grep -q -i "under-signed"; then
	pass client/under_signed_consensus
else
	fail client/under_signed_consensus "exit $rc: $out"
fi

# --- messages ------------------------------------------------------------
read_newest() {	# home-fn: print the body of the newest complete message
	id=$("$@" --json inbox | awk -F'"' '/"id"/ { id = $4 } END { print id }')
	[ -n "$id" ] && "$@" read "$id"
}
fetch_until() {	# count home-fn...: fetch until count complete messages
	want=$1; shift
	n=0
	while [ $n -lt 60 ]; do
		"$@" fetch >/dev/null 2>&1
		got=$("$@" --json inbox | grep -c '"state": "complete"')
		[ "$got" -ge "$want" ] && return 0
		sleep 0.5
		n=$((n + 1))
	done
	return 1
}

printf 'hello bob, this is a drop\n' > "$T/text"
if alice send bob --wait < "$T/text" > "$T/send1.out" 2>&1 && fetch_until 1 bob &&
   read_newest bob > "$T/text.got" && cmp -s "$T/text" "$T/text.got"; then
	pass client/text_arrives
else
	fail client/text_arrives "$(cat "$T/send1.out")"
fi
if bob inbox | grep -q anonymous; then pass client/unsigned_is_anonymous; else fail client/unsigned_is_anonymous; fi

head -c 1048576 /dev/urandom > "$T/file1m"
if alice send bob --file "$T/file1m" --wait > "$T/send2.out" 2>&1 && fetch_until 2 bob &&
   read_newest bob > "$T/file1m.got" && cmp -s "$T/file1m" "$T/file1m.got"; then
	pass client/file_1mib_identical
else
	fail client/file_1mib_identical "$(tail -n 3 "$T/send2.out")"
fi

# Signed: the sender is shown verified; a forged signature is flagged.
echo "signed by alice" | alice send bob --sign --wait > /dev/null 2>&1
fetch_until 3 bob
if bob inbox | tail -n 1 | grep -q "alice (verified)"; then
	pass client/signed_sender_verified
else
	fail client/signed_sender_verified "$(bob inbox)"
fi
# The forging hook is refused unless BURROW_TEST_HOOKS holds its exact value.
out=$(echo "no" | BURROW_TEST_HOOKS=1 mallory send "$BADDR" --sign --test-forge-signature 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q "bad option"; then
	pass client/test_hooks_gated
else
	fail client/test_hooks_gated "exit $rc: $out"
fi
echo "I am alice, honest" | mallory send "$BADDR" --sign --wait --test-forge-signature >/dev/null 2>&1
fetch_until 4 bob
id=$(bob --json inbox | awk -F'"' '/"id"/ { id = $4 } END { print id }')
out=$(bob read "$id" 2>&1)
if bob inbox | tail -n 1 | grep -q "FORGED" && echo "$out" | grep -q "FORGED"; then
	pass client/forged_signature_flagged
else
	fail client/forged_signature_flagged "$(bob inbox | tail -n 1)"
fi

# A relay dies during a send: retransmission over new paths delivers every
# fragment; the recipient sees each once.
head -c 300000 /dev/urandom > "$T/file300k"
alice send bob --file "$T/file300k" --wait > "$T/send3.out" 2>&1 &
spid=$!
sleep 0.3
kill -9 "$(pid_of R2)"	# no draining: what it holds is lost
wait $spid
src=$?
if [ $src -eq 0 ] && fetch_until 5 bob && read_newest bob > "$T/file300k.got" &&
   cmp -s "$T/file300k" "$T/file300k.got"; then
	pass client/relay_killed_retransmit
	echo "  $(cat "$T/send3.out")" >&2
else
	fail client/relay_killed_retransmit "send exit $src: $(tail -n 3 "$T/send3.out")"
fi
n=$(bob --json inbox | grep -c '"id"')
if [ "$n" -eq 5 ] && bob inbox | grep -q "293.0 KiB"; then pass client/each_message_once; else fail client/each_message_once "$n messages"; fi

# An unfinished send resumes: send without --wait, then flush --wait.
echo "resume me" | alice send bob > "$T/send4.out" 2>&1
if alice --json flush --wait > "$T/flush.out" 2>&1 && ! grep -q '"state": "sending"' "$T/flush.out" &&
   fetch_until 6 bob && [ "$(read_newest bob)" = "resume me" ]; then
	pass client/flush_resumes
else
	fail client/flush_resumes "$(cat "$T/send4.out" "$T/flush.out")"
fi

# status and export print data, as JSON for scripts.
if alice --json status | grep -q '"signatures": 3' && bob export --format json | grep -q body_base64 &&
   alice --json contacts list | grep -q '"name": "bob"'; then
	pass client/status_export_json
else
	fail client/status_export_json
fi

# The client is killed (SIGKILL) in the middle of a fetch of several
# messages. It commits what it stored before acknowledging to the node, so
# after a restart every message is in the inbox exactly once.
nbefore=$(bob --json inbox | grep -c '"id"')
printf 'kill-fetch one\n' > "$T/kf1"
printf 'kill-fetch two\n' > "$T/kf2"
head -c 2097152 /dev/urandom > "$T/kf3"
if alice send bob --wait < "$T/kf1" > "$T/send5.out" 2>&1 &&
   alice send bob --wait < "$T/kf2" >> "$T/send5.out" 2>&1 &&
   alice send bob --file "$T/kf3" --wait >> "$T/send5.out" 2>&1; then
	bob fetch > "$T/fetch_killed.out" 2>&1 &
	fpid=$!
	mid=no
	n=0
	while [ $n -lt 500 ] && kill -0 $fpid 2>/dev/null; do
		if bob --json inbox 2>/dev/null | grep -q '"state": "partial"'; then
			mid=yes
			break
		fi
		sleep 0.02
		n=$((n + 1))
	done
	kill -9 $fpid 2>/dev/null
	wait $fpid 2>/dev/null
	want=$((nbefore + 3))
	fetch_until $want bob
	n=$(bob --json inbox | grep -c '"id"')
	for i in $(bob --json inbox | awk -F'"' '/"id"/ { print $4 }' | tail -n 3); do
		bob read "$i" --out "$T/kf.got.$i" >/dev/null 2>&1
		cksum < "$T/kf.got.$i"
	done | sort > "$T/kf.got.sums"
	for f in kf1 kf2 kf3; do cksum < "$T/$f"; done | sort > "$T/kf.want.sums"
	if [ "$n" -eq $want ] && cmp -s "$T/kf.got.sums" "$T/kf.want.sums" &&
	   ! bob --json inbox | grep -q '"state": "partial"'; then
		pass client/fetch_killed_loses_nothing
		echo "  killed while a message was partial: $mid" >&2
	else
		fail client/fetch_killed_loses_nothing "$n messages, want $want (killed mid-fetch: $mid)"
	fi
else
	fail client/fetch_killed_loses_nothing "send: $(tail -n 2 "$T/send5.out")"
fi

# A stale consensus: the one cached at the start of this run, once past its
# valid-until, with no authority reachable (a computer that was offline):
# refused with a clear message and an exit code of its own (13).
vu=$(sed -n 's/^valid-until //p' "$T/old.consensus")
past_valid_until() { [ -n "$vu" ] && [ "$(date +%s)" -ge "$vu" ]; }
wait_for 60 past_valid_until
{
	grep -v '^Authority' "$T/client.conf"
	for k in 1 2 3; do echo "Authority $(cat "$T/a$k.pk") 127.0.0.1:1"; done
} > "$T/stale.conf"
mkdir -m 700 "$T/stale"
cp "$T/old.consensus" "$T/stale/consensus"
out=$("$BURROW" --home "$T/stale" --config "$T/stale.conf" --passphrase-file "$T/alice.pass" init 2>&1)
rc=$?
if [ $rc -eq 13 ] && echo "$out" | grep -q "consensus is stale" && echo "$out" | grep -q "expired at"; then
	pass client/stale_consensus
else
	fail client/stale_consensus "exit $rc: $out"
fi
e2e_finish
