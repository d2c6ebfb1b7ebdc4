# Shared helpers for end-to-end tests (POSIX sh; source with
# `. "$(dirname "$0")/lib.sh"`). Daemons are started with start_daemon,
# recorded by PID and killed by PID on exit, whatever happens.
#
#   free_port              print an unused TCP port in 20000..32767 (below
#                          Linux's ephemeral range, so that no outgoing
#                          connection can hold it between pick and bind)
#   start_daemon NAME CMD  run CMD in the background, log in $E2E_TMP/NAME.log
#   stop_daemon NAME       SIGTERM it by PID, wait up to 5 s, then SIGKILL
#   wait_for SECS CMD      run CMD every 0.2 s until it succeeds (1 if never)
#   pass NAME / fail NAME [WHY]   print "PASS NAME" / "FAIL NAME"
#   e2e_finish             exit 0 if nothing failed, else 1
#
# A loopback network (relay, mailbox and client tests):
#   e2e_authorities N EPOCH   make N authority keys and configs, start them
#                          (daemons a1..aN, ports in $E2E_TMP/aI.port, public
#                          keys in aI.pk); sets AUTHLINES (the `Authority`
#                          lines for relay and client configs) and DIRURL
#   e2e_metric NODE NAME   print metric NAME of the relay whose metrics port
#                          is in $E2E_TMP/NODE.mport (NAME may carry labels)
#   e2e_metric_ge NODE NAME MIN   true if that metric is at least MIN
#   e2e_served_relays      relays listed by the consensus authority 1 serves
#   e2e_wait_view SECS N NODE...  wait until authority 1 serves a consensus
#                          listing at least N relays and each NODE knows at
#                          least N (burrow_relay_consensus_relays)

. "$(dirname "$0")/../e2e/pids.sh"
BUILD=${BUILD:-build}
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/burrow-e2e.XXXXXX") || exit 1
E2E_PIDS=""
E2E_PORTS=""
E2E_FAILED=0

e2e_cleanup() {
	# shellcheck disable=SC2086
	stop_pids $E2E_PIDS
	if [ -n "$E2E_KEEP" ]; then
		echo "e2e: kept $E2E_TMP" >&2
	else
		rm -rf "$E2E_TMP"
	fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() {
	n=0
	while [ $n -lt 100 ]; do
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + r % 12768))
		case " $E2E_PORTS " in *" $p "*) n=$((n + 1)); continue ;; esac
		if ! ss -tanH 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then
			E2E_PORTS="$E2E_PORTS $p"
			echo "$p"
			return 0
		fi
		n=$((n + 1))
	done
	echo "free_port: no free port found" >&2
	return 1
}

start_daemon() {
	name=$1
	shift
	"$@" >>"$E2E_TMP/$name.log" 2>&1 &
	pid=$!
	E2E_PIDS="$E2E_PIDS $pid"
	eval "E2E_PID_$name=$pid"
}

pid_of() {
	eval "echo \${E2E_PID_$1:-}"
}

stop_daemon() {
	pid=$(pid_of "$1")
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 25 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "E2E_PID_$1="
	return 0
}

wait_for() {
	secs=$1
	shift
	end=$(($(date +%s) + secs))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

e2e_authorities() {
	_n=$1
	_epoch=$2
	_dirb=${DIRB:-$BUILD/burrow-dir}
	AUTHLINES=""
	_i=1
	while [ "$_i" -le "$_n" ]; do
		_p=$(free_port) || return 1
		echo "$_p" > "$E2E_TMP/a$_i.port"
		_pk=$("$_dirb" keygen --out "$E2E_TMP/a$_i.key" | tail -n 1)
		echo "$_pk" > "$E2E_TMP/a$_i.pk"
		AUTHLINES="${AUTHLINES}Authority $_pk 127.0.0.1:$_p
"
		_i=$((_i + 1))
	done
	_i=1
	while [ "$_i" -le "$_n" ]; do
		mkdir -p "$E2E_TMP/a$_i"
		{
			echo "IdentityKeyFile $E2E_TMP/a$_i.key"
			echo "Listen 127.0.0.1:$(cat "$E2E_TMP/a$_i.port")"
			echo "EpochSeconds $_epoch"
			echo "DataDirectory $E2E_TMP/a$_i"
			printf "%s" "$AUTHLINES"
		} > "$E2E_TMP/a$_i.conf"
		start_daemon "a$_i" "$_dirb" --config "$E2E_TMP/a$_i.conf"
		_i=$((_i + 1))
	done
	DIRURL="http://127.0.0.1:$(cat "$E2E_TMP/a1.port")"
}

e2e_metric() {
	curl -s "http://127.0.0.1:$(cat "$E2E_TMP/$1.mport")/metrics" |
		awk -v n="$2" '$1 == n { print $2 }'
}

e2e_metric_ge() {
	_v=$(e2e_metric "$1" "$2")
	[ -n "$_v" ] && [ "$_v" -ge "$3" ]
}

e2e_served_relays() {
	curl -s "$DIRURL/consensus" | grep -c '^relay '
}

e2e_served_ge() {
	[ "$(e2e_served_relays)" -ge "$1" ]
}

e2e_wait_view() {
	_secs=$1
	_want=$2
	shift 2
	wait_for "$_secs" e2e_served_ge "$_want" || return 1
	for _node in "$@"; do
		wait_for "$_secs" e2e_metric_ge "$_node" burrow_relay_consensus_relays "$_want" || return 1
	done
}

pass() {
	echo "PASS $1"
}

fail() {
	echo "FAIL $1"
	[ -n "$2" ] && echo "  $2" >&2
	E2E_FAILED=$((E2E_FAILED + 1))
}

e2e_finish() {
	[ "$E2E_FAILED" -eq 0 ]
	exit $?
}
