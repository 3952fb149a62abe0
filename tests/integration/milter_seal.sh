#!/bin/bash
# milter_seal.sh - sealing through the real Postfix of contrib/stack: one
# recipient, three recipients (each their own link, nobody else's address),
# the verification precedence, lab membership by network and by SASL, and
# unsealed mail passing with its X-Sealmail-* headers removed.  Every
# sealed body and subject carries a marker that must appear nowhere: not at
# the sink, not in the logs, not in a dump of the database.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"

RUN=$RANDOM$RANDOM
tmp=$(mktemp -d)
# The SASL and no-lab cases narrow the lab's network to 127.0.0.1/32 and
# send from 127.0.0.2, so tests running at the same time from 127.0.0.1
# keep being sealed.
restore_rules() {
	sql "UPDATE lab_senders SET value = '127.0.0.0/8'
	     WHERE kind = 'network' AND value = '127.0.0.1/32'"
	sql "UPDATE labs SET default_verification = 'require' WHERE name = '$LAB_NAME'"
}
trap 'restore_rules; rm -rf "$tmp"' EXIT

# --- one recipient ------------------------------------------------------
rcpt=one-$RUN@example.org
out=$(smtp --to "$rcpt" \
	--header "Subject: Results for Jane Doe $MARK" \
	--header "Cc: cc-$RUN@example.org" \
	--header "X-Sealmail-Question: What is your date of birth?" \
	--header "X-Sealmail-Answer: A$MARK" \
	--header "X-Sealmail-Reference: LIS-$RUN" \
	--header "X-Sealmail-Expires: 2w" \
	--body "Potassium 5.9 mmol/L $MARK")
if queued "$out"; then ok "single recipient: Postfix accepts the sealed message"
else notok "single recipient: Postfix accepts the sealed message" "$out"; fi
settle
f=$(sink_for "$rcpt" | head -1)
if [[ -n $f ]]; then ok "single recipient: a notice reaches the sink"
else notok "single recipient: a notice reaches the sink" "$(ls -R "$SINK_DIR" | tail -5)"; fi
f=${f:-/dev/null}
check "notice has a portal link" test -n "$(link_of "$f")"
check "notice has the lab's subject, not the original" \
	test "$(header "$f" Subject)" = "$(sql "SELECT notice_subject FROM labs WHERE name = '$LAB_NAME'")"
check "notice is addressed to the recipient" grep -qx "To: <$rcpt>" "$f"
check "notice carries no Cc" bash -c '! grep -qi "^Cc:" "$0"' "$f"
check "notice is multipart/alternative text + HTML" \
	bash -c 'grep -qi "^Content-Type: multipart/alternative" "$0" &&
		grep -qi "Content-Type: text/plain" "$0" && grep -qi "Content-Type: text/html" "$0"' "$f"
check "notice shows the lab's reference" grep -q "Reference: LIS-$RUN" "$f"
check "no X-Sealmail-* header but X-Sealmail-Id leaves" \
	bash -c '! grep -i "^X-Sealmail-" "$0" | grep -vqi "^X-Sealmail-Id:"' "$f"
msgid=$(header "$f" X-Sealmail-Id)
check "escrow holds message, chunks, delivery, sealed and notified events" \
	escrow_has "$msgid" "$rcpt"
check "escrow keeps the reference and the 2w expiry" \
	test "$(sql "SELECT CONCAT(reference, ' ', expires - created) FROM messages WHERE id = '$msgid'")" = "LIS-$RUN 1209600"
check "delivery verifies by the header question with an Argon2id hash" \
	test "$(sql "SELECT CONCAT(kind, ' ', LEFT(answer_hash, 10)) FROM deliveries WHERE message_id = '$msgid'")" = "question \$argon2id\$"

# --- three recipients ----------------------------------------------------
r1=tri1-$RUN@example.org r2=tri2-$RUN@example.org r3=tri3-$RUN@example.org
out=$(smtp --to "$r1,$r2,$r3" --header "Subject: Family results $MARK" \
	--header "X-Sealmail-Password: pw-$RUN" --body "Three recipients $MARK")
if queued "$out"; then ok "three recipients: accepted"
else notok "three recipients: accepted" "$out"; fi
settle
wait_sink "$r1" 1 10; wait_sink "$r2" 1 10; wait_sink "$r3" 1 10
declare -A tok=()
for r in "$r1" "$r2" "$r3"; do
	n=$(sink_for "$r" | wc -l)
	check "three recipients: exactly one notice for $r" test "$n" = 1
	f=$(sink_for "$r" | head -1)
	tok[$r]=$(link_of "${f:-/dev/null}")
done
check "three recipients: three different links" \
	test "$(printf '%s\n' "${tok[@]}" | sort -u | grep -c .)" = 3
for r in "$r1" "$r2" "$r3"; do
	f=$(sink_for "$r" | head -1)
	others=
	for o in "$r1" "$r2" "$r3"; do
		[[ $o == "$r" ]] && continue
		grep -qF "$o" "${f:-/dev/null}" && others+=" address:$o"
		grep -qF "${tok[$o]}" "${f:-/dev/null}" && others+=" link-of:$o"
	done
	check "three recipients: $r sees no other recipient's address or link" \
		test -z "$others"
done
f=$(sink_for "$r1" | head -1)
msgid=$(header "${f:-/dev/null}" X-Sealmail-Id)
check "three recipients: one escrow message with three deliveries" \
	test "$(sql "SELECT COUNT(*) FROM deliveries WHERE message_id = '$msgid'")" = 3
for r in "$r1" "$r2" "$r3"; do
	check "three recipients: escrow and events for $r" escrow_has "$msgid" "$r"
done

# --- verification precedence ----------------------------------------------
rcpt=noverif-$RUN@example.org
out=$(smtp --to "$rcpt" --header "Subject: x $MARK" --body "no verification $MARK")
reply=$(final_reply "$out")
check "no way to verify: 5.7.1 naming the recipient" \
	bash -c '[[ $0 == 550\ 5.7.1*"no way to verify recipient <$1>"* ]]' "$reply" "$rcpt"
settle
check "no way to verify: nothing reaches the recipient" test -z "$(sink_for "$rcpt")"

rcpt=table-$RUN@example.org
sql "INSERT INTO recipients (lab_id, address, kind, created, updated)
     SELECT id, '$rcpt', 'registered', UNIX_TIMESTAMP(), UNIX_TIMESTAMP()
     FROM labs WHERE name = '$LAB_NAME'"
out=$(smtp --to "$rcpt" --header "Subject: x $MARK" --body "table $MARK")
if queued "$out"; then ok "recipients table row verifies when headers say nothing"
else notok "recipients table row verifies when headers say nothing" "$out"; fi
check "delivery points at the recipients row" \
	test "$(sql "SELECT COUNT(*) FROM deliveries d JOIN recipients r ON r.id = d.recipient_id
		WHERE d.address = '$rcpt' AND d.kind = 'registered'")" = 1

sql "UPDATE labs SET default_verification = 'registered' WHERE name = '$LAB_NAME'"
rcpt=reg-$RUN@example.org
out=$(smtp --to "$rcpt" --header "Subject: x $MARK" --body "registered $MARK")
if queued "$out"; then ok "lab default 'registered' seals without headers"
else notok "lab default 'registered' seals without headers" "$out"; fi
check "delivery kind is registered" \
	test "$(sql "SELECT kind FROM deliveries WHERE address = '$rcpt'")" = registered
sql "UPDATE labs SET default_verification = 'require' WHERE name = '$LAB_NAME'"

# --- lab membership: SASL only, then no lab at all ----------------------------
sql "UPDATE lab_senders SET value = '127.0.0.1/32'
     WHERE kind = 'network' AND value = '127.0.0.0/8'"
rcpt=sasl-$RUN@example.org
out=$(swaks --server "127.0.0.1:$SUBMISSION_PORT" --local-interface 127.0.0.2 -tls --auth PLAIN \
	--auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
	--from "$LAB_SENDER" --to "$rcpt" --header "Subject: sasl $MARK" \
	--header "X-Sealmail-Password: pw" --body "sasl body $MARK" 2>&1)
if grep -qE '250 2\.0\.0 Ok: queued' <<<"$out"; then
	ok "SASL-authenticated submission is accepted"
else
	notok "SASL-authenticated submission is accepted" "$out"
fi
settle
f=$(sink_for "$rcpt" | head -1)
check "SASL login alone makes the message sealed" \
	escrow_has "$(header "${f:-/dev/null}" X-Sealmail-Id)" "$rcpt"
check "milter log says the lab matched by SASL" \
	grep -q "event=sealed msg=$(header "${f:-/dev/null}" X-Sealmail-Id) .* via=sasl" "$MILTER_LOG"

rcpt=plain-$RUN@example.org
PLAIN="plain-body-$RUN travels in clear"
out=$(swaks --server "127.0.0.1:$SMTP_PORT" --local-interface 127.0.0.2 \
	--from "outsider-$RUN@elsewhere.example" \
	--to "$rcpt" --header "Subject: not a lab's $RUN" \
	--header "X-Sealmail-Password: pw-$RUN" --header "X-Sealmail-Reference: r" \
	--add-header "x-sealmail-reference: r2" --body "$PLAIN" 2>&1)
if grep -qE '250 2\.0\.0 Ok: queued' <<<"$out"; then ok "mail of no lab is accepted"
else notok "mail of no lab is accepted" "$out"; fi
settle
f=$(sink_for "$rcpt" | head -1)
check "mail of no lab arrives with its body and subject" \
	bash -c 'grep -qF "$1" "$0" && grep -q "^Subject: not a lab" "$0"' "${f:-/dev/null}" "$PLAIN"
check "mail of no lab has every X-Sealmail-* header removed" \
	bash -c '! grep -qi "^X-Sealmail-" "$0"' "${f:-/dev/null}"
check "mail of no lab leaves no escrow row" \
	test "$(sql "SELECT COUNT(*) FROM deliveries WHERE address = '$rcpt'")" = 0
restore_rules

check "no sealed body, subject or answer anywhere in clear" no_marker
tap_done
