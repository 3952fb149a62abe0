#!/bin/bash
# ctl_lifecycle.sh - tracking, retraction, expiry, unlock and purge with
# sealmailctl on mail sent through the stack's Postfix and milter.
set -u
. "$(dirname "$0")/lib.sh"

tag=l$RANDOM$RANDOM
ref="LC-$tag"
send() {
	swaks --server "127.0.0.1:$SMTP_PORT" --from lab@stack.test --to "$1" \
		--header 'X-Sealmail-Question: Year?' --header 'X-Sealmail-Answer: 1980' \
		--header "X-Sealmail-Reference: $2" --body "lifecycle $tag" --timeout 60 >/dev/null 2>&1
}
msgs() { sql "SELECT id FROM messages WHERE reference = '$1' ORDER BY created, id"; }
wait_msgs() {
	local i
	for i in $(seq 100); do
		[ "$(msgs "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

check "first message sent through Postfix" send "a1-$tag@example.net" "$ref"
check "the escrow has it" wait_msgs "$ref" 1
check "second message with the same reference" send "a2-$tag@example.net" "$ref"
check "a third with another reference" send "b-$tag@example.net" "$ref-B"
check "the escrow has both of the reference" wait_msgs "$ref" 2
check "and the third" wait_msgs "$ref-B" 1
m1=$(sql "SELECT message_id FROM deliveries WHERE address = 'a1-$tag@example.net'")
m2=$(sql "SELECT message_id FROM deliveries WHERE address = 'a2-$tag@example.net'")
mb=$(msgs "$ref-B")
d1=$(sql "SELECT id FROM deliveries WHERE message_id = '$m1'")

# Tracking.
check "events --reference finds the sealed events" \
	bash -c '[ "$("$0" -c "$1" events --lab "$2" --reference "$3" | grep -c " sealed ")" = 2 ]' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$LAB_NAME" "$ref"
check "events --recipient finds that recipient's message" \
	bash -c '"$0" -c "$1" events --recipient "a1-$2@example.net" | grep -q "msg='"$m1"'"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$tag"
check "events pages: limit 1 page 2 is the second event" \
	bash -c 'a=$("$0" -c "$1" events --reference "$2" --limit 2 | sed -n 2p); b=$("$0" -c "$1" events --reference "$2" --limit 1 --page 2); [ -n "$a" ] && [ "$a" = "$b" ]' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$ref"
check "events --since tomorrow finds nothing" \
	bash -c '[ -z "$("$0" -c "$1" events --reference "$2" --since "$(date -u -d tomorrow +%F)")" ]' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$ref"
refuse "a malformed date is refused" "since: YYYY-MM-DD" ctl events --since yesterday
check "events --json is valid JSON" \
	bash -c '"$0" -c "$1" events --reference "$2" --json | python3 -c "import json,sys; d=json.load(sys.stdin); assert len(d) >= 2 and d[0][\"kind\"] == \"sealed\""' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$ref"
# A hostile user agent, as the portal would record it, leaves the CSV
# export defused.
lab_id=$(sql "SELECT id FROM labs WHERE name = '$LAB_NAME'")
sql "INSERT INTO events (at, kind, lab_id, message_id, delivery_id, user_agent) VALUES
	(UNIX_TIMESTAMP() * 1000000, 'link_fetched', $lab_id, '$m1', $d1, '=cmd|'' /C calc''!A0'),
	(UNIX_TIMESTAMP() * 1000000, 'link_fetched', $lab_id, '$m1', $d1, '@SUM(1+1)')"
csv=$(ctl events --message "$m1" --csv)
check "CSV export defuses formula cells" \
	bash -c 'grep -qF "\"'"'"'=cmd|'"'"' /C calc'"'"'!A0\"" <<<"$0" && grep -qF "\"'"'"'@SUM(1+1)\"" <<<"$0" && ! grep -qE "(^|,)\"[=@+-]" <<<"$0"' "$csv"
check "CSV export parses with 11 columns per row" \
	python3 -c 'import csv,sys; rows=list(csv.reader(sys.stdin)); assert rows[0][0] == "id" and all(len(r) == 11 for r in rows) and len(rows) >= 4' <<<"$csv"
check "status shows the message, its delivery and timeline" \
	bash -c 'o=$("$0" -c "$1" status "$2") && grep -q "reference '"$ref"'" <<<"$o" && grep -q "delivery '"$d1"'" <<<"$o" && grep -q " sealed " <<<"$o"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$m1"
check "status --json is valid JSON" \
	bash -c '"$0" -c "$1" --json status "$2" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"deliveries\"] and d[\"events\"]"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$m1"
refuse "status of an unknown message" "no such message" ctl status 00000000000000000000000000000000

# Expiry.
check "expire +7d" ctl expire --message "$m1" +7d
check "the new expiry is about a week away" \
	test "$(sql "SELECT ABS(expires - UNIX_TIMESTAMP() - 7 * 86400) < 60 FROM messages WHERE id = '$m1'")" = 1
check "expire to a date" ctl expire --message "$m1" "$(date -u -d '+40 days' +%F)"
check "expiry changes are recorded" \
	test "$(sql "SELECT COUNT(*) FROM events WHERE message_id = '$m1' AND kind = 'expiry_changed'")" = 2
refuse "expiry over 10 years is refused" "out of range" ctl expire --message "$m1" 11y
refuse "expiry of an hour is refused" "not understood|out of range" ctl expire --message "$m1" 1h
refuse "a malformed message id is refused" "32 lowercase hex" ctl expire --message "x' OR 1=1 --" 7d

# Unlock and retraction of one delivery.
sql "UPDATE deliveries SET failed_attempts = 9, locked_until = UNIX_TIMESTAMP() + 3600 WHERE id = $d1"
check "unlock clears the lock" ctl unlock --delivery "$d1"
check "the delivery is unlocked and it is recorded" \
	test "$(sql "SELECT CONCAT(failed_attempts, COALESCE(locked_until, '-'), (SELECT COUNT(*) FROM events WHERE delivery_id = $d1 AND kind = 'unlocked')) FROM deliveries WHERE id = $d1")" = "0-1"
check "retract one delivery" ctl retract --delivery "$d1"
check "the delivery is retracted, the message not" \
	test "$(sql "SELECT CONCAT(d.retracted IS NOT NULL, m.retracted IS NULL) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.id = $d1")" = 11

# Retraction by reference needs the lab.
refuse "retract --reference without --lab is misuse" "usage" ctl retract --reference "$ref"
check "retract --reference takes both messages" \
	bash -c '"$0" -c "$1" retract --reference "$2" --lab "$3" | grep -q "^2 message"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$ref" "$LAB_NAME"
check "retracting one again is harmless" \
	bash -c '"$0" -c "$1" retract --message "$2" | grep -q "already retracted"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$m1"
refuse "a retracted message's expiry cannot change" "retracted" ctl expire --message "$m2" 7d

# Purge.
check "purge --dry-run lists the retracted messages and changes nothing" \
	bash -c 'o=$("$0" -c "$1" purge --dry-run) && grep -q "would purge $2" <<<"$o" && grep -q "would purge $3" <<<"$o"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$m1" "$m2"
check "after the dry run the chunks are still there" \
	test "$(sql "SELECT COUNT(*) > 0 FROM message_chunks WHERE message_id = '$m1'")" = 1
check "purge" ctl purge
check "purged messages lost their data key and chunks" \
	test "$(sql "SELECT COUNT(*) FROM messages WHERE id IN ('$m1', '$m2') AND sealed_key IS NULL AND purged IS NOT NULL")/$(sql "SELECT COUNT(*) FROM message_chunks WHERE message_id IN ('$m1', '$m2')")" = 2/0
check "their events stay, with a purged event each" \
	test "$(sql "SELECT COUNT(DISTINCT message_id) FROM events WHERE message_id IN ('$m1', '$m2') AND kind = 'purged'")/$(sql "SELECT COUNT(*) > 3 FROM events WHERE message_id = '$m1'")" = 2/1
check "the message that was not retracted is untouched" \
	test "$(sql "SELECT COUNT(*) FROM messages WHERE id = '$mb' AND sealed_key IS NOT NULL AND purged IS NULL")" = 1
check "status shows the purge" \
	bash -c '"$0" -c "$1" status "$2" | grep -q " purged "' "$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$m1"
refuse "a purged message's expiry cannot change" "purged|retracted" ctl expire --message "$m1" 7d

tap_done
