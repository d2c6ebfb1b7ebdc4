# stop_pids PID...: SIGTERM each, wait up to 5 s each, then SIGKILL what is
# left. Shared by tests/e2e/lib.sh and tests/bench/anchor.sh (which does not
# take lib.sh's traps and temporary directory).
stop_pids() {
	for p in "$@"; do
		kill "$p" 2>/dev/null
	done
	for p in "$@"; do
		n=0
		while kill -0 "$p" 2>/dev/null && [ $n -lt 25 ]; do
			sleep 0.2
			n=$((n + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
}
