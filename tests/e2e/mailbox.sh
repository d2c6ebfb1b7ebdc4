#!/bin/sh
# End-to-end test of the mailbox role: 3 authorities, 3 relays (M is a
# mailbox), deposits with ACK SURBs, fetch with proof of the key, a
# SIGKILL in the middle of a stream of deposits, and expiry by TTL. The
# relays listen on distinct loopback addresses (X 127.0.0.3, Y 127.0.0.2,
# M 127.0.0.1; the test client dials from 127.0.0.1), so that M's
# LogDepositPeers lines show that every deposit came from the previous hop
# Y and none straight from a sender. Prints PASS/FAIL lines.
. "$(dirname "$0")/lib.sh"
RELAY=$BUILD/burrow-relay
DIR=$BUILD/burrow-dir
T=$E2E_TMP
ok() { pass "mailbox/$1"; }
bad() { fail "mailbox/$1" "$2"; }
freeport() { free_port; }
metric() { e2e_metric "$@"; }
ge() { e2e_metric_ge "$@"; }

EPOCH=6
e2e_authorities 3 $EPOCH

start_relay() {	# name
	$RELAY -f "$T/$1.conf" 2>>"$T/$1.log" &
	echo $! > "$T/$1.pid"
	E2E_PIDS="$E2E_PIDS $!"
}
for n in X Y M; do
	p=$(freeport); mp=$(freeport)
	echo "$mp" > "$T/$n.mport"
	roles=mix
	[ $n = M ] && roles=mix,mailbox
	case $n in X) addr=127.0.0.3 ;; Y) addr=127.0.0.2 ;; M) addr=127.0.0.1 ;; esac
	{
		echo "Nickname $n"
		echo "Listen $addr:$p"
		echo "DataDirectory $T/$n"
		echo "Roles $roles"
		echo "MetricsListen 127.0.0.1:$mp"
		echo "EpochSeconds $EPOCH"
		echo "KeyGrace 3"
		echo "MaxHopDelayMs 0"
		echo "MailboxMaxMessages 20"
		echo "LogLevel info"
		[ $n = M ] && echo "LogDepositPeers 1"
		printf "%s" "$AUTHLINES"
	} > "$T/$n.conf"
	start_relay $n
done
e2e_wait_view 40 3 X Y M || \
	bad consensus "$(tail -n 3 "$T/M.log")"

OWNER=$($RELAY testclient keygen)
SENDER=$($RELAY testclient keygen)
OTHER=$($RELAY testclient keygen)
tc() { $RELAY testclient "$1" "$DIRURL" "$@" 2>>"$T/tc.log"; }
tcx() { cmd=$1; shift; $RELAY testclient "$cmd" "$DIRURL" "$@" 2>>"$T/tc.log"; }
fetched() { tcx fetch M "$@" | awk '$1 == "fetched" { print $2 }'; }
acked() { tcx fetch M "$@" | awk '$1 == "acked" { print $2 }'; }
deposits() { metric M burrow_mailbox_deposits_total; }

# deposit -> fetch -> ack -> gone
tcx send X,Y,M --owner "$OWNER" --count 3 >/dev/null
if wait_for 10 ge M burrow_mailbox_deposits_total 3 && [ "$(fetched "$OWNER")" = 3 ] && \
   [ "$(fetched "$OWNER")" = 3 ] && [ "$(acked "$OWNER" --ack)" = 3 ] && \
   [ "$(fetched "$OWNER")" = 0 ]; then
	ok deposit_fetch_ack_gone
else
	bad deposit_fetch_ack_gone "deposits=$(deposits) $(tail -n 3 "$T/tc.log")"
fi

# retransmission: same message id twice -> stored once, ACKed twice (the
# ACKs arrive in SENDER's mailbox through the SURB).
MID=00112233445566778899aabbccddeeff
tcx send X,Y,M --owner "$OWNER" --ack-owner "$SENDER" --msgid $MID >/dev/null
tcx send X,Y,M --owner "$OWNER" --ack-owner "$SENDER" --msgid $MID >/dev/null
if wait_for 10 ge M burrow_mailbox_duplicates_total 1 && wait_for 10 ge M burrow_mailbox_acks_sent_total 2 && \
   [ "$(fetched "$OWNER")" = 1 ] && wait_for 10 sh -c "[ \"\$($RELAY testclient fetch $DIRURL M $SENDER | awk '\$1==\"fetched\"{print \$2}')\" = 2 ]"; then
	ok retransmit_stored_once_acked_twice
else
	bad retransmit_stored_once_acked_twice "dup=$(metric M burrow_mailbox_duplicates_total) acks=$(metric M burrow_mailbox_acks_sent_total)"
fi

# refusals leave the data intact
r1=$(tcx fetch M "$OWNER" --wrong-key)
r2=$(tcx fetch M "$OWNER" --replay --ack)
r3=$(tcx fetch M "$OWNER" --malformed)
r4=$(tcx fetch M "$OWNER" --no-auth)
r5=$(tcx fetch M "$OTHER" --wrong-key)	# a mailbox that does not exist: the same refusal
if [ "$r1" = refused ] && [ "$r3" = refused ] && [ "$r4" = refused ] && [ "$r5" = refused ] && \
   echo "$r2" | grep -q refused; then
	ok refusals
else
	bad refusals "wrong=[$r1] replay=[$r2] malformed=[$r3] noauth=[$r4] other=[$r5]"
fi
if [ "$(fetched "$OWNER")" = 1 ]; then ok refusals_data_intact; else bad refusals_data_intact; fi

# a fetch cut off before the ACK leaves the messages in place
tcx fetch M "$OWNER" --cut >/dev/null
if [ "$(fetched "$OWNER")" = 1 ] && [ "$(acked "$OWNER" --ack)" = 1 ]; then
	ok cut_fetch_keeps_messages
else
	bad cut_fetch_keeps_messages
fi

# quota: MailboxMaxMessages 20 -> the 21st and later are refused and counted
q0=$(metric M 'burrow_mailbox_refused_total{reason="mailbox_full"}')
tcx send X,Y,M --owner "$OTHER" --count 25 >/dev/null
if wait_for 10 ge M 'burrow_mailbox_refused_total{reason="mailbox_full"}' $((q0 + 5)) && \
   [ "$(fetched "$OTHER")" = 20 ]; then
	ok quota_refuses
else
	bad quota_refuses "refused=$(metric M 'burrow_mailbox_refused_total{reason="mailbox_full"}')"
fi
tcx fetch M "$OTHER" --ack >/dev/null

# crash safety: deposits with ACKs stream in; SIGKILL mid-stream; every
# deposit ACKed before the kill is fetched afterwards exactly once.
CRASH=$($RELAY testclient keygen)
ACKBOX=$($RELAY testclient keygen)
( i=0; while [ $i -lt 40 ]; do
	$RELAY testclient send "$DIRURL" X,Y,M --owner "$CRASH" --ack-owner "$ACKBOX" --count 10 >/dev/null 2>&1
	i=$((i + 1)); done ) &
SENDERPID=$!
wait_for 20 ge M burrow_mailbox_deposits_total 60
acks_before=$(metric M burrow_mailbox_acks_sent_total)
kill -9 "$(cat "$T/M.pid")"
kill "$SENDERPID" 2>/dev/null
wait "$SENDERPID" 2>/dev/null
sleep 0.5
ic=$(sqlite3 "$T/M/mailbox.db" 'PRAGMA integrity_check' 2>&1)
start_relay M
wait_for 20 ge M burrow_relay_consensus_relays 3
out=$(tcx fetch M "$CRASH" --ack)
n=$(echo "$out" | awk '$1 == "fetched" { print $2 }')
uniq=$(echo "$out" | awk '$1 == "msg" { print $2 }' | sort -u | wc -l)
# Every ACK sent counts one durable deposit; deposits of earlier tests in
# other mailboxes were ACKed 2 + 0 times before (the retransmission test).
durable=$((acks_before - 2))
if [ "$ic" = ok ] && [ -n "$n" ] && [ "$n" -ge "$durable" ] && [ "$n" -eq "$uniq" ] && [ "$n" -gt 0 ]; then
	ok crash_safety
else
	bad crash_safety "integrity=$ic fetched=$n unique=$uniq acked_before_kill=$durable"
fi
if [ "$(fetched "$CRASH")" = 0 ]; then ok crash_fetched_exactly_once; else bad crash_fetched_exactly_once; fi

# LogDepositPeers: M logged the previous hop Y (127.0.0.2) as a source of
# deposits, and never X or the test client (127.0.0.3, 127.0.0.1).
if grep -q "deposits arrive from peer 127\.0\.0\.2\$" "$T/M.log" && \
   ! grep "deposits arrive from peer" "$T/M.log" | grep -qv "peer 127\.0\.0\.2\$"; then
	ok deposit_peers_logged
else
	bad deposit_peers_logged "$(grep "deposits arrive" "$T/M.log")"
fi

# TTL: with MailboxTTL 2 and MailboxTimeGrain 1 (reloaded by SIGHUP), a
# deposit is swept once it is older than the TTL and its owner's fetch
# comes back empty; a message younger than the TTL is still there.
TTLBOX=$($RELAY testclient keygen)
printf "MailboxTTL 2\nMailboxTimeGrain 1\n" >> "$T/M.conf"
r0=$(grep -c "configuration reloaded" "$T/M.log")
kill -HUP "$(cat "$T/M.pid")"
wait_for 5 sh -c "[ \$(grep -c 'configuration reloaded' '$T/M.log') -gt $r0 ]"
d0=$(deposits)
tcx send X,Y,M --owner "$TTLBOX" --count 2 >/dev/null
wait_for 10 ge M burrow_mailbox_deposits_total $((d0 + 2))
x0=$(metric M burrow_mailbox_expired_total)
young=$(fetched "$TTLBOX")
if [ "$young" = 2 ]; then ok ttl_young_kept; else bad ttl_young_kept "fetched $young of 2"; fi
ttl_gone() { ge M burrow_mailbox_expired_total $((x0 + 2)) && [ "$(fetched "$TTLBOX")" = 0 ]; }
if wait_for 15 ttl_gone; then
	ok ttl_expired_gone
else
	bad ttl_expired_gone "expired=$(metric M burrow_mailbox_expired_total) (was $x0) fetched=$(fetched "$TTLBOX")"
fi
e2e_finish
