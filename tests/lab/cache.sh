#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds what the lab guest boots, once, into a cache shared by every build tree:
#
#   $LIBVFIO_LAB_CACHE (default /var/cache/libvfio-lab)
#     busybox/<version>/busybox            from busybox-static (downloaded, not installed)
#     <kver>/root/                         Debian's linux-image-<kver>, unpacked, depmod'ed,
#                                          plus lib/modules/<kver>/extra/{mbochs,mdpy,mtty}.ko
#     <kver>/vmlinux                       the ELF kernel inside the bzImage, for PVH boot
#     <kver>/initramfs.cpio                busybox + tests/lab/guest-init + boot modules
#
# The kernel is the one linux-image-amd64 depends on now (LIBVFIO_LAB_KVER overrides).
# Each step keeps a stamp of its inputs and is redone only when they change; a flock
# makes concurrent runs wait for each other instead of building twice.
#
# usage: tests/lab/cache.sh [--print]
#   --print   on success, print shell assignments (LAB_KVER=..., LAB_KERNEL=...) on stdout
# Exit: 0 ready, 1 with the reason on stderr.

set -euo pipefail

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LIBVFIO_LAB_CACHE:-/var/cache/libvfio-lab}

# Modules the initramfs carries (their dependencies are added): what mounting the host
# over 9p needs, and what scenarios use most, so they load even without the 9p tree.
initrd_modules=(virtio_pci 9pnet_virtio 9p overlay vfio vfio_iommu_type1 vfio-pci mdev nvme
	mbochs mdpy mtty)

log() { printf 'lab-cache: %s\n' "$*" >&2; }
die() {
	printf 'lab-cache: error: %s\n' "$*" >&2
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# apt-get download into DIR; the lists may be stale (a new kernel ABI), so one
# apt-get update is tried before giving up.
download() {
	local dir=$1
	shift
	if (cd "$dir" && apt-get download -q "$@" >apt.log 2>&1); then
		return 0
	fi
	log "apt-get download $* failed; running apt-get update once"
	apt-get update -q >"$dir/apt-update.log" 2>&1 || true
	(cd "$dir" && apt-get download -q "$@" >apt.log 2>&1) && return 0
	cat "$dir/apt.log" >&2
	return 1
}

# The vermagic string of a module file (its .modinfo section is NUL-separated key=value).
vermagic() {
	tr '\0' '\n' <"$1" | sed -n 's/^vermagic=//p' | head -n 1
}

# depmod for an unpacked tree: kmod's writes the binary indexes that libkmod (systemd's
# udev and modprobe@.service in --systemd guests) needs; busybox's only the text files.
run_depmod() {
	local root=$1 kver=$2
	if command -v depmod >/dev/null; then
		depmod -b "$root" "$kver"
	elif [ -x /sbin/depmod ]; then
		/sbin/depmod -b "$root" "$kver"
	else
		"$busybox" depmod -b "$root" "$kver"
	fi
}

check_tools() {
	local t missing=()
	for t in apt-get apt-cache dpkg-deb flock make gcc xz sha256sum awk; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing tools: ${missing[*]} (tests/setup.sh test installs them)"
}

# One apt-cache call (each costs most of a second): the kernel ABI linux-image-amd64
# depends on now, with its exact version, and busybox-static's version.
resolve_versions() {
	local info
	info=$(apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null || true)
	if ! grep -q '^Package: linux-image-amd64$' <<<"$info"; then
		log "apt-cache knows no linux-image-amd64; running apt-get update once"
		apt-get update -q >/dev/null 2>&1 || true
		info=$(apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null ||
			true)
	fi
	kver=$(sed -n 's/^Depends: .*linux-image-\([^ ,]*-amd64\) (= \([^)]*\)).*/\1/p' <<<"$info")
	kpkgver=$(sed -n 's/^Depends: .*linux-image-\([^ ,]*-amd64\) (= \([^)]*\)).*/\2/p' <<<"$info")
	bbver=$(awk '/^Package: /{p=$2} p=="busybox-static" && /^Version: /{print $2; exit}' <<<"$info")
	if [ -n "${LIBVFIO_LAB_KVER:-}" ] && [ "$LIBVFIO_LAB_KVER" != "$kver" ]; then
		kver=$LIBVFIO_LAB_KVER
		kpkgver=$(apt-cache show --no-all-versions "linux-image-$kver" 2>/dev/null |
			sed -n 's/^Version: //p' | head -n 1)
	fi
	if [ -z "$kver" ] || [ -z "$kpkgver" ]; then
		die "cannot tell which kernel linux-image-amd64 depends on (apt sources? apt-get update?)"
	fi
	[ -n "$bbver" ] || die "apt-cache has no busybox-static"
	kdir=$cache/$kver
	kroot=$kdir/root
	moddir=$kroot/lib/modules/$kver
	mkdir -p "$kdir"
}

build_busybox() {
	local ver=$bbver tmp t0
	busybox=$cache/busybox/${ver//:/_}/busybox
	[ -x "$busybox" ] && return 0
	t0=$(now)
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
	download "$tmp" "busybox-static=$ver" || die "cannot download busybox-static=$ver"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
	mkdir -p "${busybox%/*}"
	install -m 0755 "$tmp/x/bin/busybox" "$busybox.new"
	mv "$busybox.new" "$busybox"
	rm -rf "$tmp"
	log "busybox-static $ver ($(since "$t0")s)"
}

build_kernel() {
	local tmp t0
	[ "$(cat "$kdir/kernel.stamp" 2>/dev/null)" = "$kpkgver" ] && [ -d "$moddir" ] && return 0
	t0=$(now)
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
	download "$tmp" "linux-image-$kver=$kpkgver" || die "cannot download linux-image-$kver=$kpkgver"
	dpkg-deb -x "$tmp"/linux-image-"$kver"_*.deb "$tmp/root"
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "linux-image-$kver has no boot/vmlinuz-$kver"
	rm -rf "$kroot" "$kdir"/*.stamp
	mv "$tmp/root" "$kroot"
	rm -rf "$tmp"
	# The samples and the initramfs are built from this tree: they follow it.
	echo "$kpkgver" >"$kdir/kernel.stamp"
	log "linux-image-$kver $kpkgver unpacked ($(since "$t0")s)"
}

# QEMU boots an ELF vmlinux with a PVH note directly, skipping SeaBIOS loading the
# bzImage and the guest decompressing itself: seconds per boot under TCG. The ELF
# is the compressed payload of the bzImage; find it by its compressor's magic.
build_vmlinux() {
	local vmlinuz=$kroot/boot/vmlinuz-$kver out=$kdir/vmlinux tmp t0 off
	kernel_image=$vmlinuz
	[ "${LIBVFIO_LAB_BOOT:-pvh}" = pvh ] || return 0
	if [ "$(cat "$kdir/vmlinux.stamp" 2>/dev/null)" = "$kpkgver" ]; then
		[ -s "$out" ] && kernel_image=$out
		return 0
	fi
	t0=$(now)
	tmp=$(mktemp "$cache/.tmp.XXXXXX")
	rm -f "$out"
	# xz stream magic: FD 37 7A 58 5A 00 (Debian's kernels are xz-compressed).
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1 | head -n 4); do
		tail -c +$((off + 1)) "$vmlinuz" | xz -dcq >"$tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
			mv "$tmp" "$out"
			break
		fi
	done
	rm -f "$tmp"
	# Without an ELF (another compressor, say) the bzImage still boots, only slower.
	if [ -s "$out" ]; then
		kernel_image=$out
		log "vmlinux extracted for PVH boot ($(since "$t0")s)"
	else
		log "no ELF vmlinux inside the bzImage; booting the bzImage"
	fi
	echo "$kpkgver" >"$kdir/vmlinux.stamp"
}

# The kernel's sample mdev drivers (mbochs: a mediated display; mdpy; mtty) are not
# shipped as modules by Debian: build them from linux-source-<major.minor> of exactly
# the kernel's version against its linux-headers package.
build_mdev_samples() {
	local headers=/usr/src/linux-headers-$kver extra=$moddir/extra tmp t0 t1 series want got
	[ "$(cat "$kdir/samples.stamp" 2>/dev/null)" = "$kpkgver" ] && [ -f "$extra/mbochs.ko" ] &&
		return 0
	t0=$(now)
	if [ ! -f "$headers/Makefile" ]; then
		[ "$(id -u)" -eq 0 ] ||
			die "$headers is missing; as root: apt-get install linux-headers-$kver=$kpkgver"
		log "installing linux-headers-$kver=$kpkgver"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"linux-headers-$kver=$kpkgver" >"$kdir/headers-install.log" 2>&1 ||
			{ cat "$kdir/headers-install.log" >&2; die "cannot install linux-headers-$kver=$kpkgver"; }
		log "linux-headers installed ($(since "$t0")s)"
	fi
	series=$(echo "$kver" | cut -d. -f1,2)
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
	t1=$(now)
	download "$tmp" "linux-source-$series=$kpkgver" ||
		die "cannot download linux-source-$series=$kpkgver"
	# The source tarball is ~140 MB of xz: stream it and keep only samples/vfio-mdev.
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-"$series"_*.deb |
		tar -xO "./usr/src/linux-source-$series.tar.xz" |
		xz -dc -T0 |
		tar -x -C "$tmp" --wildcards "linux-source-$series/samples/vfio-mdev/*" ||
		die "cannot extract samples/vfio-mdev from linux-source-$series=$kpkgver"
	rm -f "$tmp"/*.deb
	log "samples/vfio-mdev extracted from linux-source-$series ($(since "$t1")s)"
	t1=$(now)
	if ! make -C "$headers" M="$tmp/linux-source-$series/samples/vfio-mdev" -j"$(nproc)" \
		CONFIG_SAMPLE_VFIO_MDEV_MBOCHS=m CONFIG_SAMPLE_VFIO_MDEV_MDPY=m \
		CONFIG_SAMPLE_VFIO_MDEV_MTTY=m modules >"$tmp/make.log" 2>&1; then
		cat "$tmp/make.log" >&2
		die "building the vfio-mdev samples against $headers failed"
	fi
	# A module built against other headers would be refused by the guest's kernel
	# ("disagrees about version of symbol"); say so here instead.
	want=$(vermagic "$moddir/kernel/drivers/vfio/vfio.ko")
	got=$(vermagic "$tmp/linux-source-$series/samples/vfio-mdev/mbochs.ko")
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		die "vermagic mismatch: the kernel has '$want', the samples '$got'"
	fi
	mkdir -p "$extra"
	cp "$tmp/linux-source-$series/samples/vfio-mdev/"{mbochs,mdpy,mtty}.ko "$extra/"
	rm -rf "$tmp"
	run_depmod "$kroot" "$kver"
	echo "$kpkgver" >"$kdir/samples.stamp"
	log "mbochs, mdpy, mtty built (make $(since "$t1")s, vermagic '$got')"
}

# Print the files (relative to the module dir) of the given modules and everything they
# depend on, from modules.dep ("kernel/a.ko: kernel/b.ko kernel/c.ko").
module_closure() {
	local -A path_of=() deps_of=()
	local line file name m dep files=() missing=()
	while IFS= read -r line; do
		file=${line%%:*}
		name=${file##*/}
		name=${name%%.ko*}
		name=${name//-/_}
		path_of[$name]=$file
		deps_of[$name]=${line#*:}
	done <"$moddir/modules.dep"
	for m in "$@"; do
		m=${m//-/_}
		if [ -z "${path_of[$m]:-}" ]; then
			missing+=("$m")
			continue
		fi
		files+=("${path_of[$m]}")
		# modules.dep lists the whole closure of each module already.
		for dep in ${deps_of[$m]}; do
			files+=("$dep")
		done
	done
	[ ${#missing[@]} -eq 0 ] || die "modules not in $kver: ${missing[*]}"
	printf '%s\n' "${files[@]}" | sort -u
}

build_initramfs() {
	local stamp st t0 files f applet
	stamp=$({
		cat "$lab_dir/guest-init"
		echo "${initrd_modules[*]}"
		sha256sum "$busybox" "$moddir/modules.dep"
	} | sha256sum | cut -c1-32)
	initramfs=$kdir/initramfs.cpio
	[ -f "$initramfs" ] && [ "$(cat "$kdir/initramfs.stamp" 2>/dev/null)" = "$stamp" ] && return 0
	t0=$(now)
	st=$(mktemp -d "$cache/.tmp.XXXXXX")
	mkdir -p "$st"/{bin,dev,proc,sys,run,tmp,etc,host,newroot,lab} "$st/lib/modules/$kver"
	ln -s bin "$st/sbin"
	install -m 0755 "$busybox" "$st/bin/busybox"
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || ln -s busybox "$st/bin/$applet"
	done
	install -m 0755 "$lab_dir/guest-init" "$st/init"
	files=$(module_closure "${initrd_modules[@]}")
	for f in $files; do
		mkdir -p "$st/lib/modules/$kver/${f%/*}"
		cp "$moddir/$f" "$st/lib/modules/$kver/$f"
	done
	cp "$moddir/modules.builtin" "$moddir/modules.order" "$st/lib/modules/$kver/"
	# busybox modprobe reads the text modules.dep, so its depmod is enough here.
	"$busybox" depmod -b "$st" "$kver"
	# Uncompressed: unpacking xz under TCG would cost more than reading a few MB.
	(cd "$st" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) \
		>"$initramfs.new"
	mv "$initramfs.new" "$initramfs"
	echo "$stamp" >"$kdir/initramfs.stamp"
	rm -rf "$st"
	log "initramfs: $(echo "$files" | wc -w) modules, $(du -h "$initramfs" | cut -f1) ($(since "$t0")s)"
}

main() {
	local print=0 t0
	case "${1:-}" in
	--print) print=1 ;;
	'') ;;
	*) die "usage: tests/lab/cache.sh [--print]" ;;
	esac
	t0=$(now)
	check_tools
	if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
		die "cannot write the lab cache $cache (root, or set LIBVFIO_LAB_CACHE)"
	fi
	case "$cache" in
	*[[:space:]]*) die "the cache path must not contain white space: $cache" ;;
	esac
	exec 9>"$cache/.lock"
	flock 9
	# Left over by a build that was killed; we hold the lock, so nobody else uses them.
	rm -rf "$cache"/.tmp.*
	resolve_versions
	build_busybox
	build_kernel
	build_vmlinux
	build_mdev_samples
	build_initramfs
	flock -u 9
	log "ready: $kver ($kpkgver) in $kdir ($(since "$t0")s)"
	if [ "$print" = 1 ]; then
		printf 'LAB_KVER=%q\nLAB_KERNEL=%q\nLAB_INITRAMFS=%q\nLAB_MODDIR=%q\n' \
			"$kver" "$kernel_image" "$initramfs" "$moddir"
	fi
}

main "$@"
