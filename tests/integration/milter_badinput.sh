#!/bin/bash
# milter_badinput.sh - hostile and broken input through Postfix (issue 2,
# item 8): every message is either sealed or refused with a clear reason;
# the milter never crashes (sanitizer build: no report in its log), never
# passes a lab's message in clear, and keeps serving afterwards.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"

RUN=$RANDOM$RANDOM
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

# sealed NAME FILE: FILE (a message) is sealed for a fresh recipient.
sealed() {
	local name=$1 file=$2 rcpt reply f
	n=$((n + 1))
	rcpt=bad$n-$RUN@example.org
	reply=$(send_raw "$file" "$rcpt")
	if [[ $reply != 250* ]]; then
		notok "$name: sealed" "$reply"
		return
	fi
	settle 120
	f=$(sink_for "$rcpt" | head -1)
	check "$name: sealed, notice and escrow present" \
		escrow_has "$(header "${f:-/dev/null}" X-Sealmail-Id)" "$rcpt"
}
# refused NAME PATTERN FILE: FILE is refused with a 5xx matching PATTERN.
refused() {
	local name=$1 pat=$2 file=$3 reply
	n=$((n + 1))
	reply=$(send_raw "$file" "bad$n-$RUN@example.org")
	check "$name: refused ($pat)" bash -c '[[ $0 == 5[0-9][0-9]\ * ]] && grep -qE -- "$1" <<<"$0"' \
		"$reply" "$pat"
}

# no body at all (headers, the blank line, nothing after)
printf 'Subject: empty %s\r\nX-Sealmail-Password: pw\r\n\r\n' "$MARK" >"$tmp/nobody"
sealed "no body" "$tmp/nobody"

# only headers: not even the blank line
printf 'Subject: headers only %s\r\nX-Sealmail-Password: pw\r\n' "$MARK" >"$tmp/hdronly"
sealed "only headers" "$tmp/hdronly"

# NUL bytes and raw 8-bit in the body
printf 'Subject: nul\r\nX-Sealmail-Password: pw\r\n\r\n%s\0\0\xff\xfe binary\r\n' "$MARK" >"$tmp/nul"
sealed "NUL and 8-bit bytes in the body" "$tmp/nul"

# broken MIME: a boundary that never closes, a part with no headers,
# a nested multipart with a boundary that is never used
cat >"$tmp/mime" <<EOM
Subject: broken mime
X-Sealmail-Password: pw
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-closed"

--never-closed
Content-Type: multipart/alternative; boundary="unused"

$MARK in a part whose boundary is never used
--never-closed

headerless part $MARK
--never-clo
EOM
sed -i 's/$/\r/' "$tmp/mime"
sealed "broken MIME boundaries" "$tmp/mime"

# invalid UTF-8 and encoded-word junk in ordinary headers: sealed
printf 'Subject: =?utf-8?q?=FF=FE_junk?= =?x-unknown?b?!!!?= %s\r\nFrom: =?utf-8?b?////?= <lab@stack.test>\r\nX-Junk: \xff\xfe\xc3\x28\r\nX-Sealmail-Password: pw\r\n\r\nbody %s\r\n' \
	"$MARK" "$MARK" >"$tmp/junkhdr"
sealed "invalid UTF-8 and encoded-word junk in headers" "$tmp/junkhdr"

# ... but not in a verification header, where it would become an answer
printf 'Subject: x\r\nX-Sealmail-Question: \xff\xfe?\r\nX-Sealmail-Answer: a\r\n\r\n%s\r\n' "$MARK" >"$tmp/junkq"
refused "invalid UTF-8 in X-Sealmail-Question" "5.7.1 X-Sealmail-Question is not valid UTF-8" "$tmp/junkq"

# duplicate verification headers
printf 'Subject: x\r\nX-Sealmail-Password: a\r\nX-Sealmail-Password: b\r\n\r\n%s\r\n' "$MARK" >"$tmp/dup"
refused "duplicate X-Sealmail-Password" "appears 2 times" "$tmp/dup"

# SQL and HTML in every header, the lab's reference included
sqlhtml="'); DROP TABLE messages; -- <script>alert(1)</script> \" OR 1=1"
{
	printf 'Subject: %s %s\r\n' "$sqlhtml" "$MARK"
	printf 'From: "%s" <lab@stack.test>\r\n' "$sqlhtml"
	printf 'Reply-To: <%s@x>\r\n' "$sqlhtml"
	printf 'X-Anything: %s\r\n' "$sqlhtml"
	printf 'X-Sealmail-Question: %s?\r\n' "$sqlhtml"
	printf 'X-Sealmail-Answer: %s\r\n' "$sqlhtml"
	printf 'X-Sealmail-Reference: <b>ref</b>\x27;--\r\n'
	printf '\r\n%s %s\r\n' "$sqlhtml" "$MARK"
} >"$tmp/sqlhtml"
n=$((n + 1))
rcpt=bad$n-$RUN@example.org
reply=$(send_raw "$tmp/sqlhtml" "$rcpt")
check "SQL and HTML in every header: sealed" bash -c '[[ $0 == 250* ]]' "$reply"
settle
f=$(sink_for "$rcpt" | head -1)
check "SQL and HTML: the reference is HTML-escaped in the HTML part" \
	grep -qF '&lt;b&gt;ref&lt;/b&gt;&#39;;--' "${f:-/dev/null}"
html_part() { awk '/^Content-Type: text\/html/ { on = 1 } on && /^--=_sealmail_/ { exit } on' "$1"; }
check "SQL and HTML: no raw markup from a header in the HTML part" \
	bash -c '! grep -qF "<script>alert(1)" <<<"$0" && ! grep -qF "<b>ref</b>" <<<"$0"' \
	"$(html_part "${f:-/dev/null}")"
check "SQL and HTML: the question is stored as text" \
	test "$(sql "SELECT question FROM deliveries WHERE address = '$rcpt'")" = "$sqlhtml?"
check "SQL and HTML: the tables are all there" \
	test "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'sealmail'
		AND table_name IN ('messages', 'deliveries', 'events', 'labs')")" = 4

# 500 recipients: each their own notice and link
n=$((n + 1))
rcpts=()
for ((k = 1; k <= 500; k++)); do rcpts+=("m$k-$RUN@example.org"); done
printf 'Subject: many %s\r\nX-Sealmail-Password: pw\r\n\r\n%s\r\n' "$MARK" "$MARK" >"$tmp/many"
reply=$(send_raw "$tmp/many" "${rcpts[@]}")
check "500 recipients: sealed" bash -c '[[ $0 == 250* ]]' "$reply"
settle 300
got=$(grep -rlE "X-Rcpt-Args: <m[0-9]+-$RUN@example.org>" "$SINK_DIR" | wc -l)
check "500 recipients: 500 notices at the sink" test "$got" = 500
mapfile -t many_files < <(grep -rlE "X-Rcpt-Args: <m[0-9]+-$RUN@" "$SINK_DIR")
check "500 recipients: 500 different links" \
	test "$(grep -hoE '/m/[A-Za-z0-9_-]{43}' "${many_files[@]}" /dev/null | sort -u | wc -l)" = 500
shared=0
for f in "${many_files[@]}"; do
	(($(grep -oE "m[0-9]+-$RUN@example.org" "$f" | sort -u | wc -l) == 1)) || shared=$((shared + 1))
done
check "500 recipients: no notice names a second recipient" test "$shared" = 0

# one line of 100 MB
n=$((n + 1))
python3 - "$tmp/line" "$MARK" <<'PY'
import sys
with open(sys.argv[1], 'wb') as f:
    f.write(b'Subject: one long line\r\nX-Sealmail-Password: pw\r\n\r\n')
    f.write(sys.argv[2].encode())
    chunk = b'y' * (1 << 20)
    for _ in range(100):
        f.write(chunk)
    f.write(sys.argv[2].encode() + b'\r\n')
PY
sealed "a single 100 MB line" "$tmp/line"

check "the milter is still running" \
	bash -c 'kill -0 "$(cat "$0")"' "$STACK_DIR/milter/run.pid"
check "no sanitizer report in the milter log" \
	bash -c '! grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$0"' "$MILTER_LOG"
check "no marker anywhere in clear" no_marker
tap_done
