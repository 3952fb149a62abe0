#!/bin/bash
# sms.sh - SMS notices through the real stack: X-Sealmail-Phone and
# number-only recipients get a short GSM-7 text with their link and no PHI
# from sealmail-smsd via the loopback receiver; bad numbers are refused
# with a 5xx; the lab chooses SMS only or SMS and email; a gateway that is
# down (closed port, then 503s) loses nothing; the events tell the story;
# neither logs nor the database hold the number's text or a working link.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"
. "$(dirname "$0")/sms_lib.sh"

RUN=$RANDOM$RANDOM
restore() {
	ctl lab sms "$LAB_NAME" sms >/dev/null 2>&1
	rm -f "$SMS_DIR/fail"
	"$TOP/contrib/stack" sms-start "$STACK_DIR" >/dev/null 2>&1 || true
}
trap restore EXIT

# events_of MSGID: the event kinds of a message in order, one line.
events_of() {
	sql "SELECT kind FROM events WHERE message_id = '$1' ORDER BY id" | tr '\n' ' '
}
msg_of_phone() {
	sql "SELECT message_id FROM sms_queue WHERE phone = '$1' ORDER BY id DESC LIMIT 1"
}

# --- X-Sealmail-Phone, lab default: SMS only -----------------------------
num=$(new_number)
rcpt=sms-$RUN@example.org
out=$(smtp --to "$rcpt" --header "Subject: HbA1c for Jane $MARK" \
	--header "X-Sealmail-Phone: $num" --body "HbA1c 7.9% $MARK")
if queued "$out"; then ok "X-Sealmail-Phone: the message is accepted"
else notok "X-Sealmail-Phone: the message is accepted" "$out"; fi
check "X-Sealmail-Phone: one SMS reaches the gateway" wait_sms "$num" 1 30
text=$(sms_to "$num" | head -1)
check "the SMS carries a portal link" test -n "$(sms_link "$num")"
check "the SMS is one GSM-7 segment" gsm7_ok "$text"
check "the SMS names the lab and nothing of the message" \
	test "$text" = "Stack Test Laboratory: you have a secure message. Open: $PORTAL_URL/m/$(sms_link "$num")"
settle
check "SMS-only lab: no email notice for the recipient" test -z "$(sink_for "$rcpt")"
msg=$(msg_of_phone "$num")
check "events: sealed, sms_queued, sms_sent" \
	test "$(events_of "$msg")" = "sealed sms_queued sms_sent "
check "the delivery verifies by a PIN the patient sets" \
	test "$(sql "SELECT CONCAT(kind, ' ', address) FROM deliveries WHERE message_id = '$msg'")" = "pin $rcpt"
check "the queue row is sent after one attempt" \
	test "$(sql "SELECT CONCAT(state, ' ', attempts) FROM sms_queue WHERE message_id = '$msg'")" = "sent 1"
tok=$(sms_link "$num")
code=$(curl -s -o /dev/null -w '%{http_code}' "$PORTAL_URL/m/$tok")
check "the SMS link opens the portal's page" test "$code" = 200

# --- a recipient known by number only ------------------------------------
num2=$(new_number)
if out=$(send_to "Lipids $MARK" "LDL 4.2 $MARK" "$num2@sms.invalid"); then ok "number-only recipient: accepted"
else notok "number-only recipient: accepted" "$out"; fi
check "number-only recipient: the SMS arrives" wait_sms "$num2" 1 30
settle
check "number-only recipient: no mail leaves for it" test -z "$(sink_for "$num2@sms.invalid")"
msg2=$(msg_of_phone "$num2")
check "number-only recipient: the delivery's address is the number" \
	test "$(sql "SELECT CONCAT(kind, ' ', address) FROM deliveries WHERE message_id = '$msg2'")" = "pin $num2"

# --- mixed: one email, one number ------------------------------------------
num3=$(new_number)
mail3=mixed-$RUN@example.org
f=$(mktemp)
message "$f" "From: <$LAB_SENDER>" "To: <$mail3>" "Subject: Mixed $MARK" \
	"X-Sealmail-Password: pw-$RUN" -- "Mixed $MARK"
out=$(send_raw "$f" "$num3@sms.invalid" "$mail3")
st=$?
rm -f "$f"
if ((st == 0)); then ok "email and number recipients together: accepted"
else notok "email and number recipients together: accepted" "$out"; fi
check "mixed: the number gets an SMS" wait_sms "$num3" 1 30
check "mixed: the email recipient gets a notice" wait_sink "$mail3" 1 30
f=$(sink_for "$mail3" | head -1)
check "mixed: the notice names only its own recipient" \
	bash -c '! grep -qF "$1" "$0"' "${f:-/dev/null}" "$num3"
check "mixed: SMS and email links differ" \
	test "$(link_of "${f:-/dev/null}")" != "$(sms_link "$num3")"

# --- lab setting: SMS and email ------------------------------------------
check "sealmailctl lab sms sets SMS and email" ctl lab sms "$LAB_NAME" sms+email
num4=$(new_number)
rcpt4=both-$RUN@example.org
out=$(smtp --to "$rcpt4" --header "Subject: Both $MARK" \
	--header "X-Sealmail-Phone: $num4" --body "Both $MARK")
if queued "$out"; then ok "SMS and email: accepted"
else notok "SMS and email: accepted" "$out"; fi
check "SMS and email: the SMS arrives" wait_sms "$num4" 1 30
check "SMS and email: the email notice arrives too" wait_sink "$rcpt4" 1 30
f=$(sink_for "$rcpt4" | head -1)
check "SMS and email: both carry the same link" \
	test "$(link_of "${f:-/dev/null}")" = "$(sms_link "$num4")"
msg4=$(msg_of_phone "$num4")
ev4=$(events_of "$msg4")
check "SMS and email: events sealed, sms_queued, notified and sms_sent" \
	bash -c '[[ $0 == "sealed "* && $0 == *sms_queued* && $0 == *notified* && $0 == *sms_sent* ]]' "$ev4"
ctl lab sms "$LAB_NAME" sms >/dev/null
refuse "sealmailctl lab sms refuses an unknown mode" "usage" ctl lab sms "$LAB_NAME" email

# --- refusals --------------------------------------------------------------
for bad in "0151 1234567" "+49 151 1234567" "+0151234567" "+1234567" \
	"+1234567890123456" "tel:+4915112345678"; do
	out=$(smtp --to "bad-$RUN@example.org" --header "X-Sealmail-Phone: $bad" --body "x $MARK")
	r=$(final_reply "$out")
	check "X-Sealmail-Phone \"$bad\" is refused with a 5xx naming E.164" \
		bash -c '[[ $0 == 550* && $0 == *E.164* ]]' "$r"
done
out=$(smtp --to "a-$RUN@example.org,b-$RUN@example.org" \
	--header "X-Sealmail-Phone: $(new_number)" --body "x $MARK")
r=$(final_reply "$out")
check "X-Sealmail-Phone with two recipients is refused with a 5xx" \
	bash -c '[[ $0 == 550* && $0 == *"one recipient"* ]]' "$r"

# --- gateway down (port closed), then up: nothing lost -------------------
"$TOP/contrib/stack" sms-stop "$STACK_DIR" >/dev/null 2>&1
nums=()
for i in 1 2 3; do
	n=$(new_number)
	nums+=("$n")
	out=$(smtp --to "down$i-$RUN@example.org" --header "X-Sealmail-Phone: $n" \
		--header "Subject: Down $i $MARK" --body "Down $i $MARK")
	queued "$out" || notok "gateway down: message $i accepted" "$out"
done
ok "gateway down: the messages are accepted all the same"
fails() { sql "SELECT COUNT(*) FROM events e JOIN sms_queue q ON q.message_id = e.message_id
	WHERE q.phone = '$1' AND e.kind = 'sms_failed' AND e.detail LIKE '%curl=7%'"; }
for ((i = 0; i < 100; i++)); do
	(($(fails "${nums[2]}") >= 2)) && break
	sleep 0.1
done
check "gateway down: failed hand-overs are retried and recorded as sms_failed" \
	test "$(fails "${nums[2]}")" -ge 2
check "gateway down: the rows stay queued" \
	test "$(sql "SELECT COUNT(*) FROM sms_queue WHERE state = 'queued' AND phone IN ('${nums[0]}','${nums[1]}','${nums[2]}')")" = 3
check "gateway down: sealmail-smsd restarts without losing them" \
	"$TOP/contrib/stack" restart-smsd "$STACK_DIR"
"$TOP/contrib/stack" sms-start "$STACK_DIR" >/dev/null 2>&1
for n in "${nums[@]}"; do
	check "gateway up again: the SMS to ${n:0:6}... arrives" wait_sms "$n" 1 30
done
sleep 2
for n in "${nums[@]}"; do
	check "gateway up again: exactly one SMS to ${n:0:6}..." test "$(sms_to "$n" | grep -c .)" = 1
done
check "gateway up again: every row is sent" \
	test "$(sql "SELECT COUNT(*) FROM sms_queue WHERE state = 'sent' AND phone IN ('${nums[0]}','${nums[1]}','${nums[2]}')")" = 3

# --- gateway answering 503, then 200 --------------------------------------
touch "$SMS_DIR/fail"
n5=$(new_number)
out=$(smtp --to "busy-$RUN@example.org" --header "X-Sealmail-Phone: $n5" --body "Busy $MARK")
queued "$out" && ok "gateway 503: accepted" || notok "gateway 503: accepted" "$out"
for ((i = 0; i < 100; i++)); do
	[[ $(sql "SELECT COUNT(*) FROM events e JOIN sms_queue q ON q.message_id = e.message_id
		WHERE q.phone = '$n5' AND e.kind = 'sms_failed' AND e.detail LIKE '%http=503%'") -ge 1 ]] && break
	sleep 0.1
done
check "gateway 503: the failure is an sms_failed event with the status" \
	test "$i" -lt 100
rm -f "$SMS_DIR/fail"
check "gateway 503 then 200: the SMS arrives" wait_sms "$n5" 1 30

# --- what must be nowhere ---------------------------------------------------
check "the marker is nowhere: sink, logs, SMS log, database" no_marker_sms
all_tokens=$(grep -oE '/m/[A-Za-z0-9_-]{43}' "$SMS_LOG" | cut -c4- | sort -u)
leak=
for t in $all_tokens; do
	grep -qaF -- "$t" "$MILTER_LOG" "$SMSD_LOG" "$MAILLOG" 2>/dev/null && leak+=" log"
	mariadb-dump --no-defaults --socket="$MYSQL_SOCKET" sealmail 2>/dev/null |
		grep -qaF -- "$t" && leak+=" db"
done
check "no SMS link is in a log or the database in clear" test -z "$leak"
check "no phone number is in the milter or smsd log" \
	bash -c '! grep -qE "\+49151[0-9]{8}" "$0" "$1"' "$MILTER_LOG" "$SMSD_LOG"
refuse "the sms account cannot read messages" "denied" \
	sql_as sms "SELECT COUNT(*) FROM messages"
refuse "the sms account cannot delete queued SMS" "denied" \
	sql_as sms "DELETE FROM sms_queue"
refuse "the milter account cannot read the queue" "denied" \
	sql_as milter "SELECT COUNT(*) FROM sms_queue"
tap_done
