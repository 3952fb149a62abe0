#!/bin/bash
# sms_browser.sh - the PIN pages of an SMS notice in Debian's Chromium
# (tests/browser/pin.mjs) on a 360 px phone: set, mismatch, view, enter,
# recover, reset; axe-core on each; screenshots to tests/browser/out/.
SRC_ADDR=127.0.0.95
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"
. "$(dirname "$0")/portal_lib.sh"
. "$(dirname "$0")/sms_lib.sh"

BROWSER_DIR=$TOP/tests/browser
if [[ ! -d $BROWSER_DIR/node_modules/playwright-core || ! -x /usr/bin/chromium ]] ||
	! command -v node >/dev/null; then
	echo "1..0 # SKIP node, chromium or tests/browser/node_modules missing (run npm ci in tests/browser)"
	exit 0
fi
num=$(new_number)
smtp --to "browser-pin-$RANDOM@example.org" --header "Subject: Results $MARK" \
	--header "X-Sealmail-Phone: $num" --body "Vitamin D 12 ng/mL $MARK" >/dev/null
if ! wait_sms "$num" 1 30 >/dev/null; then
	echo "not ok 1 - the SMS notice arrives"
	echo "1..1"
	exit 1
fi
out=${top_builddir:-$TOP}/tests/browser/out
mkdir -p "$out"
PIN_LINK=$PORTAL_URL/m/$(sms_link "$num") MARK=$MARK SINK_DIR=$SINK_DIR \
	RECOVERY=browser-recovery-$RANDOM@example.net OUT=$out \
	node "$BROWSER_DIR/pin.mjs"
