#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One step from a fresh Debian 12 machine (as root) to a running libvfio:
#
#   tests/setup.sh demo   install what is missing, build, run the demo
#   tests/setup.sh test   install what is missing, build, run every test
#
# The README's two commands are exactly these. Environment:
#   BUILD_DIR        build directory (default: build)
#   MESON_ARGS       extra arguments for `meson setup` (e.g. -Db_sanitize=address,undefined)
#   MESON_TEST_ARGS  extra arguments for `meson test` (e.g. --no-suite lab)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-build}
mode=${1:-}

# Build and run time (procps: the unit's ExecReload runs /bin/kill; qemu-utils: qemu-img,
# with which vfioctl create makes a VM's disk; scdoc builds the man pages; xorriso makes
# the demo's ISO), then what only the tests use (qemu-system-gui holds QEMU's PulseAudio
# driver, for the audio test; VMs with audio need it too, but it pulls in GTK, so it is
# not installed for all; polkitd, dbus-daemon and dbus-bin: the access test runs Debian's
# real polkitd on a bus of its own; man-db and groff-base render the man pages for their
# test; bash-completion, zsh and fish load vfioctl's completions in theirs; grub-common,
# grub-efi-amd64-bin and mtools: with xorriso, grub-mkrescue makes the UEFI-bootable ISO
# that test_vm_create boots), and what the real-kernel lab needs (tests/lab, for the tests
# and for the demo on a machine without a GPU to split): make, xz-utils and kmod build its
# cache (tests/lab/cache.sh fetches the kernel, its sources and busybox-static itself), and
# systemd-sysusers makes the QEMU user there; systemd-container's machined registers
# VMs in its systemd boot.
packages=(
	gcc meson ninja-build pkg-config python3
	libyaml-dev libsystemd-dev libjson-c-dev libpci-dev
	qemu-system-x86 ovmf swtpm procps qemu-utils scdoc xorriso
)
test_packages=(
	libcmocka-dev systemd varlink-go golang-go golang-github-varlink-go-dev python3-fusepy python3-dbusmock
	polkitd dbus-daemon dbus-bin
	clang-format iproute2 qemu-system-gui
	man-db groff-base bash-completion zsh fish
	grub-common grub-efi-amd64-bin mtools
)
lab_packages=(make xz-utils kmod systemd systemd-container)

usage() {
	echo "usage: tests/setup.sh demo|test" >&2
	exit 2
}

install_missing() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages: ${missing[*]}; run as root, or: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
	cd "$top"
	if [ ! -f "$build/build.ninja" ]; then
		# shellcheck disable=SC2086 # MESON_ARGS is a list of words
		meson setup "$build" ${MESON_ARGS:-} "$@"
	fi
	meson compile -C "$build"
}

demo_dir=
daemon=
stop_demo() {
	# QEMU outlives the daemon by design: a demo that failed half-way kills its VM first.
	if [ -n "$daemon" ]; then
		"$build/client/vfioctl" --socket "$demo_dir/libvfiod.sock" kill demo >/dev/null 2>&1 ||
			true
	fi
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	[ -n "$demo_dir" ] && rm -rf "$demo_dir"
	return 0
}

demo() {
	local dir
	dir=$(mktemp -d /tmp/libvfio-demo.XXXXXX)
	demo_dir=$dir
	trap stop_demo EXIT

	# QEMU runs as nobody here (a real install has its own user, libvfio-qemu) and must
	# reach its directory below this one.
	chmod 0755 "$dir"
	cat >"$dir/libvfiod.yaml" <<-EOF
		vms:
		  dir: $dir/vms
		  qemu-user: nobody
		  accel: tcg
	EOF

	echo "== libvfiod on a private socket ($dir/libvfiod.sock)"
	"$build/daemon/libvfiod" --config "$dir/libvfiod.yaml" --socket "$dir/libvfiod.sock" \
		--runtime-dir "$dir/run" --state-dir "$dir/state" &
	daemon=$!
	for _ in $(seq 100); do
		[ -S "$dir/libvfiod.sock" ] && break
		sleep 0.05
	done

	local vfioctl=("$build/client/vfioctl" --socket "$dir/libvfiod.sock")
	echo "== vfioctl version"
	"${vfioctl[@]}" version
	echo "== vfioctl gpus"
	"${vfioctl[@]}" gpus
	echo "== vfioctl check"
	# Exit status 1 means "not ready": a machine without a GPU or IOMMU is not, and says why.
	"${vfioctl[@]}" check && ready=1

	# The main job, as a new user meets it: a VM created from an installer ISO, started,
	# seen and stopped through vfioctl and the daemon. The ISO here holds no OS (a real
	# one is Windows' or a Linux installer), and the VM no GPU, so it runs on any machine
	# (emulated, TCG) and its firmware, finding nothing to boot, waits on its screen.
	echo "== xorriso -as mkisofs -o $dir/installer.iso (an ISO with no OS on it)"
	mkdir "$dir/iso"
	echo "libvfio demo" >"$dir/iso/README.TXT"
	local out
	out=$(xorriso -as mkisofs -quiet -V LIBVFIO_DEMO -o "$dir/installer.iso" "$dir/iso" 2>&1) ||
		{ echo "$out" >&2; return 1; }
	echo "== vfioctl create demo --os linux --iso $dir/installer.iso ..."
	"${vfioctl[@]}" create demo --os linux --iso "$dir/installer.iso" --disk "$dir/demo.qcow2" \
		--disk-size 1G --memory 256M --cpus 1
	echo "== vfioctl show demo"
	"${vfioctl[@]}" show demo
	echo "== vfioctl status demo"
	"${vfioctl[@]}" status demo
	echo "== vfioctl list"
	"${vfioctl[@]}" list
	echo "== vfioctl view demo --print"
	"${vfioctl[@]}" view demo --print
	echo "== vfioctl stop --force demo"
	"${vfioctl[@]}" stop --force demo
}

# On a machine with no GPU ready to split, the main job runs where a real kernel can show
# it: the lab (tests/lab) boots Debian's kernel under QEMU with an emulated IOMMU, and a
# VM gets a real mediated device there, QEMU running as its own unprivileged user.
lab_demo() {
	echo
	echo "== No GPU here is ready to split (see check above). The same job on a real kernel:"
	echo "== tests/lab/run-lab --build-dir $build tests/lab/scenarios/demo.sh"
	"$top/tests/lab/run-lab" --build-dir "$(cd "$build" && pwd)" --name demo "$top/tests/lab/scenarios/demo.sh"
}

case "$mode" in
demo)
	install_missing "${packages[@]}" "${lab_packages[@]}"
	build -Dtests=false
	ready=0
	demo
	stop_demo
	trap - EXIT
	[ "$ready" = 1 ] || lab_demo
	;;
test)
	install_missing "${packages[@]}" "${test_packages[@]}" "${lab_packages[@]}"
	build
	meson configure "$build" -Dtests=true >/dev/null
	# shellcheck disable=SC2086 # MESON_TEST_ARGS is a list of words
	meson test -C "$build" --print-errorlogs ${MESON_TEST_ARGS:-}
	;;
*)
	usage
	;;
esac
