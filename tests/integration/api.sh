#!/bin/bash
# api.sh - /api/v1/ through nginx with per-lab API keys: every endpoint,
# JSON errors with the right codes, lab isolation (another lab's key gets
# 404 and changes nothing), recipients by JSON and CSV through the one
# import path (all or nothing, bad rows by index or line), and a retraction
# the patient sees at once, also in a session already open.
SRC_ADDR=127.0.0.31
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

sql "DELETE FROM rate_limits"
tag=a$RANDOM$RANDOM
labb=apib$tag
ref="API-$tag"
keya=$(ctl apikey create --lab "$LAB_NAME" --label "api test" 2>/dev/null)
ctl lab add "$labb" >/dev/null 2>&1
keyb=$(ctl apikey create --lab "$labb" --label "api test b" 2>/dev/null)
[[ $keya == smk_* && $keyb == smk_* ]] && ok "API keys for two labs" || notok "keys: $keya / $keyb"

# api KEY METHOD PATH [curl args...]: prints the status; body in $WORK/body.
api() {
	local key=$1 method=$2 path=$3
	shift 3
	pcurl "$path" -X "$method" ${key:+-H "Authorization: Bearer $key"} "$@"
}
# jq_ EXPR: evaluates a Python expression over the last body (as j).
jq_() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/body" "$1" 2>&1; }
errcode() { jq_ 'j["error"]["code"]'; }

addr=api-$tag@example.net
tok=$(seal_qa "$addr" 1980 --header "X-Sealmail-Reference: $ref" --body "$MARK")
mid=$(sql "SELECT message_id FROM deliveries WHERE address = '$addr'")
did=$(delivery_of "$addr")
[[ -n $tok && ${#mid} == 32 ]] && ok "a message sealed through Postfix" || notok "seal: tok=$tok mid=$mid"

# Authentication.
st=$(api "" GET "/api/v1/messages/$mid")
[[ $st == 401 && $(errcode) == unauthorized ]] && [[ -n $(hdr WWW-Authenticate) ]] &&
	ok "no key: 401 with a JSON error and WWW-Authenticate" || notok "no key: $st $(cat "$WORK/body")"
[[ $(hdr Content-Type) == application/json* ]] && ok "errors are application/json" || notok "ctype: $(hdr Content-Type)"
st=$(api "smk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET "/api/v1/messages/$mid")
[[ $st == 401 ]] && ok "an unknown key: 401" || notok "bad key: $st"
st=$(api "${keya%?}x" GET "/api/v1/messages/$mid")
[[ $st == 401 ]] && ok "a key with a wrong secret: 401" || notok "wrong secret: $st"
st=$(pcurl "/api/v1/messages/$mid" -H "Authorization: Basic $keya")
[[ $st == 401 ]] && ok "a key not sent as Bearer: 401" || notok "basic: $st"
keyr=$(ctl apikey create --lab "$LAB_NAME" --label revoked 2>/dev/null)
ctl apikey revoke "${keyr:4:12}" >/dev/null 2>&1
st=$(api "$keyr" GET "/api/v1/messages/$mid")
[[ $st == 401 ]] && ok "a revoked key: 401" || notok "revoked: $st"

# Status.
st=$(api "$keya" GET "/api/v1/messages/$mid")
[[ $st == 200 && $(jq_ 'j["id"], j["state"], j["reference"], j["deliveries"][0]["address"]') == "('$mid', 'active', '$ref', '$addr')" ]] &&
	ok "GET /messages/{id}: status with reference and deliveries" || notok "status: $st $(cat "$WORK/body")"
check "API responses carry the security headers" security_headers
[[ $(sql "SELECT last_used IS NOT NULL FROM api_keys WHERE prefix = '${keya:4:12}'") == 1 ]] &&
	ok "the key's last use is recorded" || notok "last_used"
st=$(api "$keyb" GET "/api/v1/messages/$mid")
[[ $st == 404 && $(errcode) == not_found ]] && ok "another lab's key: 404 for the message" || notok "isolation: $st"
st=$(api "$keya" GET "/api/v1/messages/0123456789abcdef0123456789abcdef")
[[ $st == 404 ]] && ok "an unknown id: the same 404" || notok "unknown: $st"
st=$(api "$keya" GET "/api/v1/messages/..%2F..%2Fetc")
[[ $st == 404 ]] && ok "a malformed id: 404" || notok "malformed: $st"
st=$(api "$keya" DELETE "/api/v1/messages/$mid")
[[ $st == 405 && $(hdr Allow) == GET ]] && ok "a wrong method: 405 with Allow" || notok "405: $st"

# List by reference.
st=$(api "$keya" GET "/api/v1/messages?reference=$ref")
[[ $st == 200 && $(jq_ '[m["id"] for m in j["messages"]]') == "['$mid']" ]] &&
	ok "GET /messages?reference= finds the message" || notok "list: $st $(cat "$WORK/body")"
st=$(api "$keyb" GET "/api/v1/messages?reference=$ref")
[[ $st == 200 && $(jq_ 'len(j["messages"])') == 0 ]] && ok "another lab's key lists none of it" || notok "list b: $st"
st=$(api "$keya" GET "/api/v1/messages?limit=0")
[[ $st == 400 && $(errcode) == bad_parameter ]] && ok "limit=0: 400" || notok "limit: $st"

# Events, paged.
pcurl "/m/$tok" >/dev/null
st=$(api "$keya" GET "/api/v1/messages/$mid/events")
[[ $st == 200 && $(jq_ '[e["kind"] for e in j["events"]][:1]') == "['sealed']" ]] &&
	grep -q link_fetched "$WORK/body" && ok "GET /events: the timeline" || notok "events: $st $(cat "$WORK/body")"
n=$(jq_ 'len(j["events"])')
st=$(api "$keya" GET "/api/v1/messages/$mid/events?limit=1&page=2")
[[ $st == 200 && $(jq_ 'len(j["events"])') == 1 && $n -ge 2 ]] && ok "events are paged" || notok "paging: $st n=$n"
st=$(api "$keyb" GET "/api/v1/messages/$mid/events")
[[ $st == 404 ]] && ok "another lab's key: 404 for the events" || notok "events b: $st"

# Expiry.
st=$(api "$keya" POST "/api/v1/messages/$mid/expiry" -H 'Content-Type: application/json' -d '{"expires":"30d"}')
want=$(( $(date +%s) + 30 * 86400 ))
got=$(sql "SELECT expires FROM messages WHERE id = '$mid'")
[[ $st == 200 && $(( got - want )) -le 5 && $(( want - got )) -le 5 ]] &&
	ok "POST /expiry 30d sets the expiry" || notok "expiry: $st got=$got want=$want"
[[ $(sql "SELECT COUNT(*) FROM events WHERE message_id = '$mid' AND kind = 'expiry_changed'") == 1 ]] &&
	ok "and records expiry_changed" || notok "expiry event"
st=$(api "$keya" POST "/api/v1/messages/$mid/expiry" -H 'Content-Type: application/json' -d '{"expires":"11y"}')
[[ $st == 422 && $(errcode) == bad_expires ]] && ok "11y: 422" || notok "11y: $st"
st=$(api "$keya" POST "/api/v1/messages/$mid/expiry" -H 'Content-Type: application/json' -d '{"expires":30}')
[[ $st == 422 ]] && ok "a number instead of a string: 422" || notok "type: $st"
st=$(api "$keya" POST "/api/v1/messages/$mid/expiry" -H 'Content-Type: application/json' -d 'expires=30d')
[[ $st == 400 && $(errcode) == not_json ]] && ok "not JSON: 400" || notok "not json: $st"
st=$(api "$keyb" POST "/api/v1/messages/$mid/expiry" -H 'Content-Type: application/json' -d '{"expires":"1d"}')
[[ $st == 404 && $(sql "SELECT expires FROM messages WHERE id = '$mid'") == "$got" ]] &&
	ok "another lab's key cannot change the expiry" || notok "expiry b: $st"

# Unlock.
sql "UPDATE deliveries SET failed_attempts = 9, locked_until = UNIX_TIMESTAMP() + 3600 WHERE id = $did"
st=$(api "$keyb" POST "/api/v1/deliveries/$did/unlock")
[[ $st == 404 && $(sql "SELECT locked_until IS NOT NULL FROM deliveries WHERE id = $did") == 1 ]] &&
	ok "another lab's key cannot unlock" || notok "unlock b: $st"
st=$(api "$keya" POST "/api/v1/deliveries/$did/unlock")
[[ $st == 200 && $(sql "SELECT CONCAT(failed_attempts, COALESCE(locked_until, '-')) FROM deliveries WHERE id = $did") == 0- ]] &&
	ok "POST /deliveries/{id}/unlock clears the lock" || notok "unlock: $st"

# Recipients.
r1=r1-$tag@example.net r2=r2-$tag@example.net
st=$(api "$keya" PUT "/api/v1/recipients?dry_run=1" -H 'Content-Type: application/json' \
	-d "[{\"address\":\"$r1\",\"kind\":\"question\",\"question\":\"Year?\",\"answer\":\"1970\"}]")
[[ $st == 200 && $(jq_ 'j["rows"], j["dry_run"]') == "(1, True)" && $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$r1'") == 0 ]] &&
	ok "PUT /recipients?dry_run=1 checks and writes nothing" || notok "dry run: $st $(cat "$WORK/body")"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/json' \
	-d "[{\"address\":\"$r1\",\"kind\":\"question\",\"question\":\"Year?\",\"answer\":\"1970\"},{\"address\":\"$r2\",\"kind\":\"password\",\"answer\":\"s3cret-$tag\",\"recovery_email\":null}]")
[[ $st == 200 && $(jq_ 'j["rows"], j["inserted"]') == "(2, 2)" ]] && ok "PUT /recipients JSON imports" || notok "json import: $st $(cat "$WORK/body")"
[[ $(sql "SELECT COUNT(*) FROM recipients r JOIN labs l ON l.id = r.lab_id WHERE l.name = '$LAB_NAME' AND address IN ('$r1', '$r2') AND answer_hash LIKE '\$argon2id\$%'") == 2 ]] &&
	ok "for the key's lab, answers hashed with Argon2id" || notok "rows"
[[ $(sql "SELECT COUNT(*) FROM recipients WHERE answer_hash LIKE '%s3cret-$tag%'") == 0 ]] && ! grep -q "s3cret-$tag" "$WORK/body" &&
	ok "the answer is stored and echoed nowhere" || notok "answer leaked"
r3=r3-$tag@example.net
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/json' \
	-d "[{\"address\":\"$r3\",\"kind\":\"question\",\"question\":\"Q\",\"answer\":\"a\"},{\"address\":\"x'); DROP TABLE recipients; --<script>\",\"kind\":\"question\",\"question\":\"Q\",\"answer\":\"a\"}]")
[[ $st == 422 && $(errcode) == invalid_rows && $(jq_ 'j["error"]["errors"][0]["index"]') == 1 ]] &&
	[[ $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$r3'") == 0 ]] &&
	ok "a hostile record: 422 by index, nothing written" || notok "hostile json: $st $(cat "$WORK/body")"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/json' \
	-d "[{\"address\":\"$r3\",\"kind\":\"question\",\"question\":\"Q\",\"answer\":\"a\"},{\"address\":[1],\"kind\":\"question\"}]")
[[ $st == 422 && $(jq_ 'j["error"]["errors"][0]["index"]') == 1 && $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$r3'") == 0 ]] &&
	ok "a field of the wrong type: 422 by index, nothing written" || notok "types: $st $(cat "$WORK/body")"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/json' -d '{"address":"x"}')
[[ $st == 400 && $(errcode) == not_array ]] && ok "an object instead of an array: 400" || notok "not array: $st"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/json' -d '[{"address": "a@b.c",')
[[ $st == 400 && $(errcode) == not_json ]] && ok "broken JSON: 400" || notok "broken: $st"
printf 'address,kind,question,answer\n%s,question,Year?,1970\n"bad<b>row,question,Q,a\n' "$r3" > "$WORK/r.csv"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: text/csv' --data-binary "@$WORK/r.csv")
[[ $st == 422 && $(jq_ 'j["error"]["errors"][0]["line"]') == 3 && $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$r3'") == 0 ]] &&
	ok "CSV with an unbalanced quote on line 3: 422 by line, nothing written" || notok "csv bad: $st $(cat "$WORK/body")"
printf 'address,kind,question,answer\n%s,question,Year?,1970\n' "$r3" > "$WORK/r.csv"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: text/csv' --data-binary "@$WORK/r.csv")
[[ $st == 200 && $(sql "SELECT COUNT(*) FROM recipients WHERE address = '$r3'") == 1 ]] &&
	ok "PUT /recipients CSV imports" || notok "csv: $st $(cat "$WORK/body")"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/xml' -d '<x/>')
[[ $st == 415 ]] && ok "another media type: 415" || notok "415: $st"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'a' > "$WORK/big"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: text/csv' --data-binary "@$WORK/big")
[[ $st == 413 && $(errcode) == too_large ]] && ok "a 9 MB body: 413 as JSON" || notok "413: $st"
st=$(api "$keya" PUT "/api/v1/recipients" -H 'Content-Type: application/json' -d '[]')
[[ $st == 422 && $(errcode) == empty ]] && ok "an empty array: 422" || notok "empty: $st"

# Rate limit per key: the count is in rate_limits (scope api); a key over
# its limit gets 429 with Retry-After, another lab's key is unaffected.
sql "DELETE FROM rate_limits WHERE scope = 'api'"
api "$keya" GET "/api/v1/messages/$mid" >/dev/null
api "$keya" GET "/api/v1/messages/$mid" >/dev/null
[[ $(sql "SELECT MAX(hits) FROM rate_limits WHERE scope = 'api'") == 2 ]] &&
	ok "API requests are counted per key" || notok "api hits: $(sql "SELECT scope, hits FROM rate_limits")"
sql "UPDATE rate_limits SET hits = 1000000 WHERE scope = 'api'"
st=$(api "$keya" GET "/api/v1/messages/$mid")
[[ $st == 429 && $(errcode) == rate_limited && $(hdr Retry-After) =~ ^[0-9]+$ ]] &&
	ok "a key over its limit: 429 with Retry-After" || notok "429: $st $(cat "$WORK/body")"
st=$(api "$keyb" GET "/api/v1/messages/$mid")
[[ $st == 404 ]] && ok "another key is not limited by it" || notok "other key: $st"
sql "DELETE FROM rate_limits WHERE scope = 'api'"

# Retract by reference: every message of the reference, this lab's only.
rref="APIREF-$tag"
r1=$(seal_qa "ref1-$tag@example.net" 1980 --header "X-Sealmail-Reference: $rref" --body "$MARK")
r2=$(seal_qa "ref2-$tag@example.net" 1980 --header "X-Sealmail-Reference: $rref" --body "$MARK")
[[ -n $r1 && -n $r2 ]] && ok "two messages sealed with one reference" || notok "ref seal: $r1 $r2"
st=$(api "$keyb" POST "/api/v1/messages/retract?reference=$rref")
[[ $st == 200 && $(jq_ 'j["retracted"]') == 0 ]] &&
	ok "another lab's key retracts none of them" || notok "ref b: $st $(cat "$WORK/body")"
st=$(api "$keya" POST "/api/v1/messages/retract")
[[ $st == 400 && $(errcode) == bad_parameter ]] && ok "retract without a reference: 400" || notok "ref none: $st"
st=$(api "$keya" POST "/api/v1/messages/retract?reference=$rref")
[[ $st == 200 && $(jq_ 'j["retracted"]') == 2 &&
	$(sql "SELECT COUNT(*) FROM messages WHERE reference = '$rref' AND retracted IS NOT NULL") == 2 ]] &&
	ok "POST /messages/retract?reference= retracts both" || notok "ref a: $st $(cat "$WORK/body")"
st=$(pcurl "/m/$r1")
[[ $st == 410 ]] && ok "and their links are refused" || notok "ref link: $st"

# Retract: refused to the patient at once, also in an open session.
st=$(verify "$tok" 1980 "$WORK/jar")
st2=$(pcurl "/m/$tok/view" -b "$WORK/jar")
[[ $st == 303 && $st2 == 200 ]] && ok "the patient reads the message" || notok "read: $st $st2"
st=$(api "$keyb" POST "/api/v1/messages/$mid/retract")
[[ $st == 404 && $(sql "SELECT retracted IS NULL FROM messages WHERE id = '$mid'") == 1 ]] &&
	ok "another lab's key cannot retract" || notok "retract b: $st"
st=$(api "$keya" GET "/api/v1/messages/$mid/retract")
[[ $st == 405 ]] && ok "GET on retract: 405" || notok "retract GET: $st"
st=$(api "$keya" POST "/api/v1/messages/$mid/retract")
[[ $st == 200 && $(jq_ 'j["changed"]') == True ]] && ok "POST /retract" || notok "retract: $st $(cat "$WORK/body")"
st=$(pcurl "/m/$tok/view" -b "$WORK/jar")
[[ $st == 410 ]] && ok "the open session is refused at once" || notok "session after retract: $st"
st=$(pcurl "/m/$tok")
[[ $st == 410 ]] && ok "and the link" || notok "link after retract: $st"
st=$(api "$keya" GET "/api/v1/messages/$mid")
[[ $st == 200 && $(jq_ 'j["state"]') == retracted ]] && ok "the status says retracted" || notok "state: $st"
st=$(api "$keya" POST "/api/v1/messages/$mid/expiry" -H 'Content-Type: application/json' -d '{"expires":"30d"}')
[[ $st == 409 ]] && ok "a retracted message keeps its expiry: 409" || notok "expiry retracted: $st"
[[ $(sql "SELECT COUNT(*) FROM events WHERE message_id = '$mid' AND kind = 'retracted' AND detail LIKE '%apikey:%'") -ge 1 ||
	$(sql "SELECT COUNT(*) FROM events WHERE message_id = '$mid' AND kind = 'retracted'") -ge 1 ]] &&
	ok "the retraction is in the events" || notok "retract event"

tap_done
