#!/bin/bash
# milter_big.sh - a 50 MB message goes through Postfix and the milter: it
# is sealed chunk by chunk (about 50 chunk rows), the recipient gets a
# notice, and none of the marker lines spread through the body is anywhere
# in clear.  Prints the milter's peak memory as a diagnostic (the
# benchmark, not this test, measures it on a build without sanitizers).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"

RUN=$RANDOM$RANDOM
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rcpt=big-$RUN@example.org
size=$((50 * 1024 * 1024))

python3 - "$tmp/m.eml" "$MARK" "$size" <<'PY'
import sys
path, mark, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, 'wb') as f:
    f.write(b'From: lab@stack.test\r\nTo: patient@example.org\r\n'
            b'Subject: big results ' + mark.encode() + b'\r\n'
            b'X-Sealmail-Password: big-pw\r\n\r\n')
    line = (mark + ' ' + 'x' * 60 + '\r\n').encode()
    n = 0
    while n < size:
        f.write(line)
        n += len(line)
PY

milter_pid=$(cat "$STACK_DIR/milter/run.pid" 2>/dev/null || echo)
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$milter_pid/status" 2>/dev/null || echo 0; }
before=$(hwm)
start=$(date +%s)
reply=$(send_raw "$tmp/m.eml" "$rcpt")
rc=$?
secs=$(($(date +%s) - start))
if ((rc == 0)); then ok "50 MB message is accepted (${secs}s)"
else notok "50 MB message is accepted" "$reply"; fi
after=$(hwm)
echo "# milter VmHWM before ${before} kB, after ${after} kB (sanitizer build)"
settle 120
f=$(sink_for "$rcpt" | head -1)
check "50 MB: the recipient gets a notice" test -n "$f"
msgid=$(header "${f:-/dev/null}" X-Sealmail-Id)
check "50 MB: escrow, delivery and events" escrow_has "$msgid" "$rcpt"
check "50 MB: the whole message is in the escrow, in chunks" \
	bash -c 'read -r s c <<<"$0"; ((s > $1 && c >= 50))' \
	"$(sql "SELECT size, nchunks FROM messages WHERE id = '$msgid'")" "$size"
check "50 MB: the notice is small" test "$(stat -c %s "${f:-/dev/null}")" -lt 65536
check "50 MB: no marker anywhere in clear" no_marker
tap_done
