# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The scenario library of the lab: sourced by tests/lab/scenarios/*.sh, which run as
# root inside the lab guest (bash, the host's root under an overlay, a real kernel).
#
#   . "$LAB_LIB"
#
# Results, TAP-ish ("ok 3 - DESC" / "not ok 4 - DESC" with "# ..." details):
#   check DESC CMD [ARG...]   run CMD; ok when it exits 0, else not ok with its output
#   ok DESC / not_ok DESC [DETAIL...]
#   lab_finish                print "N passed, N failed" and exit 0 only if none failed
#   lab_bail REASON           stop the scenario here (counted as a failure), then finish
# The daemon (the build's $LIBVFIOD on a private socket, config in a fresh directory):
#   daemon_start [YAML-LINE...]  start it; extra lines are appended to its config
#   daemon_start --reuse [YAML-LINE...]
#                                start a new daemon on the last one's directory: its
#                                config (rewritten when lines are given), VM definitions,
#                                runtime and state dirs, as after a crash or a restart
#   vfioctl ARG...               the build's $VFIOCTL talking to that daemon
#   daemon_stop                  SIGTERM; checks that it exits 0
#   daemon_kill                  SIGKILL, no checks (its runtime records stay behind)
# The host's state (what libvfiod may change and must give back):
#   host_snapshot FILE        drivers, driver_override, sriov_numvfs and
#                             sriov_drivers_autoprobe of every PCI function, the mdev
#                             devices, the /dev/vfio nodes with owner and mode
#   check_host_unchanged FILE check that the host is exactly as FILE says
# The lab machine's devices, found in sysfs (their addresses differ with --numa):
#   lab_load_mdev_samples     modprobe mbochs, mdpy and mtty (virtual mdev parents)
#   lab_sriov_pf              the SR-IOV PF (QEMU's NVMe)
#   lab_display_behind_port   the single-function display device behind a root port
#                             (bochs-display; with --numa the virtio-gpu, which then
#                             comes first on bus 01)
#   lab_two_function_card     function 0 of the display card with an audio function
#   lab_find_devices          sets pf, display, card and audio to the above
#   lab_display_on_node N     the first display function on NUMA node N (--numa: the
#                             bochs-display behind the pxb-pcie is on node 1)
#   lab_cpu_in_list CPUS LIST every CPU of the cpulist CPUS ("1", "0-3,6") is in LIST
# VMs:
#   vm_define NAME [YAML-LINE...]  define NAME (64 MiB, 1 vCPU, BIOS, no network, unless
#                                  a line sets the key) plus the lines given (a gpu: list)
#
# The checks do not stop at the first failure: set -e is off, so one scenario reports
# everything it can. Every fork of a host binary costs ~0.1 s under TCG (dynamic linking
# over 9p): the helpers use shell builtins where they can.

set -uo pipefail

lab_passed=0
lab_failed=0
lab_count=0

# Indent a command's output under a result line, as TAP diagnostics.
lab_diag() {
	local line
	while IFS= read -r line; do
		printf '#   %s\n' "$line"
	done
}

ok() {
	lab_count=$((lab_count + 1))
	lab_passed=$((lab_passed + 1))
	printf 'ok %d - %s\n' "$lab_count" "$1"
}

not_ok() {
	local desc=$1
	shift
	lab_count=$((lab_count + 1))
	lab_failed=$((lab_failed + 1))
	printf 'not ok %d - %s\n' "$lab_count" "$desc"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" | lab_diag
	fi
}

check() {
	local desc=$1 output rc=0
	shift
	output=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "'$*' exited $rc:" "$output"
	fi
}

lab_finish() {
	printf '%d passed, %d failed\n' "$lab_passed" "$lab_failed"
	[ "$lab_failed" -eq 0 ] && [ "$lab_passed" -gt 0 ]
	exit
}

lab_bail() {
	not_ok "bail out: $*"
	daemon_kill
	lab_finish
}

# Seconds since an $EPOCHREALTIME, to a tenth (builtins only).
lab_since() {
	local now=${EPOCHREALTIME/./} then=${1/./}
	local tenths=$(((now - then) / 100000))
	printf '%d.%d' $((tenths / 10)) $((tenths % 10))
}

# ---- the daemon

daemon_dir=''
daemon_pid=''
daemon_socket=''

# The QEMU user of the shipped configuration (vms.qemu-user, default libvfio-qemu)
# comes from the project's sysusers.d file, as a package would create it; the guest's
# /etc is a throw-away overlay, so this changes nothing on the real host.
lab_ensure_qemu_user() {
	getent passwd libvfio-qemu >/dev/null && return 0
	systemd-sysusers "$LAB_SRC/systemd/libvfio.sysusers" >/dev/null 2>&1 ||
		lab_bail "systemd-sysusers could not create libvfio-qemu from systemd/libvfio.sysusers"
}

daemon_start() {
	local line i reuse=0 started
	if [ "${1:-}" = --reuse ]; then
		reuse=1
		shift
	fi
	[ -z "$daemon_pid" ] || lab_bail "daemon_start: the daemon runs already"
	[ -x "$LIBVFIOD" ] || lab_bail "no libvfiod at '$LIBVFIOD'"
	[ -x "$VFIOCTL" ] || lab_bail "no vfioctl at '$VFIOCTL'"
	lab_ensure_qemu_user
	if [ "$reuse" = 1 ]; then
		if [ -z "$daemon_dir" ] || [ ! -d "$daemon_dir" ]; then
			lab_bail "daemon_start --reuse: no daemon ran before"
		fi
	else
		daemon_dir=$(mktemp -d /tmp/libvfio-lab.XXXXXX) || lab_bail "mktemp failed"
		chmod 0755 "$daemon_dir"
		: >"$daemon_dir/daemon.log"
	fi
	daemon_socket=$daemon_dir/libvfiod.sock
	if [ "$reuse" = 0 ] || [ $# -gt 0 ]; then
		{
			echo "vms:"
			echo "  dir: $daemon_dir/vms"
			echo "  accel: tcg"
			for line in "$@"; do
				echo "$line"
			done
		} >"$daemon_dir/libvfiod.yaml"
	fi
	# A killed daemon leaves its socket file: ready is a socket newer than this mark
	# (a builtin test, no fork), which the new daemon makes in the stale one's place.
	: >"$daemon_dir/start-mark"
	echo "---- libvfiod started by the scenario" >>"$daemon_dir/daemon.log"
	"$LIBVFIOD" --config "$daemon_dir/libvfiod.yaml" --socket "$daemon_socket" \
		--runtime-dir "$daemon_dir/run" --state-dir "$daemon_dir/state" \
		>>"$daemon_dir/daemon.log" 2>&1 &
	daemon_pid=$!
	started=$EPOCHREALTIME
	# Host discovery on a real kernel under TCG takes a while: wait up to 60 s.
	for ((i = 0; i < 600; i++)); do
		[ -S "$daemon_socket" ] && [ "$daemon_socket" -nt "$daemon_dir/start-mark" ] && break
		if ! kill -0 "$daemon_pid" 2>/dev/null; then
			wait "$daemon_pid"
			not_ok "libvfiod starts" "it exited $? before listening; its log:" \
				"$(cat "$daemon_dir/daemon.log")"
			daemon_pid=''
			lab_bail "the daemon did not start"
		fi
		sleep 0.1
	done
	if [ -S "$daemon_socket" ] && [ "$daemon_socket" -nt "$daemon_dir/start-mark" ]; then
		ok "libvfiod starts and listens on $daemon_socket ($(lab_since "$started") s)"
	else
		not_ok "libvfiod starts" "no socket after 60 s; its log:" "$(cat "$daemon_dir/daemon.log")"
		lab_bail "the daemon did not start"
	fi
}

vfioctl() {
	"$VFIOCTL" --socket "$daemon_socket" "$@"
}

# Keep the daemon's log with the scenario's (LAB_OUT is the runner's log directory).
daemon_save_log() {
	local name=${0##*/}
	[ -n "$daemon_dir" ] && [ -d "${LAB_OUT:-}" ] &&
		cp "$daemon_dir/daemon.log" "$LAB_OUT/${name%.sh}.daemon.log" 2>/dev/null
	return 0
}

daemon_stop() {
	local rc=0 i
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid"
	# wait(1) cannot time out; poll so that a hung daemon fails the check, not the lab.
	for ((i = 0; i < 300; i++)); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid"
		wait "$daemon_pid" 2>/dev/null
		not_ok "libvfiod exits on SIGTERM" "still running 30 s after SIGTERM; killed"
	else
		wait "$daemon_pid" || rc=$?
		if [ "$rc" -eq 0 ]; then
			ok "libvfiod exits 0 on SIGTERM"
		else
			not_ok "libvfiod exits 0 on SIGTERM" "it exited $rc; the end of its log:" \
				"$(tail -n 20 "$daemon_dir/daemon.log")"
		fi
	fi
	daemon_pid=''
	daemon_save_log
}

# For lab_bail: no checks, just do not leave the daemon behind.
daemon_kill() {
	[ -n "$daemon_pid" ] || return 0
	kill -KILL "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=''
	daemon_save_log
}

# ---- the host's state

# The target of a symlink's last component ("vfio-pci" for .../driver), or "-".
lab_link_name() {
	local target
	if [ -L "$1" ] && target=$(cd -P "$1" 2>/dev/null && pwd); then
		printf '%s' "${target##*/}"
	else
		printf -- -
	fi
}

# The first line of a sysfs attribute, or "-" when it does not exist.
lab_attr() {
	local value=-
	[ -r "$1" ] && IFS= read -r value <"$1"
	printf '%s' "${value:--}"
}

host_snapshot() {
	local dev nodes
	{
		for dev in /sys/bus/pci/devices/*; do
			printf 'pci %s driver=%s driver_override=%s sriov_numvfs=%s sriov_drivers_autoprobe=%s\n' \
				"${dev##*/}" "$(lab_link_name "$dev/driver")" \
				"$(lab_attr "$dev/driver_override")" "$(lab_attr "$dev/sriov_numvfs")" \
				"$(lab_attr "$dev/sriov_drivers_autoprobe")"
		done
		for dev in /sys/bus/mdev/devices/*; do
			[ -e "$dev" ] || continue
			printf 'mdev %s type=%s driver=%s\n' "${dev##*/}" \
				"$(lab_link_name "$dev/mdev_type")" "$(lab_link_name "$dev/driver")"
		done
		# With owner and mode: a node lent to QEMU's user must come back to root.
		nodes=(/dev/vfio/*)
		[ -e "${nodes[0]}" ] && stat -c 'vfio %n owner=%U:%G mode=%a' "${nodes[@]}"
	} >"$1"
}

check_host_unchanged() {
	local before=$1 now
	now=$(mktemp /tmp/libvfio-lab-snapshot.XXXXXX)
	host_snapshot "$now"
	if cmp -s "$before" "$now"; then
		ok "the host is as before ($(wc -l <"$now") PCI functions, mdevs and /dev/vfio nodes)"
	else
		not_ok "the host is as before" "$(diff -u "$before" "$now")"
	fi
	rm -f "$now"
}

# ---- the lab machine's devices

lab_load_mdev_samples() {
	modprobe -a mbochs mdpy mtty || lab_bail "the sample mdev drivers do not load"
}

# Prints the first PCI function for which the test `$1 DEVICE-DIR` succeeds.
lab_find_pci() {
	local dev
	for dev in /sys/bus/pci/devices/*; do
		if "$1" "$dev"; then
			printf '%s' "${dev##*/}"
			return 0
		fi
	done
	return 1
}

lab_is_sriov_pf() {
	[ -r "$1/sriov_totalvfs" ] && [ "$(lab_attr "$1/sriov_totalvfs")" -gt 0 ]
}

lab_sriov_pf() {
	lab_find_pci lab_is_sriov_pf
}

# A display function (class 03) alone in its slot, not on the root bus.
lab_is_display_behind_port() {
	local addr=${1##*/}
	[[ $(lab_attr "$1/class") == 0x03* ]] && [[ $addr != *:00:??.? ]] &&
		[ ! -e "/sys/bus/pci/devices/${addr%.*}.1" ]
}

lab_display_behind_port() {
	lab_find_pci lab_is_display_behind_port
}

lab_is_two_function_card() {
	local addr=${1##*/}
	[[ $(lab_attr "$1/class") == 0x03* ]] && [[ $addr == *.0 ]] &&
		[ -e "/sys/bus/pci/devices/${addr%.*}.1" ]
}

lab_two_function_card() {
	lab_find_pci lab_is_two_function_card
}

# Sets pf, display, card and audio (the card's function 1) to the lab machine's devices.
lab_find_devices() {
	pf=$(lab_sriov_pf) || lab_bail "no SR-IOV PF in the lab machine"
	display=$(lab_display_behind_port) || lab_bail "no display function behind a root port"
	card=$(lab_two_function_card) || lab_bail "no two-function display card"
	audio=${card%.*}.1
}

lab_display_on_node() {
	local dev
	for dev in /sys/bus/pci/devices/*; do
		if [[ $(lab_attr "$dev/class") == 0x03* ]] && [ "$(lab_attr "$dev/numa_node")" = "$1" ]; then
			printf '%s' "${dev##*/}"
			return 0
		fi
	done
	return 1
}

# A cpulist ("0-2,5") as CPU numbers separated by spaces, in builtins only.
lab_cpulist_expand() {
	local range cpu out=''
	local -a ranges
	IFS=, read -ra ranges <<<"$1"
	for range in "${ranges[@]}"; do
		if [[ $range =~ ^([0-9]+)-([0-9]+)$ ]]; then
			for ((cpu = BASH_REMATCH[1]; cpu <= BASH_REMATCH[2]; cpu++)); do
				out+=" $cpu"
			done
		elif [[ $range =~ ^[0-9]+$ ]]; then
			out+=" $range"
		else
			return 1
		fi
	done
	printf '%s ' "$out"
}

lab_cpu_in_list() {
	local cpus list cpu
	cpus=$(lab_cpulist_expand "$1") && list=$(lab_cpulist_expand "$2") || return 1
	[ -n "${cpus// /}" ] || return 1
	for cpu in $cpus; do
		[[ $list == *" $cpu "* ]] || return 1
	done
}

# ---- VMs

vm_define() {
	local name=$1 line key given=' '
	shift
	for line in "$@"; do
		given+="${line%%:*} "
	done
	{
		printf 'name: %s\n' "$name"
		# The defaults, unless a line given sets the key itself.
		for line in 'memory: 64M' 'cpus: 1' 'firmware: bios' 'network: none'; do
			key=${line%%:*}
			[[ $given == *" $key "* ]] || printf '%s\n' "$line"
		done
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >"$daemon_dir/$name.yaml"
	check "define $name" vfioctl define "$daemon_dir/$name.yaml"
}
