#!/bin/bash
# portal_spawn.sh - sealmail-portal started by spawn-fcgi: it takes the
# listening socket on fd 0 (portal.socket empty), drops to portal.user
# before any worker runs, and answers FastCGI requests there.  A small
# FastCGI client (Python, standard library) stands in for nginx.
SRC_ADDR=127.0.0.81
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

command -v spawn-fcgi >/dev/null || { notok "spawn-fcgi is not installed"; tap_done; exit; }
tok=$(seal_qa "spawn-$RANDOM@example.net" 1980 --body "$MARK")
conf=$WORK/sealmail.conf
sed -e 's|^\( *\)socket = unix:.*portal.sock$|\1socket =|' \
	-e 's|^\( *\)pid_file = .*portal.pid$|\1pid_file =\n\1user = nobody\n\1workers = 1|' \
	"$SEALMAIL_CONF" >"$conf"
grep -q '^ *user = nobody' "$conf" && grep -qx ' *socket =' "$conf" ||
	{ notok "could not derive a spawn-fcgi configuration"; tap_done; exit; }
chmod 755 "$WORK"
spawn-fcgi -n -s "$WORK/fcgi.sock" -M 0600 -- \
	"$SEALMAIL_BUILDDIR/portal/sealmail-portal" -c "$conf" -f >"$WORK/log" 2>&1 &
master=$!
for _ in $(seq 1 50); do [[ -S $WORK/fcgi.sock ]] && grep -q worker_started "$WORK/log" && break; sleep 0.1; done

fcgi_get() {
	python3 - "$WORK/fcgi.sock" "$1" <<'PY'
import socket, struct, sys
def rec(t, content, rid=1):
    return struct.pack('!BBHHBx', 1, t, rid, len(content), 0) + content
def nv(k, v):
    k, v = k.encode(), v.encode()
    enc = lambda n: bytes([n]) if n < 128 else struct.pack('!I', n | 0x80000000)
    return enc(len(k)) + enc(len(v)) + k + v
params = b''.join(nv(k, v) for k, v in {
    'REQUEST_METHOD': 'GET', 'REQUEST_URI': sys.argv[2], 'REMOTE_ADDR': '127.0.0.81',
    'HTTP_USER_AGENT': 'spawn-test', 'HTTP_ACCEPT_LANGUAGE': 'en', 'SERVER_PROTOCOL': 'HTTP/1.1'}.items())
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(rec(1, struct.pack('!HB5x', 1, 0)) + rec(4, params) + rec(4, b'') + rec(5, b''))
out, buf = b'', b''
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 8:
        _, t, _, n, pad = struct.unpack('!BBHHBx', buf[:8])
        if len(buf) < 8 + n + pad:
            break
        if t == 6:
            out += buf[8:8 + n]
        buf = buf[8 + n + pad:]
sys.stdout.buffer.write(out)
PY
}
out=$(fcgi_get "/m/$tok")
grep -q '^Status: 200' <<<"$out" && grep -q 'Year of birth?' <<<"$out" &&
	ok "under spawn-fcgi the portal serves the socket it was given on fd 0" ||
	notok "spawn-fcgi request" "$out$(cat "$WORK/log")"
grep -q '^Referrer-Policy: no-referrer' <<<"$out" && ok "with the security headers" || notok "headers"
worker=$(pgrep -P "$master" | head -1)
[[ -n $worker && $(ps -o user= -p "$worker") == nobody && $(ps -o user= -p "$master") == nobody ]] &&
	ok "master and worker run as portal.user after start-up" ||
	notok "users: master $(ps -o user= -p "$master") worker $(ps -o user= -p "$worker")"
grep -q 'event=running_as_root' "$WORK/log" && notok "warned about root although portal.user is set" ||
	ok "no running-as-root warning"
kill -TERM "$master"
for _ in $(seq 1 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
wait "$master" 2>/dev/null
rc=$?
[[ $rc == 0 ]] && [[ -z $(pgrep -P "$master") ]] && ok "SIGTERM stops master and workers, exit 0" ||
	notok "stop: rc $rc"
tap_done
