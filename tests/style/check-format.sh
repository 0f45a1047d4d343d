#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every C file of the project is as .clang-format says (STYLE.md): a change that
# is not formatted fails here, not in review.
set -euo pipefail
cd "$1"
mapfile -t files < <(find daemon client common tests -name '*.[ch]' -not -path '*/build*' | sort)
if [ "${#files[@]}" -lt 50 ]; then
	echo "check-format: found only ${#files[@]} C files under $1; wrong directory?" >&2
	exit 1
fi
clang-format --dry-run -Werror "${files[@]}"
echo "check-format: ${#files[@]} files formatted"
