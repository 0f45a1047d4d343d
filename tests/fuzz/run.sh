#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs one fuzz target with libFuzzer for MINUTES minutes (default 2), starting
# from its checked-in corpus and adding to it the inputs that reach new code:
#
#   tests/fuzz/run.sh TARGET [MINUTES]     e.g. tests/fuzz/run.sh qmp 10
#
# TARGET is a directory of tests/fuzz/corpus/ (varlink, vm-definition, config,
# qmp, runtime-record, partition-record, sysfs). Builds with clang in build-fuzz/
# (or $BUILD_DIR), -Dfuzz=true: libFuzzer, ASan and UBSan over the whole code. A
# crash leaves its input as crash-* at the top of the source tree and fails; add it
# to the corpus together with the fix. New entries are merged (`-merge=1`) so
# that the corpus keeps only inputs that add coverage.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=${1:?usage: tests/fuzz/run.sh TARGET [MINUTES]}
minutes=${2:-2}
corpus=tests/fuzz/corpus/$target
build=${BUILD_DIR:-build-fuzz}
[ -d "$corpus" ] || { echo "run.sh: no corpus $corpus" >&2; exit 2; }

if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" -Dtests=false -Dfuzz=true -Db_lundef=false
fi
meson compile -C "$build" "fuzz-$target"

# New inputs go to a scratch directory first, then only those that add coverage
# are merged into the corpus.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$build/tests/fuzz/fuzz-$target" -max_total_time=$((minutes * 60)) -max_len=65536 \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$scratch" "$corpus"
"$build/tests/fuzz/fuzz-$target" -merge=1 "$corpus" "$scratch"
