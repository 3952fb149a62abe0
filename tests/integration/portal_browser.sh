#!/bin/bash
# portal_browser.sh - the patient's way through the portal in Debian's
# Chromium (tests/browser/portal.mjs): two sealed messages with hostile
# subject, text, HTML and file name; screenshots of every page go to
# tests/browser/out/ in the build tree.
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
tok_a=$(send_file "browser-a-$RANDOM@example.net" "$WORK/a.eml")
mime_message "$WORK/b.eml" "$MARK" "$WORK/att.bin"
tok_b=$(send_file "browser-b-$RANDOM@example.net" "$WORK/b.eml")
out=${top_builddir:-$TOP}/tests/browser/out
rm -rf "$out"
LINK_A=$PORTAL_URL/m/$tok_a LINK_B=$PORTAL_URL/m/$tok_b ANSWER=1980 MARK=$MARK \
	ATTACHMENT=$WORK/att.bin OUT=$out node "$BROWSER_DIR/portal.mjs"
rc=$?
sql "DELETE FROM rate_limits"
exit $rc
