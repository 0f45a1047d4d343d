#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run by `meson install` (etc/meson.build):
#
#   install-config.sh REFERENCE TARGET
#
# Copies the freshly installed REFERENCE (DATADIR/libvfio/libvfiod.yaml) to
# TARGET (/etc/libvfio/libvfiod.yaml) unless TARGET exists: an administrator's
# file, edited or not, is never replaced. Both paths are absolute and are
# taken below $DESTDIR when it is set, as meson does for everything else.

set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 REFERENCE TARGET" >&2
	exit 2
fi
reference=${DESTDIR:-}$1
target=${DESTDIR:-}$2

if [ -e "$target" ] || [ -L "$target" ]; then
	echo "Keeping $target (the reference is $reference)"
	exit 0
fi
mkdir -p -- "$(dirname -- "$target")"
# A temporary name then rename: an interrupted install leaves no half file
# that the next one would keep.
cp -- "$reference" "$target.new"
chmod 0644 -- "$target.new"
mv -- "$target.new" "$target"
echo "Installing $target"
