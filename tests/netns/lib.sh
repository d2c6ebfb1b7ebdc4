# Shared by the network-namespace tests: the e2e helpers, and a check that
# this machine lets us (root) make namespaces and a bridge. Tests that
# cannot run here print nothing and exit 0 (which is not a pass).
. "$(dirname "$0")/../e2e/lib.sh"
SIM=$BUILD/burrow-sim

netns_usable() {
	[ "$(id -u)" = 0 ] || return 1
	command -v ip >/dev/null 2>&1 || return 1
	probe=brwprobe$$
	ip netns add "$probe" 2>/dev/null || return 1
	ip netns del "$probe"
	ip link add "$probe" type bridge 2>/dev/null || return 1
	ip link del "$probe"
}
netns_usable || exit 0
