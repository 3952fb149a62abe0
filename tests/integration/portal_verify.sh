#!/bin/bash
# portal_verify.sh - POST /m/<token>: CSRF first, then the per-client rate
# limit and the lockout, then the normalised answer against its Argon2id
# hash; five failures lock with growing delays until the lab unlocks;
# success sets a hashed, delivery-bound session cookie and redirects.
SRC_ADDR=127.0.0.11
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

sql "DELETE FROM rate_limits"
addr=verify-$RANDOM@example.net
tok=$(seal_qa "$addr" 'Smith-Jones' --body "$MARK")
did=$(delivery_of "$addr")
jar=$WORK/jar

# CSRF: missing, tampered, without the cookie, from another link.
pcurl "/m/$tok" -c "$jar" -b "$jar" >/dev/null
csrf=$(csrf_of)
st=$(pcurl "/m/$tok" -c "$jar" -b "$jar" -d 'answer=smith+jones')
[[ $st == 403 ]] && grep -q 'This form has expired' "$WORK/body" &&
	ok "a POST without a CSRF token is refused with the form again" || notok "no csrf: $st"
st=$(pcurl "/m/$tok" -c "$jar" -b "$jar" --data-urlencode "csrf=${csrf%?}$([[ ${csrf: -1} == A ]] && echo B || echo A)" -d 'answer=smith+jones')
[[ $st == 403 ]] && ok "a tampered CSRF token is refused" || notok "tampered csrf: $st"
st=$(pcurl "/m/$tok" --data-urlencode "csrf=$csrf" -d 'answer=smith+jones')
[[ $st == 403 ]] && ok "a CSRF token without its pre-session cookie is refused" || notok "no cookie: $st"
addr_b=verify-b-$RANDOM@example.net
tok_b=$(seal_qa "$addr_b" 1980 --body "$MARK")
pcurl "/m/$tok_b" -c "$WORK/jar_b" -b "$WORK/jar_b" >/dev/null
csrf_b=$(csrf_of)
st=$(pcurl "/m/$tok" -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf_b" -d 'answer=smith+jones')
[[ $st == 403 ]] && ok "a CSRF token of another link is refused" || notok "foreign csrf: $st"
[[ $(sql "SELECT failed_attempts FROM deliveries WHERE id = $did") == 0 ]] &&
	[[ $(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind IN ('verify_failed', 'verified')") == 0 ]] &&
	ok "refused forms count as no attempt" || notok "a CSRF failure was counted"

# Wrong answers, then the lock.
st=$(verify "$tok" 'Smith-Jonas' "$jar")
[[ $st == 403 ]] && grep -q 'That answer is not correct' "$WORK/body" && grep -q 'aria-invalid="true"' "$WORK/body" &&
	grep -q 'role="alert"' "$WORK/body" &&
	ok "a wrong answer shows the form with an announced error" || notok "wrong answer: $st"
st=$(verify "$tok" '' "$jar")
[[ $st == 400 ]] && grep -q 'Please enter your answer' "$WORK/body" &&
	[[ $(sql "SELECT failed_attempts FROM deliveries WHERE id = $did") == 1 ]] &&
	ok "an empty answer is a slip, not an attempt" || notok "empty answer: $st"
for i in 2 3 4; do verify "$tok" "wrong$i" "$jar" >/dev/null; done
st=$(verify "$tok" 'wrong5' "$jar")
locked=$(sql "SELECT locked_until - UNIX_TIMESTAMP() FROM deliveries WHERE id = $did")
[[ $st == 429 ]] && grep -q 'locked' "$WORK/body" && [[ -n $(hdr Retry-After) ]] &&
	((locked > 800 && locked <= 900)) &&
	ok "the fifth failure locks the link for portal.lock_seconds" ||
	notok "fifth failure: status $st, locked for $locked s"
st=$(verify "$tok" 'smith jones' "$jar")
[[ $st == 429 ]] && [[ $(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind = 'verified'") == 0 ]] &&
	ok "while locked even the right answer is refused, before any hashing" || notok "locked right answer: $st"
ev=$(sql "SELECT kind, COALESCE(detail, '') FROM events WHERE delivery_id = $did AND kind IN ('verify_failed', 'locked') ORDER BY id" | tr '\t\n' ' |')
[[ $ev == *"verify_failed attempt=5|locked attempt=5 seconds=900|"* && $(grep -o verify_failed <<<"$ev" | wc -l) == 5 ]] &&
	ok "verify_failed per failure and one locked event are recorded" || notok "events: $ev"
check "no event, log or database column holds the answer" \
	bash -c "! mariadb-dump --no-defaults --socket='$MYSQL_SOCKET' sealmail events | grep -qi 'smith' && ! grep -qi 'smith' '$PORTAL_LOG'"

# A lock that ran out: the next failure locks again, twice as long.
sql "UPDATE deliveries SET locked_until = UNIX_TIMESTAMP() - 1 WHERE id = $did"
st=$(verify "$tok" 'wrong6' "$jar")
locked=$(sql "SELECT locked_until - UNIX_TIMESTAMP() FROM deliveries WHERE id = $did")
[[ $st == 429 ]] && ((locked > 1700 && locked <= 1800)) &&
	ok "a failure after a lock locks again for twice as long" || notok "second lock: $st, $locked s"

check "the lab unlocks the delivery with sealmailctl" ctl unlock --delivery "$did"
st=$(verify "$tok" '  smith JONES. ' "$jar")
cookie=$(grep -i '^Set-Cookie: sm_session=' "$WORK/head" | tr -d '\r')
[[ $st == 303 && $(hdr Location) == "/m/$tok/view?lang=en" ]] &&
	ok "the right answer, written differently, redirects (303) to the view" ||
	notok "right answer: $st" "$(cat "$WORK/head" "$WORK/body")"
[[ $cookie == *"; Path=/m/$tok;"* && $cookie == *HttpOnly* && $cookie == *Secure* && $cookie == *SameSite=Strict* ]] &&
	ok "the session cookie is HttpOnly, Secure, SameSite=Strict and scoped to the link" ||
	notok "cookie: $cookie"
sid=$(sed -E 's/^Set-Cookie: sm_session=([^;]*).*/\1/' <<<"$cookie")
row=$(sql "SELECT COUNT(*), MAX(expires - created) FROM sessions WHERE delivery_id = $did")
hex=$(python3 -c "import base64,sys; print(base64.urlsafe_b64decode(sys.argv[1] + '=').hex())" "$sid")
[[ $row == $'1\t7200' ]] && [[ $(sql "SELECT COUNT(*) FROM sessions WHERE HEX(id_hash) = UPPER('$hex')") == 0 ]] &&
	ok "the session is stored hashed, never as the cookie value" || notok "session row: $row"
[[ $(sql "SELECT failed_attempts, locked_until IS NULL FROM deliveries WHERE id = $did") == $'0\t1' ]] &&
	ok "success clears the failure count" || notok "failures not reset"
# A scanner fetched the link from elsewhere and never verified.
curl -s -o /dev/null --interface 127.0.0.14 -A 'Mozilla/5.0' -H 'Accept-Language: en' "$PORTAL_URL/m/$tok"
lf=$(sql "SELECT client_addr, likely_automated FROM link_fetches WHERE delivery_id = $did ORDER BY id" | sort -u | tr '\t\n' ' |')
[[ $lf == *"127.0.0.11 0|"* && $lf == *"127.0.0.14 1|"* ]] &&
	ok "link_fetches tells the patient's fetches from one never followed by a verification" ||
	notok "link_fetches: $lf"

# The per-client limit holds across links: 20 attempts in the window, then 429.
SRC_ADDR=127.0.0.12
sql "DELETE FROM rate_limits"
addr_r=rate-$RANDOM@example.net
tok_r=$(seal_qa "$addr_r" 1980 --body "$MARK")
codes=
for i in $(seq 1 20); do
	if ((i % 2)); then t=$tok_r; else t=$tok_b; fi
	codes+="$(verify "$t" "nope$i" "$WORK/jar_r") "
	sleep 0.1
	sql "UPDATE deliveries SET failed_attempts = 0, locked_until = NULL WHERE id IN ($(delivery_of "$addr_r"), $(delivery_of "$addr_b"))"
done
st=$(verify "$tok_r" 1980 "$WORK/jar_r")
[[ $codes != *429* && $st == 429 ]] && grep -q 'Too many attempts' "$WORK/body" && [[ -n $(hdr Retry-After) ]] &&
	ok "the 21st attempt from one address across two links is rate-limited" ||
	notok "rate limit: $codes then $st"
SRC_ADDR=127.0.0.13
st=$(verify "$tok_r" 1980 "$WORK/jar_r2")
[[ $st == 303 ]] && ok "another client address is not affected" || notok "other address: $st"
sql "DELETE FROM rate_limits"
tap_done
