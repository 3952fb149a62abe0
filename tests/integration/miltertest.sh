#!/bin/bash
# miltertest.sh - runs the miltertest(8) scripts of tests/milter against
# the milter the stack runs (no MTA in between): policy, header removal,
# replies and the abort/close paths.  Each script's own "ok"/"not ok"
# lines become TAP lines here, prefixed with the script's name; a script
# that dies before its plan counts as one failure.
set -u
. "$(dirname "$0")/lib.sh"

dir=$(cd "$(dirname "$0")/../milter" && pwd)
export MILTER_SOCKET SASL_USER MT_DIR=$dir

for script in "$dir"/*.lua; do
	name=$(basename "$script" .lua)
	[[ $name == lib ]] && continue
	out=$(timeout 300 miltertest -s "$script" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$name: ${line#ok * - }" ;;
		"not ok "*) notok "$name: ${line#not ok * - }" "$(grep -A2 -F "$line" <<<"$out" | tail -n +2)" ;;
		esac
	done <<<"$out"
	if ((rc != 0)) || ! grep -qE '^1\.\.[0-9]+$' <<<"$out"; then
		notok "$name: ran to the end (exit $rc)" "$out"
	fi
done
check "no sanitizer report in the milter log" \
	bash -c '! grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$0"' "$MILTER_LOG"
tap_done
