#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job on a real kernel, for a machine without a GPU to split: `tests/setup.sh
# demo` boots the lab and runs this. A VM gets a real mediated device (the kernel's
# mbochs sample driver, a virtual display) and QEMU runs with it as its own
# unprivileged user, as on a host with an Intel GVT-g or NVIDIA vGPU card. Each step
# is printed as a user would type it.

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

step() {
	printf '\n== %s\n' "$*"
}

# Shows the command and its output; a failure is counted and shown.
run() {
	local output rc=0
	step "$*"
	output=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$output"
	if [ "$rc" -eq 0 ]; then
		ok "$*"
	else
		not_ok "$*" "exited $rc"
	fi
}

before=$(mktemp /tmp/demo-host.XXXXXX)
step "modprobe mbochs (the kernel's sample mediated display driver)"
lab_load_mdev_samples
host_snapshot "$before"

step "libvfiod, as root, QEMU running as the unprivileged libvfio-qemu (the default)"
daemon_start
run vfioctl gpus
step "vfioctl check"
vfioctl check # not ready in the lab: no KVM under TCG (the VM runs emulated)

cat >"$daemon_dir/desktop.yaml" <<-'EOF'
	name: desktop
	memory: 128M
	cpus: 1
	firmware: bios
	network: none
	gpu:
	  - mode: mdev
	    address: mbochs
	    type: mbochs-medium
EOF
step "cat desktop.yaml"
cat "$daemon_dir/desktop.yaml"
run vfioctl define "$daemon_dir/desktop.yaml"
run vfioctl start desktop
run vfioctl status desktop
run vfioctl partitions
pid=$(vfioctl --json status desktop | python3 -c 'import json, sys; print(json.load(sys.stdin)["vm"]["pid"])')
step "QEMU (pid $pid) runs as $(ps -o user= -p "$pid") with the mdev's VFIO group open"
ls -l "/proc/$pid/fd" 2>/dev/null | grep -o '/dev/vfio/[0-9a-z]*' | sort -u
if ls -l "/proc/$pid/fd" 2>/dev/null | grep -q '/dev/vfio/[0-9]'; then
	ok "QEMU holds the mdev's /dev/vfio group"
else
	not_ok "QEMU holds the mdev's /dev/vfio group"
fi
run vfioctl stop --force desktop
run vfioctl list
daemon_stop
check_host_unchanged "$before"
lab_finish
