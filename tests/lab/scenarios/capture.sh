#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Captures the lab's real sysfs for the fast tests (not part of the lab suite: run it
# when the kernel or the lab machine changes, then commit what it wrote):
#
#   tests/lab/run-lab --keep tests/lab/scenarios/capture.sh
#   cp BUILD/lab-logs/capture/capture/* tests/fixtures/lab/
#
# It writes to $LAB_OUT/capture/:
#   before.json  the manifest of what libvfiod reads (tests/lab/capture-sysfs.py)
#   gpus.json    what libvfiod answered to ListGPUs on that host
#   writes.json  the writes made next, as libvfiod makes them: SR-IOV VFs with
#                autoprobe off, a VF and a display function onto vfio-pci, an mdev
#   after.json   the kernel's state after them (the simulator's snapshot_tree of /)
# tests/simulator/test_real_kernel.py replays the writes on the simulator, started on
# before.json, and requires the same state; and requires libvfiod to answer gpus.json
# on that tree. Everything is undone at the end, and checked.

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

out=$LAB_OUT/capture
mkdir -p "$out"
lab_load_mdev_samples
modprobe vfio-pci || lab_bail "vfio-pci does not load"
snapshot=$(mktemp /tmp/capture-host.XXXXXX)
host_snapshot "$snapshot"

check "capture the sysfs manifest" python3 "$LAB_SRC/tests/lab/capture-sysfs.py" "$out/before.json"
daemon_start
vfioctl --json gpus >"$out/gpus.json" && ok "vfioctl --json gpus" || not_ok "vfioctl --json gpus"
daemon_stop

pf=$(lab_sriov_pf) || lab_bail "no SR-IOV PF in the lab machine"
display=$(lab_display_behind_port) || lab_bail "no display function behind a root port"
parent=/sys/class/mdev_bus/mbochs
type=$(cd "$parent/mdev_supported_types" && ls | head -n 1)
[ -n "$type" ] || lab_bail "mbochs offers no mdev type"
uuid=6c2a7d3e-1f4b-4e8a-9c5d-0b1a2f3e4d5c

# Each write as [path relative to /, value], made one write(2) each, in this order.
writes=()
write() {
	local path=$1 value=$2
	writes+=("$(printf '["%s", "%s"]' "${path#/}" "$value")")
	if printf '%s' "$value" >"$path" 2>/dev/null; then
		ok "write $value to $path"
	else
		not_ok "write $value to $path"
	fi
}

display_driver=$(lab_link_name "/sys/bus/pci/devices/$display/driver")
write "/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe" 0
write "/sys/bus/pci/devices/$pf/sriov_numvfs" 2
vf=$(lab_link_name "/sys/bus/pci/devices/$pf/virtfn0")
write "/sys/bus/pci/devices/$vf/driver_override" vfio-pci
write /sys/bus/pci/drivers_probe "$vf"
write "/sys/bus/pci/devices/$display/driver_override" vfio-pci
[ "$display_driver" != - ] && write "/sys/bus/pci/drivers/$display_driver/unbind" "$display"
write /sys/bus/pci/drivers_probe "$display"
write "$parent/mdev_supported_types/$type/create" "$uuid"
(IFS=,; printf '[%s]\n' "${writes[*]}") >"$out/writes.json"

check "the kernel's state after the writes" python3 -c '
import json, sys
sys.path.insert(0, sys.argv[1])
from simulator import snapshot_tree
with open(sys.argv[2], "w") as f:
    json.dump(snapshot_tree("/"), f, indent=1, sort_keys=True)
' "$LAB_SRC/tests/simulator" "$out/after.json"

# Undo, newest first.
printf 1 >"/sys/bus/mdev/devices/$uuid/remove"
printf '%s' "$display" >/sys/bus/pci/drivers/vfio-pci/unbind
printf '\n' >"/sys/bus/pci/devices/$display/driver_override"
printf '%s' "$display" >/sys/bus/pci/drivers_probe
printf '%s' "$vf" >/sys/bus/pci/drivers/vfio-pci/unbind
printf 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
printf 1 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
check_host_unchanged "$snapshot"
lab_finish
