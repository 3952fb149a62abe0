#!/bin/bash
# portal_view.sh - after verification: headers and text shown escaped, the
# HTML part only under a sandbox CSP, attachments listed and downloaded
# byte for byte (with Range), the original .eml; viewed and downloaded
# events; sessions bound to their link, idle-limited, and a retraction
# ends an open session at once.
SRC_ADDR=127.0.0.21
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

sql "DELETE FROM rate_limits"
head -c 200000 /dev/urandom >"$WORK/att.bin"
mime_message "$WORK/msg.eml" "$MARK" "$WORK/att.bin"
addr=view-$RANDOM@example.net
tok=$(send_file "$addr" "$WORK/msg.eml")
did=$(delivery_of "$addr")
jar=$WORK/jar
st=$(pcurl "/m/$tok/view")
[[ $st == 303 && $(hdr Location) == "/m/$tok?lang=en" ]] &&
	ok "the view without a session sends the patient to the form" || notok "no session: $st"
st=$(verify "$tok" 1980 "$jar")
[[ $st == 303 ]] && ok "verification succeeds" || notok "verify: $st"

st=$(pcurl "/m/$tok/view" -b "$jar")
b=$WORK/body
[[ $st == 200 ]] && grep -q "$MARK" "$b" && ok "the view shows the message text" || notok "view: $st"
check "the view carries every security header" security_headers
grep -q 'Results &lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;' "$b" &&
	grep -q '&lt;script&gt;alert(&quot;text&quot;)&lt;/script&gt;' "$b" &&
	! grep -q '<script' "$b" && grep -q 'tab &amp; ampersand' "$b" &&
	ok "subject and text are escaped: no script element in the page" ||
	notok "escaping" "$(grep -n 'script\|ampersand' "$b")"
grep -q "<iframe sandbox src=\"/m/$tok/part/2?lang=en\"" "$b" &&
	ok "the HTML part is shown in an iframe with an empty sandbox" || notok "iframe" "$(grep -n iframe "$b")"
grep -q 'Formatted' "$b" && ! grep -q "Formatted $MARK" "$b" &&
	ok "the HTML part's markup never enters the page itself" || notok "html inlined"
grep -qE '<li><a href="/m/'"$tok"'/part/3\?lang=en" download="_rep_o_rt____é.pdf">_rep_o_rt____é.pdf</a> <span class="size">\(19[0-9] kB\)</span>' "$b" &&
	ok "the attachment is listed with a sanitised name and its size" ||
	notok "attachment listing" "$(grep -n '<li>' "$b")"
grep -q "long long long" "$b" && ok "a long text line is shown in full" || notok "long line"
[[ $(events_of "$did") == *"verified viewed"* ]] &&
	[[ $(sql "SELECT first_opened IS NOT NULL FROM deliveries WHERE id = $did") == 1 ]] &&
	ok "viewing records viewed and sets first_opened" || notok "events: $(events_of "$did")"

st=$(pcurl "/m/$tok/part/2" -b "$jar")
[[ $st == 200 && $(hdr Content-Type) == 'text/html; charset=utf-8' ]] &&
	grep -qi "^Content-Security-Policy: sandbox; default-src 'none'" "$WORK/head" &&
	grep -qi "^X-Content-Type-Options: nosniff" "$WORK/head" &&
	grep -q "Formatted $MARK" "$WORK/body" &&
	ok "the HTML part is served with Content-Security-Policy: sandbox" ||
	notok "html part: $st" "$(cat "$WORK/head")"
st=$(pcurl "/m/$tok/part/2?download=1" -b "$jar")
[[ $st == 200 && $(hdr Content-Type) == application/octet-stream ]] && [[ $(hdr Content-Disposition) == attachment* ]] &&
	ok "?download=1 turns the HTML part into an attachment" || notok "html download: $st"

st=$(pcurl "/m/$tok/part/3" -b "$jar")
cd_=$(hdr Content-Disposition)
[[ $st == 200 ]] && cmp -s "$WORK/body" "$WORK/att.bin" && ok "the attachment downloads byte for byte" ||
	notok "attachment: $st, $(wc -c <"$WORK/body") bytes"
[[ $cd_ == "attachment; filename=\"_rep_o_rt_____.pdf\"; filename*=UTF-8''_rep_o_rt____%C3%A9.pdf" ]] &&
	[[ $(hdr Content-Type) == application/octet-stream ]] && grep -qi '^X-Content-Type-Options: nosniff' "$WORK/head" &&
	ok "the download is an attachment with RFC 6266 names and nosniff" || notok "disposition: $cd_"
st=$(pcurl "/m/$tok/part/3" -b "$jar" -H 'Range: bytes=100000-100999')
[[ $st == 206 && $(hdr Content-Range) == 'bytes 100000-100999/200000' ]] &&
	cmp -s "$WORK/body" <(tail -c +100001 "$WORK/att.bin" | head -c 1000) &&
	ok "a Range request gets 206 and exactly those bytes" || notok "range: $st $(hdr Content-Range)"
st=$(pcurl "/m/$tok/part/3" -b "$jar" -H 'Range: bytes=150000-')
[[ $st == 206 ]] && cmp -s "$WORK/body" <(tail -c +150001 "$WORK/att.bin") &&
	ok "an open-ended Range resumes to the end" || notok "resume: $st"
st=$(pcurl "/m/$tok/part/3" -b "$jar" -H 'Range: bytes=300000-')
[[ $st == 416 && $(hdr Content-Range) == 'bytes */200000' ]] && ok "an unsatisfiable Range is 416" || notok "416: $st"
det=$(sql "SELECT detail FROM events WHERE delivery_id = $did AND kind = 'downloaded' ORDER BY id" | tr '\n' '|')
[[ $det == *"part=3 whole|part=3 range=100000-100999|part=3 range=150000-199999|"* ]] &&
	ok "downloaded events say which part, whole or which range" || notok "downloaded: $det"
st=$(pcurl "/m/$tok/part/9" -b "$jar")
[[ $st == 404 ]] && ok "a part that does not exist is 404" || notok "part 9: $st"

st=$(pcurl "/m/$tok/eml" -b "$jar")
grep -qE "^( |Subject: )Results <script>" "$WORK/body" && grep -q "$MARK" "$WORK/body" &&
	[[ $(hdr Content-Disposition) == 'attachment; filename="message.eml"'* ]] &&
	[[ $(hdr Content-Length) == $(wc -c <"$WORK/body") ]] &&
	ok "the original .eml downloads as an attachment" || notok "eml: $st"
python3 - "$WORK/body" "$WORK/att.bin" <<'PY' && ok "the .eml's attachment is the one sent" || notok "eml attachment differs"
import sys, email
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
att = [p for p in m.iter_attachments()][0].get_content()
sys.exit(0 if att == open(sys.argv[2], 'rb').read() else 1)
PY
size=$(wc -c <"$WORK/body")
cp "$WORK/body" "$WORK/orig.eml"
st=$(pcurl "/m/$tok/eml" -b "$jar" -H "Range: bytes=10-99")
[[ $st == 206 ]] && cmp -s "$WORK/body" <(tail -c +11 "$WORK/orig.eml" | head -c 90) &&
	[[ $(hdr Content-Range) == "bytes 10-99/$size" ]] && ok "the .eml honours Range too" || notok "eml range: $st"

# An attached message (message/rfc822) is one attachment, downloaded whole.
python3 - "$WORK/fwd.eml" "$MARK" <<'PY'
import sys
from email.message import EmailMessage
from email.policy import SMTP
out, mark = sys.argv[1:]
inner = EmailMessage(policy=SMTP)
inner['From'] = 'Other Lab <other@lab.example>'
inner['Subject'] = 'Inner report'
inner.set_content('INNER-' + mark + '\n')
m = EmailMessage(policy=SMTP)
m['From'] = 'Lab <lab@stack.test>'
m['Subject'] = 'Forwarded'
m['X-Sealmail-Question'] = 'Year of birth?'
m['X-Sealmail-Answer'] = '1980'
m.set_content('See the attached report.\n')
m.add_attachment(inner, filename='report.eml')
open(out, 'wb').write(m.as_bytes())
PY
addr_f=fwd-$RANDOM@example.net
tok_f=$(send_file "$addr_f" "$WORK/fwd.eml")
verify "$tok_f" 1980 "$WORK/jar_f" >/dev/null
st=$(pcurl "/m/$tok_f/view" -b "$WORK/jar_f")
grep -qE '>report.eml</a> <span class="size">\([0-9]+ B\)' "$WORK/body" && ! grep -q "INNER-$MARK" "$WORK/body" &&
	ok "an attached message is listed as one attachment, not shown inline" ||
	notok "attached message listing: $st" "$(grep -n '<li>\|INNER' "$WORK/body")"
st=$(pcurl "/m/$tok_f/part/2" -b "$WORK/jar_f")
[[ $st == 200 && $(hdr Content-Length) == $(wc -c <"$WORK/body") ]] && grep -q '^Subject: Inner report' "$WORK/body" &&
	grep -q "INNER-$MARK" "$WORK/body" && ok "it downloads as the whole message with its length" ||
	notok "attached message download: $st" "$(head -20 "$WORK/body")"
st=$(pcurl "/m/$tok_f/part/2" -b "$WORK/jar_f" -H 'Range: bytes=5-14')
[[ $st == 206 && $(wc -c <"$WORK/body") == 10 ]] && ok "and honours Range" || notok "attached message range: $st"

# A text of very many lines: shown up to a bound, the rest to download.
python3 -c "import sys; sys.stdout.write(''.join('line %d\n' % i for i in range(60000)))" >"$WORK/lines.txt"
tok_l=$(seal_qa "lines-$RANDOM@example.net" 1980 --body "@$WORK/lines.txt")
verify "$tok_l" 1980 "$WORK/jar_l" >/dev/null
st=$(pcurl "/m/$tok_l/view" -b "$WORK/jar_l")
[[ $st == 200 ]] && grep -q 'too long to show here in full' "$WORK/body" && grep -q '^line 19999$' "$WORK/body" &&
	! grep -q '^line 20000$' "$WORK/body" &&
	ok "a text of 60000 lines shows its first 20000 and offers the rest" || notok "many lines: $st"
st=$(pcurl "/m/$tok_l/part/1?download=1" -b "$WORK/jar_l")
[[ $st == 200 ]] && tr -d '\r' <"$WORK/body" | head -n 60000 | cmp -s - "$WORK/lines.txt" &&
	ok "and the whole text downloads" || notok "text download: $st"

# Sessions: another link's cookie, a stale one, a retraction.
addr2=view2-$RANDOM@example.net
tok2=$(seal_qa "$addr2" 1980 --body "$MARK")
sid=$(awk '$6 == "sm_session" { print $7 }' "$jar")
st=$(pcurl "/m/$tok2/view" -H "Cookie: sm_session=$sid")
[[ $st == 303 ]] && ! grep -q "$MARK" "$WORK/body" &&
	ok "a session cookie replayed on another link opens nothing" || notok "stolen cookie: $st"
# The first character changed, whatever it was (all its bits count; the
# last one's low bits are padding a decoder may ignore).
c=A
[[ ${sid:0:1} == A ]] && c=B
st=$(pcurl "/m/$tok/view" -H "Cookie: sm_session=$c${sid:1}")
[[ $st == 303 ]] && ok "a forged session cookie opens nothing" || notok "forged cookie: $st"
sql "UPDATE sessions SET last_seen = last_seen - 901 WHERE delivery_id = $did"
st=$(pcurl "/m/$tok/view" -b "$jar")
[[ $st == 303 && $(sql "SELECT COUNT(*) FROM sessions WHERE delivery_id = $did") == 0 ]] &&
	ok "a session idle for 15 minutes is gone" || notok "idle session: $st"
st=$(verify "$tok" 1980 "$jar")
pcurl "/m/$tok/view" -b "$jar" >/dev/null
sql "UPDATE messages SET retracted = UNIX_TIMESTAMP() WHERE id = (SELECT message_id FROM deliveries WHERE id = $did)"
st=$(pcurl "/m/$tok/view" -b "$jar")
[[ $st == 410 ]] && grep -q 'withdrawn' "$WORK/body" && ! grep -q "$MARK" "$WORK/body" &&
	ok "a retraction ends an open session at once" || notok "retracted with session: $st"
st=$(pcurl "/m/$tok/part/3" -b "$jar")
[[ $st == 410 ]] && ok "and no part downloads any more" || notok "part after retraction: $st"
check "no marker in the portal log or nginx's access log" \
	bash -c "! grep -qF '$MARK' '$PORTAL_LOG' '$NGINX_DIR/access.log' && ! grep -qF '$tok' '$NGINX_DIR/access.log' '$PORTAL_LOG'"
sql "DELETE FROM rate_limits"
tap_done
