#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the reference Varlink client (varlink-go-certification --client, from
# Debian's varlink-go) against certification-server, which serves
# org.varlink.certification with the daemon's server code. The Go client exits
# 0 even when a step fails, so the test reads its output: it passes only when
# the last line is "End: 'true'", which the server sends only when every step
# carried exactly what it should, in order.
#
# It also checks that the server can say no: a wrong value, a wrong type, an
# unknown client, a skipped step, Test10 without "more" (the server's ExpectedMore) and Test11 without
# "oneway" each get their error, and End then says all_ok=false. Last, SIGTERM
# must stop the server with status 0, and the server must remove its socket.
#
# Usage: run-certification.sh CERTIFICATION_SERVER VARLINK_GO_CERTIFICATION
set -euo pipefail

server=$1
certification_client=${2:-}

source "$(dirname "$0")/lib.sh"

[[ -n $certification_client ]] ||
	fail "varlink-go-certification is not installed (apt-get install varlink-go)"


socket=$tmp/certification.sock
"$server" "$socket" &
server_pid=$!
wait_for_socket "$socket"

echo "== varlink-go-certification --client against certification-server"
status=0
output=$(timeout 30 "$certification_client" --client --varlink="unix:$socket") || status=$?
echo "$output"
[[ $status -eq 0 ]] || fail "varlink-go-certification exited with status $status"
last=$(tail -n 1 <<<"$output")
[[ $last == "End: 'true'" ]] || fail "the certification did not pass: last line is \"$last\""

# A certification that cannot fail proves nothing: get steps wrong on purpose.
echo "== clients that get a step wrong must end with all_ok=false"
python3 - "$socket" <<'PY'
import json, socket, sys

connection = socket.socket(socket.AF_UNIX)
connection.connect(sys.argv[1])
stream = connection.makefile('rb')

def send(method, parameters, **flags):
    message = dict(method='org.varlink.certification.' + method, parameters=parameters, **flags)
    connection.sendall(json.dumps(message).encode() + b'\0')

def receive():
    data = b''
    while not data.endswith(b'\0'):
        byte = stream.read(1)
        if not byte:
            sys.exit('the server closed the connection')
        data += byte
    reply = json.loads(data[:-1])
    print('  ', json.dumps(reply)[:120])
    return reply

def call(method, **parameters):
    send(method, parameters)
    return receive()

def start_and_run(last):
    """Starts a client and passes each reply on to the next step, up to Test<last>."""
    parameters = call('Start')['parameters']
    client_id = parameters['client_id']
    for n in range(1, last + 1):
        parameters = call('Test%02d' % n, **dict(parameters, client_id=client_id))['parameters']
    return client_id, parameters

def certification_error(reply, wants, got):
    assert reply.get('error') == 'org.varlink.certification.CertificationError', reply
    assert reply['parameters'] == {'wants': wants, 'got': got}, reply

def end_not_ok(client_id):
    assert call('End', client_id=client_id)['parameters'] == {'all_ok': False}

print('a wrong value')
client_id, _ = start_and_run(1)
certification_error(call('Test02', client_id=client_id, bool=False), {'bool': True}, {'bool': False})
end_not_ok(client_id)

print('a float where an integer is wanted')
client_id, _ = start_and_run(2)
wrong_type = call('Test03', client_id=client_id, int=1.0)
assert wrong_type == {'error': 'org.varlink.service.InvalidParameter',
                      'parameters': {'parameter': 'int'}}, wrong_type
end_not_ok(client_id)

print('an unknown client')
unknown = call('Test01', client_id='not-a-client')
assert unknown.get('error') == 'org.varlink.certification.ClientIdError', unknown

print('a step skipped')
client_id, _ = start_and_run(1)
certification_error(call('Test03', client_id=client_id, int=1),
                    {'method': 'Test02'}, {'method': 'Test03'})
end_not_ok(client_id)

print('Test10 without "more"')
client_id, parameters = start_and_run(9)
expected_more = call('Test10', client_id=client_id, **parameters)
assert expected_more == {'error': 'org.varlink.service.ExpectedMore', 'parameters': {}}, expected_more
end_not_ok(client_id)

print('Test11 without "oneway"')
client_id, parameters = start_and_run(9)
send('Test10', dict(parameters, client_id=client_id), more=True)
replies = [receive()]
while replies[-1].get('continues'):
    replies.append(receive())
strings = [reply['parameters']['string'] for reply in replies]
assert strings == ['Reply number %d' % n for n in range(1, 11)], replies
certification_error(call('Test11', client_id=client_id, last_more_replies=strings),
                    {'oneway': True}, {'oneway': False})
end_not_ok(client_id)
PY

stop_server "the server" "$socket"

echo "PASS"
