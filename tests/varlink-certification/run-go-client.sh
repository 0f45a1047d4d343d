#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Starts the real libvfiod and talks to it with varlink-go-client, a client
# built from the varlink project's Go library: GetInfo, every interface
# description through the library's IDL parser, and GetVersion, whose reply
# must carry a protocolVersion. Then SIGTERM must stop the daemon with status
# 0, and the daemon must remove its socket.
#
# Usage: run-go-client.sh LIBVFIOD VARLINK_GO_CLIENT
#        run-go-client.sh LIBVFIOD '' WHY_IT_WAS_NOT_BUILT
set -euo pipefail

libvfiod=$1
go_client=${2:-}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[[ -n $go_client ]] || fail "varlink-go-client was not built: ${3:-unknown reason}"

tmp=$(mktemp -d)
daemon_pid=
cleanup() {
	if [[ -n $daemon_pid ]]; then
		kill -KILL "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits until something accepts connections on socket $1, while pid $2 lives.
wait_for_socket() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$2" 2>/dev/null || fail "the daemon exited before listening on $1"
		if python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
			"$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "nothing listens on $1 after 10 s"
}

socket=$tmp/s.sock
"$libvfiod" --config /nonexistent --socket "$socket" --runtime-dir "$tmp/run" \
	--state-dir "$tmp/state" &
daemon_pid=$!
wait_for_socket "$socket" "$daemon_pid"

echo "== varlink-go-client against libvfiod"
status=0
output=$(timeout 30 "$go_client" "unix:$socket" io.libvfio.Manager.GetVersion '{}') || status=$?
echo "$output"
[[ $status -eq 0 ]] || fail "varlink-go-client exited with status $status"
for interface in org.varlink.service io.libvfio.Manager; do
	grep -q "^interface $interface: " <<<"$output" ||
		fail "the daemon did not list (or describe) $interface"
done
grep -Eq '^reply \{.*"protocolVersion": ?"[^"]+"' <<<"$output" ||
	fail "GetVersion's reply has no protocolVersion"

echo "== SIGTERM stops the daemon, which removes its socket"
kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
[[ $status -eq 0 ]] || fail "libvfiod exited with status $status after SIGTERM"
[[ ! -e $socket ]] || fail "libvfiod left its socket $socket behind"

echo "PASS"
