# portal_lib.sh - helpers for the portal_*.sh integration tests (sourced
# after lib.sh).  Mail goes in through the stack's real Postfix and milter;
# everything the portal does is seen through the stack's nginx with curl,
# from a loopback source address of the test's own (127.0.0.N), so the
# per-client rate limit of one test never touches another.
# shellcheck shell=bash

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	echo "1..0 # SKIP helper library, sourced by the portal_*.sh tests"
	exit 0
fi
if [[ ${PORTAL_ENABLED:-no} != yes ]]; then
	echo "1..0 # SKIP the stack runs no portal (sealmail-portal not built)"
	exit 0
fi

TOP=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MARK="PORTALMARK$(date +%s)x$RANDOM$RANDOM"
WORK=$(mktemp -d /tmp/portal-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SRC_ADDR=${SRC_ADDR:-127.0.0.1}

# seal FILE-OR-- ADDRESS [swaks args...]: sends one message to ADDRESS
# (body MARK unless swaks args say otherwise), waits for the notice and
# prints the link token.
seal() {
	local addr=$1 i f
	shift
	swaks --server "127.0.0.1:$SMTP_PORT" --from lab@stack.test --to "$addr" \
		--timeout 120 --hide-all "$@" >/dev/null 2>&1 || return 1
	for ((i = 0; i < 300; i++)); do
		f=$(grep -rlF -- "X-Rcpt-Args: <$addr>" "$SINK_DIR" 2>/dev/null | head -1)
		if [[ -n $f ]]; then
			grep -oE '/m/[A-Za-z0-9_-]{43}' "$f" | head -1 | cut -c4-
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# seal_qa ADDRESS ANSWER [swaks args...]: a message with a question.
seal_qa() {
	local addr=$1 answer=$2
	shift 2
	seal "$addr" --header 'X-Sealmail-Question: Year of birth?' \
		--header "X-Sealmail-Answer: $answer" "$@"
}

# pcurl PATH [curl args...]: one request through nginx; writes the body to
# $WORK/body and the headers to $WORK/head, prints the status.
pcurl() {
	local path=$1
	shift
	curl -s --interface "$SRC_ADDR" -o "$WORK/body" -D "$WORK/head" \
		-w '%{http_code}' "$@" "$PORTAL_URL$path"
}

# hdr NAME: the value of response header NAME of the last pcurl.
hdr() {
	grep -i "^$1:" "$WORK/head" | head -1 | cut -d' ' -f2- | tr -d '\r'
}

# csrf_of: the CSRF field of the last page fetched.
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/body" | head -1; }

# verify TOKEN ANSWER JAR: fetches the form and posts ANSWER; prints the
# status of the POST.
verify() {
	local tok=$1 answer=$2 jar=$3 csrf
	pcurl "/m/$tok" -c "$jar" -b "$jar" >/dev/null
	csrf=$(csrf_of)
	pcurl "/m/$tok" -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" \
		--data-urlencode "answer=$answer"
}

# security_headers: the headers every response must carry (last pcurl).
security_headers() {
	local h=$WORK/head bad=
	grep -qi '^Referrer-Policy: no-referrer' "$h" || bad+=" referrer"
	grep -qi '^Cache-Control: no-store' "$h" || bad+=" cache"
	grep -qi '^Strict-Transport-Security: max-age=' "$h" || bad+=" hsts"
	grep -qi '^X-Content-Type-Options: nosniff' "$h" || bad+=" nosniff"
	grep -qi "^Content-Security-Policy: .*frame-ancestors 'none'" "$h" ||
		grep -qi "^Content-Security-Policy: sandbox" "$h" || bad+=" csp"
	[[ -z $bad ]] || { echo "missing:$bad"; cat "$h"; return 1; }
}

delivery_of() { sql "SELECT id FROM deliveries WHERE address = '$1'"; }
events_of() { sql "SELECT kind FROM events WHERE delivery_id = $1 ORDER BY id" | tr '\n' ' '; }
worker_pids() { pgrep -f "sealmail-portal -c $SEALMAIL_CONF" | sort | tr '\n' ' '; }

# send_file ADDRESS FILE: sends FILE (a whole RFC 5322 message) to ADDRESS
# through the stack's Postfix, waits for the notice, prints the token.
send_file() {
	local addr=$1 file=$2 i f
	python3 - "$SMTP_PORT" "$addr" "$file" <<'PY' || return 1
import smtplib, sys
port, rcpt, path = sys.argv[1:]
with open(path, 'rb') as fh:
    data = fh.read()
s = smtplib.SMTP('127.0.0.1', int(port), timeout=600)
s.sendmail('lab@stack.test', [rcpt], data)
s.quit()
PY
	for ((i = 0; i < 1200; i++)); do
		f=$(grep -rlF -- "X-Rcpt-Args: <$addr>" "$SINK_DIR" 2>/dev/null | head -1)
		if [[ -n $f ]]; then
			grep -oE '/m/[A-Za-z0-9_-]{43}' "$f" | head -1 | cut -c4-
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# mime_message FILE MARK ATTACHMENT [ATTACHMENT-NAME]: a results message
# with a hostile subject, a text part, an HTML part with script and a
# remote image (127.0.0.1:$TRACKER_PORT, default 9), and ATTACHMENT under
# a hostile file name.
mime_message() {
	TRACKER_PORT=${TRACKER_PORT:-9} python3 - "$@" <<'PY'
import os, sys
from email.message import EmailMessage
from email.policy import SMTP
out, mark, att = sys.argv[1:4]
name = sys.argv[4] if len(sys.argv) > 4 else '../"rep<o>rt"\r\n;é.pdf'
m = EmailMessage(policy=SMTP)
m['From'] = 'Lab <lab@stack.test>'
m['To'] = 'patient@example.net'
m['Subject'] = 'Results <script>alert("subject")</script> ' + mark
m['X-Sealmail-Question'] = 'Year of birth?'
m['X-Sealmail-Answer'] = '1980'
m.set_content('Dear patient,\n<script>alert("text")</script>\n' + mark +
              '\nline with\ttab & ampersand\n' + 'long ' * 2000 + '\nend\n')
m.add_alternative('<html><body><h1 id="h">Formatted ' + mark + '</h1>'
                  '<script>document.title="pwned"</script>'
                  '<img src="http://127.0.0.1:%s/tracker.png">'
                  '<form action="http://127.0.0.1:9/"><input name=x></form>'
                  '</body></html>' % os.environ['TRACKER_PORT'], subtype='html')
with open(att, 'rb') as fh:
    data = fh.read()
m.add_attachment(data, maintype='application', subtype='pdf', filename=name)
with open(out, 'wb') as fh:
    fh.write(m.as_bytes())
PY
}
