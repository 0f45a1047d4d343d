#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The shipped systemd units on a real kernel (boot with --systemd: systemd is PID 1,
# the root an overlay that may be written freely). The build is installed the way a
# user installs it (README, "Installing": meson install, systemd-sysusers, daemon-reload,
# the socket), then: the first vfioctl activates libvfiod.service; a VM with a real
# mdev, defined with vfioctl define, is started and stopped by libvfio-vm@NAME.service,
# which follows the VM (inactive after a vfioctl stop, failed with the reason when QEMU
# is killed, attached to a VM vfioctl started, failed after a systemctl stop that had
# to cut the guest off);
# QEMU runs with what the sandboxed unit can give it (its user, RLIMIT_MEMLOCK, its
# /dev/vfio group), in a scope of its own that holds guest RAM's charge and lets it open
# only its own devices, registered with machined; the journal tells the VM's story (LIBVFIO_VM=, MESSAGE_IDs) and has
# QEMU's own output (qemu-NAME); the service stops cleanly and is activated again by
# the still-listening socket; the host is as before.
#
#   tests/lab/run-lab --systemd tests/lab/scenarios/systemd.sh

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

vm=mb
started_id=b31c9fa9ee5c45bb9fa8513bc6d91613
stopped_id=39075e14810e49318eb6d78eb4b62d93

[ "$(lab_attr /proc/1/comm)" = systemd ] || lab_bail "PID 1 is not systemd (run-lab --systemd?)"

# The unit's state as "ActiveState/SubState" (one systemctl: each costs a second here).
unit_state() {
	local line active='' sub=''
	while IFS= read -r line; do
		case $line in
		ActiveState=*) active=${line#*=} ;;
		SubState=*) sub=${line#*=} ;;
		esac
	done <<<"$(systemctl show -p ActiveState -p SubState "$1")"
	printf '%s/%s' "$active" "$sub"
}

# Polls up to ~20 s for unit $1 to be in state $2 (as unit_state says); prints the last state.
wait_unit() {
	local state i
	for ((i = 0; i < 20; i++)); do
		state=$(unit_state "$1")
		[ "$state" = "$2" ] && break
		sleep 1
	done
	printf '%s' "$state"
	[ "$state" = "$2" ]
}

# QEMU's pid of $vm as vfioctl status says, or nothing.
vm_pid() {
	vfioctl --json status "$vm" | python3 -c '
import json, sys
print(json.load(sys.stdin)["vm"].get("pid") or "")' 2>/dev/null
}

# Seconds since $1 (an uptime), one decimal.
since() {
	local now
	now=$(cut -d' ' -f1 /proc/uptime)
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# Polls up to ~10 s for `journalctl ARGS` to print something, and prints it.
journal_has() {
	local out i
	for ((i = 0; i < 10; i++)); do
		out=$(journalctl -b --no-pager -o cat "$@" 2>/dev/null)
		[ -n "$out" ] && printf '%s\n' "$out" && return 0
		sleep 1
	done
	return 1
}

lab_load_mdev_samples
# QEMU, as libvfio-qemu, opens the VFIO container: a real host's udev leaves it at the
# mode the vfio driver asks for (run-lab --systemd masks kmod-static-nodes, whose 0600
# node would stay so without udev).
mode=$(stat -c '%a %U' /dev/vfio/vfio 2>&1)
if [ "$mode" = "666 root" ]; then
	ok "/dev/vfio/vfio is 0666 root, as the driver and udev make it"
else
	not_ok "/dev/vfio/vfio is 0666 root, as the driver and udev make it" "it is: $mode"
fi
before=$(mktemp /tmp/systemd-before.XXXXXX)
host_snapshot "$before"

# ---- install, as README "Installing" says

# meson install writes its log into the build directory, which the guest sees read-only.
mount -t tmpfs -o size=4M tmpfs "$LAB_BUILD/meson-logs" ||
	lab_bail "cannot mount a tmpfs on $LAB_BUILD/meson-logs for meson install's log"
t0=$(cut -d' ' -f1 /proc/uptime)
out=$(meson install -C "$LAB_BUILD" --no-rebuild 2>&1)
rc=$?
took=$(since "$t0")
if [ "$rc" -eq 0 ]; then
	ok "meson install into the guest's root ($(grep -c '^Installing' <<<"$out") files, ${took} s)"
else
	not_ok "meson install into the guest's root" "exit $rc:" "$out"
	lab_bail "nothing to test without the installed units"
fi
umount "$LAB_BUILD/meson-logs"
# Where the units went, from meson's own words ("Installing X to DIR").
unit_dir=$(sed -n 's|^Installing .*/libvfiod\.service to ||p' <<<"$out")
service_file=$unit_dir/libvfiod.service
# The configuration is copied to /etc/libvfio by etc/install-config.sh (meson
# shows no output of it), next to vms/, where the example definitions go.
config_dir=$(sed -n 's|^Installing .*/windows-gvtg\.yaml\.example to \(.*\)/vms$|\1|p' <<<"$out")
[ -f "$service_file" ] || lab_bail "no libvfiod.service installed (meson said: $out)"

placeholders=$(grep -Hn '@[a-z_]*@' "$unit_dir"/libvfiod.service "$unit_dir"/libvfiod.socket \
	"$unit_dir"/libvfio-vm@.service)
if [ -z "$placeholders" ]; then
	ok "the installed units have every @path@ filled in by meson"
else
	not_ok "the installed units have every @path@ filled in by meson" "$placeholders"
fi
daemon_bin=$(sed -n 's/^ExecStart=//p' "$service_file")
client_bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit_dir/libvfio-vm@.service")
socket_path=$(sed -n 's/^ListenStream=//p' "$unit_dir/libvfiod.socket")
if [ -x "$daemon_bin" ] && [ -x "$client_bin" ] &&
	[ "$("$daemon_bin" --version 2>&1)" = "$("$LIBVFIOD" --version 2>&1)" ]; then
	ok "the units' binaries are installed: $daemon_bin, $client_bin"
else
	not_ok "the units' binaries are installed" "ExecStart=$daemon_bin, vfioctl $client_bin" \
		"$(ls -l "$daemon_bin" "$client_bin" 2>&1)"
fi
# The installed client, with its built-in default socket: what a user runs.
vfioctl() {
	"$client_bin" "$@"
}

check "systemd-sysusers makes libvfio-qemu" \
	bash -c 'systemd-sysusers && getent passwd libvfio-qemu'
qemu_uid=$(id -u libvfio-qemu)
# The guest (SeaBIOS, no OS) ignores ACPI power-down: the daemon's stop-timeout, which
# libvfio-vm@.service's stop follows, is set where an admin would set it.
check "vms.stop-timeout: 3s in the installed libvfiod.yaml" \
	sed -i 's/^  stop-timeout: .*/  stop-timeout: 3s/' "$config_dir/libvfiod.yaml"
check "systemctl daemon-reload" systemctl daemon-reload
check "systemd-analyze verify of the installed units" \
	systemd-analyze verify "$service_file" "$unit_dir/libvfiod.socket" \
	"$unit_dir/libvfio-vm@.service"
check "systemctl start libvfiod.socket" systemctl start libvfiod.socket
state=$(unit_state libvfiod.service)
if [ "$(unit_state libvfiod.socket)" = active/listening ] && [ "$state" = inactive/dead ] &&
	[ -S "$socket_path" ]; then
	ok "libvfiod.socket listens on $socket_path; libvfiod.service is $state"
else
	not_ok "libvfiod.socket listens, libvfiod.service inactive" \
		"socket $(unit_state libvfiod.socket), service $state" "$(ls -l "$socket_path" 2>&1)"
fi

# ---- socket activation

t0=$(cut -d' ' -f1 /proc/uptime)
out=$(vfioctl version 2>&1)
rc=$?
took=$(since "$t0")
if [ "$rc" -eq 0 ]; then
	ok "the first vfioctl version answers (${took} s, activation included)"
	lab_diag <<<"$out"
else
	not_ok "the first vfioctl version answers" "exit $rc: $out" \
		"$(journalctl -b -u libvfiod.service --no-pager -n 30 2>&1)"
fi
state=$(unit_state libvfiod.service)
if [ "$state" = active/running ]; then
	ok "libvfiod.service was activated by the connection ($state)"
else
	not_ok "libvfiod.service was activated by the connection" "it is $state" \
		"$(journalctl -b -u libvfiod.service --no-pager -n 30 2>&1)"
	lab_bail "no daemon"
fi
daemon_main=$(systemctl show -P MainPID libvfiod.service)

# ---- a VM through libvfio-vm@.service

# QEMU prints nothing itself without a guest that talks: SeaBIOS's debug console on
# QEMU's stdio makes it print its banner into QEMU's output, which the daemon sends to
# the journal as qemu-NAME.
definition=$(mktemp /tmp/systemd-vm.XXXXXX)
cat >"$definition" <<-EOF
	name: $vm
	memory: 64M
	cpus: 1
	firmware: bios
	network: none
	gpu:
	  - mode: mdev
	    address: mbochs
	qemu-args:
	  - -chardev
	  - stdio,id=seabios
	  - -device
	  - isa-debugcon,iobase=0x402,chardev=seabios
EOF
check "vfioctl define $vm" vfioctl define "$definition"
# vms.dir of the installed configuration, the directory the unit lets the daemon write.
vm_dir=$(sed -n 's/^  dir: //p' "$config_dir/libvfiod.yaml" 2>/dev/null)
vm_dir=${vm_dir:-/etc/libvfio/vms}
if [ -f "$vm_dir/$vm.yaml" ]; then
	ok "the definition is stored as $vm_dir/$vm.yaml"
else
	not_ok "the definition is stored as $vm_dir/$vm.yaml" "$(ls -la "$vm_dir" 2>&1)"
fi

t0=$(cut -d' ' -f1 /proc/uptime)
out=$(systemctl start "libvfio-vm@$vm.service" 2>&1)
rc=$?
took=$(since "$t0")
if [ "$rc" -eq 0 ]; then
	ok "systemctl start libvfio-vm@$vm.service (${took} s)"
else
	not_ok "systemctl start libvfio-vm@$vm.service" "exit $rc: $out" \
		"$(journalctl -b -u "libvfio-vm@$vm.service" -u libvfiod.service --no-pager -n 30 2>&1)"
fi
status=$(vfioctl --json status "$vm")
read -r state pid <<<"$(python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vm"]
print(v.get("state"), v.get("pid"))
' "$status" 2>/dev/null)"
if [ "${state:-}" = running ] && [ -d "/proc/${pid:-none}" ]; then
	ok "$vm is running (QEMU pid $pid); the unit is $(unit_state "libvfio-vm@$vm.service")"
else
	not_ok "$vm is running" "$status" \
		"$(journalctl -b -u "libvfio-vm@$vm.service" -u libvfiod.service --no-pager -n 30 2>&1)"
	pid=''
fi

if [ -n "$pid" ]; then
	# What the sandboxed unit could give QEMU, as the kernel says.
	uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
	if [ "$uid" = "$qemu_uid" ]; then
		ok "QEMU runs as libvfio-qemu (uid $uid)"
	else
		not_ok "QEMU runs as libvfio-qemu (uid $qemu_uid)" "$(grep -E '^(Uid|Gid)' "/proc/$pid/status")"
	fi
	memlock=$(sed -n 's/^Max locked memory[[:space:]]*//p' "/proc/$pid/limits")
	read -r soft hard units <<<"$memlock"
	want=$(((64 + 1024) * 1024 * 1024))
	if [ "$soft $hard $units" = "$want $want bytes" ]; then
		ok "QEMU's RLIMIT_MEMLOCK is guest RAM + 1 GiB ($want bytes), raised within the unit"
	else
		not_ok "QEMU's RLIMIT_MEMLOCK is guest RAM + 1 GiB ($want bytes)" "Max locked memory: $memlock"
	fi
	vfio_fds=$(for fd in /proc/"$pid"/fd/*; do
		target=$(readlink "$fd") && [[ $target == /dev/vfio/* ]] && echo "$target"
	done | sort -u | tr '\n' ' ')
	if [[ $vfio_fds == */dev/vfio/vfio* ]] && [[ $vfio_fds =~ /dev/vfio/[0-9]+ ]]; then
		ok "QEMU holds its VFIO group open: $vfio_fds"
	else
		not_ok "QEMU holds /dev/vfio/vfio and its group open" "fds: ${vfio_fds:-none}"
	fi
	# A scope of its own, made while QEMU was held before exec: guest RAM (pinned
	# by VFIO for the mdev before the guest runs) is charged there, not to the
	# daemon, whose MemoryMax= bounds the daemon alone.
	cgroup=$(cut -d: -f3 "/proc/$pid/cgroup")
	scope=${cgroup##*/}
	if [[ $cgroup == /machine.slice/libvfio-vm-$vm.scope ||
		$cgroup == /machine.slice/libvfio-vm-$vm-[0-9]*.scope ]]; then
		ok "QEMU runs in a scope of its own ($cgroup)"
	else
		not_ok "QEMU runs in /machine.slice/libvfio-vm-$vm.scope" "$cgroup"
	fi
	# What processes allocated (anonymous memory, and shmem: guest RAM is a memfd),
	# not page cache, which belongs to whoever read a file first (the daemon's
	# `qemu --version` reads QEMU's binary before any VM runs).
	allocated() {
		awk '$1 == "anon" || $1 == "shmem" { sum += $2 } END { print sum + 0 }' \
			"/sys/fs/cgroup$1/memory.stat"
	}
	daemon_cgroup=$(systemctl show -P ControlGroup libvfiod.service)
	scope_memory=$(allocated "$cgroup")
	daemon_memory=$(allocated "$daemon_cgroup")
	memory_max=$(systemctl show -P MemoryMax libvfiod.service)
	if ((daemon_memory < (16 << 20) && scope_memory > daemon_memory)); then
		ok "QEMU's memory counts as the scope's ($((scope_memory >> 10)) KiB allocated), not the daemon's ($((daemon_memory >> 10)) KiB, MemoryMax=$((memory_max >> 20)) MiB)"
	else
		not_ok "QEMU's memory counts as the scope's, not the daemon's" \
			"allocated (anon + shmem): scope $((scope_memory >> 10)) KiB, libvfiod.service $((daemon_memory >> 10)) KiB"
	fi
	if [ "$memory_max" = $((768 << 20)) ]; then
		ok "libvfiod.service runs with MemoryMax=768M"
	else
		not_ok "libvfiod.service runs with MemoryMax=768M" "MemoryMax=$memory_max"
	fi
	group=$(basename "$(readlink "/sys/bus/mdev/devices/$(ls /sys/bus/mdev/devices | head -n 1)/iommu_group")")
	devices=$(systemctl show -P DevicePolicy -P DeviceAllow "$scope" | tr '\n' ' ')
	if [[ $devices == *closed* && $devices == *"/dev/vfio/$group rw"* && $devices == *"/dev/kvm rw"* ]] &&
		[[ $devices != *char-vfio* && $devices != *block-* ]]; then
		ok "the scope lets QEMU open only its own devices: $devices"
	else
		not_ok "the scope's device filter is closed, with /dev/kvm and /dev/vfio/$group" "$devices"
	fi
	# machined (bus-activated, slow to start here): the VM, with QEMU as leader.
	machine=''
	for ((i = 0; i < 20; i++)); do
		machine=$(machinectl show "$vm" -p Class -p Leader -p Service -p Unit 2>&1 | sort | tr '\n' ' ')
		[[ $machine == *"Leader=$pid"* ]] && break
		sleep 1
	done
	if [[ $machine == "Class=vm Leader=$pid Service=libvfio Unit=$scope " ]]; then
		ok "machinectl knows $vm: $machine"
	else
		not_ok "machinectl show $vm: class vm, leader $pid, service libvfio, unit $scope" \
			"$machine" "$(machinectl list 2>&1)"
	fi
	# Its screen: the daemon's socket, handed to QEMU's VNC server over QMP.
	display=$(vfioctl --json status "$vm" | python3 -c '
import json, sys
print(json.load(sys.stdin)["vm"].get("display") or "")' 2>/dev/null)
	greeting=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
print(s.recv(12).decode().strip())' "$display" 2>&1)
	if [ "$greeting" = "RFB 003.008" ]; then
		ok "its screen answers on $display ($greeting), through the daemon"
	else
		not_ok "its screen answers on the display socket" "display: ${display:-none}" "$greeting"
	fi
	mdevs=$(ls /sys/bus/mdev/devices)
	if [ -n "$mdevs" ]; then
		ok "an mdev exists for $vm: $mdevs"
	else
		not_ok "an mdev exists for $vm"
	fi
fi
if out=$(journal_has -t "qemu-$vm" --grep SeaBIOS); then
	ok "journalctl -t qemu-$vm has QEMU's output: $(head -n 1 <<<"$out")"
else
	not_ok "journalctl -t qemu-$vm has QEMU's output (SeaBIOS's banner)" \
		"$(journalctl -b -t "qemu-$vm" --no-pager 2>&1 | tail -n 5)"
fi

# vfioctl logs: the same story through the daemon, from the journal (QEMU's output and
# the daemon's lines about the VM, each with its time).
logs=$(vfioctl logs -n 1000 "$vm" 2>&1)
if grep -q '^[0-9-]* [0-9:]* qemu *SeaBIOS' <<<"$logs" &&
	grep -q "^[0-9-]* [0-9:]* libvfiod *VM $vm: QEMU runs in libvfio-vm-$vm" <<<"$logs"; then
	ok "vfioctl logs $vm shows QEMU's output and the daemon's lines, from the journal"
else
	not_ok "vfioctl logs $vm shows SeaBIOS's banner (qemu) and the scope line (libvfiod)" \
		"$(tail -n 20 <<<"$logs")"
fi

# ---- the unit follows the VM (vfioctl run, Type=notify)

unit=libvfio-vm@$vm.service
if systemctl is-active --quiet "$unit"; then
	ok "systemctl is-active $unit: active while $vm runs"
else
	not_ok "systemctl is-active $unit" "it is $(unit_state "$unit")"
fi
# A stop from outside the unit: the unit follows the VM down, and is not failed.
check "vfioctl stop $vm --force (outside the unit)" vfioctl stop "$vm" --force
if state=$(wait_unit "$unit" inactive/dead); then
	ok "$unit went inactive when $vm was stopped with vfioctl"
else
	not_ok "$unit went inactive when $vm was stopped with vfioctl" "it is $state" \
		"$(journalctl -b -u "$unit" --no-pager -n 20 2>&1)"
fi
# Started again by the unit, then QEMU killed: the unit fails, and says why.
check "systemctl start $unit (again)" systemctl start "$unit"
crash_pid=$(vm_pid)
if [ -n "$crash_pid" ]; then
	kill -KILL "$crash_pid"
	if state=$(wait_unit "$unit" failed/failed); then
		ok "$unit failed when QEMU ($crash_pid) was killed"
	else
		not_ok "$unit failed when QEMU ($crash_pid) was killed" "it is $state" \
			"$(journalctl -b -u "$unit" --no-pager -n 20 2>&1)"
	fi
	status=$(systemctl status --no-pager -n 10 "$unit" 2>&1)
	if grep -q "$vm crashed: QEMU was killed by signal 9" <<<"$status"; then
		ok "systemctl status $unit says why: $(grep -o "$vm crashed: .*" <<<"$status" | head -n 1)"
	else
		not_ok "systemctl status $unit says why it failed" "$status"
	fi
else
	not_ok "$vm runs again under $unit" "$(vfioctl status "$vm" 2>&1)"
fi
systemctl reset-failed "$unit" 2>/dev/null
# Started by vfioctl first: the unit's start attaches to it, the same QEMU.
check "vfioctl start $vm (outside the unit)" vfioctl start "$vm"
pid=$(vm_pid)
if systemctl start "$unit" && [ "$(unit_state "$unit")" = active/running ] &&
	[ -n "$pid" ] && [ "$(vm_pid)" = "$pid" ]; then
	ok "systemctl start $unit attaches to the running $vm (QEMU pid $pid still)"
else
	not_ok "systemctl start $unit attaches to the running $vm" \
		"unit $(unit_state "$unit"), pid before $pid, now $(vm_pid)" \
		"$(journalctl -b -u "$unit" --no-pager -n 20 2>&1)"
fi

# The unit's ExecStop is vfioctl stop: the guest ignores the ACPI power button, so QEMU
# is told to quit after the daemon's vms.stop-timeout (3 s here, set above), and vfioctl
# stop exits 3: the unit ends failed, as a service whose stop timed out.
t0=$(cut -d' ' -f1 /proc/uptime)
out=$(systemctl stop "libvfio-vm@$vm.service" 2>&1)
rc=$?
took=$(since "$t0")
if [ "$rc" -eq 0 ]; then
	ok "systemctl stop libvfio-vm@$vm.service (${took} s: the guest ignores ACPI)"
else
	not_ok "systemctl stop libvfio-vm@$vm.service" "exit $rc: $out"
fi
state=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["vm"]["state"])' \
	"$(vfioctl --json status "$vm")" 2>&1)
unit=$(unit_state "libvfio-vm@$vm.service")
if [ "$state" = stopped ] && [ "$unit" = failed/failed ]; then
	ok "$vm is stopped, its unit $unit (the guest was cut off)"
else
	not_ok "$vm is stopped, its unit failed (the guest was cut off)" \
		"vfioctl status: $state, unit: $unit"
fi
systemctl reset-failed "libvfio-vm@$vm.service" 2>/dev/null
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
	not_ok "QEMU $pid has exited"
else
	ok "QEMU has exited"
fi
held=$(vfioctl --json partitions | python3 -c '
import json, sys
print(*(p.get("id") for p in json.load(sys.stdin)["partitions"] if p.get("holder") == "vm:" + sys.argv[1]))
' "$vm" 2>&1)
mdevs=$(ls /sys/bus/mdev/devices)
if [ -z "$held" ] && [ -z "$mdevs" ]; then
	ok "the partition is released: none held by vm:$vm, no mdev left"
else
	not_ok "the partition is released" "held: $held" "mdevs: $mdevs"
fi

# ---- the VM's story in the journal

if journal_has LIBVFIO_VM="$vm" MESSAGE_ID="$started_id" _SYSTEMD_UNIT=libvfiod.service >/dev/null; then
	ok "journalctl LIBVFIO_VM=$vm has 'started' (MESSAGE_ID=$started_id) from libvfiod.service"
else
	not_ok "journalctl LIBVFIO_VM=$vm has 'started' (MESSAGE_ID=$started_id)"
fi
if journal_has LIBVFIO_VM="$vm" MESSAGE_ID="$stopped_id" _SYSTEMD_UNIT=libvfiod.service >/dev/null; then
	ok "journalctl LIBVFIO_VM=$vm has 'stopped' (MESSAGE_ID=$stopped_id) from libvfiod.service"
else
	not_ok "journalctl LIBVFIO_VM=$vm has 'stopped' (MESSAGE_ID=$stopped_id)"
fi
echo "# journalctl LIBVFIO_VM=$vm:"
journalctl -b --no-pager -o cat LIBVFIO_VM="$vm" | lab_diag

# ---- the daemon's end, and the socket's next activation

check "systemctl stop libvfiod.service" systemctl stop libvfiod.service
result=$(systemctl show -P Result libvfiod.service)/$(systemctl show -P ExecMainCode libvfiod.service)/$(systemctl show -P ExecMainStatus libvfiod.service)
# ExecMainCode 1: CLD_EXITED (not killed by a signal).
if [ "$result" = success/1/0 ] && [ "$(unit_state libvfiod.service)" = inactive/dead ]; then
	ok "libvfiod.service (pid $daemon_main) exited 0 on its own, Result=success"
else
	not_ok "libvfiod.service exited cleanly" "Result/ExecMainCode/ExecMainStatus: $result" \
		"$(journalctl -b -u libvfiod.service --no-pager -n 20 2>&1)"
fi
# RuntimeDirectoryPreserve=yes: the socket inode survives the service's stop.
if [ "$(unit_state libvfiod.socket)" = active/listening ] && [ -S "$socket_path" ] &&
	vfioctl version >/dev/null 2>&1 && [ "$(unit_state libvfiod.service)" = active/running ]; then
	ok "the socket survives the service's stop and activates it again"
else
	not_ok "the socket survives the service's stop and activates it again" \
		"socket $(unit_state libvfiod.socket), service $(unit_state libvfiod.service)" \
		"$(ls -l "$socket_path" 2>&1)"
fi
check "systemctl stop libvfiod.service libvfiod.socket" \
	systemctl stop libvfiod.service libvfiod.socket

check_host_unchanged "$before"
lab_finish
