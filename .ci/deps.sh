#!/bin/sh
# Check that the Debian -dev packages Burrow builds against are present.
# As root, install what is missing; otherwise print the exact command.
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	apt-get install -y$missing >/dev/null || { apt-get update && apt-get install -y$missing; } || exit 1
else
	echo "deps: missing$missing; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
