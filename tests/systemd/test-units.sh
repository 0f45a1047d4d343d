#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks the configured systemd units of libvfiod. meson runs it (suite
# 'systemd'); by hand:
#
#   tests/systemd/test-units.sh SERVICE_UNIT SOCKET_UNIT DAEMON CONFIG
#
#   SERVICE_UNIT  the configured service, BUILDDIR/systemd/libvfiod.service
#   SOCKET_UNIT   the configured socket, BUILDDIR/systemd/libvfiod.socket
#   DAEMON        the built daemon, BUILDDIR/daemon/libvfiod (nothing runs it;
#                 any executable file will do, /bin/true for instance)
#   CONFIG        the configured libvfiod.yaml, BUILDDIR/etc/libvfiod.yaml
#
# Fails (exit 1) when
#   1. a @placeholder@ was left unconfigured;
#   2. a setting the design depends on is missing or changed (Type=notify,
#      KillMode=process, the socket inside the preserved RuntimeDirectory=,
#      the exact capability set, ...): systemd accepts the unit without them,
#      so nothing else would notice;
#   3. MemoryMax= is below what the shipped limits let clients make the daemon
#      hold (CONFIG's limits.*), or not set;
#   4. `systemd-analyze verify` says anything at all about either unit;
#   5. the service's `systemd-analyze security` exposure is above
#      MAX_EXPOSURE. The score is printed as "libvfiod.service exposure: X.Y".
# Exits 77 (skipped, for meson) without systemd-analyze from systemd 250 or
# later (verify --recursive-errors=, security --offline=). Needs neither
# systemd as PID 1 nor root. The figures below are from systemd 252.

set -euo pipefail

# systemd 252 scores the unit at 3.5 (a bare root service: 9.6). It was 4.0
# until issue 12: without CAP_SYS_RAWIO and CAP_IPC_LOCK, with the device ACL
# and ProtectKernelTunables= (sysfs writable only in /sys/bus and /sys/devices).
# Loosening any setting now crosses the threshold. Raise it only together with
# a comment in the unit saying why.
readonly MAX_EXPOSURE=3.5

failures=0

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	failures=$((failures + 1))
}

die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

if (($# != 4)); then
	die "usage: $0 SERVICE_UNIT SOCKET_UNIT DAEMON CONFIG"
fi
if ! command -v systemd-analyze >/dev/null; then
	echo 'SKIP: systemd-analyze not found'
	exit 77
fi
systemd_version=$(systemd-analyze --version | awk 'NR == 1 { print $2 }')
if ! [[ $systemd_version =~ ^[0-9]+$ ]] || ((systemd_version < 250)); then
	echo "SKIP: systemd-analyze $systemd_version is older than 250"
	exit 77
fi

service_unit=$(realpath -e -- "$1") || die "no such service unit: $1"
socket_unit=$(realpath -e -- "$2") || die "no such socket unit: $2"
daemon=$(realpath -e -- "$3") || die "no such daemon binary: $3"
config=$(realpath -e -- "$4") || die "no such configuration: $4"
[[ -x $daemon && -f $daemon ]] || die "not an executable file: $daemon"

# Environment variables that would change what systemd-analyze reads or prints.
unset SYSTEMD_UNIT_PATH SYSTEMD_LOG_LEVEL SYSTEMD_LOG_TARGET SYSTEMD_LOG_LOCATION
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat

# Prints every value assigned to KEY in [SECTION] of FILE, one per line, in
# order (for a single-valued key the last one wins, as in systemd). Lines
# continued with a backslash are not joined; check 1 refuses them.
unit_values() {
	local file=$1 section=$2 key=$3 line current=''

	while IFS= read -r line || [[ -n $line ]]; do
		line=${line#"${line%%[![:space:]]*}"}
		case $line in
		'' | '#'* | ';'*) continue ;;
		'['*']')
			current=${line:1:${#line}-2}
			continue
			;;
		esac
		[[ $current == "$section" && $line == *=* ]] || continue
		local name=${line%%=*} value=${line#*=}
		name=${name%"${name##*[![:space:]]}"}
		value=${value#"${value%%[![:space:]]*}"}
		[[ $name == "$key" ]] && printf '%s\n' "$value"
	done <"$file"
	return 0
}

# The last value of KEY in [SECTION] of FILE (empty if unset).
unit_value() {
	unit_values "$@" | tail -n 1
}

# Fails unless KEY in [SECTION] of FILE is exactly EXPECTED.
expect_value() {
	local file=$1 section=$2 key=$3 expected=$4 got
	got=$(unit_value "$file" "$section" "$key")
	[[ $got == "$expected" ]] ||
		fail "$(basename "$file"): [$section] $key= is '$got', expected '$expected'"
}

# Fails unless one of the space-separated words assigned to KEY is WORD.
expect_word() {
	local file=$1 section=$2 key=$3 word=$4
	# grep without -q reads all its input: no SIGPIPE to trip pipefail.
	unit_values "$file" "$section" "$key" | tr -s ' \t' '\n' | grep -xF -- "$word" >/dev/null ||
		fail "$(basename "$file"): [$section] $key= does not list '$word'"
}

# 1. Everything configured, and simple enough for unit_values().
for unit in "$service_unit" "$socket_unit"; do
	if left=$(grep -nE '@[A-Za-z0-9_-]+@' "$unit"); then
		fail "$(basename "$unit") still has meson placeholders:"$'\n'"$left"
	fi
	if continued=$(grep -nE '\\$' "$unit"); then
		fail "$(basename "$unit") has continuation lines, which this test cannot read:"$'\n'"$continued"
	fi
done

# 2. The settings the design relies on (DESIGN.md, sections 2 and 5).
expect_value "$service_unit" Service Type notify
expect_value "$service_unit" Service KillMode process
expect_value "$service_unit" Service WatchdogSec 30s
# shellcheck disable=SC2016 # $MAINPID is expanded by systemd, not here.
expect_value "$service_unit" Service ExecReload '/bin/kill -HUP $MAINPID'
expect_value "$service_unit" Service RuntimeDirectoryPreserve yes
expect_value "$service_unit" Service OOMPolicy continue
expect_word "$service_unit" Unit Requires libvfiod.socket
expect_word "$service_unit" Unit After libvfiod.socket
expect_word "$service_unit" Install WantedBy multi-user.target
expect_word "$service_unit" Install Also libvfiod.socket
expect_value "$socket_unit" Socket SocketMode 0666
expect_value "$socket_unit" Socket DirectoryMode 0755
expect_value "$socket_unit" Socket RemoveOnStop yes
expect_word "$socket_unit" Install WantedBy sockets.target
# The device ACL and the read-only kernel tunables, with the holes the job
# needs: sysfs writes (/sys/bus, /sys/devices), the vfio groups (resolved by
# name when the unit starts; modules-load.d loads vfio-pci). test-install.sh
# checks that the VM definitions directory is writable.
expect_value "$service_unit" Service DevicePolicy closed
expect_value "$service_unit" Service ProtectKernelTunables yes
expect_word "$service_unit" Service ReadWritePaths /sys/bus
expect_word "$service_unit" Service ReadWritePaths /sys/devices
for device in /dev/kvm /dev/vfio/vfio /dev/net/tun 'char-vfio*' 'block-*'; do
	unit_values "$service_unit" Service DeviceAllow | grep -xF -- "$device rw" >/dev/null ||
		fail "libvfiod.service: no 'DeviceAllow=$device rw'"
done

# systemd skips a misspelt capability name without a word, even at debug level
# (CAP_SYS_NIC would just leave CAP_SYS_NICE out), and verify stays silent. So
# the set is compared with the list the unit's comments justify. Change both
# together.
expected_caps='CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_KILL CAP_NET_ADMIN
CAP_SETGID CAP_SETUID CAP_SYS_ADMIN CAP_SYS_NICE CAP_SYS_RESOURCE'
caps=$(unit_values "$service_unit" Service CapabilityBoundingSet | tr -s ' \t' '\n' | sort -u)
expected_caps=$(tr -s ' \n' '\n' <<<"$expected_caps" | sort -u)
if [[ $caps != "$expected_caps" ]]; then
	fail "libvfiod.service: CapabilityBoundingSet= differs from the expected set" \
		"(< unit, > expected):"$'\n'"$(diff <(echo "$caps") <(echo "$expected_caps") | grep '^[<>]')"
fi

exec_start=$(unit_value "$service_unit" Service ExecStart)
[[ $exec_start == /*/libvfiod ]] ||
	fail "libvfiod.service: ExecStart= is '$exec_start', expected an absolute path to libvfiod"

# The socket must sit directly in the directory the service keeps across stops.
listen=$(unit_value "$socket_unit" Socket ListenStream)
runtime_directory=$(unit_value "$service_unit" Service RuntimeDirectory)
[[ $listen == /* ]] || fail "libvfiod.socket: ListenStream= '$listen' is not an absolute path"
[[ $(dirname -- "$listen") == "/run/$runtime_directory" ]] ||
	fail "libvfiod.socket: ListenStream= '$listen' is not in the service's" \
		"RuntimeDirectory= /run/$runtime_directory"

# 3. MemoryMax= against the daemon's own limits (the unit's comment gives the sum):
# every connection mid-message, all replies unread, and 128 MiB for the rest.
# root's connections have a fixed cap of 64 (daemon/api/server.c).
# Prints the bytes of a size as libvfiod.yaml and systemd write it (64MiB, 768M, 1G).
bytes() {
	local text=$1 number unit
	[[ $text =~ ^([0-9]+)[[:space:]]*([KMGT]?)(i?B)?$ ]] || die "not a size: '$text'"
	number=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
	case $unit in
	'') echo "$number" ;;
	K) echo $((number << 10)) ;;
	M) echo $((number << 20)) ;;
	G) echo $((number << 30)) ;;
	T) echo $((number << 40)) ;;
	esac
}
# The value of `  KEY: VALUE` in libvfiod.yaml's limits: section.
limit() {
	sed -n '/^limits:/,/^[^[:space:]#]/s/^[[:space:]]*'"$1"':[[:space:]]*\([^#]*[^#[:space:]]\).*/\1/p' "$config"
}
message_size=$(bytes "$(limit max-message-size)")
connections=$(limit max-connections)
unread=$(bytes "$(limit max-unread-output)")
[[ $connections =~ ^[0-9]+$ ]] || die "$config: no limits.max-connections"
needed=$(((connections + 64) * message_size + unread + (128 << 20)))
memory_max=$(unit_value "$service_unit" Service MemoryMax)
if [[ -z $memory_max || $memory_max == infinity ]]; then
	fail "libvfiod.service: no MemoryMax="
elif (($(bytes "$memory_max") < needed)); then
	fail "libvfiod.service: MemoryMax=$memory_max is below what the limits in" \
		"$(basename "$config") let clients make the daemon hold ($((needed >> 20)) MiB)"
else
	echo "libvfiod.service MemoryMax=$memory_max; the limits need $((needed >> 20)) MiB"
fi

# 4 and 5 read copies of the units under their installed names.
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
cp -- "$socket_unit" "$tmp/libvfiod.socket"
# verify checks that ExecStart='s binary exists, and the installed path
# (@sbindir@/libvfiod) does not exist in a build tree. The copy points
# ExecStart= at the daemon just built instead; nothing else is changed.
while IFS= read -r line || [[ -n $line ]]; do
	if [[ $line == ExecStart=* ]]; then
		line="ExecStart=$daemon"
	fi
	printf '%s\n' "$line"
done <"$service_unit" >"$tmp/libvfiod.service"
[[ $(grep -c '^ExecStart=' "$tmp/libvfiod.service") == 1 ]] ||
	fail 'libvfiod.service: expected exactly one ExecStart= line'

# 4. In systemd 252, --recursive-errors=no makes verify skip the dependency
# check altogether (Requires=nosuch.service passes in silence), and without the
# option a warning such as an unknown key still returns 0. "one" fails on
# both, for the two units and the units they pull in directly. Any output
# fails the test as well. --man=no: a build tree's man pages are not
# installed, so man: links in Documentation= could not be checked here.
if ! verify_output=$(cd "$tmp" && systemd-analyze verify --man=no --recursive-errors=one \
	./libvfiod.socket ./libvfiod.service 2>&1); then
	fail "systemd-analyze verify failed:"$'\n'"$verify_output"
elif [[ -n $verify_output ]]; then
	fail "systemd-analyze verify warned:"$'\n'"$verify_output"
fi

# 5. The offline security review (--offline= needs no PID 1).
if ! security_output=$(cd "$tmp" && systemd-analyze security --offline=true --no-pager \
	./libvfiod.service 2>&1); then
	fail "systemd-analyze security failed:"$'\n'"$security_output"
fi
exposure=$(sed -n 's/.*Overall exposure level for libvfiod\.service: \([0-9][0-9]*\.[0-9]\).*/\1/p' \
	<<<"$security_output")
if [[ -z $exposure ]]; then
	fail "no exposure level in the output of systemd-analyze security:"$'\n'"$security_output"
else
	echo "libvfiod.service exposure: $exposure (at most $MAX_EXPOSURE allowed)"
	if awk -v e="$exposure" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(e > max) }'; then
		# The table shows which settings cost what.
		printf '%s\n' "$security_output" >&2
		fail "libvfiod.service exposure $exposure is above $MAX_EXPOSURE"
	fi
fi

if ((failures > 0)); then
	printf '%d check(s) failed\n' "$failures" >&2
	exit 1
fi
echo 'libvfiod.service and libvfiod.socket: all checks passed'
