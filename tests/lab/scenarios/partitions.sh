#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Manual partitions on a real kernel, through vfioctl partition create/destroy and
# vfioctl vfs, each claim read back from sysfs rather than taken from vfioctl:
#   - passthrough of the display function behind a root port: it goes to vfio-pci and
#     its /dev/vfio group node appears; destroyed, its driver and driver_override are
#     the kernel's again and the node is gone;
#   - passthrough of the two-function card: both functions go, both come back;
#   - an mdev on mbochs: the device under /sys/bus/mdev/devices, one instance less
#     available, all back after destroy;
#   - a VF of the SR-IOV NVMe (made partitionable by gpus.partitionable): VFs enabled
#     with autoprobe off, the VF on vfio-pci; destroyed, sriov_numvfs and
#     sriov_drivers_autoprobe are as before;
#   - vfioctl vfs PF 2, then 0: autoprobe as before;
#   - a type no parent offers is refused as unknown, and changes nothing.
# Every --json answer must parse. The host is the same at the end.
#
#   tests/lab/run-lab tests/lab/scenarios/partitions.sh

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"
# shellcheck source=tests/lab/json.sh
. "$LAB_SRC/tests/lab/json.sh"

lab_load_mdev_samples
modprobe vfio-pci || lab_bail "vfio-pci does not load"
before=$(mktemp /tmp/partitions-before.XXXXXX)
host_snapshot "$before"

lab_find_devices
pci=/sys/bus/pci/devices

# The --json answer of a vfioctl call in $reply, its exit code in $rc, and its fields:
# error (the error's name), p_id, p_mode, p_gpu, p_device, p_holder (a partition),
# ids (the ids libvfio holds, of a list of partitions).
vfioctl_json() {
	rc=0 error='' p_id='' p_mode='' p_gpu='' p_device='' p_holder='' ids=''
	reply=$(vfioctl --json "$@" 2>/dev/null) || rc=$?
	if lab_json "$reply" 'error=j.get("error")' \
		'p_id=j["partition"]["id"]' 'p_mode=j["partition"]["mode"]' \
		'p_gpu=j["partition"]["gpu"]' 'p_device=j["partition"]["device"]' \
		'p_holder=j["partition"]["holder"]' \
		'ids=sorted(p["id"] for p in j["partitions"] if p["id"])'; then
		ok "vfioctl --json $* answers JSON (exit $rc)"
	else
		not_ok "vfioctl --json $* answers JSON" "exit $rc, $lab_json_error:" "$reply"
	fi
}

# expect DESC ACTUAL WANTED
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "is '$2', should be '$3'"
	fi
}

driver() { lab_link_name "$pci/$1/driver"; }
group() { lab_link_name "$pci/$1/iommu_group"; }

# A /dev/vfio group node is a character device.
expect_vfio_node() {
	if [ -c "/dev/vfio/$1" ]; then
		ok "/dev/vfio/$1 exists ($2)"
	else
		not_ok "/dev/vfio/$1 exists ($2)" "$(ls -l /dev/vfio)"
	fi
}

expect_no_vfio_node() {
	if [ ! -e "/dev/vfio/$1" ]; then
		ok "/dev/vfio/$1 is gone ($2)"
	else
		not_ok "/dev/vfio/$1 is gone ($2)" "$(ls -l /dev/vfio)"
	fi
}

# The partition id is listed by vfioctl --json partitions (or not, with "not").
expect_listed() {
	local id=$1 want=${2:-}
	local listed=yes
	vfioctl_json partitions
	[[ " $ids " == *" $id "* ]] || listed=not
	if [ -z "$want" ]; then
		expect "vfioctl partitions lists $id" "$listed" yes
	else
		expect "vfioctl partitions no longer lists $id" "$listed" not
	fi
}

destroy() {
	vfioctl_json partition destroy "$1"
	expect "partition destroy $1 succeeds" "$rc" 0
	expect_listed "$1" not
}

daemon_start 'gpus:' '  partitionable: [1b36:0010]'

vfioctl_json partitions
expect "no partitions at the start" "$ids" ''

# ---- passthrough of the display function behind a root port

display_driver=$(driver "$display")
display_override=$(lab_attr "$pci/$display/driver_override")
display_group=$(group "$display")
[ "$display_driver" != vfio-pci ] || lab_bail "$display is on vfio-pci already"
vfioctl_json partition create --mode passthrough --gpu "$display"
expect "passthrough of $display is made" "$rc/$p_mode/$p_gpu/$p_device/$p_holder" \
	"0/passthrough/$display/$display/manual"
pt_display=$p_id
expect "sysfs: $display is on vfio-pci (was $display_driver)" "$(driver "$display")" vfio-pci
expect_vfio_node "$display_group" "the IOMMU group of $display"
expect_listed "$pt_display"
destroy "$pt_display"
expect "sysfs: $display is back on $display_driver" "$(driver "$display")" "$display_driver"
expect "sysfs: $display has its driver_override as before" \
	"$(lab_attr "$pci/$display/driver_override")" "$display_override"
expect_no_vfio_node "$display_group" "after destroy"

# ---- passthrough of the two-function card: both functions

card_driver=$(driver "$card") audio_driver=$(driver "$audio")
card_override=$(lab_attr "$pci/$card/driver_override")
audio_override=$(lab_attr "$pci/$audio/driver_override")
card_group=$(group "$card")
expect "sysfs: $card and $audio share IOMMU group $card_group" "$(group "$audio")" "$card_group"
vfioctl_json partition create --mode passthrough --gpu "$card"
expect "passthrough of $card is made" "$rc/$p_mode/$p_gpu/$p_holder" \
	"0/passthrough/$card/manual"
pt_card=$p_id
expect "sysfs: $card is on vfio-pci (was $card_driver)" "$(driver "$card")" vfio-pci
expect "sysfs: $audio is on vfio-pci too (was $audio_driver)" "$(driver "$audio")" vfio-pci
expect_vfio_node "$card_group" "the IOMMU group of the card"
destroy "$pt_card"
expect "sysfs: $card is back on $card_driver" "$(driver "$card")" "$card_driver"
expect "sysfs: $audio is back on $audio_driver" "$(driver "$audio")" "$audio_driver"
expect "sysfs: both functions have their driver_override as before" \
	"$(lab_attr "$pci/$card/driver_override") $(lab_attr "$pci/$audio/driver_override")" \
	"$card_override $audio_override"
expect_no_vfio_node "$card_group" "after destroy"

# ---- an mdev on mbochs

types=/sys/class/mdev_bus/mbochs/mdev_supported_types
for type in "$types"/*; do
	type=${type##*/}
	break
done
[ -d "$types/$type" ] || lab_bail "mbochs offers no mdev type"
free=$(lab_attr "$types/$type/available_instances")
vfioctl_json partition create --gpu mbochs --type "$type"
expect "an mdev of type $type on mbochs is made" "$rc/$p_mode/$p_gpu/$p_holder" "0/mdev/mbochs/manual"
mdev=$p_id uuid=$p_device
if [ -n "$uuid" ] && [ -d "/sys/bus/mdev/devices/$uuid" ]; then
	ok "sysfs: /sys/bus/mdev/devices/$uuid exists"
else
	not_ok "sysfs: /sys/bus/mdev/devices/$uuid exists" "$(ls /sys/bus/mdev/devices)"
fi
expect "sysfs: the mdev is of type $type, under mbochs" \
	"$(lab_link_name "/sys/bus/mdev/devices/$uuid/mdev_type") $(cd -P "/sys/bus/mdev/devices/$uuid/.." && pwd)" \
	"$type /sys/devices/virtual/mbochs/mbochs"
expect "sysfs: $type has one instance less available ($free before)" \
	"$(lab_attr "$types/$type/available_instances")" $((free - 1))
mdev_group=$(lab_link_name "/sys/bus/mdev/devices/$uuid/iommu_group")
expect_vfio_node "$mdev_group" "the mdev's IOMMU group"
destroy "$mdev"
expect "sysfs: the mdev is gone" "$(ls /sys/bus/mdev/devices)" ''
expect "sysfs: $type has $free instances available again" \
	"$(lab_attr "$types/$type/available_instances")" "$free"
expect_no_vfio_node "$mdev_group" "after destroy"

# ---- a VF of the SR-IOV NVMe

numvfs=$(lab_attr "$pci/$pf/sriov_numvfs")
autoprobe=$(lab_attr "$pci/$pf/sriov_drivers_autoprobe")
total=$(lab_attr "$pci/$pf/sriov_totalvfs")
vfioctl_json partition create --mode sriov --gpu "$pf"
expect "an SR-IOV partition on $pf is made" "$rc/$p_mode/$p_gpu/$p_holder" "0/sriov/$pf/manual"
vf_part=$p_id vf=$p_device
expect "sysfs: $pf has all $total VFs now (had $numvfs)" "$(lab_attr "$pci/$pf/sriov_numvfs")" "$total"
expect "sysfs: $pf's sriov_drivers_autoprobe is 0 meanwhile" \
	"$(lab_attr "$pci/$pf/sriov_drivers_autoprobe")" 0
expect "sysfs: $vf is a VF of $pf" "$(lab_link_name "$pci/$vf/physfn")" "$pf"
expect "sysfs: $vf is on vfio-pci, by driver_override" \
	"$(driver "$vf") $(lab_attr "$pci/$vf/driver_override")" "vfio-pci vfio-pci"
bound=''
for fn in "$pci/$pf"/virtfn*; do
	other=$(lab_link_name "$fn")
	[ "$other" = "$vf" ] || [ "$(driver "$other")" = - ] || bound+=" $other=$(driver "$other")"
done
expect "sysfs: the other VFs have no driver" "$bound" ''
vf_group=$(group "$vf")
expect_vfio_node "$vf_group" "the IOMMU group of $vf"
vfioctl_json vfs "$pf" 0
expect "vfioctl vfs $pf 0 is refused while $vf is in use" "$rc" 1
expect "sysfs: ... and $pf keeps its VFs" "$(lab_attr "$pci/$pf/sriov_numvfs")" "$total"
destroy "$vf_part"
expect "sysfs: $pf has $numvfs VFs again" "$(lab_attr "$pci/$pf/sriov_numvfs")" "$numvfs"
expect "sysfs: $pf's sriov_drivers_autoprobe is $autoprobe again" \
	"$(lab_attr "$pci/$pf/sriov_drivers_autoprobe")" "$autoprobe"
expect "sysfs: $vf is gone" "$(lab_link_name "$pci/$vf")" -
expect_no_vfio_node "$vf_group" "after destroy"

# ---- vfioctl vfs: 2, then 0

vfioctl_json vfs "$pf" 2
expect "vfioctl vfs $pf 2 succeeds" "$rc" 0
expect "sysfs: $pf has 2 VFs" "$(lab_attr "$pci/$pf/sriov_numvfs")" 2
expect "sysfs: new VFs come up without a host driver (autoprobe 0, VFs unbound)" \
	"$(lab_attr "$pci/$pf/sriov_drivers_autoprobe") $(driver "$(lab_link_name "$pci/$pf/virtfn0")") $(driver "$(lab_link_name "$pci/$pf/virtfn1")")" \
	"0 - -"
vfioctl_json vfs "$pf" 0
expect "vfioctl vfs $pf 0 succeeds" "$rc" 0
expect "sysfs: $pf has no VFs" "$(lab_attr "$pci/$pf/sriov_numvfs")" 0
expect "sysfs: $pf's sriov_drivers_autoprobe is $autoprobe again" \
	"$(lab_attr "$pci/$pf/sriov_drivers_autoprobe")" "$autoprobe"

# ---- refusal: an mdev type no one offers

output=$(vfioctl partition create --type nosuchtype 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [[ $output == *"mdev type of that id or name"* ]] &&
	[[ $output == *"The types there are:"*"$type"* ]]; then
	ok "partition create --type nosuchtype: the type is unknown, the known ones listed"
else
	not_ok "partition create --type nosuchtype: the type is unknown" "exit $rc: $output"
fi
vfioctl_json partition create --type nosuchtype
expect "... as io.libvfio.Partitions.UnknownType in JSON, exit 1" "$rc $error" \
	"1 io.libvfio.Partitions.UnknownType"
expect "sysfs: the refusal made no mdev" "$(ls /sys/bus/mdev/devices)" ''

vfioctl_json partitions
expect "no partitions at the end" "$ids" ''
daemon_stop
check_host_unchanged "$before"
lab_finish
