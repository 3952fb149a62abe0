#!/bin/bash
# admin_pages.sh - /admin/ through nginx with curl: login with password and
# TOTP (oathtool), lockout, CSRF on every POST, hashed HttpOnly session,
# roles (a viewer only reads), lab isolation, the message list and
# timeline, retract / expiry / unlock seen by the patient at once, the
# recipients upload (bad rows by line, nothing written; dry run), the
# audit CSV export, logout and a disabled user's session.
SRC_ADDR=127.0.0.32
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

command -v oathtool >/dev/null || { echo "1..0 # SKIP oathtool missing (contrib/deps installs it)"; exit 0; }
sql "DELETE FROM rate_limits"
tag=ad$RANDOM$RANDOM
labb=admb$tag
ref="ADM-$tag"
ctl lab add "$labb" >/dev/null 2>&1

# user_add LAB ROLE LOGIN: creates the user; sets PW and SECRET.
user_add() {
	local out
	out=$(ctl user add --lab "$1" --role "$2" "$3" 2>&1) || return 1
	PW=$(sed -n 's/^password: //p' <<<"$out")
	SECRET=$(sed -nE 's/.*secret=([A-Z2-7]+).*/\1/p' <<<"$out")
	[[ -n $PW && -n $SECRET ]]
}
# code SECRET [SECONDS-AHEAD]: the TOTP code.
code() { oathtool --totp -b --now "@$(( $(date +%s) + ${2:-0} ))" "$1" 2>/dev/null ||
	oathtool --totp -b -N "$(date -u -d "@$(( $(date +%s) + ${2:-0} ))" '+%Y-%m-%d %H:%M:%S UTC')" "$1"; }
# login JAR LOGIN PASSWORD CODE: fetches the form, posts it; prints the status.
login() {
	local jar=$1 csrf
	pcurl /admin/login -c "$jar" -b "$jar" >/dev/null
	csrf=$(csrf_of)
	pcurl /admin/login -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" \
		--data-urlencode "login=$2" --data-urlencode "password=$3" --data-urlencode "code=$4"
}
# post JAR PATH [curl args]: a POST with the CSRF token of the last page.
post() {
	local jar=$1 path=$2 csrf
	csrf=$(csrf_of)
	shift 2
	pcurl "$path" -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" "$@"
}
adm=admin-$tag@stack.test view=viewer-$tag@stack.test other=other-$tag@stack.test lock=lock-$tag@stack.test
user_add "$LAB_NAME" sender-admin "$adm" && apw=$PW asec=$SECRET
user_add "$LAB_NAME" viewer "$view" && vpw=$PW vsec=$SECRET
user_add "$labb" sender-admin "$other" && opw=$PW osec=$SECRET
user_add "$LAB_NAME" sender-admin "$lock" && lpw=$PW lsec=$SECRET
[[ -n ${apw:-} && -n ${vpw:-} && -n ${opw:-} && -n ${lpw:-} ]] && ok "lab users for two labs" || notok "users"

addr=adm-$tag@example.net
tok=$(seal_qa "$addr" 1980 --header "X-Sealmail-Reference: $ref" --body "$MARK")
mid=$(sql "SELECT message_id FROM deliveries WHERE address = '$addr'")
did=$(delivery_of "$addr")
[[ ${#mid} == 32 ]] && ok "a message sealed through Postfix" || notok "seal: $mid"
pcurl "/m/$tok" -A '=HYPERLINK("http://evil/")' >/dev/null

# Login.
st=$(pcurl /admin/messages)
[[ $st == 303 && $(hdr Location) == /admin/login ]] && ok "no session: the messages page sends to the login" || notok "no session: $st"
st=$(pcurl /admin/login -c "$WORK/a" -b "$WORK/a")
[[ $st == 200 ]] && grep -q 'name="code"' "$WORK/body" && grep -qi '^Set-Cookie: sm_apre=.*HttpOnly; Secure; SameSite=Strict' "$WORK/head" &&
	ok "the login form asks for login, password and code" || notok "login form: $st"
check "the admin pages carry the security headers" security_headers
st=$(login "$WORK/a" "$adm" "$apw" 000000)
[[ $st == 403 ]] && grep -q 'not correct' "$WORK/body" && ! grep -qi '^Set-Cookie: sm_admin=' "$WORK/head" &&
	ok "a wrong TOTP code is refused, no session" || notok "wrong code: $st"
st=$(pcurl /admin/login -c "$WORK/a" -b "$WORK/a" --data-urlencode "login=$adm" --data-urlencode "password=$apw" --data-urlencode "code=$(code "$asec")")
[[ $st == 403 ]] && ! grep -qi '^Set-Cookie: sm_admin=' "$WORK/head" && ok "a login without its CSRF token is refused" || notok "login no csrf: $st"
st=$(login "$WORK/a" "$adm" "$apw" "$(code "$asec")")
cookie=$(grep -i '^Set-Cookie: sm_admin=' "$WORK/head" | tr -d '\r')
[[ $st == 303 && $(hdr Location) == /admin/messages ]] && ok "login with password and TOTP" || notok "login: $st $(cat "$WORK/body")"
grep -q 'HttpOnly; Secure; SameSite=Strict' <<<"$cookie" && grep -q 'Path=/admin/' <<<"$cookie" &&
	ok "the session cookie is HttpOnly, Secure, SameSite=Strict, on /admin/" || notok "cookie: $cookie"
sval=$(sed -E 's/^Set-Cookie: sm_admin=([^;]*).*/\1/I' <<<"$cookie")
want_hash=$(python3 -c 'import base64,hashlib,sys
s = sys.argv[1]; raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
print(hashlib.blake2b(raw, digest_size=32).hexdigest().upper())' "$sval")
[[ $(sql "SELECT HEX(s.id_hash) FROM admin_sessions s JOIN lab_users u ON u.id = s.user_id WHERE u.login = '$adm'") == "$want_hash" ]] &&
	ok "MariaDB keeps only a BLAKE2b hash of the session cookie" || notok "session row: want $want_hash"

# The list and the timeline.
st=$(pcurl "/admin/messages?reference=$ref" -b "$WORK/a")
[[ $st == 200 ]] && grep -q "/admin/messages/$mid" "$WORK/body" && ok "the list finds the message by reference" || notok "list: $st"
st=$(pcurl "/admin/messages?recipient=$addr" -b "$WORK/a")
grep -q "/admin/messages/$mid" "$WORK/body" && ok "and by recipient" || notok "by recipient: $st"
st=$(pcurl "/admin/messages?reference=$ref&from=2001-01-01&to=2001-01-02" -b "$WORK/a")
[[ $st == 200 ]] && ! grep -q "/admin/messages/$mid" "$WORK/body" && ok "a date range without it leaves it out" || notok "range: $st"
st=$(pcurl "/admin/messages?from=yesterday" -b "$WORK/a")
[[ $st == 400 ]] && ok "a malformed date: 400 with a hint" || notok "bad date: $st"
st=$(pcurl "/admin/messages/$mid" -b "$WORK/a")
[[ $st == 200 ]] && grep -q '>Sealed<' "$WORK/body" && grep -q 'Link fetched <span class="auto">(likely automated' "$WORK/body" &&
	grep -qF "$addr" "$WORK/body" && ok "the timeline shows sealed and a link fetch flagged as likely automated" || notok "timeline: $st"
grep -qF '=HYPERLINK(&quot;http://evil/&quot;)' "$WORK/body" && ok "user agents are shown escaped" || notok "ua escape"

href="<script>alert(1)</script>"
tok2=$(seal_qa "h-$tag@example.net" 1980 --header "X-Sealmail-Reference: $href$tag" --body "$MARK")
mid2=$(sql "SELECT message_id FROM deliveries WHERE address = 'h-$tag@example.net'")
st=$(pcurl "/admin/messages/$mid2" -b "$WORK/a")
[[ $st == 200 ]] && grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$WORK/body" && ! grep -qF "$href" "$WORK/body" &&
	ok "a hostile reference is HTML-escaped" || notok "escape: $st"

# Roles, CSRF and lab isolation on retract.
st=$(pcurl "/admin/messages/$mid/retract" -b "$WORK/a" -d 'x=1')
[[ $st == 403 && $(sql "SELECT retracted IS NULL FROM messages WHERE id = '$mid'") == 1 ]] &&
	ok "a retract without CSRF token is refused" || notok "retract no csrf: $st"
pcurl "/admin/messages/$mid" -b "$WORK/a" >/dev/null
st=$(pcurl "/admin/messages/$mid/retract" -b "$WORK/a" --data-urlencode "csrf=$(csrf_of)x")
[[ $st == 403 && $(sql "SELECT retracted IS NULL FROM messages WHERE id = '$mid'") == 1 ]] &&
	ok "a retract with a tampered CSRF token is refused" || notok "retract bad csrf: $st"
st=$(login "$WORK/v" "$view" "$vpw" "$(code "$vsec")")
[[ $st == 303 ]] && ok "a viewer logs in" || notok "viewer login: $st"
st=$(pcurl "/admin/messages/$mid" -b "$WORK/v")
[[ $st == 200 ]] && ! grep -q 'Retract this message' "$WORK/body" && ok "a viewer sees the message without actions" || notok "viewer page: $st"
st=$(post "$WORK/v" "/admin/messages/$mid/retract")
[[ $st == 403 && $(sql "SELECT retracted IS NULL FROM messages WHERE id = '$mid'") == 1 ]] &&
	ok "a viewer cannot retract" || notok "viewer retract: $st"
pcurl "/admin/messages/$mid" -b "$WORK/v" >/dev/null
st=$(post "$WORK/v" "/admin/messages/$mid/expiry" -d expires=90d)
[[ $st == 403 ]] && ok "nor change the expiry" || notok "viewer expiry: $st"
st=$(login "$WORK/o" "$other" "$opw" "$(code "$osec")")
[[ $st == 303 ]] && ok "a user of another lab logs in" || notok "other login: $st"
st=$(pcurl "/admin/messages/$mid" -b "$WORK/o")
[[ $st == 404 ]] && ok "another lab's user gets 404 for the message" || notok "isolation page: $st"
st=$(pcurl "/admin/messages?reference=$ref" -b "$WORK/o")
[[ $st == 200 ]] && ! grep -q "$mid" "$WORK/body" && ok "and does not see it in the list" || notok "isolation list: $st"
st=$(post "$WORK/o" "/admin/messages/$mid/retract")
[[ $st == 404 && $(sql "SELECT retracted IS NULL FROM messages WHERE id = '$mid'") == 1 ]] &&
	ok "nor can retract it" || notok "isolation retract: $st"
pcurl /admin/messages -b "$WORK/o" >/dev/null
st=$(post "$WORK/o" "/admin/deliveries/$did/unlock" -d "message=$mid")
[[ $st == 404 ]] && ok "nor unlock its delivery" || notok "isolation unlock: $st"
st=$(pcurl /admin/audit.csv -b "$WORK/o")
[[ $st == 200 ]] && grep -q '^id,time,kind' "$WORK/body" && ! grep -q "$mid" "$WORK/body" &&
	ok "nor export its events" || notok "isolation export: $st"

# Expiry and unlock.
pcurl "/admin/messages/$mid" -b "$WORK/a" >/dev/null
st=$(post "$WORK/a" "/admin/messages/$mid/expiry" -d expires=90d)
want=$(( $(date +%s) + 90 * 86400 )); got=$(sql "SELECT expires FROM messages WHERE id = '$mid'")
[[ $st == 303 && $(( got - want )) -le 5 && $(( want - got )) -le 5 ]] && ok "a sender-admin changes the expiry to 90 days" || notok "expiry: $st $got $want"
pcurl "/admin/messages/$mid" -b "$WORK/a" >/dev/null
grep -q '>Expiry changed<' "$WORK/body" && ok "and the timeline shows it" || notok "expiry in timeline"
st=$(post "$WORK/a" "/admin/messages/$mid/expiry" -d expires=11y)
[[ $st == 422 && $(sql "SELECT expires FROM messages WHERE id = '$mid'") == "$got" ]] && ok "11 years is refused" || notok "11y: $st"
sql "UPDATE deliveries SET failed_attempts = 7, locked_until = UNIX_TIMESTAMP() + 3600 WHERE id = $did"
pcurl "/admin/messages/$mid" -b "$WORK/a" >/dev/null
grep -q 'locked until' "$WORK/body" && ok "a locked delivery is shown locked" || notok "locked shown"
st=$(post "$WORK/a" "/admin/deliveries/$did/unlock" -d "message=$mid")
[[ $st == 303 && $(sql "SELECT CONCAT(failed_attempts, COALESCE(locked_until, '-')) FROM deliveries WHERE id = $did") == 0- ]] &&
	ok "unlock clears the lock" || notok "unlock: $st"

# Retract while the patient reads.
st=$(verify "$tok" 1980 "$WORK/p"); st2=$(pcurl "/m/$tok/view" -b "$WORK/p")
[[ $st == 303 && $st2 == 200 ]] && ok "the patient reads the message" || notok "patient: $st $st2"
pcurl "/admin/messages/$mid" -b "$WORK/a" >/dev/null
st=$(post "$WORK/a" "/admin/messages/$mid/retract")
[[ $st == 303 && $(sql "SELECT retracted IS NOT NULL FROM messages WHERE id = '$mid'") == 1 ]] && ok "a sender-admin retracts" || notok "retract: $st"
st=$(pcurl "/m/$tok/view" -b "$WORK/p")
[[ $st == 410 ]] && ok "the patient's open session is refused at once" || notok "after retract: $st"
pcurl "/admin/messages/$mid" -b "$WORK/a" >/dev/null
grep -q '>Retracted<' "$WORK/body" && grep -q 'Viewed' "$WORK/body" && ok "the timeline shows viewed and retracted" || notok "timeline after"

# One recipient's copy, and a whole reference.
ref2="ADM2-$tag"
t3=$(seal_qa "c1-$tag@example.net" 1980 --header "X-Sealmail-Reference: $ref2" --body "$MARK")
t4=$(seal_qa "c2-$tag@example.net" 1980 --header "X-Sealmail-Reference: $ref2" --body "$MARK")
d3=$(delivery_of "c1-$tag@example.net"); m3=$(sql "SELECT message_id FROM deliveries WHERE id = $d3")
pcurl "/admin/messages/$m3" -b "$WORK/a" >/dev/null
st=$(post "$WORK/a" "/admin/deliveries/$d3/retract" -d "message=$m3")
[[ $st == 303 && $(pcurl "/m/$t3") == 410 ]] && ok "retracting one recipient's copy refuses that link" || notok "delivery retract: $st"
pcurl "/admin/messages?reference=$ref2" -b "$WORK/a" >/dev/null
st=$(post "$WORK/a" /admin/references/retract --data-urlencode "reference=$ref2")
[[ $st == 200 && $(sql "SELECT COUNT(*) FROM messages WHERE reference = '$ref2' AND retracted IS NOT NULL") == 2 && $(pcurl "/m/$t4") == 410 ]] &&
	ok "retracting a reference retracts all its messages" || notok "reference retract: $st"

# Recipients upload.
upload() {
	local jar=$1 file=$2 csrf
	shift 2
	pcurl /admin/recipients -b "$jar" >/dev/null
	csrf=$(csrf_of)
	pcurl /admin/recipients -b "$jar" -F "csrf=$csrf" -F "file=@$file;type=text/csv" "$@"
}
good=u1-$tag@example.net
printf 'address,kind,question,answer\n%s,question,Year?,1970\n"x\x27); DROP TABLE recipients; --<script>alert(2)</script>@x",question,Q,a\n' "$good" > "$WORK/bad.csv"
st=$(upload "$WORK/a" "$WORK/bad.csv")
[[ $st == 422 ]] && grep -q 'line 3:' "$WORK/body" && ! grep -qF '<script>alert(2)' "$WORK/body" &&
	[[ $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$good'") == 0 ]] &&
	ok "a hostile row is reported by line, escaped, and nothing is written" || notok "bad upload: $st $(grep -A3 row-errors "$WORK/body")"
printf 'address,kind,question,answer\n%s,question,Year?,1970\n' "$good" > "$WORK/good.csv"
st=$(upload "$WORK/a" "$WORK/good.csv" -F dry_run=1)
[[ $st == 200 ]] && grep -q 'Dry run: 1 row' "$WORK/body" && [[ $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$good'") == 0 ]] &&
	ok "a dry run checks and writes nothing" || notok "dry run: $st"
st=$(upload "$WORK/a" "$WORK/good.csv")
[[ $st == 200 ]] && grep -q 'Imported 1 row' "$WORK/body" &&
	[[ $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$good' AND answer_hash LIKE '\$argon2id\$%'") == 1 ]] &&
	ok "the upload imports with hashed answers" || notok "upload: $st"
st=$(pcurl /admin/recipients -b "$WORK/a" -F "file=@$WORK/good.csv;type=text/csv")
[[ $st == 403 ]] && ok "an upload without CSRF token is refused" || notok "upload no csrf: $st"
st=$(upload "$WORK/v" "$WORK/good.csv")
[[ $st == 403 ]] && ok "a viewer cannot upload" || notok "viewer upload: $st"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'a' > "$WORK/big.csv"
st=$(upload "$WORK/a" "$WORK/big.csv")
[[ $st == 413 ]] && ok "a 9 MB upload: 413" || notok "big upload: $st"

# Audit export.
st=$(pcurl "/admin/audit.csv?reference=$ref" -b "$WORK/v")
[[ $st == 200 && $(hdr Content-Type) == text/csv* ]] && grep -q "\"sealed\",\"$mid\"" "$WORK/body" &&
	grep -q "\"retracted\",\"$mid\"" "$WORK/body" && ok "the audit CSV export (a viewer may read)" || notok "export: $st $(head -3 "$WORK/body")"
grep -qF "\"'=HYPERLINK(\"\"http://evil/\"\")\"" "$WORK/body" && ok "formula cells are defused in the export" || notok "formula: $(grep HYPER "$WORK/body" | head -2)"

# Lockout.
for i in 1 2 3 4 5; do login "$WORK/l" "$lock" "wrong-$i" "$(code "$lsec")" >/dev/null; done
st=$(login "$WORK/l" "$lock" "$lpw" "$(code "$lsec")")
[[ $st == 403 && $(sql "SELECT locked_until > UNIX_TIMESTAMP() FROM lab_users WHERE login = '$lock'") == 1 ]] &&
	ok "after five failures even the right password and code are refused (locked)" || notok "lockout: $st"

# Disabled user, logout.
ctl user disable "$view" >/dev/null 2>&1
st=$(pcurl /admin/messages -b "$WORK/v")
[[ $st == 303 ]] && ok "a disabled user's session ends at once" || notok "disabled: $st"
pcurl /admin/messages -b "$WORK/a" >/dev/null
st=$(post "$WORK/a" /admin/logout)
[[ $st == 303 && $(sql "SELECT COUNT(*) FROM admin_sessions s JOIN lab_users u ON u.id = s.user_id WHERE u.login = '$adm'") == 0 ]] &&
	ok "logout deletes the session" || notok "logout: $st"
st=$(pcurl /admin/messages -H "Cookie: sm_admin=$sval")
[[ $st == 303 ]] && ok "the old cookie no longer works" || notok "after logout: $st"

tap_done
