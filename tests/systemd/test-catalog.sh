#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks the journal message catalog against the code. meson runs it (suite
# 'systemd'); by hand:
#
#   tests/systemd/test-catalog.sh CATALOG SOURCE_DIR
#
#   CATALOG     systemd/libvfio.catalog
#   SOURCE_DIR  the daemon's sources (daemon/), searched for MESSAGE_ID_*
#
# Fails (exit 1) when
#   1. a MESSAGE_ID_NAME "id" defined in the code has no catalog entry, or a
#      catalog entry has no definition (an id is 32 lowercase hex digits);
#   2. an id is defined twice, or a definition is never used outside it;
#   3. `journalctl --update-catalog --root=` cannot index the catalog or does
#      not list every entry (skipped without journalctl).

set -euo pipefail

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	failures=$((failures + 1))
}
failures=0

(($# == 2)) || {
	echo "usage: $0 CATALOG SOURCE_DIR" >&2
	exit 1
}
catalog=$(realpath -e -- "$1")
sources=$(realpath -e -- "$2")

# 1. Both sides, as sorted id lists.
definitions=$(grep -rhoE --include='*.[ch]' \
	'#define[[:space:]]+MESSAGE_ID_[A-Z0-9_]+[[:space:]]+"[0-9a-f]{32}"' "$sources" || true)
[[ -n $definitions ]] || fail "no MESSAGE_ID_* definitions found in $sources"
code_ids=$(grep -oE '[0-9a-f]{32}' <<<"$definitions" | sort)
catalog_ids=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog" | sort)
if bad=$(grep -nE '^-- ' "$catalog" | grep -vE '^[0-9]+:-- [0-9a-f]{32}$'); then
	fail "catalog entry headers that are not '-- ' and 32 lowercase hex digits:"$'\n'"$bad"
fi
if missing=$(comm -23 <(sort -u <<<"$code_ids") <(sort -u <<<"$catalog_ids")) && [[ -n $missing ]]; then
	fail "MESSAGE_IDs in the code without a catalog entry:"$'\n'"$missing"
fi
if extra=$(comm -13 <(sort -u <<<"$code_ids") <(sort -u <<<"$catalog_ids")) && [[ -n $extra ]]; then
	fail "catalog entries for MESSAGE_IDs the code does not define:"$'\n'"$extra"
fi

# 2. Each id once on each side, and each definition logged somewhere.
if dup=$(uniq -d <<<"$code_ids") && [[ -n $dup ]]; then
	fail "MESSAGE_IDs defined more than once:"$'\n'"$dup"
fi
if dup=$(uniq -d <<<"$catalog_ids") && [[ -n $dup ]]; then
	fail "MESSAGE_IDs with more than one catalog entry:"$'\n'"$dup"
fi
while read -r name; do
	uses=$(grep -rwF --include='*.c' -- "$name" "$sources" | grep -vc '#define' || true)
	((uses > 0)) || fail "$name is defined but never logged"
done < <(awk '{ print $2 }' <<<"$definitions")

# 3. journald's own reader, on a scratch root (no PID 1 or root needed).
if command -v journalctl >/dev/null; then
	root=$(mktemp -d)
	trap 'rm -rf -- "$root"' EXIT
	mkdir -p "$root/usr/lib/systemd/catalog"
	cp -- "$catalog" "$root/usr/lib/systemd/catalog/libvfio.catalog"
	if ! output=$(SYSTEMD_LOG_LEVEL=warning journalctl --update-catalog --root="$root" 2>&1); then
		fail "journalctl --update-catalog failed:"$'\n'"$output"
	elif [[ -n $output ]]; then
		fail "journalctl --update-catalog warned:"$'\n'"$output"
	else
		listed=$(journalctl --root="$root" --list-catalog 2>/dev/null | awk '{ print $1 }' | sort)
		[[ $listed == "$catalog_ids" ]] ||
			fail "journalctl --list-catalog does not list every entry:"$'\n'"$listed"
	fi
else
	echo 'journalctl not found: the catalog was not indexed'
fi

if ((failures > 0)); then
	printf '%d check(s) failed\n' "$failures" >&2
	exit 1
fi
echo "libvfio.catalog: $(wc -l <<<"$catalog_ids") entries, one per MESSAGE_ID of the code"
