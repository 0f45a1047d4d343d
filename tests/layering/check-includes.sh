#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# No file of a daemon layer includes a header of a layer above it, and no
# include cycle between files:
#   check-includes.sh DAEMON_DIR
# The order is daemon/meson.build's. Before checking DAEMON_DIR the script
# checks a planted tree with one wrong include, which it must refuse.
set -uo pipefail

order=(base process host partitions vm api)

rank() {
	local i
	for i in "${!order[@]}"; do
		[ "${order[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}

# check DIR: prints each include upwards; fails when there is one.
check() {
	local dir=$1 bad=0 file layer target
	for layer in "${order[@]}"; do
		[ -d "$dir/$layer" ] || continue
		for file in "$dir/$layer"/*.[ch]; do
			[ -e "$file" ] || continue
			while read -r target; do
				if [ "$(rank "$target")" -gt "$(rank "$layer")" ]; then
					echo "${file#"$dir"/} includes $target/: a layer above $layer"
					bad=1
				fi
			done < <(sed -n 's|^#include "\([a-z]*\)/[a-z_]*\.h".*|\1|p' "$file")
		done
	done
	return $bad
}

planted=$(mktemp -d)
trap 'rm -rf "$planted"' EXIT
mkdir -p "$planted/host" "$planted/vm"
printf '#include "vm/vm.h"\n' >"$planted/host/pci.c"
printf '#include "host/host.h"\n' >"$planted/vm/vm.c"
if check "$planted" >/dev/null; then
	echo "the check let a planted upward include through"
	exit 1
fi

check "${1:?usage: check-includes.sh DAEMON_DIR}" || exit 1
cycles=$(python3 - "$1" <<'PY'
import os, re, sys
root = sys.argv[1]
graph = {}
for layer in os.listdir(root):
    d = os.path.join(root, layer)
    if not os.path.isdir(d):
        continue
    for f in os.listdir(d):
        if f.endswith('.h'):
            text = open(os.path.join(d, f)).read()
            graph[f'{layer}/{f}'] = re.findall(r'^#include "([a-z]+/[a-z_]+\.h)"', text, re.M)
seen, stack, found = set(), [], []
def visit(node):
    if node in stack:
        found.append(' -> '.join(stack[stack.index(node):] + [node]))
        return
    if node in seen:
        return
    seen.add(node)
    stack.append(node)
    for nxt in graph.get(node, []):
        visit(nxt)
    stack.pop()
for node in sorted(graph):
    visit(node)
print('\n'.join(found))
PY
)
if [ -n "$cycles" ]; then
	echo "include cycles:"
	echo "$cycles"
	exit 1
fi
echo "the daemon's layers include only downwards, without cycles"
