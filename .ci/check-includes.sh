#!/bin/sh
# Layering: common/ includes no role header; a role includes only its own
# headers and common/. Fails listing each offending line.
bad=0
roles="directory relay client sim"
for f in common/*.[ch]; do
	[ -e "$f" ] || continue
	for r in $roles; do
		if grep -nE "^#[[:space:]]*include[[:space:]]+\"$r/" "$f"; then
			echo "check-includes: $f includes a $r header" >&2; bad=1
		fi
	done
done
for me in $roles; do
	for f in "$me"/*.[ch]; do
		[ -e "$f" ] || continue
		for r in $roles; do
			[ "$r" = "$me" ] && continue
			if grep -nE "^#[[:space:]]*include[[:space:]]+\"$r/" "$f"; then
				echo "check-includes: $f ($me) includes a $r header" >&2; bad=1
			fi
		done
	done
done
[ $bad = 0 ] && echo "check-includes: ok"
exit $bad
