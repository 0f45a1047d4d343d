#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# VMs with a GPU partition of each kind, with the shipped defaults (QEMU as the
# unprivileged libvfio-qemu, its locked-memory limit raised by the daemon alone):
#   mdev on mbochs, a VF of the SR-IOV NVMe (gpus.partitionable), passthrough of the
#   bochs-display behind its port, passthrough of the two-function card.
# Each VM is started; the nested QEMU really realised the device: asked over a QMP
# monitor of its own (the definition's qemu-args), the guest's PCI list holds a
# vfio-pci device with the expected ids. QEMU runs as libvfio-qemu with RLIMIT_MEMLOCK
# = guest RAM + 1 GiB, holds the /dev/vfio node of its group; pause and resume show in
# vfioctl status; then it is stopped (graceful, --timeout 1: there is no guest OS).
# Then each is started again and killed. After each end the partition is gone, the host
# is as at the scenario's start, and the /dev/vfio nodes are root's, modes as before.
# Last, the passthrough VM once more with its device bound to vfio-pci by hand before:
# its group node outlives the VM and must be root's again.
# The passthrough display also has a ROM and a disk, both root's 0600, the disk in a
# directory anyone may write: QEMU (libvfio-qemu) gets them as descriptors, the guest
# sees the ROM's BAR, and neither file ever changes owner or mode.
#
#   tests/lab/run-lab tests/lab/scenarios/vms.sh
#
# VMS_ONLY="NAME..." runs only those of the VMs mb, vf, pt-display and pt-card. run-lab
# passes no environment to the guest, so it is set by a wrapper scenario:
#   export VMS_ONLY=pt-display; exec bash "$LAB_SRC/tests/lab/scenarios/vms.sh"
# (pt-display alone needs neither the sample mdev drivers nor gpus.partitionable, so
# it runs against a libvfiod from before those too).

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"
# shellcheck source=tests/lab/json.sh
. "$LAB_SRC/tests/lab/json.sh"

selected() {
	[ -z "${VMS_ONLY:-}" ] || [[ " $VMS_ONLY " == *" $1 "* ]]
}

selected mb && lab_load_mdev_samples
modprobe vfio-pci || lab_bail "vfio-pci does not load"
before=$(mktemp /tmp/vms-before.XXXXXX)
host_snapshot "$before"

lab_find_devices
pci=/sys/bus/pci/devices
# 64 MiB of guest RAM (vm_define) + the 1 GiB margin
memlock=$(((64 << 20) + (1 << 30)))

# A directory QEMU's user may make its extra QMP socket in.
qmp_dir=$(mktemp -d /tmp/vms-qmp.XXXXXX) || lab_bail "mktemp failed"

# expect DESC ACTUAL WANTED
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "is '$2', should be '$3'"
	fi
}

# Seconds since an $EPOCHREALTIME, to a tenth.
elapsed() {
	local now=$EPOCHREALTIME then=$1
	local ms=$(((${now/./} - ${then/./}) / 1000))
	printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

ids_of() {
	local vendor device
	vendor=$(lab_attr "$pci/$1/vendor") device=$(lab_attr "$pci/$1/device")
	printf '%s:%s' "${vendor#0x}" "${device#0x}"
}

# Every /dev/vfio node with its owner and mode, one line each (builtins and one stat).
vfio_nodes() {
	local nodes=(/dev/vfio/*)
	[ -e "${nodes[0]}" ] && stat -c '%n %U:%G %a' "${nodes[@]}"
}

# The VM's state, pid, partitions and problem from vfioctl --json ARGS (status, start...).
vm_json() {
	local reply rc=0
	vm_state='' vm_pid='' vm_partitions='' vm_qmp='' vm_problem=''
	reply=$(vfioctl --json "$@" 2>"$qmp_dir/stderr") || rc=$?
	if lab_json "$reply" 'vm_state=j["vm"]["state"]' 'vm_pid=j["vm"].get("pid")' \
		'vm_partitions=j["vm"]["partitions"]' 'vm_qmp=j["vm"].get("qmpStatus")' \
		'vm_problem=j["vm"].get("problem")' && [ "$rc" -eq 0 ]; then
		return 0
	fi
	vm_reply="exit $rc: $reply $(<"$qmp_dir/stderr")"
	return 1
}

# Where QEMU is, as a PID's uid and locked-memory limit: checks on /proc/PID.
check_qemu_process() {
	local pid=$1 key real effective rest soft hard
	while read -r key real effective rest; do
		[ "$key" = Uid: ] && break
	done <"/proc/$pid/status"
	expect "QEMU (pid $pid) runs as libvfio-qemu (uid $qemu_uid)" "$real $effective" \
		"$qemu_uid $qemu_uid"
	while read -r key rest; do
		[[ "$key $rest" == "Max locked memory "* ]] && break
	done <"/proc/$pid/limits"
	# "locked memory SOFT HARD bytes"
	read -r _ _ soft hard _ <<<"$rest"
	expect "QEMU's Max locked memory is guest RAM + 1 GiB ($memlock bytes)" "$soft $hard" \
		"$memlock $memlock"
}

# The guest's PCI list from the VM's own QMP monitor: the device gpu0 (and gpu0-fn1 for
# the second function) is vfio-pci with the ids given.
check_guest_pci() {
	local socket=$1 want=$2 want_fn1=${3:-} i gpu0='' gpu0_fn1='' guest_pci='' qom_type=''
	local start=$EPOCHREALTIME
	for ((i = 0; i < 50; i++)); do
		[ -S "$socket" ] && break
		sleep 0.1
	done
	# query-pci shows what is behind a bridge (gpu0-port) once the guest's firmware
	# gave that bridge a bus number: SeaBIOS, slow in nested TCG. Ask until it did.
	for ((i = 0; i < 60; i++)); do
		if ! lab_qmp "$socket" query-pci \
			'gpu0=[ids(d) for d in pci_devices(j) if d.get("qdev_id") == "gpu0"]' \
			'gpu0_fn1=[ids(d) for d in pci_devices(j) if d.get("qdev_id") == "gpu0-fn1"]' \
			'guest_pci=sorted("%s=%s" % (d.get("qdev_id") or "-", ids(d)) for d in pci_devices(j))'; then
			not_ok "QMP query-pci on $socket" "$lab_json_error"
			return
		fi
		[ -n "$gpu0" ] && break
		sleep 0.5
	done
	expect "the guest's PCI list has gpu0 as $want" "$gpu0" "$want"
	printf '# guest PCI (qdev_id=ids), %s s after the start: %s\n' \
		"$(elapsed "$start")" "$guest_pci"
	if [ -n "$want_fn1" ]; then
		expect "the guest's PCI list has gpu0-fn1 as $want_fn1" "$gpu0_fn1" "$want_fn1"
	fi
	lab_qmp "$socket" '{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/gpu0", "property": "type"}}' \
		'qom_type=j' || qom_type="($lab_json_error)"
	expect "gpu0 is a vfio-pci device" "$qom_type" vfio-pci
}

# check_files SOCKET PID: the ROM and disk of pt-display, handed over as descriptors.
check_files() {
	local socket=$1 pid=$2 romfile='' rom_bar='' fd held=''
	lab_qmp "$socket" '{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/gpu0", "property": "romfile"}}' \
		'romfile=j' || romfile="($lab_json_error)"
	lab_qmp "$socket" query-pci \
		'rom_bar=[r["size"] for d in pci_devices(j) if d.get("qdev_id") == "gpu0" for r in d.get("regions", []) if r["bar"] == 6]' ||
		rom_bar="($lab_json_error)"
	if [[ $romfile == /proc/self/fd/* ]] && [ -n "$rom_bar" ]; then
		ok "the ROM reached the guest from an inherited copy ($romfile, a BAR of $rom_bar bytes)"
	else
		not_ok "the ROM reached the guest from an inherited copy" "romfile: $romfile" "ROM BAR: '$rom_bar'"
	fi
	for fd in /proc/"$pid"/fd/*; do
		[ "$fd" -ef "$disk" ] && held=$fd
	done
	if [ -n "$held" ]; then
		ok "QEMU holds the root-only disk open ($held)"
	else
		not_ok "QEMU holds the root-only disk open" "$(ls -l /proc/"$pid"/fd 2>&1)"
	fi
	expect "the ROM and the disk are root's 0600 still" \
		"$(stat -c '%U %a' "$rom" "$disk" 2>&1 | tr '\n' ' ')" "root 600 root 600 "
}

# run_vm NAME HOW SYSFS-CHECK GUEST-IDS [GUEST-IDS-FN1]: start NAME and end it (HOW: stop
# or kill), then check that everything is back as at the scenario's start. With stop,
# everything is checked while it runs (QEMU's user and limit, sysfs, the guest's PCI
# list, the lent node, pause and resume); a kill round checks the end only.
run_vm() {
	local name=$1 how=$2 sysfs_check=$3 want=$4 want_fn1=${5:-}
	local pid node now start=$EPOCHREALTIME

	vm_reply=''
	if vm_json start "$name" && [ "$vm_state" = running ] && [ -n "$vm_pid" ]; then
		ok "vfioctl start $name: running, pid $vm_pid, holding $vm_partitions ($(elapsed "$start") s)"
	else
		not_ok "vfioctl start $name" "${vm_reply:-state $vm_state, pid $vm_pid, problem: $vm_problem}" \
			"the end of QEMU's log:" \
			"$(tail -n 5 "$daemon_dir/state/vms/$name/qemu.log" 2>&1)"
		return
	fi
	pid=$vm_pid

	if [ "$how" = stop ]; then
		check_qemu_process "$pid"
		"$sysfs_check"
		check_guest_pci "$qmp_dir/$name.qmp" "$want" "$want_fn1"
		[ "$name" != pt-display ] || check_files "$qmp_dir/$name.qmp" "$pid"
		# The group nodes of its devices are lent to QEMU's user.
		for node in $group_nodes; do
			expect "/dev/vfio/$node is lent to libvfio-qemu" \
				"$(stat -c %U "/dev/vfio/$node" 2>&1)" libvfio-qemu
		done

		vm_json pause "$name"
		vm_json status "$name"
		expect "after pause, vfioctl status says paused (QMP: $vm_qmp)" "$vm_state" paused
		vm_json resume "$name"
		vm_json status "$name"
		expect "after resume, vfioctl status says running (QMP: $vm_qmp)" "$vm_state" running

		local stopping=$EPOCHREALTIME
		vm_json stop "$name" --timeout 1
		expect "vfioctl stop $name --timeout 1: stopped ($(elapsed "$stopping") s)" \
			"$vm_state" stopped
	else
		vm_json kill "$name"
		vm_json status "$name"
		# A kill asked for is an end asked for: stopped, not crashed.
		expect "vfioctl kill $name: stopped" "$vm_state" stopped
	fi
	expect "QEMU (pid $pid) is gone" "$(lab_link_name "/proc/$pid/exe")" -
	expect "the VM holds no partition" "$vm_partitions" ''
	# libvfio holds none (a device bound to vfio-pci by hand is listed, as not libvfio's).
	now=$(vfioctl --json partitions 2>&1)
	lab_json "$now" 'held=[p["id"] for p in j["partitions"] if p["id"]]' || held=$now
	expect "vfioctl partitions: libvfio holds none" "$held" ''
	now=$(vfio_nodes)
	if [ "$now" = "$nodes_before" ]; then
		ok "the /dev/vfio nodes are back to root, modes as before: $(tr '\n' ' ' <<<"$now")"
	else
		not_ok "the /dev/vfio nodes are back to root, modes as before" "before:" \
			"$nodes_before" "now:" "$now"
	fi
	check_host_unchanged "$before"
	echo "# $name: $(elapsed "$start") s from start to the checks after its end"
}

# The partition a VM holds, from vfioctl: its device, for the sysfs checks.
# shellcheck disable=SC2317 # called by name, from run_vm
held_device() {
	local reply
	reply=$(vfioctl --json partitions 2>&1)
	lab_json "$reply" 'held=[p["device"] for p in j["partitions"] if p["holder"] == "vm:'"$1"'"]' ||
		held="($lab_json_error)"
}

# shellcheck disable=SC2317 # called by name, from run_vm
check_mdev() {
	held_device mb
	if [ -n "$held" ] && [ -d "/sys/bus/mdev/devices/$held" ]; then
		ok "sysfs: the VM's mdev $held exists"
	else
		not_ok "sysfs: the VM's mdev exists" "held: '$held'" "$(ls /sys/bus/mdev/devices)"
	fi
	group_nodes=$(lab_link_name "/sys/bus/mdev/devices/$held/iommu_group")
}

# shellcheck disable=SC2317 # called by name, from run_vm
check_vf() {
	held_device vf
	expect "sysfs: the VM's VF $held is a VF of $pf, on vfio-pci" \
		"$(lab_link_name "$pci/$held/physfn") $(lab_link_name "$pci/$held/driver")" "$pf vfio-pci"
	group_nodes=$(lab_link_name "$pci/$held/iommu_group")
}

# shellcheck disable=SC2317 # called by name, from run_vm
check_display() {
	expect "sysfs: $display is on vfio-pci" "$(lab_link_name "$pci/$display/driver")" vfio-pci
	group_nodes=$(lab_link_name "$pci/$display/iommu_group")
}

# shellcheck disable=SC2317 # called by name, from run_vm
check_card() {
	expect "sysfs: $card and $audio are on vfio-pci" \
		"$(lab_link_name "$pci/$card/driver") $(lab_link_name "$pci/$audio/driver")" \
		"vfio-pci vfio-pci"
	group_nodes=$(lab_link_name "$pci/$card/iommu_group")
}

define_vm() {
	local name=$1
	shift
	vm_define "$name" "$@" 'qemu-args:' '  - -qmp' \
		"  - unix:$qmp_dir/$name.qmp,server=on,wait=off"
}

if selected vf; then
	daemon_start 'gpus:' '  partitionable: [1b36:0010]'
else
	# shellcheck disable=SC2119 # the default configuration
	daemon_start
fi
# daemon_start made QEMU's user, as the package would.
qemu_uid=$(id -u libvfio-qemu) || lab_bail "no user libvfio-qemu"
# QEMU's user makes its extra monitor's socket here.
chown libvfio-qemu "$qmp_dir"

# NAME SYSFS-CHECK GUEST-IDS [GUEST-IDS-FN1] each. mbochs's mdev shows the guest the
# ids of QEMU's bochs display; the VF's ids are the PF's (QEMU's NVMe VFs say 1b36:0010).
vms=()
if selected mb; then
	vms+=("mb check_mdev 1234:1111")
	define_vm mb 'gpu:' '  - mode: mdev' '    address: mbochs'
fi
if selected vf; then
	vms+=("vf check_vf $(ids_of "$pf")")
	define_vm vf 'gpu:' '  - mode: sriov' "    address: $pf"
fi
if selected pt-display; then
	vms+=("pt-display check_display $(ids_of "$display")")
	rom=$(mktemp /tmp/vms-gop.XXXXXX) || lab_bail "mktemp failed"
	shared=$(mktemp -d /tmp/vms-shared.XXXXXX) || lab_bail "mktemp failed"
	disk=$shared/disk.img
	{ printf '\x55\xaa'; head -c 65534 /dev/zero; } >"$rom"
	head -c 1048576 /dev/zero >"$disk"
	chmod 0600 "$rom" "$disk"
	chmod 0777 "$shared"
	define_vm pt-display 'gpu:' '  - mode: passthrough' "    address: $display" "    rom: $rom" \
		'disks:' "  - {path: $disk, cache: writeback}"
fi
if selected pt-card; then
	vms+=("pt-card check_card $(ids_of "$card") $(ids_of "$audio")")
	define_vm pt-card 'gpu:' '  - mode: passthrough' "    address: $card"
fi

# As at the start, and after each VM.
nodes_before=$(vfio_nodes)
for how in stop kill; do
	for vm in "${vms[@]}"; do
		read -r name check ids ids_fn1 <<<"$vm"
		if [ "$how" = stop ]; then
			echo "# ---- $name: start, pause, resume, stop"
		else
			echo "# ---- $name: start, kill"
		fi
		run_vm "$name" "$how" "$check" "$ids" "$ids_fn1"
	done
done

# A node that outlives the VM: the display on vfio-pci already, bound by hand (as
# users of vfio-pci.ids= have it). Its group node stays when the VM ends; it must be
# root's again, with its mode, as the host is otherwise.
if selected pt-display; then
	echo "# ---- pt-display, its device bound to vfio-pci by hand before: start, pause, resume, stop"
	display_driver=$(lab_link_name "$pci/$display/driver")
	display_group=$(lab_link_name "$pci/$display/iommu_group")
	printf vfio-pci >"$pci/$display/driver_override"
	[ "$display_driver" = - ] || printf '%s' "$display" >"/sys/bus/pci/drivers/$display_driver/unbind"
	printf '%s' "$display" >/sys/bus/pci/drivers_probe
	if [ -c "/dev/vfio/$display_group" ]; then
		first=$before first_nodes=$nodes_before
		before=$(mktemp /tmp/vms-bound.XXXXXX)
		host_snapshot "$before"
		nodes_before=$(vfio_nodes)
		run_vm pt-display stop check_display "$(ids_of "$display")"
		expect "/dev/vfio/$display_group stays, root's again" \
			"$(stat -c '%U:%G %a' "/dev/vfio/$display_group" 2>&1)" \
			"$(sed -n "s|^/dev/vfio/$display_group ||p" <<<"$nodes_before")"
		before=$first nodes_before=$first_nodes
	else
		not_ok "$display goes to vfio-pci by hand" "$(ls -l /dev/vfio)"
	fi
	printf '%s' "$display" >/sys/bus/pci/drivers/vfio-pci/unbind
	printf '\n' >"$pci/$display/driver_override"
	printf '%s' "$display" >/sys/bus/pci/drivers_probe
fi

daemon_stop
check_host_unchanged "$before"
rm -rf "${rom:-}" "${shared:-}"
lab_finish
