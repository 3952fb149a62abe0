#!/bin/bash
# portal_badinput.sh - hostile and broken input through nginx: huge and
# malformed forms, tampered ciphertext, the database going away.  Each
# gets a clear page with the security headers, and the workers live on.
SRC_ADDR=127.0.0.31
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

sql "DELETE FROM rate_limits"
addr=bad-$RANDOM@example.net
tok=$(seal_qa "$addr" 1980 --body "$MARK")
did=$(delivery_of "$addr")
jar=$WORK/jar
pcurl "/m/$tok" -c "$jar" -b "$jar" >/dev/null
csrf=$(csrf_of)

head -c 12000 /dev/zero | tr '\0' 'a' >"$WORK/big"
st=$(pcurl "/m/$tok" -b "$jar" --data-binary "@$WORK/big")
[[ $st == 413 ]] && grep -q 'The form was too large' "$WORK/body" &&
	ok "a form over portal.max_form_bytes gets the portal's 413 page" || notok "12 kB form: $st"
check "and it carries the security headers" security_headers
head -c 200000 /dev/zero | tr '\0' 'a' >"$WORK/huge"
st=$(pcurl "/m/$tok" -b "$jar" --data-binary "@$WORK/huge")
[[ $st == 413 ]] && ok "a 200 kB body is refused by nginx before the portal" || notok "200 kB: $st"
for bad in 'answer=%zz' 'answer=%' 'answer=%00x' 'answer=1&answer=2'; do
	st=$(pcurl "/m/$tok" -b "$jar" --data-binary "csrf=$csrf&$bad")
	[[ $st == 400 ]] || { notok "malformed form '$bad' gave $st"; continue; }
	ok "malformed form '$bad' is a 400 page"
done
st=$(pcurl "/m/$tok" -b "$jar" -H 'Content-Type: application/json' --data-binary '{"answer":"1980"}')
[[ $st == 400 ]] && ok "a non-form content type is refused" || notok "json body: $st"
[[ $(sql "SELECT failed_attempts FROM deliveries WHERE id = $did") == 0 ]] &&
	ok "none of them counted as an attempt" || notok "counted"
st=$(pcurl "/m/$tok/view%2e%2e")
[[ $st == 404 ]] && ok "an encoded path suffix is not a page" || notok "encoded suffix: $st"
st=$(pcurl "/m/$(printf 'x%.0s' {1..600})")
[[ $st == 414 || $st == 404 ]] && check "an over-long path gets a page with the headers" security_headers ||
	notok "long path: $st"

# A chunk changed in the database: nothing shown, the lab told.
st=$(verify "$tok" 1980 "$jar")
mid=$(sql "SELECT message_id FROM deliveries WHERE id = $did")
sql "UPDATE message_chunks SET data = CONCAT(LEFT(data, 40), CHAR(ASCII(SUBSTRING(data, 41, 1)) ^ 1), SUBSTRING(data, 42)) WHERE message_id = '$mid' AND idx = 0"
st=$(pcurl "/m/$tok/view" -b "$jar")
[[ $st == 500 ]] && grep -q 'This message cannot be shown' "$WORK/body" && ! grep -q "$MARK" "$WORK/body" &&
	ok "a tampered chunk gives the damaged page and shows nothing" || notok "tampered chunk: $st"
[[ $(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind = 'tamper_detected'") -ge 1 ]] &&
	[[ $(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind = 'viewed'") == 0 ]] &&
	ok "tamper_detected is recorded and no view" || notok "events: $(events_of "$did")"
st=$(pcurl "/m/$tok/eml" -b "$jar")
! grep -q "$MARK" "$WORK/body" && ok "the .eml of a tampered message yields none of its bytes" ||
	notok "tampered eml leaked"
addr2=bad2-$RANDOM@example.net
tok2=$(seal_qa "$addr2" 1980 --body "$MARK")
verify "$tok2" 1980 "$jar" >/dev/null
mid2=$(sql "SELECT message_id FROM deliveries WHERE address = '$addr2'")
sql "UPDATE message_chunks SET tag = REVERSE(tag) WHERE message_id = '$mid2'"
st=$(pcurl "/m/$tok2/view" -b "$jar")
[[ $st == 500 ]] && grep -q 'cannot be shown' "$WORK/body" && ok "a changed chunk tag fails the signature" ||
	notok "tampered tag: $st"

# The database goes away: 503 with the headers, the workers stay.
addr3=bad3-$RANDOM@example.net
tok3=$(seal_qa "$addr3" 1980 --body "$MARK")
before=$(worker_pids)
pcurl "/m/$tok3" >/dev/null
"$TOP/contrib/stack" db-stop "$STACK_DIR" >/dev/null 2>&1
st=$(pcurl "/m/$tok3")
[[ $st == 503 ]] && grep -q 'Temporarily unavailable' "$WORK/body" && [[ -n $(hdr Retry-After) ]] &&
	ok "with the database gone the pickup page is a clear 503" || notok "db down: $st" "$(cat "$WORK/body")"
check "the 503 page carries the security headers" security_headers
st=$(pcurl "/m/$tok3/view" -b "$jar")
[[ $st == 503 ]] && ok "and so is the view" || notok "view with db down: $st"
"$TOP/contrib/stack" db-start "$STACK_DIR" >/dev/null 2>&1
st=$(pcurl "/m/$tok3")
[[ $st == 200 ]] && ok "the database back, the same link works again" || notok "db back: $st"
[[ $(worker_pids) == "$before" ]] && ok "no worker died on the way" ||
	notok "workers changed: $before -> $(worker_pids)"
sql "DELETE FROM rate_limits"
tap_done
