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

source "$(dirname "$0")/lib.sh"

[[ -n $go_client ]] || fail "varlink-go-client was not built: ${3:-unknown reason}"

socket=$tmp/s.sock
"$libvfiod" --config /nonexistent --socket "$socket" --runtime-dir "$tmp/run" \
	--state-dir "$tmp/state" &
server_pid=$!
wait_for_socket "$socket"

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

stop_server "libvfiod" "$socket"

echo "PASS"
