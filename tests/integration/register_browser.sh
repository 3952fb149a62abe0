#!/bin/bash
# register_browser.sh - the registration pages in Debian's Chromium
# (tests/browser/register.mjs) on a 360 px phone: ask for a code, a common
# password refused, set, view, enter, reset; axe-core on each; screenshots
# to tests/browser/out/.
SRC_ADDR=127.0.0.104
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"
. "$(dirname "$0")/portal_lib.sh"

BROWSER_DIR=$TOP/tests/browser
if [[ ! -d $BROWSER_DIR/node_modules/playwright-core || ! -x /usr/bin/chromium ]] ||
	! command -v node >/dev/null; then
	echo "1..0 # SKIP node, chromium or tests/browser/node_modules missing (run npm ci in tests/browser)"
	exit 0
fi
addr=browser-reg-$RANDOM$RANDOM@example.org
printf 'address,kind,question,answer,recovery_email\r\n%s,registered,,,\r\n' "$addr" >"$WORK/reg.csv"
tok=
ctl recipients import --lab "$LAB_NAME" "$WORK/reg.csv" >/dev/null &&
	tok=$(seal "$addr" --header "Subject: Results $MARK" --body "HbA1c 6.9 % $MARK")
if [[ -z $tok ]]; then
	echo "not ok 1 - a message to a registered patient is sealed"
	echo "1..1"
	exit 1
fi
out=${top_builddir:-$TOP}/tests/browser/out
mkdir -p "$out"
REG_LINK=$PORTAL_URL/m/$tok MARK=$MARK SINK_DIR=$SINK_DIR ADDRESS=$addr OUT=$out \
	node "$BROWSER_DIR/register.mjs"
