#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Lab smoke scenario: libvfiod's host discovery on a real kernel. The GPUs it lists
# must be exactly the display-class PCI functions the kernel shows, each with the
# kernel's IOMMU group (and group members), and reading the host must change nothing.
#
#   tests/lab/run-lab tests/lab/scenarios/discovery.sh

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

# The sample mdev drivers: mdev parents outside PCI, as the daemon must list them too.
lab_load_mdev_samples
before=$(mktemp /tmp/discovery-before.XXXXXX)
host_snapshot "$before"

# What the kernel says: "ADDRESS GROUP" for each display-class (0x03xxxx) function,
# virtual functions left out (the daemon lists them under their physical function),
# and "ADDRESS MEMBER..." for each of those functions' IOMMU group.
expected_gpus=''
expected_members=''
expected_nodes=''
for dev in /sys/bus/pci/devices/*; do
	class=$(lab_attr "$dev/class")
	[[ $class == 0x03* ]] || continue
	[ -e "$dev/physfn" ] && continue
	group=$(lab_link_name "$dev/iommu_group")
	expected_gpus+="${dev##*/} $group"$'\n'
	members=''
	for member in /sys/kernel/iommu_groups/"$group"/devices/*; do
		members+=" ${member##*/}"
	done
	expected_members+="${dev##*/}$members"$'\n'
	# -1: the platform does not say (no NUMA); only a real node must be reported.
	node=$(lab_attr "$dev/numa_node")
	[[ $node == -* ]] || expected_nodes+="${dev##*/} $node"$'\n'
done
expected_gpus=$(sort <<<"$expected_gpus" | sed '/^$/d')
expected_members=$(sort <<<"$expected_members" | sed '/^$/d')
expected_nodes=$(sort <<<"$expected_nodes" | sed '/^$/d')
if [ -n "$expected_gpus" ]; then
	ok "the kernel shows $(wc -l <<<"$expected_gpus") display functions"
else
	lab_bail "the lab machine shows no display-class PCI function: the runner's devices?"
fi
[ -d /sys/kernel/iommu_groups/0 ] || lab_bail "no IOMMU groups: is intel_iommu=on working?"

# shellcheck disable=SC2119 # the default configuration, no extra lines
daemon_start

echo "# vfioctl check:"
rc=0
vfioctl check 2>&1 | lab_diag
rc=${PIPESTATUS[0]}
# 1 is a fair answer ("not ready": no KVM under TCG, say); a crash or bad usage is not.
if [ "$rc" -le 1 ]; then
	ok "vfioctl check answers (exit $rc)"
else
	not_ok "vfioctl check answers" "it exited $rc"
fi

json=$(vfioctl --json gpus)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "vfioctl --json gpus"
else
	not_ok "vfioctl --json gpus" "it exited $rc: $json"
fi

# The same two lists, from the daemon's answer.
listed=$(python3 - "$json" <<-'EOF'
	import json, sys
	gpus = json.loads(sys.argv[1])["gpus"]
	for gpu in gpus:
	    if gpu.get("sysfsPath"):
	        continue  # an mdev parent outside PCI (mbochs...): compare-host.py checks those
	    print("G", gpu["address"], gpu.get("iommuGroup"))
	    print("M", gpu["address"], *sorted(gpu.get("iommuGroupMembers") or []))
	    if gpu.get("numaNode") is not None and gpu["numaNode"] >= 0:
	        print("N", gpu["address"], gpu["numaNode"])
EOF
) || not_ok "the answer of vfioctl --json gpus is JSON with a gpus array" "$json"
listed_gpus=$(sed -n 's/^G //p' <<<"$listed" | sort)
listed_members=$(sed -n 's/^M //p' <<<"$listed" | sort)
if [ "$listed_gpus" = "$expected_gpus" ]; then
	ok "the GPUs are the kernel's display functions, with their IOMMU groups"
else
	not_ok "the GPUs are the kernel's display functions, with their IOMMU groups" \
		"kernel (address group):" "$expected_gpus" "libvfiod:" "$listed_gpus"
fi
if [ "$listed_members" = "$expected_members" ]; then
	ok "each GPU's IOMMU group members are the kernel's"
else
	not_ok "each GPU's IOMMU group members are the kernel's" \
		"kernel:" "$expected_members" "libvfiod:" "$listed_members"
fi
listed_nodes=$(sed -n 's/^N //p' <<<"$listed" | sort)
if [ "$listed_nodes" = "$expected_nodes" ]; then
	ok "the GPUs' NUMA nodes are the kernel's (--numa: ${LAB_NUMA:-0})"
else
	not_ok "the GPUs' NUMA nodes are the kernel's" \
		"kernel:" "$expected_nodes" "libvfiod:" "$listed_nodes"
fi

echo "# vfioctl gpus:"
check "vfioctl gpus" vfioctl gpus
vfioctl gpus 2>&1 | lab_diag
check "vfioctl topology" vfioctl topology
# shellcheck disable=SC2016 # expanded by the inner shell
check "vfioctl --json topology is JSON" \
	bash -c '"$VFIOCTL" --socket "$1" --json topology | python3 -m json.tool >/dev/null' \
	_ "$daemon_socket"

# In depth: gpu, topology, mdev parents and check, each against sysfs. (A file, not a
# process substitution: the guest's /dev has no /dev/fd.)
compared=$(mktemp /tmp/discovery-compare.XXXXXX)
python3 "$LAB_SRC/tests/lab/compare-host.py" "$VFIOCTL" "$daemon_socket" >"$compared" 2>&1
rc=$?
grep -q '^PASS ' "$compared" || not_ok "compare-host.py compared anything" "it exited $rc" \
	"$(cat "$compared")"
while IFS= read -r line; do
	case $line in
	PASS\ *) ok "${line#PASS }" ;;
	FAIL\ *) not_ok "${line#FAIL }" ;;
	*) printf '#   %s\n' "$line" ;;
	esac
done <"$compared"

daemon_stop
check_host_unchanged "$before"
lab_finish
