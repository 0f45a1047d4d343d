# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# JSON and QMP for lab scenarios, after lib.sh:
#
#   . "$LAB_SRC/tests/lab/json.sh"
#
#   lab_json TEXT NAME=EXPR...
#       parse TEXT as JSON and set each shell variable NAME to the Python expression
#       EXPR evaluated with `j` the parsed value (None and errors give "", a list its
#       items joined by spaces, True/False "true"/"false"). Returns 1 with
#       $lab_json_error set when TEXT is no JSON object.
#   lab_qmp SOCKET COMMAND NAME=EXPR...
#       the same on what a QMP monitor at SOCKET returns for COMMAND (a command's name,
#       or a whole command as JSON, {"execute": ..., "arguments": ...}) (connect,
#       qmp_capabilities, COMMAND, close). Returns 1 with $lab_json_error set when the
#       monitor cannot be reached or answers an error.
#   In EXPR, `pci_devices(j)` flattens a query-pci answer (bridges' buses included)
#   into its devices, and `ids(d)` is a device's "vvvv:dddd".
#
# One Python process answers them all (a coprocess started on first use): a Python
# start costs over a second under TCG, a question to it a few milliseconds. Call them
# in the scenario's shell, not in $(...): a subshell does not share the coprocess.

# shellcheck disable=SC2034 # for the scenarios
lab_json_error=''

lab_json_start() {
	[ -n "${LAB_JSON_PID:-}" ] && return 0
	coproc LAB_JSON {
		exec python3 -c '
import json, socket, sys

inp, out = sys.stdin.buffer, sys.stdout.buffer

def field():
    b = bytearray()
    while True:
        c = inp.read(1)
        if not c:
            sys.exit(0)
        if c == b"\0":
            return b.decode()
        b += c

def qmp(path, command):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(path)
        f = s.makefile("rwb")
        def ask(cmd):
            if not cmd.startswith("{"):
                cmd = json.dumps({"execute": cmd})
            f.write(cmd.encode() + b"\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    raise EOFError("the monitor closed the connection")
                reply = json.loads(line)
                if "error" in reply:
                    raise RuntimeError(reply["error"].get("desc", reply["error"]))
                if "return" in reply:
                    return reply["return"]
        json.loads(f.readline())  # the greeting
        ask("qmp_capabilities")
        return ask(command)

def pci_devices(buses):
    found = []
    for bus in buses:
        for dev in bus.get("devices", []):
            found.append(dev)
            bridge = dev.get("pci_bridge")
            if bridge and bridge.get("bus"):
                found += pci_devices([{"devices": bridge.get("devices", [])}])
    return found

def ids(dev):
    return "%04x:%04x" % (dev["id"]["vendor"], dev["id"]["device"])

def text(value):
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(text(v) for v in value)
    return str(value)

while True:
    kind = field()
    n = int(field())
    source = field()
    names = [field() for _ in range(n)]
    status = "ok"
    j = None
    try:
        if kind == "qmp":
            path, command = source.split("\n", 1)
            j = qmp(path, command)
        else:
            j = json.loads(source)
            if not isinstance(j, dict):
                raise ValueError("not a JSON object")
    except Exception as e:
        status = "%s: %s" % (type(e).__name__, e)
    values = []
    for name in names:
        try:
            values.append(text(eval(name.split("=", 1)[1], {"j": j, "pci_devices": pci_devices, "ids": ids})) if status == "ok" else "")
        except Exception:
            values.append("")
    out.write(b"".join(v.encode() + b"\0" for v in [status] + values))
    out.flush()
'
	}
}

# lab_json_ask KIND SOURCE NAME=EXPR...
lab_json_ask() {
	# Prefixed: a caller's NAME must not be one of these locals.
	local _lab_json_kind=$1 _lab_json_source=$2 _lab_json_status _lab_json_value _lab_json_spec
	shift 2
	lab_json_start
	printf '%s\0' "$_lab_json_kind" "$#" "$_lab_json_source" "$@" >&"${LAB_JSON[1]}"
	IFS= read -r -d '' _lab_json_status <&"${LAB_JSON[0]}" || {
		lab_json_error="the JSON helper (python3) died"
		return 1
	}
	for _lab_json_spec in "$@"; do
		IFS= read -r -d '' _lab_json_value <&"${LAB_JSON[0]}"
		printf -v "${_lab_json_spec%%=*}" '%s' "$_lab_json_value"
	done
	if [ "$_lab_json_status" = ok ]; then
		lab_json_error=''
	else
		lab_json_error=$_lab_json_status
		return 1
	fi
}

lab_json() {
	local text=$1
	shift
	lab_json_ask json "$text" "$@"
}

lab_qmp() {
	local socket=$1 command=$2
	shift 2
	lab_json_ask qmp "$socket"$'\n'"$command" "$@"
}
