#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks the per-VM unit template and the sysusers.d file. meson runs it
# (suite 'systemd'); by hand:
#
#   tests/systemd/test-vm-unit.sh VM_UNIT SERVICE_UNIT SOCKET_UNIT SYSUSERS VFIOCTL DAEMON
#
# Fails (exit 1) when the template lost a setting it relies on, when
# `systemd-analyze verify` says anything about an instance of it
# (libvfio-vm@gaming-vm.service), when the vfioctl built has no `run`, or when systemd-sysusers cannot create the
# QEMU user from the sysusers.d file in a scratch root. Exits 77 (skipped,
# for meson) without systemd-analyze 250 or later.

set -euo pipefail

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	failures=$((failures + 1))
}
failures=0

(($# == 6)) || {
	echo "usage: $0 VM_UNIT SERVICE_UNIT SOCKET_UNIT SYSUSERS VFIOCTL DAEMON" >&2
	exit 1
}
command -v systemd-analyze >/dev/null || {
	echo 'SKIP: systemd-analyze not found'
	exit 77
}
version=$(systemd-analyze --version | awk 'NR == 1 { print $2 }')
if ! [[ $version =~ ^[0-9]+$ ]] || ((version < 250)); then
	echo "SKIP: systemd-analyze $version is older than 250"
	exit 77
fi
vm_unit=$(realpath -e -- "$1")
service_unit=$(realpath -e -- "$2")
socket_unit=$(realpath -e -- "$3")
sysusers=$(realpath -e -- "$4")
vfioctl=$(realpath -e -- "$5")
daemon=$(realpath -e -- "$6")
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# The settings the template relies on.
# Type=notify with `vfioctl run`: the unit is active while the VM runs, and
# inactive or failed when it ends.
grep -qx 'Type=notify' "$vm_unit" || fail 'libvfio-vm@.service: Type= is not notify'
grep -q '^RemainAfterExit=' "$vm_unit" &&
	fail 'libvfio-vm@.service: RemainAfterExit= would keep it active after the VM ended'
grep -qx 'Wants=libvfiod.socket' "$vm_unit" ||
	fail 'libvfio-vm@.service: does not pull in libvfiod.socket'
grep -q '^Requires=.*libvfiod' "$vm_unit" &&
	fail 'libvfio-vm@.service: Requires= would stop every VM when the socket restarts'
grep -qE '^After=.*libvfiod\.socket' "$vm_unit" ||
	fail 'libvfio-vm@.service: not ordered after libvfiod.socket'
grep -qE '^ExecStart=/.*/vfioctl run %i$' "$vm_unit" ||
	fail 'libvfio-vm@.service: ExecStart= is not "vfioctl run %i"'
grep -q '^Restart=' "$vm_unit" &&
	fail 'libvfio-vm@.service: Restart= would start a VM the guest powered off'
# The command the unit runs exists in the vfioctl built with it.
"$vfioctl" run --help >/dev/null 2>&1 || fail "$vfioctl has no 'run' command"
grep -qE '^ExecStop=/.*/vfioctl stop .*%i$' "$vm_unit" ||
	fail 'libvfio-vm@.service: ExecStop= does not stop %i'
if grep -nE '@[A-Za-z0-9_-]+@' "$vm_unit" | grep -v 'libvfio-vm@' >/dev/null; then
	fail 'libvfio-vm@.service still has meson placeholders'
fi

# verify needs the binaries it names to exist: the copies name the ones just built.
sed -E "s#^(Exec(Start|Stop)=)/[^ ]*/vfioctl#\\1$vfioctl#" "$vm_unit" >"$tmp/libvfio-vm@.service"
sed -E "s#^ExecStart=.*#ExecStart=$daemon#" "$service_unit" >"$tmp/libvfiod.service"
cp -- "$socket_unit" "$tmp/libvfiod.socket"
ln -s 'libvfio-vm@.service' "$tmp/libvfio-vm@gaming-vm.service"
if ! output=$(cd "$tmp" && systemd-analyze verify --man=no --recursive-errors=one \
	./libvfio-vm@gaming-vm.service 2>&1); then
	fail "systemd-analyze verify failed:"$'\n'"$output"
elif [[ -n $output ]]; then
	fail "systemd-analyze verify warned:"$'\n'"$output"
fi

# The QEMU user, created in a scratch root, in the kvm group; the libvfio group.
if command -v systemd-sysusers >/dev/null; then
	mkdir -p "$tmp/root/etc"
	systemd-sysusers --root="$tmp/root" "$sysusers" >/dev/null 2>&1 ||
		fail "systemd-sysusers refused $sysusers"
	grep -q '^libvfio-qemu:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' "$tmp/root/etc/passwd" ||
		fail 'sysusers.d: no libvfio-qemu user with nologin'
	grep -q '^kvm:x:[0-9]*:libvfio-qemu$' "$tmp/root/etc/group" ||
		fail 'sysusers.d: libvfio-qemu is not in the kvm group'
	# access.group's default, empty: nobody is in it until the administrator says so.
	grep -q '^libvfio:x:[0-9]*:$' "$tmp/root/etc/group" ||
		fail "sysusers.d: no empty group 'libvfio' (access.group's default)"
fi

if ((failures > 0)); then
	printf '%d check(s) failed\n' "$failures" >&2
	exit 1
fi
echo 'libvfio-vm@.service and libvfio.conf (sysusers.d): all checks passed'
