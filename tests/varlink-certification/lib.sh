# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the scripts here (sourced): fail, a temporary directory $tmp that
# is removed on exit together with the server started as $server_pid,
# wait_for_socket and stop_server.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

tmp=$(mktemp -d)
server_pid=
cleanup() {
	if [[ -n $server_pid ]]; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits until something accepts connections on socket $1, while $server_pid lives.
wait_for_socket() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$server_pid" 2>/dev/null || fail "the server exited before listening on $1"
		if python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
			"$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "nothing listens on $1 after 10 s"
}

# SIGTERM must stop $server_pid (named $1 in messages) with status 0, and it
# must remove its socket $2.
stop_server() {
	echo "== SIGTERM stops $1, which removes its socket"
	kill -TERM "$server_pid"
	local status=0
	wait "$server_pid" || status=$?
	server_pid=
	[[ $status -eq 0 ]] || fail "$1 exited with status $status after SIGTERM"
	[[ ! -e $2 ]] || fail "$1 left its socket $2 behind"
}
