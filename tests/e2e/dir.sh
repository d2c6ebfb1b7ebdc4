# End-to-end: three burrow-dir authorities on loopback with 4-second epochs.
# 5 relay descriptors give the same consensus at all three with 3
# signatures; with one authority stopped the next epoch still has a
# consensus with 2 of 3 signatures that verifies; bad descriptors are
# refused with HTTP 400 and a reason; a restart serves the stored consensus.
. "$(dirname "$0")/lib.sh"

DIR=$BUILD/burrow-dir
L=4
T=$E2E_TMP
[ -x "$DIR" ] || { fail dir/binary "no $DIR"; e2e_finish; }

# --- three authorities ---------------------------------------------------
for i in 1 2 3; do
	"$DIR" keygen --out "$T/id$i.key" >"$T/pk$i" || { fail dir/keygen; e2e_finish; }
	eval "port$i=$(free_port)"
done
for i in 1 2 3; do
	eval "p=\$port$i"
	{
		echo "IdentityKeyFile $T/id$i.key"
		echo "Listen 127.0.0.1:$p"
		echo "EpochSeconds $L"
		echo "DescriptorMaxAge 120"
		echo "DataDirectory $T/data$i"
		echo "LogLevel info"
		for j in 1 2 3; do
			eval "q=\$port$j"
			echo "Authority $(cat "$T/pk$j") 127.0.0.1:$q"
		done
	} >"$T/a$i.conf"
done
grep '^Authority' "$T/a1.conf" >"$T/client.conf"
for i in 1 2 3; do
	start_daemon "a$i" "$DIR" --config "$T/a$i.conf"
done
url() { eval "echo http://127.0.0.1:\$port$1$2"; }
ok=1
for i in 1 2 3; do
	wait_for 10 "$DIR" http-get "$(url $i /keys)" || ok=0
done
if [ $ok = 1 ] && "$DIR" http-get "$(url 1 /keys)" | grep -q "^authority $(cat "$T/pk1")\$"; then
	pass dir/authorities_start
else
	fail dir/authorities_start "$(cat "$T/a1.log")"
	e2e_finish
fi

# --- descriptors ---------------------------------------------------------
upload() {	# upload the 5 descriptors to the authorities given
	for s in 1 2 3 4 5; do
		roles=mix
		[ $s -le 2 ] && roles=mix,mailbox
		"$DIR" testdesc --seed $s --address 127.0.0.1:$((30000 + s)) --epoch-seconds $L \
			--roles $roles >"$T/d$s" || return 1
		for i in "$@"; do
			"$DIR" http-post "$(url $i /descriptor)" "$T/d$s" >/dev/null || return 1
		done
	done
}
if upload 1 2 3; then
	pass dir/upload_descriptors
else
	fail dir/upload_descriptors
fi

# A consensus for epoch $1 at the authorities $3..., identical, with 5
# relays and $2 signatures; copies it to $T/cons.
agreed() {
	e=$1
	want=$2
	shift 2
	first=
	for i in "$@"; do
		"$DIR" http-get "$(url $i /consensus/$e)" >"$T/c$i" 2>/dev/null || return 1
		[ "$(grep -c '^relay ' "$T/c$i")" = 5 ] || return 1
		[ "$(grep -c '^directory-signature ' "$T/c$i")" = "$want" ] || return 1
		if [ -n "$first" ]; then
			cmp -s "$T/c$first" "$T/c$i" || return 1
		fi
		first=$i
	done
	cp "$T/c$first" "$T/cons"
}

# Wait up to $1 seconds for agreement on any epoch after $2; print it.
wait_agreed() {
	end=$(($(date +%s) + $1))
	after=$2
	want=$3
	shift 3
	while [ "$(date +%s)" -lt "$end" ]; do
		cur=$(($(date +%s) / L))
		for e in $cur $((cur + 1)); do
			[ "$e" -gt "$after" ] || continue
			if agreed "$e" "$want" "$@"; then
				echo "$e"
				return 0
			fi
		done
		sleep 0.3
	done
	return 1
}

E1=$(wait_agreed 30 0 3 1 2 3)
if [ -n "$E1" ]; then
	pass dir/three_agree_three_signatures
else
	fail dir/three_agree_three_signatures "$(tail -n 20 "$T/a1.log")"
	e2e_finish
fi
at=$((E1 * L + 1))
if "$DIR" verify --config "$T/client.conf" --at $at "$T/cons" | grep -q "3 of 3"; then
	pass dir/verify_three_of_three
else
	fail dir/verify_three_of_three
fi
cp "$T/cons" "$T/cons3"
# GET /consensus serves it (or a newer one) once its epoch begins
current_at_least() {
	e=$("$DIR" http-get "$(url 2 /consensus)" 2>/dev/null | sed -n 's/^epoch //p')
	[ -n "$e" ] && [ "$e" -ge "$E1" ]
}
if wait_for $((2 * L + 2)) current_at_least; then
	pass dir/get_current_consensus
else
	fail dir/get_current_consensus
fi

# --- one signature is not enough; tampering is refused ---------------------
awk '/^directory-signature /{n++; if (n > 1) next} {print}' "$T/cons3" >"$T/one"
out=$("$DIR" verify --config "$T/client.conf" --at $at "$T/one")
if [ $? = 1 ] && echo "$out" | grep -q "more than half needed"; then
	pass dir/one_signature_refused
else
	fail dir/one_signature_refused "$out"
fi
awk 'f == 0 && /^link-key / { c = substr($0, 10, 1); d = (c == "0") ? "1" : "0";
	$0 = "link-key " d substr($0, 11); f = 1 } { print }' "$T/cons3" >"$T/flip"
out=$("$DIR" verify --config "$T/client.conf" --at $at "$T/flip")
if [ $? = 1 ] && echo "$out" | grep -q "does not verify"; then
	pass dir/flipped_byte_refused
else
	fail dir/flipped_byte_refused "$out"
fi
out=$("$DIR" verify --config "$T/client.conf" --at $((at + 10 * L)) "$T/cons3")
if [ $? = 1 ] && echo "$out" | grep -q "expired"; then
	pass dir/expired_refused
else
	fail dir/expired_refused "$out"
fi

# --- bad descriptors refused with 400 and a reason -------------------------
refused() {	# refused NAME EXPECTED-TEXT testdesc-args...
	name=$1
	want=$2
	shift 2
	"$DIR" testdesc --seed 9 --address 127.0.0.1:30009 --epoch-seconds $L "$@" >"$T/bad"
	out=$("$DIR" http-post "$(url 1 /descriptor)" "$T/bad" 2>&1)
	rc=$?
	if [ $rc = 3 ] && echo "$out" | grep -q "HTTP 400" && echo "$out" | grep -q "$want"; then
		pass "dir/$name"
	else
		fail "dir/$name" "rc=$rc: $out"
	fi
}
refused bad_signature_refused "bad signature" --bad-sig
refused stale_descriptor_refused "stale" --published-offset -1000
refused future_descriptor_refused "in the future" --published-offset 1000
refused wrong_key_epoch_refused "packet keys for epochs" --key-epoch 5
head -c 5000 /dev/zero | tr '\0' 'x' >"$T/big"
out=$("$DIR" http-post "$(url 1 /descriptor)" "$T/big" 2>&1)
if [ $? = 3 ] && echo "$out" | grep -q "over the 4096-byte limit"; then
	pass dir/oversized_descriptor_refused
else
	fail dir/oversized_descriptor_refused "$out"
fi

# --- one authority down: 2 of 3 still make a consensus -------------------
stop_daemon a3
upload 1 2 || fail dir/reupload
E2=$(wait_agreed 30 "$E1" 2 1 2)
if [ -n "$E2" ]; then
	pass dir/two_of_three_consensus
else
	fail dir/two_of_three_consensus "$(tail -n 20 "$T/a1.log")"
	e2e_finish
fi
out=$("$DIR" verify --config "$T/client.conf" --at $((E2 * L + 1)) "$T/cons")
if [ $? = 0 ] && echo "$out" | grep -q "2 of 3"; then
	pass dir/two_of_three_verifies
else
	fail dir/two_of_three_verifies "$out"
fi

# --- a restarted authority serves its stored consensus ---------------------
cp "$T/cons" "$T/cons2"
stop_daemon a1
start_daemon a1 "$DIR" --config "$T/a1.conf"
if wait_for 10 sh -c "'$DIR' http-get '$(url 1 /consensus/$E2)' | cmp -s - '$T/cons2'"; then
	pass dir/restart_serves_stored
else
	fail dir/restart_serves_stored
fi

# --- a vote that reaches only some authorities ------------------------------
# a3 comes back believing a1 lives on a dead port: its vote reaches a2 only,
# and it carries a newer descriptor of relay 1 (renamed), so a2 and a3
# compute their consensus from 3 votes and a1 from 2, with a different
# body, every epoch. a1 must refuse their signatures (409), fetch a3's vote,
# recompute and sign the common body; no authority may ever serve a
# signature that does not verify, and every current consensus must verify.
dead=$(free_port)
sed "s/127.0.0.1:$port1\$/127.0.0.1:$dead/" "$T/a3.conf" >"$T/a3late.conf"
late_upload() {	# descriptors carry keys for two epochs: refresh them
	upload 1 2 3 &&
	"$DIR" testdesc --seed 1 --address 127.0.0.1:30001 --epoch-seconds $L \
		--roles mix,mailbox --nickname late1 --published-offset 2 >"$T/late1" &&
	"$DIR" http-post "$(url 3 /descriptor)" "$T/late1" >/dev/null
}
start_daemon a3 "$DIR" --config "$T/a3late.conf"
wait_for 10 "$DIR" http-get "$(url 3 /keys)" || fail dir/late_restart
late_upload || fail dir/late_upload
start=$(($(date +%s) / L))
bad=0
quorum=0
checked=0
while [ $(($(date +%s) / L)) -le $((start + 4)) ]; do
	for i in 1 2 3; do
		now=$(date +%s)
		cur=$((now / L))
		# the current one must verify now; the next one must never carry
		# a bad signature (it may still lack signatures)
		if "$DIR" http-get "$(url $i /consensus)" >"$T/g" 2>/dev/null &&
		    [ "$(sed -n 's/^epoch //p' "$T/g")" -ge $((start + 2)) ]; then
			out=$("$DIR" verify --config "$T/client.conf" "$T/g")
			checked=$((checked + 1))
			case "$out" in ok:*) ;; *"does not verify"*|*"not a pinned"*)
				bad=$((bad + 1)); echo "a$i current: $out" >&2 ;;
			*) quorum=$((quorum + 1)); echo "a$i current: $out" >&2 ;; esac
		fi
		if "$DIR" http-get "$(url $i /consensus/$((cur + 1)))" >"$T/g" 2>/dev/null; then
			out=$("$DIR" verify --config "$T/client.conf" --at $(((cur + 1) * L)) "$T/g")
			checked=$((checked + 1))
			case "$out" in *"does not verify"*|*"not a pinned"*)
				bad=$((bad + 1)); echo "a$i next: $out" >&2 ;; esac
		fi
	done
	sleep 0.1
	[ $(($(date +%s) % L)) = 0 ] && late_upload
done
if [ $checked -gt 20 ] && [ $bad = 0 ]; then
	pass dir/late_vote_never_bad_signature
else
	fail dir/late_vote_never_bad_signature "$bad of $checked served documents had a bad signature"
fi
# one epoch's consensus: the same body everywhere, with relay 1 from a3's
# vote, verifying at each authority (a1 lacks only a3's signature, which a3
# cannot deliver to it)
same_body() {
	for i in 1 2 3; do
		"$DIR" http-get "$(url $i /consensus/$1)" >"$T/s$i" 2>/dev/null || return 1
		"$DIR" verify --config "$T/client.conf" --at $(($1 * L)) "$T/s$i" >/dev/null ||
			return 1
		sed '/^directory-signature /,$d' "$T/s$i" >"$T/b$i"
	done
	cmp -s "$T/b1" "$T/b2" && cmp -s "$T/b1" "$T/b3" && grep -q "^relay late1 " "$T/b1"
}
if [ $checked -gt 20 ] && [ $quorum = 0 ] && grep -q "fetched the vote" "$T/a1.log" &&
    same_body $((start + 3)); then
	pass dir/late_vote_reconciled
else
	fail dir/late_vote_reconciled "$quorum current documents below quorum; $(grep -c 'fetched the vote' "$T/a1.log") votes fetched"
fi
e2e_finish
