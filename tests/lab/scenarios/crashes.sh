#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Crashes on a real kernel, with real devices and the shipped defaults (QEMU as its own
# user, libvfio-qemu): whatever dies at whatever moment, the host ends exactly as it
# was at the scenario's start, and each VM in a true state.
#
#   1. QEMU SIGKILLed from outside while it runs a guest with a real device (an mdev
#      on mbochs; the bochs-display passed through): crashed, with a problem sentence;
#      partitions released, the /dev/vfio node back to root.
#   2. libvfiod SIGKILLed during a VM's start, then a new daemon on the same
#      directories: (a) while the SR-IOV partition is being made (before QEMU exists):
#      what was made undone, the VM failed; (b) after QEMU was spawned and before its
#      cont (a QEMU wrapper that sleeps 1 s first): the start failed, QEMU killed,
#      everything given back; (c) while the guest runs: re-adopted as running, then
#      stopped cleanly.
#   3. libvfiod SIGKILLed while `vfioctl partition create` is in flight (an SR-IOV VF,
#      a passthrough), at each step of the partition's record: the next daemon undoes
#      what was made, or adopts the partition when it was finished.
#
#   tests/lab/run-lab tests/lab/scenarios/crashes.sh
#
# The moments to kill at are taken from what the daemon writes down before it acts
# (its partition records and the VM's runtime record), watched with shell builtins
# every 10 ms: a fork costs ~0.1 s under TCG, longer than some of those moments.

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

lab_load_mdev_samples
modprobe vfio-pci || lab_bail "vfio-pci does not load"
pf=$(lab_sriov_pf) || lab_bail "no SR-IOV PF in the lab machine (--vfs 0?)"
display=$(lab_display_behind_port) || lab_bail "no display function behind a root port"
before=$(mktemp /tmp/crashes-before.XXXXXX)
host_snapshot "$before"

# The NVMe PF stands in for an SR-IOV GPU.
config=('gpus:' '  partitionable: [1b36:0010]')

# QEMU, a second late: a daemon killed once it spawned QEMU dies before its cont.
# QEMU's user must be able to run it: a 0755 directory, not a 0700 one.
slow_dir=$(mktemp -d /tmp/crashes-bin.XXXXXX) || lab_bail "mktemp failed"
chmod 0755 "$slow_dir"
printf '#!/bin/sh\nsleep 1\nexec qemu-system-x86_64 "$@"\n' >"$slow_dir/slow-qemu"
chmod 0755 "$slow_dir/slow-qemu"

# ---- helpers (builtins where they can: they poll)

# The time each part takes, for the log ($SECONDS: no fork).
part_started=$SECONDS
part() {
	echo "# ---- $* (the part before took $((SECONDS - part_started)) s)"
	part_started=$SECONDS
}

# A sleep without a fork: read with a timeout on a FIFO nobody writes to (opened
# read-write, so the open does not wait for a writer; the guest has no /dev/fd).
mkfifo "$slow_dir/nap" || lab_bail "no FIFO to nap on"
exec {nap_fd}<>"$slow_dir/nap"
nap() {
	read -r -t "$1" -u "$nap_fd" _ || true
}

# vm_status NAME: vm_state, vm_problem, vm_pid, vm_partitions from `vfioctl --json status`.
vm_status() {
	vm_json=$(vfioctl --json status "$1" 2>&1)
	vm_state=- vm_problem='' vm_pid=0 vm_partitions=''
	[[ $vm_json =~ \"state\":\ *\"([a-z]+)\" ]] && vm_state=${BASH_REMATCH[1]}
	[[ $vm_json =~ \"problem\":\ *\"([^\"]*)\" ]] && vm_problem=${BASH_REMATCH[1]}
	[[ $vm_json =~ \"pid\":\ *([0-9]+) ]] && vm_pid=${BASH_REMATCH[1]}
	[[ $vm_json =~ \"partitions\":\ *\[([^]]*)\] ]] && vm_partitions=${BASH_REMATCH[1]//[[:space:]\"]/}
	return 0
}

# wait_vm_state NAME STATE-PATTERN [SECONDS]: polls status until the state matches.
wait_vm_state() {
	local name=$1 pattern=$2 seconds=${3:-30} i
	for ((i = 0; i < seconds * 5; i++)); do
		vm_status "$name"
		# shellcheck disable=SC2053 # a pattern on purpose
		[[ $vm_state == $pattern ]] && return 0
		nap 0.2
	done
	return 1
}

# A process that is gone, or a zombie nobody reaped yet.
pid_dead() {
	local stat
	[ -r "/proc/$1/stat" ] || return 0
	read -r stat <"/proc/$1/stat" 2>/dev/null || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

# The owner of a /dev/vfio group node (stat is a fork, once).
vfio_owner() {
	stat -c %U "$1" 2>/dev/null || echo -
}

# The /dev/vfio group node of the VM's device: the newest numbered node.
vfio_group_nodes() {
	local node
	for node in /dev/vfio/*; do
		[[ ${node##*/} =~ ^[0-9]+$ ]] && printf '%s\n' "$node"
	done
}

# wait_file_match GLOB PATTERN SECONDS: until a file matching GLOB has text matching
# the bash PATTERN; its text in $matched_text.
wait_file_match() {
	local glob=$1 pattern=$2 seconds=$3 i f text
	for ((i = 0; i < seconds * 100; i++)); do
		for f in $glob; do
			[ -e "$f" ] || continue
			text=''
			read -r -d '' text <"$f" 2>/dev/null
			# shellcheck disable=SC2053 # a pattern on purpose
			if [[ $text == $pattern ]]; then
				matched_text=$text
				return 0
			fi
		done
		nap 0.01
	done
	return 1
}

# How often WORD occurs in TEXT.
count_of() {
	local text=$1 word=$2 marked
	marked=${text//"$word"/$'\1'}
	marked=${marked//[^$'\1']/}
	printf '%d' "${#marked}"
}

# The steps of a partition record, "kind:state" each, for the log.
record_steps() {
	local text=$1 out=''
	while [[ $text =~ \"kind\":\ *\"([a-z-]+)\",\ *\"state\":\ *\"([a-z]+)\" ]]; do
		out+="${BASH_REMATCH[1]}:${BASH_REMATCH[2]} "
		text=${text#*"${BASH_REMATCH[0]}"}
	done
	printf '%s' "${out% }"
}

check_vm_released() {
	local name=$1 what=$2
	if [ -z "$vm_partitions" ]; then
		ok "$name: $what: holds no partition"
	else
		not_ok "$name: $what: holds no partition" "$vm_json"
	fi
	if [ -e "$daemon_dir/run/vms/$name.json" ]; then
		not_ok "$name: $what: its runtime record is gone" "$(cat "$daemon_dir/run/vms/$name.json")"
	else
		ok "$name: $what: its runtime record is gone"
	fi
}

libvfio_partitions() {
	local out
	out=$(vfioctl --json partitions 2>&1)
	[[ $out =~ \"holder\" ]] && printf '%s' "$out"
	return 0
}

check_no_partitions() {
	local left
	left=$(libvfio_partitions)
	if [ -z "$left" ]; then
		ok "$1: libvfiod holds no partition"
	else
		not_ok "$1: libvfiod holds no partition" "$left"
	fi
}

# ---- 1. QEMU killed from outside

part "1. QEMU killed from outside"
daemon_start "${config[@]}"

qemu_killed() {
	local name=$1 node owner pid
	shift
	vm_define "$name" "$@"
	check "$name: vfioctl start" vfioctl start "$name"
	vm_status "$name"
	pid=$vm_pid
	if [ "$vm_state" = running ] && [ "$pid" -gt 0 ]; then
		ok "$name: running (pid $pid, partitions $vm_partitions)"
	else
		not_ok "$name: running" "$vm_json"
		return
	fi
	node=$(vfio_group_nodes | tail -n 1)
	owner=$(vfio_owner "$node")
	if [ "$owner" = libvfio-qemu ]; then
		ok "$name: $node is lent to libvfio-qemu"
	else
		not_ok "$name: $node is lent to libvfio-qemu" "owner: $owner"
	fi
	kill -KILL "$pid"
	if wait_vm_state "$name" crashed 30; then
		ok "$name: crashed after QEMU's SIGKILL"
	else
		not_ok "$name: crashed after QEMU's SIGKILL" "$vm_json"
	fi
	if [ -n "$vm_problem" ]; then
		ok "$name: status says why: $vm_problem"
	else
		not_ok "$name: status says why" "$vm_json"
	fi
	check_vm_released "$name" "crashed"
	check_host_unchanged "$before"
}

qemu_killed mb 'gpu:' '  - mode: mdev' '    address: mbochs'
qemu_killed pt 'gpu:' '  - mode: passthrough' "    address: $display"
check_no_partitions "after QEMU's crashes"

# ---- 2. libvfiod killed during a VM's start

part "2a. libvfiod killed while the VM's partition is made"
# (a) Before QEMU exists: while the SR-IOV partition is being made, the moment the
# record says the sriov_numvfs write started (it takes a while on a real kernel).
# One daemon after another, each on the last one's directories, from here on.
vm_define vf 'gpu:' '  - mode: sriov' "    address: $pf"
vfioctl start vf >"$daemon_dir/start-vf.out" 2>&1 &
client=$!
if wait_file_match "$daemon_dir/run/partitions/*.json" '*"sriov-numvfs","state":"started"*' 60; then
	daemon_kill
	ok "vf: libvfiod killed while the VM's partition was being made ($(record_steps "$matched_text"))"
else
	daemon_kill
	not_ok "vf: the partition record showed the sriov_numvfs write" \
		"$(cat "$daemon_dir"/run/partitions/*.json 2>&1)"
fi
wait "$client"
echo "# vfioctl start vf, cut off: $(cat "$daemon_dir/start-vf.out")"
# The next daemon (it serves 2b too) runs QEMU through the slow wrapper.
daemon_start --reuse "${config[@]}" "qemu-binary: $slow_dir/slow-qemu"
if wait_vm_state vf 'failed' 30 && [[ $vm_problem == *'start was cut short'* ]]; then
	ok "vf: failed after the restart: $vm_problem"
else
	not_ok "vf: failed after the restart, saying its start was cut short" "$vm_json"
fi
check_vm_released vf "after the restart"
check_no_partitions "vf"
check_host_unchanged "$before"

part "2b. libvfiod killed between QEMU's spawn and cont"
# (b) After QEMU was spawned, before its cont: the runtime record has QEMU's pid.
vm_define early 'gpu:' '  - mode: passthrough' "    address: $display"
vfioctl start early >"$daemon_dir/start-early.out" 2>&1 &
client=$!
early_pid=0
if wait_file_match "$daemon_dir/run/vms/early.json" '*"pid":[1-9]*' 60; then
	daemon_kill
	[[ $matched_text =~ \"pid\":\ *([0-9]+) ]] && early_pid=${BASH_REMATCH[1]}
	ok "early: libvfiod killed once QEMU was spawned (pid $early_pid)"
else
	daemon_kill
	not_ok "early: the runtime record showed QEMU's pid" "$(cat "$daemon_dir/run/vms/early.json" 2>&1)"
fi
wait "$client"
# QEMU comes up, stopped before the guest's first instruction, and waits for ever.
for ((i = 0; i < 100; i++)); do
	comm=''
	read -r comm <"/proc/$early_pid/comm" 2>/dev/null
	[[ $comm == qemu* ]] && break
	nap 0.1
done
if [[ $comm == qemu* ]] && ! pid_dead "$early_pid"; then
	ok "early: QEMU runs without its daemon ($comm, pid $early_pid)"
else
	not_ok "early: QEMU runs without its daemon" "comm '$comm'"
fi
daemon_start --reuse "${config[@]}"
if wait_vm_state early failed 30; then
	ok "early: failed after the restart"
else
	not_ok "early: failed after the restart" "$vm_json"
fi
if [[ $vm_problem == 'Its start was cut short'* ]]; then
	ok "early: status says: $vm_problem"
else
	not_ok "early: status says 'Its start was cut short...'" "$vm_json"
fi
for ((i = 0; i < 100; i++)); do
	pid_dead "$early_pid" && break
	nap 0.1
done
if pid_dead "$early_pid"; then
	ok "early: QEMU (pid $early_pid) was killed"
else
	not_ok "early: QEMU (pid $early_pid) was killed"
fi
check_vm_released early "after the restart"
check_no_partitions "early"
check_host_unchanged "$before"

part "2c. libvfiod killed while the guest runs"
# (c) While the guest runs: re-adopted, then stopped cleanly.
vm_define run 'gpu:' '  - mode: mdev' '    address: mbochs'
check "run: vfioctl start" vfioctl start run
vm_status run
run_pid=$vm_pid run_partitions=$vm_partitions
daemon_kill
if ! pid_dead "$run_pid"; then
	ok "run: QEMU (pid $run_pid) outlives its daemon"
else
	not_ok "run: QEMU (pid $run_pid) outlives its daemon"
fi
daemon_start --reuse
vm_status run
if [ "$vm_state" = running ] && [ "$vm_pid" = "$run_pid" ] &&
	[ "$vm_partitions" = "$run_partitions" ]; then
	ok "run: re-adopted as running (pid $vm_pid, partitions $vm_partitions)"
else
	not_ok "run: re-adopted as running (pid $run_pid, partitions $run_partitions)" "$vm_json"
fi
check "run: vfioctl stop --force" vfioctl stop run --force
vm_status run
if [ "$vm_state" = stopped ] && [ -z "$vm_problem" ] && pid_dead "$run_pid"; then
	ok "run: stopped cleanly, QEMU gone"
else
	not_ok "run: stopped cleanly, QEMU gone" "$vm_json"
fi
check_vm_released run "stopped"
check_host_unchanged "$before"

# ---- 3. libvfiod killed while `vfioctl partition create` is in flight

# kill_create WHAT AT ARG...: `vfioctl partition create ARG...` on the running daemon,
# which is SIGKILLed as soon as the partition's record shows AT: a number of steps
# done (0: the first one written down only), or "finished". What the record says
# after the death decides what the next daemon (left running) must do: undo an
# unfinished partition, adopt a finished one (manual: it lives until destroyed).
kill_create() {
	local what=$1 at=$2 client seen='' final='' state id='' f text i
	shift 2
	part "3. libvfiod killed in partition create: $what"
	vfioctl partition create "$@" >"$daemon_dir/create.out" 2>&1 &
	client=$!
	for ((i = 0; i < 6000; i++)); do
		for f in "$daemon_dir"/run/partitions/*.json; do
			[ -e "$f" ] || continue
			text=''
			read -r -d '' text <"$f" 2>/dev/null
			if [[ $text == *'"active":true'* ]] ||
				{ [ "$at" != finished ] && [[ $text == *'"state"'* ]] &&
					[ "$(count_of "$text" '"done"')" -ge "$at" ]; }; then
				seen=$text
				break 2
			fi
		done
		kill -0 "$client" 2>/dev/null || break
		nap 0.01
	done
	daemon_kill
	wait "$client"
	for f in "$daemon_dir"/run/partitions/*.json; do
		[ -e "$f" ] && read -r -d '' final <"$f"
	done
	if [ -z "$seen" ]; then
		not_ok "$what: libvfiod killed mid-create" "the record never showed $at;" \
			"vfioctl: $(cat "$daemon_dir/create.out")"
	fi
	state=unfinished
	[[ $final == *'"active":true'* ]] && state=finished
	[ -n "$seen" ] && ok "$what: libvfiod killed; its record then: $(record_steps "$final") ($state)"
	daemon_start --reuse
	if [ "$state" = finished ]; then
		[[ $final =~ \"id\":\ *\"([^\"]+)\" ]] && id=${BASH_REMATCH[1]}
		if [[ $(libvfio_partitions) == *"$id"* ]]; then
			ok "$what: the next daemon adopts the finished partition $id"
		else
			not_ok "$what: the next daemon adopts the finished partition $id" \
				"$(vfioctl partitions 2>&1)"
		fi
		check "$what: vfioctl partition destroy $id" vfioctl partition destroy "$id"
	fi
	check_no_partitions "$what"
	check_host_unchanged "$before"
}

kill_create "SR-IOV VF, at sriov_numvfs" 0 --mode sriov --gpu "$pf"
kill_create "SR-IOV VF, at the VF's bind" 1 --mode sriov --gpu "$pf"
kill_create "SR-IOV VF, finished" finished --mode sriov --gpu "$pf"
kill_create "passthrough, at the bind" 0 --mode passthrough --gpu "$display"
kill_create "passthrough, finished" finished --mode passthrough --gpu "$display"
daemon_stop

part "the end"
check_host_unchanged "$before"
lab_finish
