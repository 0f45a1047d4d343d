#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The man pages render without a warning (man -l, and groff with every
# warning on), and vfioctl(1) documents every command and every option that
# vfioctl itself lists (--list-commands, COMMAND --list-options), so a new one
# cannot be left out. Output: TAP.
#
#   test-man-pages.sh VFIOCTL MANDIR
set -uo pipefail

vfioctl=$1
mandir=$2
pages=(vfioctl.1 libvfiod.8 libvfiod.yaml.5 libvfio-vm.yaml.5)

if [ ! -f "$mandir/vfioctl.1" ]; then
	echo "1..0 # SKIP the man pages are not built (scdoc missing: -Dman=enabled)"
	exit 0
fi
for tool in man groff; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool is not installed (Debian: man-db, groff-base)"
		exit 0
	fi
done

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && sed 's/^/# /' <<<"$2"
}

rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
for page in "${pages[@]}"; do
	# man-db's sandbox is no help here and fails in some containers.
	errors=$(MAN_DISABLE_SECCOMP=1 MANWIDTH=80 man -l "$mandir/$page" 2>&1 >"$rendered")
	if [ -n "$errors" ] || [ ! -s "$rendered" ]; then
		not_ok "man -l $page renders without a message" "$errors"
	else
		ok "man -l $page renders without a message"
	fi
	errors=$(groff -man -Tutf8 -ww -z "$mandir/$page" 2>&1)
	if [ -n "$errors" ]; then
		not_ok "groff -ww finds nothing to warn about in $page" "$errors"
	else
		ok "groff -ww finds nothing to warn about in $page"
	fi
	title=${page%.*}
	if head -n 3 "$rendered" | grep -q "^$title(${page##*.})"; then
		ok "$page is titled $title(${page##*.})"
	else
		not_ok "$page is titled $title(${page##*.})" "$(head -n 3 "$rendered")"
	fi
done

# vfioctl(1) as text, without hyphenation or justification, so that every word stays whole.
text=$(MAN_DISABLE_SECCOMP=1 MANWIDTH=200 MANROFFOPT='-rHY=0' man -l "$mandir/vfioctl.1" 2>/dev/null)
commands=$("$vfioctl" --list-commands | cut -f1)
if [ "$(wc -l <<<"$commands")" -lt 10 ]; then
	not_ok "vfioctl --list-commands lists the commands" "$commands"
fi
for command in $commands; do
	# A command's entry starts its line: "       start NAME...".
	if grep -qE "^ +(partition )?$command( |$)" <<<"$text"; then
		ok "vfioctl(1) documents '$command'"
	else
		not_ok "vfioctl(1) documents '$command'"
	fi
	for option in $("$vfioctl" "$command" --list-options | grep '^--' | sed 's/=$//'); do
		if grep -qF -- "$option" <<<"$text"; then
			ok "vfioctl(1) documents $command $option"
		else
			not_ok "vfioctl(1) documents $command $option"
		fi
	done
done
for section in 'EXIT STATUS' 'FILES' 'EXAMPLES' 'SEE ALSO' 'ERRORS'; do
	if grep -q "^$section" <<<"$text"; then
		ok "vfioctl(1) has $section"
	else
		not_ok "vfioctl(1) has $section"
	fi
done
echo "1..$n"
exit $failed
