# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the scripts here (sourced): fail, a temporary directory $tmp that
# is removed on exit together with the server started as $server_pid, and
# wait_for_socket.

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
