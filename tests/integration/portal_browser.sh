#!/bin/bash
# portal_browser.sh - the patient's way through the portal in Debian's
# Chromium (tests/browser/portal.mjs): two sealed messages with hostile
# subject, text, HTML and file name; screenshots of every page go to
# tests/browser/out/ in the build tree.  Then the admin pages: a
# sender-admin (desktop, no JavaScript) finds message A, sees its opens and
# retracts it; a viewer on a phone sees the timeline (axe-core).
SRC_ADDR=127.0.0.61
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

BROWSER_DIR=$TOP/tests/browser
if [[ ! -d $BROWSER_DIR/node_modules/playwright-core || ! -x /usr/bin/chromium ]] ||
	! command -v node >/dev/null; then
	echo "1..0 # SKIP node, chromium or tests/browser/node_modules missing (tests/run runs npm ci)"
	exit 0
fi
sql "DELETE FROM rate_limits"
head -c 300000 /dev/urandom >"$WORK/att.bin"
TRACKER_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TRACKER_PORT
mime_message "$WORK/a.eml" "$MARK" "$WORK/att.bin"
rcpt_a=browser-a-$RANDOM$RANDOM@example.net
tok_a=$(send_file "$rcpt_a" "$WORK/a.eml")
mime_message "$WORK/b.eml" "$MARK" "$WORK/att.bin"
tok_b=$(send_file "browser-b-$RANDOM@example.net" "$WORK/b.eml")
# new_user ROLE: a lab user; prints "login password secret".
new_user() {
	local login=browser-$1-$RANDOM$RANDOM@stack.test out
	out=$(ctl user add --lab "$LAB_NAME" --role "$1" "$login" 2>&1) || return 1
	echo "$login $(sed -n 's/^password: //p' <<<"$out") $(sed -nE 's/.*secret=([A-Z2-7]+).*/\1/p' <<<"$out")"
}
read -r ADMIN_LOGIN ADMIN_PASSWORD ADMIN_SECRET < <(new_user sender-admin)
read -r VIEWER_LOGIN VIEWER_PASSWORD VIEWER_SECRET < <(new_user viewer)
export ADMIN_LOGIN ADMIN_PASSWORD ADMIN_SECRET VIEWER_LOGIN VIEWER_PASSWORD VIEWER_SECRET
export ADMIN_RECIPIENT=$rcpt_a
out=${top_builddir:-$TOP}/tests/browser/out
rm -rf "$out"
LINK_A=$PORTAL_URL/m/$tok_a LINK_B=$PORTAL_URL/m/$tok_b ANSWER=1980 MARK=$MARK \
	ATTACHMENT=$WORK/att.bin OUT=$out node "$BROWSER_DIR/portal.mjs"
rc=$?
sql "DELETE FROM rate_limits"
exit $rc
