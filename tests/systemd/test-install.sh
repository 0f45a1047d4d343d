#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs the build into a scratch DESTDIR and checks the tree as a system
# would see it. meson runs it (suite 'systemd'); by hand:
#
#   tests/systemd/test-install.sh BUILD_DIR
#
# Fails (exit 1) when
#   1. an installed file is missing: units, the configuration in /etc and its
#      reference copy, the VM definitions directory, tmpfiles.d, sysusers.d,
#      modules-load.d (vfio-pci), the message catalog, the polkit policy
#      (well-formed, both actions) and the example rule (not in rules.d), the
#      shell completions and (when built) the man pages;
#   2. a default path differs between build-config.h (the binaries), the
#      installed units, the installed libvfiod.yaml and tmpfiles.d, or the
#      directory modes differ between tmpfiles.d and the unit;
#   3. the VM definitions directory is not writable under the unit's sandbox
#      (not below one of its ReadWritePaths=), so `vfioctl define` would fail;
#   4. a second `meson install` replaces an edited /etc/libvfio/libvfiod.yaml.
# Installs nothing outside the scratch directory (DESTDIR); needs no root.

set -euo pipefail

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	failures=$((failures + 1))
}
failures=0

(($# == 1)) || {
	echo "usage: $0 BUILD_DIR" >&2
	exit 1
}
build=$(realpath -e -- "$1")
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
dest=$tmp/dest

install_tree() {
	# --no-rebuild: meson test has built everything, and two ninjas must not race.
	if ! output=$(DESTDIR=$dest meson install -C "$build" --no-rebuild 2>&1); then
		printf '%s\n' "$output" >&2
		echo "ERROR: meson install into $dest failed" >&2
		exit 1
	fi
}

# The value of `#define NAME "value"` in build-config.h.
build_config() {
	sed -n "s/^#define $1 \"\\(.*\\)\"\$/\\1/p" "$build/build-config.h"
}
# The last value of KEY= in FILE (units have one section each that matters here).
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}
# The value of a top-level or "  key:" line of the installed libvfiod.yaml.
yaml_value() {
	sed -n "s/^$2: *//p" "$1" | head -n 1
}

install_tree

config_path=$(build_config DEFAULT_CONFIG_PATH)
socket_path=$(build_config DEFAULT_SOCKET_PATH)
runtime_dir=$(build_config DEFAULT_RUNTIME_DIR)
state_dir=$(build_config DEFAULT_STATE_DIR)
vm_dir=$(build_config DEFAULT_VM_DIR)
for v in config_path socket_path runtime_dir state_dir vm_dir; do
	[[ ${!v} == /* ]] || fail "build-config.h: $v '${!v}' is not an absolute path"
done

# 1. The files.
find_one() {
	local found
	found=$(find "$dest" -path "*/$1" -type f | head -n 1)
	[[ -n $found ]] || fail "not installed: */$1"
	printf '%s\n' "$found"
}
service=$(find_one systemd/system/libvfiod.service)
socket=$(find_one systemd/system/libvfiod.socket)
find_one 'systemd/system/libvfio-vm@.service' >/dev/null
tmpfiles=$(find_one tmpfiles.d/libvfio.conf)
find_one sysusers.d/libvfio.conf >/dev/null
modules=$(find_one modules-load.d/libvfio.conf)
find_one systemd/catalog/libvfio.catalog >/dev/null
policy=$(find_one polkit-1/actions/io.libvfio.policy)
find_one doc/libvfio/examples/50-libvfio.rules >/dev/null
reference=$(find_one share/libvfio/libvfiod.yaml)
# The shell completions, where each shell looks below the prefix, and the man
# pages when scdoc built them (-Dman=auto), naming the paths the binaries use.
find_one share/bash-completion/completions/vfioctl >/dev/null
find_one share/zsh/site-functions/_vfioctl >/dev/null
find_one share/fish/vendor_completions.d/vfioctl.fish >/dev/null
if [[ -f $build/man/vfioctl.1 ]]; then
	for page in man1/vfioctl.1 man8/libvfiod.8 man5/libvfiod.yaml.5 man5/libvfio-vm.yaml.5; do
		find_one "share/man/$page" >/dev/null
	done
	# scdoc writes "\&" after each full stop.
	sed 's/\\&//g' "$(find_one share/man/man1/vfioctl.1)" | grep -F -- "$socket_path" >/dev/null ||
		fail "vfioctl.1 does not name the socket $socket_path"
fi
if find "$dest" -path '*/polkit-1/rules.d/*' | grep . >/dev/null; then
	fail 'a polkit rule is installed as active; the example must stay an example'
fi
config=$dest$config_path
[[ -f $config ]] || fail "no configuration at $config_path"
[[ -d $dest$vm_dir ]] || fail "no VM definitions directory $vm_dir"
grep -qx 'vfio-pci' "$modules" || fail 'modules-load.d: vfio-pci is not loaded at boot'
if command -v xmllint >/dev/null; then
	xmllint --noout "$policy" || fail "io.libvfio.policy is not well-formed XML"
fi
for action in io.libvfio.vm.control io.libvfio.manage; do
	grep -q "<action id=\"$action\">" "$policy" || fail "io.libvfio.policy: no action $action"
done

# 2. One layout: units, configuration and tmpfiles.d say what the binaries say.
exec_start=$(unit_value "$service" ExecStart)
[[ -x $dest$exec_start ]] || fail "ExecStart= $exec_start is not installed"
[[ $(unit_value "$socket" ListenStream) == "$socket_path" ]] ||
	fail "libvfiod.socket listens on '$(unit_value "$socket" ListenStream)', the binaries on '$socket_path'"
[[ /run/$(unit_value "$service" RuntimeDirectory) == "$runtime_dir" ]] ||
	fail "RuntimeDirectory= is not $runtime_dir"
[[ /var/lib/$(unit_value "$service" StateDirectory) == "$state_dir" ]] ||
	fail "StateDirectory= is not $state_dir"
[[ $(yaml_value "$config" socket) == "$socket_path" ]] || fail "libvfiod.yaml: socket is not $socket_path"
[[ $(yaml_value "$config" runtime-dir) == "$runtime_dir" ]] ||
	fail "libvfiod.yaml: runtime-dir is not $runtime_dir"
[[ $(yaml_value "$config" state-dir) == "$state_dir" ]] || fail "libvfiod.yaml: state-dir is not $state_dir"
[[ $(yaml_value "$config" '  dir') == "$vm_dir" ]] || fail "libvfiod.yaml: vms.dir is not $vm_dir"
cmp -s "$config" "$reference" || fail "the first install's $config_path differs from its reference"
# tmpfiles.d: PATH MODE, as the unit's directories are made.
tmpfiles_mode() {
	awk -v p="$1" '$1 == "d" && $2 == p { print $3 }' "$tmpfiles"
}
[[ $(tmpfiles_mode "$runtime_dir") == "$(unit_value "$service" RuntimeDirectoryMode)" ]] ||
	fail "tmpfiles.d and RuntimeDirectoryMode= disagree on $runtime_dir"
[[ $(tmpfiles_mode "$state_dir") == "$(unit_value "$service" StateDirectoryMode)" ]] ||
	fail "tmpfiles.d and StateDirectoryMode= disagree on $state_dir"
[[ -n $(tmpfiles_mode "$vm_dir") ]] || fail "tmpfiles.d does not make $vm_dir"
if command -v systemd-tmpfiles >/dev/null && ((EUID == 0)); then
	mkdir "$tmp/root"
	systemd-tmpfiles --root="$tmp/root" --create "$tmpfiles" >/dev/null 2>&1 ||
		fail "systemd-tmpfiles refused $tmpfiles"
	[[ $(stat -c %a "$tmp/root$runtime_dir/vms") == 711 ]] || fail "tmpfiles.d: $runtime_dir/vms is not 0711"
fi

# 3. `vfioctl define` writes below vms.dir: ProtectSystem=full makes /etc
# read-only, so it must sit below a ReadWritePaths= entry.
writable=false
for path in $(sed -n 's/^ReadWritePaths=//p' "$service"); do
	path=${path#-}
	[[ $vm_dir == "$path" || $vm_dir == "$path"/* ]] && writable=true
done
$writable || fail "$vm_dir (vms.dir) is below no ReadWritePaths= of libvfiod.service"

# 4. An administrator's edit survives the next install.
printf '\n# edited by the administrator\nlog-level: debug\n' >>"$config"
edited=$(cat "$config")
install_tree
[[ $(cat "$config") == "$edited" ]] || fail "a second meson install replaced the edited $config_path"
[[ -f $reference ]] || fail "a second meson install removed the reference $reference"

if ((failures > 0)); then
	printf '%d check(s) failed\n' "$failures" >&2
	exit 1
fi
echo "meson install: one layout ($config_path, $socket_path, $runtime_dir, $state_dir," \
	"$vm_dir); the configuration is kept on reinstall"
