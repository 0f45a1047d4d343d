#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# NUMA placement on a real kernel (boot with --numa: two nodes, the bochs-display and
# the NVMe behind a pxb-pcie host bridge on node 1). libvfiod must see both nodes and
# the GPU on node 1, and a VM whose GPU is that device (passthrough, numa: auto) must
# run with its vCPU threads pinned to node 1's CPUs and its RAM bound to node 1, as
# the kernel reports them for the running QEMU (/proc/PID/task/*/status, numa_maps),
# not as the daemon says. Then the VM stops and the host is as before.
#
#   tests/lab/run-lab --numa tests/lab/scenarios/numa.sh

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

[ "${LAB_NUMA:-0}" = 1 ] || lab_bail "this scenario needs two NUMA nodes (run-lab --numa)"
nodes=$(cd /sys/devices/system/node && echo node[0-9]*)
[ "$nodes" = "node0 node1" ] || lab_bail "the kernel shows NUMA nodes '$nodes', not node0 node1"
node1_cpus=$(lab_attr /sys/devices/system/node/node1/cpulist)
gpu=$(lab_display_on_node 1) || lab_bail "no display function on node 1 (the pxb-pcie's bochs-display)"
ok "the kernel shows 2 NUMA nodes, node 1 with CPUs $node1_cpus and the display function $gpu"

# The VM's passthrough puts the GPU on vfio-pci: loaded before the snapshot, as a
# module is not part of the host's state the daemon must give back.
modprobe vfio-pci || lab_bail "vfio-pci does not load"
before=$(mktemp /tmp/numa-before.XXXXXX)
host_snapshot "$before"

# shellcheck disable=SC2119 # the default configuration, no extra lines
daemon_start

# ---- what the daemon sees

topology=$(vfioctl --json topology)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "vfioctl --json topology"
else
	not_ok "vfioctl --json topology" "exit $rc: $topology"
fi
# "ID CPUS GPU..." per node.
seen=$(python3 -c '
import json, sys
for n in json.loads(sys.argv[1])["nodes"]:
    print(n["id"], n["cpus"], *sorted(n["gpus"]))
' "$topology" 2>&1)
if [ "$(wc -l <<<"$seen")" -eq 2 ] && [[ $(sed -n 1p <<<"$seen") == "0 "* ]] &&
	[[ $(sed -n 2p <<<"$seen") == "1 $node1_cpus "* ]]; then
	ok "the daemon sees 2 nodes, node 1 with CPUs $node1_cpus"
else
	not_ok "the daemon sees 2 nodes, node 1 with CPUs $node1_cpus" "ID CPUS GPUS:" "$seen"
fi
if grep -qx "1 $node1_cpus.* $gpu\( .*\)\?" <<<"$seen"; then
	ok "topology lists $gpu under node 1"
else
	not_ok "topology lists $gpu under node 1" "$seen"
fi

gpu_json=$(vfioctl --json gpu "$gpu")
seen=$(python3 -c '
import json, sys
g = json.loads(sys.argv[1])
g = g.get("gpu", g)
print(g.get("numaNode"), (g.get("node") or {}).get("id"), (g.get("node") or {}).get("cpus"))
' "$gpu_json" 2>&1)
if [ "$seen" = "1 1 $node1_cpus" ]; then
	ok "vfioctl gpu $gpu: numaNode 1, node 1 with CPUs $node1_cpus"
else
	not_ok "vfioctl gpu $gpu: numaNode 1, node 1 with CPUs $node1_cpus" \
		"numaNode node.id node.cpus: $seen" "$gpu_json"
fi

# ---- a VM next to the GPU

# Two vCPUs on a node of two CPUs (run-lab --smp 4): each pinned to a CPU of its own,
# which the spawn's affinity to the node alone would not do.
vm_define numa1 'cpus: 2' 'numa: auto' 'gpu:' '  - mode: passthrough' "    address: $gpu"
check "vfioctl start numa1" vfioctl start numa1
status=$(vfioctl --json status numa1)
# (No process substitution: the busybox guest has no /dev/fd.)
read -r state pid <<<"$(python3 -c '
import json, sys
v = json.loads(sys.argv[1])["vm"]
print(v.get("state"), v.get("pid"))
' "$status" 2>/dev/null)"
if [ "${state:-}" = running ] && [ -d "/proc/${pid:-none}" ]; then
	ok "numa1 is running (QEMU pid $pid)"
else
	not_ok "numa1 is running" "$status" "the daemon's log:" "$(tail -n 20 "$daemon_dir/daemon.log")"
	vfioctl kill numa1 >/dev/null 2>&1
	daemon_stop
	check_host_unchanged "$before"
	lab_bail "no running QEMU to look at"
fi

# The kernel's view of QEMU: its threads' CPUs, vCPU threads by their name.
vcpus='' others='' bad=''
for task in /proc/"$pid"/task/*; do
	comm=$(lab_attr "$task/comm")
	allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$task/status")
	case $comm in
	CPU\ */*) vcpus+="${task##*/} '$comm' $allowed"$'\n' ;;
	*) others+="${task##*/} '$comm' $allowed"$'\n' ;;
	esac
	# Every thread of QEMU stays on node 1 (the spawn's affinity); a vCPU thread on one
	# CPU of it (the daemon's pin through query-cpus-fast).
	case $comm in
	CPU\ */*) lab_cpu_in_list "$allowed" "$node1_cpus" && [[ $allowed =~ ^[0-9]+$ ]] ||
		bad+="${task##*/} '$comm' $allowed"$'\n' ;;
	*) lab_cpu_in_list "$allowed" "$node1_cpus" || bad+="${task##*/} '$comm' $allowed"$'\n' ;;
	esac
done
vcpus=${vcpus%$'\n'} others=${others%$'\n'}
n_threads=$(($(wc -l <<<"$vcpus") + $(wc -l <<<"$others")))
pinned=$(awk '{ print $NF }' <<<"$vcpus" | sort -u | wc -l)
if [ -z "$vcpus" ]; then
	not_ok "QEMU has a vCPU thread ('CPU 0/TCG')" "threads:" "$others"
elif [ "$(wc -l <<<"$vcpus")" -ne 2 ] || [ "$pinned" -ne 2 ]; then
	not_ok "each of the 2 vCPU threads is pinned to a CPU of its own" \
		"tid comm Cpus_allowed_list:" "$vcpus"
elif [ -z "$bad" ]; then
	ok "each vCPU thread is pinned to a CPU of its own on node 1 (tid comm CPUs: ${vcpus//$'\n'/; })"
	ok "all $n_threads threads of QEMU run on node 1's CPUs ($node1_cpus)"
else
	not_ok "QEMU's threads are on node 1's CPUs ($node1_cpus), vCPUs pinned to one" \
		"not so (tid comm Cpus_allowed_list):" "$bad"
fi

# Its RAM: bound to node 1 on the command line, and so in the kernel's page tables.
argv=$(tr '\0' ' ' <"/proc/$pid/cmdline")
if [[ $argv == *memory-backend-memfd,id=mem,*host-nodes=1,policy=bind* ]]; then
	ok "QEMU's guest RAM object has host-nodes=1,policy=bind"
else
	not_ok "QEMU's guest RAM object has host-nodes=1,policy=bind" "$argv"
fi
ram=$(grep 'memfd:mem' "/proc/$pid/numa_maps")
if [[ $ram == *" bind:1 "* ]]; then
	ok "numa_maps: the guest RAM mapping's policy is bind:1"
else
	not_ok "numa_maps: the guest RAM mapping's policy is bind:1" "${ram:-no memfd:mem mapping}" \
		"$(cat "/proc/$pid/numa_maps")"
fi
# The pages the guest (BIOS) has touched so far are all on node 1: N1=, no N0=.
if [[ $ram == *" N1="* ]] && [[ $ram != *" N0="* ]]; then
	ok "numa_maps: the guest RAM's pages are on node 1 only (${ram##* file=*) })"
else
	not_ok "numa_maps: the guest RAM's pages are on node 1 only" "$ram"
fi

# The BIOS ignores the ACPI power button: QEMU is told to quit, said, exit status 3.
out=$(vfioctl stop --timeout 5 numa1 2>&1)
rc=$?
if [ "$rc" -eq 3 ] && [[ $out == *'QEMU was told to quit'* ]]; then
	ok "vfioctl stop numa1: QEMU told to quit after 5 s, exit 3"
else
	not_ok "vfioctl stop numa1: QEMU told to quit after 5 s, exit 3" "exit $rc: $out"
fi
status=$(vfioctl --json status numa1)
if [[ $status == *'"state": "stopped"'* ]] || [[ $status == *'"state":"stopped"'* ]]; then
	ok "numa1 is stopped"
else
	not_ok "numa1 is stopped" "$status"
fi
if [ -d "/proc/$pid" ]; then
	not_ok "QEMU $pid has exited" "$(cat "/proc/$pid/status")"
else
	ok "QEMU $pid has exited"
fi
held=$(vfioctl --json partitions | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitions"]:
    if p.get("gpu") == sys.argv[1] or p.get("holder") == "vm:numa1":
        print(p)
' "$gpu" 2>&1)
if [ -z "$held" ]; then
	ok "no partition of $gpu or numa1 is left"
else
	not_ok "no partition of $gpu or numa1 is left" "$held"
fi

daemon_stop
check_host_unchanged "$before"
lab_finish
