# milter_lib.sh - helpers for the milter_*.sh integration tests (sourced
# after lib.sh, never run on its own).  Every test sends through the real
# Postfix of contrib/stack and looks at what left it: the sink files, the
# escrow rows, the logs.  Each test run uses its own marker string, put in
# every body and subject it sends, and ends by checking that the marker is
# nowhere outside the escrow's ciphertext.
# shellcheck shell=bash

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	echo "1..0 # SKIP helper library, sourced by the milter_*.sh tests"
	exit 0
fi

TOP=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MARK="SEALMARK$(date +%s)x$RANDOM$RANDOM"
LAB_SENDER=lab@stack.test

# smtp [swaks args...]: one message to the stack's port 25 listener (a
# client from 127.0.0.1, so it belongs to the stack's lab).  Prints swaks'
# transcript; the exit status is swaks'.
smtp() {
	swaks --server "127.0.0.1:$SMTP_PORT" --from "$LAB_SENDER" \
		--timeout 120 --hide-informational "$@" 2>&1
}

# final_reply TRANSCRIPT: the server's last reply to the message (the one
# after DATA's end, or the first refusal).
final_reply() {
	grep -E '^(<-|<\*\*) +[2-5][0-9][0-9] ' <<<"$1" | grep -vE ' (220|221|250-|354) ' |
		grep -E ' [45][0-9][0-9] | 250 2\.0\.0 ' | head -1 | sed -E 's/^(<-|<\*\*) +//'
}

# queued TRANSCRIPT: 0 when the message was accepted for delivery.
queued() { grep -qE '250 2\.0\.0 Ok: queued' <<<"$1"; }

settle() {
	"$TOP/contrib/stack" flush "$STACK_DIR" >/dev/null 2>&1 || true
	"$TOP/contrib/stack" wait-queue-empty "$STACK_DIR" "${1:-60}" >/dev/null 2>&1
}

# sink_for ADDRESS: the sink files delivered to ADDRESS.
sink_for() {
	grep -rlF -- "X-Rcpt-Args: <$1>" "$SINK_DIR" 2>/dev/null || true
}

# wait_sink ADDRESS [N] [SECS]: waits until N files reached ADDRESS.
wait_sink() {
	local addr=$1 want=${2:-1} secs=${3:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		(($(sink_for "$addr" | wc -l) >= want)) && return 0
		sleep 0.1
	done
	return 1
}

# header FILE NAME: the first value of header NAME in FILE (unfolded).
header() {
	awk -v n="$2" 'BEGIN { IGNORECASE = 1 }
		/^$/ { exit }
		found && /^[ \t]/ { v = v $0; next }
		found { print v; exit }
		tolower($0) ~ "^" tolower(n) ":" { found = 1; v = substr($0, length(n) + 3) }
		END { if (found) print v }' "$1" | head -1
}

# link_of FILE: the token of the portal link in the notice.
link_of() { grep -oE '/m/[A-Za-z0-9_-]{43}' "$1" | head -1 | cut -c4-; }

# escrow_has MSGID ADDRESS: the message row, its chunks, the delivery to
# ADDRESS and the sealed and notified events all exist.
escrow_has() {
	local id=$1 addr=$2 out
	out=$(sql "SELECT
		(SELECT COUNT(*) FROM messages WHERE id = '$id'),
		(SELECT COUNT(*) FROM message_chunks WHERE message_id = '$id'),
		(SELECT COUNT(*) FROM deliveries WHERE message_id = '$id' AND address = '$addr'),
		(SELECT COUNT(*) FROM events WHERE message_id = '$id' AND kind = 'sealed'),
		(SELECT COUNT(*) FROM events e JOIN deliveries d ON d.id = e.delivery_id
		   WHERE e.message_id = '$id' AND e.kind = 'notified' AND d.address = '$addr')")
	read -r m c d s n <<<"$out"
	if [[ $m == 1 && $c -ge 1 && $d == 1 && $s == 1 && $n == 1 ]]; then
		return 0
	fi
	echo "message=$m chunks=$c delivery=$d sealed=$s notified=$n"
	return 1
}

# no_marker [MARKER]: the marker is in no sink file, no log and no byte of
# a database dump (the escrow holds only ciphertext).
no_marker() {
	local m=${1:-$MARK} where=
	grep -rlaF -- "$m" "$SINK_DIR" >/dev/null 2>&1 && where+=" sink"
	grep -qaF -- "$m" "$MAILLOG" 2>/dev/null && where+=" maillog"
	grep -qaF -- "$m" "$MILTER_LOG" 2>/dev/null && where+=" milter-log"
	mariadb-dump --no-defaults --socket="$MYSQL_SOCKET" --single-transaction \
		sealmail 2>/dev/null | grep -qaF -- "$m"
	local st=("${PIPESTATUS[@]}")
	if ((st[1] == 0)); then
		where+=" database-dump"
	elif ((st[0] != 0)); then
		echo "mariadb-dump failed (status ${st[0]}): cannot check the database"
		return 1
	fi
	if [[ -n $where ]]; then
		echo "marker $m found in:$where"
		return 1
	fi
	return 0
}

# send_raw FILE RCPT...: sends FILE, a whole message with CRLF lines, as is
# (NUL bytes, 8-bit, huge lines and all).  Prints the reply that decided
# the message ("250 ...", or the first 4xx/5xx) and exits 0 on 250.
send_raw() {
	python3 - "$SMTP_PORT" "$LAB_SENDER" "$@" <<'PY'
import smtplib, sys
port, sender, path, *rcpts = sys.argv[1:]
with open(path, 'rb') as f:
    data = f.read()
s = smtplib.SMTP('127.0.0.1', int(port), timeout=600)
def out(code, msg):
    print(code, msg.decode('ascii', 'replace').replace('\n', ' '))
    sys.exit(0 if code == 250 else 1)
try:
    s.ehlo('client.test')
    code, msg = s.mail(sender, ['BODY=8BITMIME'])
    if code != 250: out(code, msg)
    ok = 0
    for r in rcpts:
        code, msg = s.rcpt(r)
        if code != 250: out(code, msg)
    code, msg = s.data(data)
    out(code, msg)
finally:
    try: s.quit()
    except Exception: pass
PY
}

# message FILE [header lines...] -- BODY: writes a CRLF message.
message() {
	local f=$1
	shift
	: >"$f"
	while (($#)) && [[ $1 != -- ]]; do
		printf '%s\r\n' "$1" >>"$f"
		shift
	done
	[[ ${1:-} == -- ]] && shift
	printf '\r\n%s\r\n' "${1:-}" >>"$f"
}
