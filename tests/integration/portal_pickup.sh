#!/bin/bash
# portal_pickup.sh - GET /m/<token>: the branded form with the question and
# the expiry; nothing changes but a link_fetched event; unknown and
# malformed tokens look the same; expired and retracted links get their
# own clear page; the language follows Accept-Language and the switch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

addr=pickup-$RANDOM@example.net
tok=$(seal_qa "$addr" 1980 --body "$MARK")
[[ -n $tok ]] && ok "a sealed message's notice has a link" || notok "no link in the notice"
did=$(delivery_of "$addr")

st=$(pcurl "/m/$tok")
[[ $st == 200 ]] && grep -q 'Year of birth?' "$WORK/body" &&
	grep -q 'Stack Test Laboratory' "$WORK/body" &&
	grep -qE 'until <strong>[0-9]+ [A-Z][a-z]+ 20[0-9]{2}</strong>' "$WORK/body" &&
	ok "pickup page shows the lab, the question and the expiry" ||
	notok "pickup page" "$(cat "$WORK/head" "$WORK/body")"
check "pickup page carries every security header" security_headers
grep -q 'name="csrf"' "$WORK/body" && grep -qi '^Set-Cookie: sm_pre=.*HttpOnly; Secure; SameSite=Strict' "$WORK/head" &&
	ok "the form has a CSRF token bound to a pre-session cookie" ||
	notok "CSRF token or cookie missing" "$(cat "$WORK/head")"
grep -q "$MARK" "$WORK/body" && notok "pickup page reveals the body" || ok "pickup page reveals nothing of the message"

for i in 1 2 3 4 5 6 7 8; do pcurl "/m/$tok" -A 'Mozilla/5.0' -H 'Accept-Language: en' >/dev/null; done
row=$(sql "SELECT failed_attempts, COALESCE(locked_until, 0), COALESCE(first_opened, 0) FROM deliveries WHERE id = $did")
[[ $row == $'0\t0\t0' ]] && ok "nine GETs change no delivery state" || notok "delivery changed by GET: $row"
n=$(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind = 'link_fetched'")
other=$(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind NOT IN ('link_fetched', 'notified')")
[[ $n == 9 && $other == 0 ]] && ok "each GET is recorded as link_fetched and as nothing else" ||
	notok "link_fetched=$n other=$other"
auto=$(sql "SELECT COUNT(*) FROM events WHERE delivery_id = $did AND kind = 'link_fetched' AND detail = 'automated=likely'")
[[ $auto == 1 ]] && ok "a fetch without Accept-Language is flagged as likely automated" ||
	notok "automated flags: $auto (want 1: the bare curl, not the browser-like ones)"

# Unknown and malformed tokens: same status, same page (up to the nonce).
norm() { sed -E 's/nonce-[A-Za-z0-9_-]+/nonce-X/; s/nonce="[^"]*"/nonce="X"/' "$WORK/body"; }
unknown=$(tr 'A-Za-z' 'N-ZA-Mn-za-m' <<<"$tok")
declare -A seen=()
for t in "$unknown" "${tok:0:20}" "${tok}x" "$(printf 'A%.0s' {1..300})" '%3Cscript%3E' "${tok:0:42}!"; do
	st=$(pcurl "/m/$t")
	seen["$st $(norm | sha256sum | cut -c1-16)"]=1
done
((${#seen[@]} == 1)) && [[ ${!seen[*]} == 404* ]] &&
	ok "unknown, truncated, over-long and malformed tokens get one identical 404 page" ||
	notok "unknown-token pages differ: ${!seen[*]}"
grep -q 'This link does not work' "$WORK/body" && ! grep -q 'Stack Test' "$WORK/body" &&
	ok "the unknown-link page is clear and names no lab" || notok "unknown page" "$(cat "$WORK/body")"
check "the unknown-link page carries every security header" security_headers

# Timing: a malformed token costs the same indexed lookup as an unknown
# one.  Medians of interleaved runs, so a scheduling hiccup does not count.
: >"$WORK/t_unknown"; : >"$WORK/t_bad"
for i in $(seq 1 31); do
	curl -s -o /dev/null -w '%{time_total}\n' "$PORTAL_URL/m/$unknown" >>"$WORK/t_unknown"
	curl -s -o /dev/null -w '%{time_total}\n' "$PORTAL_URL/m/short$i" >>"$WORK/t_bad"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m_unknown=$(median "$WORK/t_unknown")
m_bad=$(median "$WORK/t_bad")
if awk -v a="$m_unknown" -v b="$m_bad" 'BEGIN { r = a / b; if (r < 1) r = 1 / r; exit !(r < 2) }'; then
	ok "unknown and malformed tokens take similar time (medians ${m_unknown}s, ${m_bad}s)"
else
	notok "timing differs: median unknown ${m_unknown}s, malformed ${m_bad}s"
fi

# Spanish from Accept-Language, English from the switch.
st=$(pcurl "/m/$tok" -H 'Accept-Language: es-ES,es;q=0.9,en;q=0.5')
grep -q 'Tiene un mensaje seguro' "$WORK/body" && grep -q '<html lang="es">' "$WORK/body" &&
	grep -q "href=\"/m/$tok?lang=en\"" "$WORK/body" &&
	ok "Accept-Language es gives the Spanish page with a switch to English" ||
	notok "Spanish page" "$(head -40 "$WORK/body")"
st=$(pcurl "/m/$tok?lang=en" -H 'Accept-Language: es')
grep -q 'You have a secure message' "$WORK/body" && ok "?lang=en overrides Accept-Language" ||
	notok "lang switch"

# Expired and retracted messages.
addr2=expired-$RANDOM@example.net
tok2=$(seal_qa "$addr2" 1980 --body "$MARK")
mid2=$(sql "SELECT message_id FROM deliveries WHERE address = '$addr2'")
sql "UPDATE messages SET expires = UNIX_TIMESTAMP() - 10 WHERE id = '$mid2'"
st=$(pcurl "/m/$tok2")
[[ $st == 410 ]] && grep -q 'This message has expired' "$WORK/body" &&
	ok "an expired link gets the expired page (410)" || notok "expired: $st" "$(cat "$WORK/body")"
addr3=retracted-$RANDOM@example.net
tok3=$(seal_qa "$addr3" 1980 --body "$MARK")
sql "UPDATE deliveries SET retracted = UNIX_TIMESTAMP() WHERE address = '$addr3'"
st=$(pcurl "/m/$tok3")
[[ $st == 410 ]] && grep -q 'This message was withdrawn' "$WORK/body" &&
	ok "a retracted link gets the withdrawn page (410)" || notok "retracted: $st" "$(cat "$WORK/body")"
st=$(pcurl "/m/$tok3" -X POST -d 'csrf=x&answer=1980')
[[ $st == 410 ]] && ok "a POST to a retracted link gets the same page" || notok "retracted POST: $st"

addr4=purged-$RANDOM@example.net
tok4=$(seal_qa "$addr4" 1980 --body "$MARK")
sql "UPDATE messages SET purged = UNIX_TIMESTAMP(), sealed_key = NULL WHERE id = (SELECT message_id FROM deliveries WHERE address = '$addr4')"
st=$(pcurl "/m/$tok4")
[[ $st == 410 ]] && grep -q 'This message has been deleted' "$WORK/body" &&
	ok "a purged message gets the deleted page (410)" || notok "purged: $st"

st=$(pcurl "/nothing-here")
[[ $st == 404 ]] && ok "paths outside /m/ are 404" || notok "other path: $st"
st=$(pcurl "/m/$tok" -I)
[[ $st == 200 ]] && ok "HEAD on the pickup page is answered (scanners probe with it)" || notok "HEAD pickup: $st"
st=$(pcurl "/m/$tok/eml" -I)
[[ $st == 405 && $(hdr Allow) == GET ]] && ok "HEAD on the message is refused: nothing decrypted, no download counted" ||
	notok "HEAD eml: $st"
st=$(pcurl "/m/$tok/view" -X DELETE)
[[ $st == 405 ]] && check "a wrong method is 405 with the security headers" security_headers ||
	notok "DELETE gave $st"
tap_done
