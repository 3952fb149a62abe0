#!/bin/bash
# ctl_audit.sh - sealmailctl audit seal|verify on the stack's real trail:
# events written by the milter and sealmailctl chain up and verify; an
# altered sealed row is named; the anchor from a seal checks out.  (Every
# kind of tampering is covered in tests/unit/test_audit.c.)
set -u
. "$(dirname "$0")/lib.sh"

tag=a$RANDOM$RANDOM
swaks --server "127.0.0.1:$SMTP_PORT" --from lab@stack.test --to "au-$tag@example.net" \
	--header 'X-Sealmail-Question: Year?' --header 'X-Sealmail-Answer: 1980' \
	--header "X-Sealmail-Reference: AU-$tag" --body x --timeout 60 >/dev/null 2>&1
for _ in $(seq 100); do
	m=$(sql "SELECT id FROM messages WHERE reference = 'AU-$tag'")
	[ -n "$m" ] && break
	sleep 0.2
done
check "a message to audit" test -n "$m"
check "retracting it writes a MAC'd event" ctl retract --message "$m"
check "the retraction event carries a MAC" \
	test "$(sql "SELECT COUNT(*) FROM events WHERE message_id = '$m' AND kind = 'retracted' AND LENGTH(mac) = 32")" = 1

# Rows younger than the grace period wait for the next run, so a commit
# still in flight elsewhere in the stack is never overtaken; 3 s here.
sleep 4
out=$(ctl audit seal --grace 3 2>&1)
check "audit seal chains the trail" grep -qE "event\(s\) sealed.*head [0-9]+:[0-9a-f]{64}" <<<"$out"
check "audit seal logs the head" grep -q "event=audit_sealed" <<<"$out"
anchor=$(sed -nE 's/.*head ([0-9]+:[0-9a-f]{64}).*/\1/p' <<<"$out" | tail -1)
check "audit verify finds the trail intact" \
	bash -c '"$0" -c "$1" audit verify | grep -q "audit trail intact"' "$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF"
check "audit verify checks an anchor kept outside" ctl audit verify --anchor "$anchor"
bad_anchor="${anchor%:*}:$(printf '0%.0s' $(seq 64))"
refuse "a wrong anchor is reported" "differs from the anchor" ctl audit verify --anchor "$bad_anchor"
refuse "a malformed anchor is refused" "anchor: SEQ:HEX" ctl audit verify --anchor nonsense

id=$(sql "SELECT id FROM events WHERE message_id = '$m' AND kind = 'retracted'")
check "the retraction was sealed" test "$(sql "SELECT seq IS NOT NULL FROM events WHERE id = $id")" = 1
orig=$(sql "SELECT detail FROM events WHERE id = $id")
sql "UPDATE events SET detail = 'by=nobody' WHERE id = $id"
refuse "altering a sealed event is reported with its id" "altered: event $id was altered" ctl audit verify
check "a later seal run goes on (it checks only the head)" ctl audit seal --grace 3
refuse "but cannot hide the altered row" "altered: event $id was altered" ctl audit verify
sql "UPDATE events SET detail = '$orig' WHERE id = $id"
check "restored, the trail verifies again" ctl audit verify

tap_done
