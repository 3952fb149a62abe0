#!/bin/bash
# sms_pin.sh - the PIN of SMS notices through the real stack: the first
# visit from an SMS link sets a PIN (4 to 8 digits, twice) and a recovery
# email and opens the message; later visits and later messages to the same
# patient ask for the PIN; five wrong PINs lock; recovery mails a one-time
# link (sent through sendmail, not sealed) that sets a new PIN, unlocks and
# is told to the patient by mail.  No PIN, key or marker in clear anywhere.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"
SRC_ADDR=127.0.0.91
. "$(dirname "$0")/portal_lib.sh"
. "$(dirname "$0")/sms_lib.sh"

RUN=$RANDOM$RANDOM
PIN1=48213
PIN2=905617
JAR=$WORK/jar

# sms_message RCPT NUMBER: a results message with an SMS notice; prints
# the token of the SMS that arrives.
sms_message() {
	local n0
	n0=$(sms_to "$2" | grep -c .)
	smtp --to "$1" --header "Subject: Results $MARK" --header "X-Sealmail-Phone: $2" \
		--body "Creatinine 1.9 mg/dL $MARK" >/dev/null || return 1
	wait_sms "$2" $((n0 + 1)) 30 >/dev/null || return 1
	sms_link "$2"
}
# post TOKEN JAR FIELD=VALUE...: fetches the form, posts the fields with
# its CSRF token; prints the status.
post() {
	local tok=$1 jar=$2 path=${POST_PATH:-} csrf a=()
	shift 2
	pcurl "/m/$tok$path" -c "$jar" -b "$jar" >/dev/null
	csrf=$(csrf_of)
	for kv in "$@"; do a+=(--data-urlencode "$kv"); done
	pcurl "/m/$tok$path" -c "$jar" -b "$jar" --data-urlencode "csrf=$csrf" "${a[@]}"
}
# Oldest first by arrival: names within one second sort at random.
mail_to() { grep -rlF -- "X-Rcpt-Args: <$1>" "$SINK_DIR" 2>/dev/null | xargs -r ls -1tr --; }
wait_mail() {
	local i
	for ((i = 0; i < 300; i++)); do
		(($(mail_to "$1" | grep -c .) >= $2)) && return 0
		sleep 0.1
	done
	return 1
}

num=$(new_number)
rcpt=pin-$RUN@example.org
recovery=recover-$RUN@example.net
tok=$(sms_message "$rcpt" "$num")
check "an SMS notice arrives with a link" test -n "$tok"
did=$(sql "SELECT id FROM deliveries WHERE address = '$rcpt'")

# --- first visit: set the PIN ---------------------------------------------
code=$(pcurl "/m/$tok" -c "$JAR" -b "$JAR")
check "first visit: 200" test "$code" = 200
check "first visit asks for a new PIN, twice, and a recovery email" \
	bash -c 'grep -q "name=\"pin\"" "$0" && grep -q "name=\"pin2\"" "$0" &&
		grep -q "name=\"recovery\"" "$0"' "$WORK/body"
check "the first-visit page carries the security headers" security_headers
code=$(post "$tok" "$JAR" pin=12a4 pin2=12a4 "recovery=$recovery")
check "a PIN with a letter is refused (400)" test "$code" = 400
check "... saying it must be 4 to 8 digits" grep -q "4 to 8 digits" "$WORK/body"
code=$(post "$tok" "$JAR" pin=123 pin2=123 "recovery=$recovery")
check "a 3-digit PIN is refused" test "$code" = 400
code=$(post "$tok" "$JAR" pin=123456789 pin2=123456789 "recovery=$recovery")
check "a 9-digit PIN is refused" test "$code" = 400
code=$(post "$tok" "$JAR" pin=$PIN1 pin2=${PIN1}0 "recovery=$recovery")
check "two different PINs are refused" bash -c '[[ $0 == 400 ]] && grep -q "not the same" "$1"' "$code" "$WORK/body"
code=$(post "$tok" "$JAR" pin=$PIN1 pin2=$PIN1 "recovery=not-an-address")
check "a bad recovery email is refused" test "$code" = 400
check "nothing is stored before the form is right" \
	test "$(sql "SELECT COUNT(*) FROM recipients WHERE address = '$rcpt'")" = 0
code=$(post "$tok" "$JAR" pin=$PIN1 pin2=$PIN1 "recovery=$recovery")
check "a good PIN opens the message (303 to the view)" \
	bash -c '[[ $0 == 303 ]] && grep -qi "^Location: /m/.*/view" "$1"' "$code" "$WORK/head"
code=$(pcurl "/m/$tok/view" -b "$JAR" -c "$JAR")
check "the message shows" bash -c '[[ $0 == 200 ]] && grep -qF "$1" "$2"' "$code" "$MARK" "$WORK/body"
check "the PIN is an Argon2id hash in the patient's recipients row" \
	test "$(sql "SELECT CONCAT(kind, ' ', LEFT(answer_hash, 10), ' ', recovery_email) FROM recipients WHERE address = '$rcpt'")" = "pin \$argon2id\$ $recovery"
check "events: pin_set, verified, viewed" \
	bash -c '[[ $0 == *"pin_set verified"*viewed* ]]' "$(events_of "$did")"

# --- later visits ask for the PIN --------------------------------------
JAR2=$WORK/jar2
code=$(pcurl "/m/$tok" -c "$JAR2" -b "$JAR2")
check "second visit asks for the PIN, not a new one" \
	bash -c '[[ $0 == 200 ]] && grep -q "name=\"answer\"" "$1" && ! grep -q "name=\"pin2\"" "$1" && grep -q "/recover" "$1"' "$code" "$WORK/body"
code=$(post "$tok" "$JAR2" pin=1111 pin2=1111 "recovery=evil-$RUN@example.com")
check "posting a new PIN to a link with a PIN changes nothing" \
	bash -c '[[ $0 != 303 ]]' "$code"
check "... the recovery email stays" \
	test "$(sql "SELECT recovery_email FROM recipients WHERE address = '$rcpt'")" = "$recovery"
tok2=$(sms_message "$rcpt" "$num")
check "a later message to the same patient: SMS arrives" test -n "$tok2"
code=$(pcurl "/m/$tok2" -c "$WORK/jar3" -b "$WORK/jar3")
check "a later message asks for the PIN" \
	bash -c '[[ $0 == 200 ]] && grep -q "name=\"answer\"" "$1" && ! grep -q "name=\"pin2\"" "$1"' "$code" "$WORK/body"
code=$(verify "$tok2" "$PIN1" "$WORK/jar3")
check "the PIN opens the later message" test "$code" = 303

# --- wrong PINs lock -------------------------------------------------------
SRC_ADDR=127.0.0.92	# a fresh per-client rate limit for what follows
tok3=$(sms_message "$rcpt" "$num")
for i in 1 2 3 4; do
	code=$(verify "$tok3" "000$i" "$WORK/jar4")
	check "wrong PIN $i: refused (403)" test "$code" = 403
done
code=$(verify "$tok3" "0005" "$WORK/jar4")
check "the fifth wrong PIN locks (429)" test "$code" = 429
code=$(verify "$tok3" "$PIN1" "$WORK/jar4")
check "while locked, even the right PIN does not open (429)" test "$code" = 429
did3=$(sql "SELECT d.id FROM deliveries d JOIN sms_queue q ON q.delivery_id = d.id ORDER BY d.id DESC LIMIT 1")
check "locked and verify_failed events are recorded" \
	bash -c '[[ $0 == *verify_failed*locked* ]]' "$(events_of "$did3")"

# --- recovery by mail ------------------------------------------------------
code=$(pcurl "/m/$tok3/recover" -c "$WORK/jar4" -b "$WORK/jar4")
check "the recovery page offers to mail a link" \
	bash -c '[[ $0 == 200 ]] && grep -q "recovery email" "$1"' "$code" "$WORK/body"
n0=$(mail_to "$recovery" | grep -c .)
code=$(POST_PATH=/recover post "$tok3" "$WORK/jar4")
check "asking for the link: 200, check your email" \
	bash -c '[[ $0 == 200 ]] && grep -q "Check your email" "$1"' "$code" "$WORK/body"
check "the recovery mail reaches the recovery address" wait_mail "$recovery" $((n0 + 1))
rf=$(mail_to "$recovery" | tail -1)
rlink=$(grep -oE "/m/$tok3/reset\?k=[A-Za-z0-9_-]{43}" "${rf:-/dev/null}" | head -1)
check "it holds a reset link for this message" test -n "$rlink"
check "it is not sealed: no X-Sealmail-Id, plain text from the portal" \
	bash -c '! grep -qi "^X-Sealmail-Id" "$0" && grep -qi "^From: <noreply@portal.test>" "$0"' "${rf:-/dev/null}"
check "the milter never saw it (no sealed line for it in the milter log)" \
	test "$(sql "SELECT COUNT(*) FROM deliveries WHERE address = '$recovery'")" = 0
code=$(pcurl "$rlink" -c "$WORK/jar5" -b "$WORK/jar5")
check "the reset link asks for a new PIN" \
	bash -c '[[ $0 == 200 ]] && grep -q "name=\"pin2\"" "$1" && grep -q "name=\"k\"" "$2"' "$code" "$WORK/body" "$WORK/body"
key=${rlink##*k=}
code=$(POST_PATH="/reset?k=$key" post "$tok3" "$WORK/jar5" "k=$key" pin=$PIN2 pin2=$PIN2)
check "a new PIN through the reset link opens the message" test "$code" = 303
check "the lock is gone" \
	test "$(sql "SELECT CONCAT(failed_attempts, ' ', COALESCE(locked_until, 'none')) FROM deliveries WHERE id = $did3")" = "0 none"
check "the change is recorded as pin_reset" \
	bash -c '[[ $0 == *pin_recovery_sent*pin_reset* ]]' "$(events_of "$did3")"
check "the change is mailed to the recovery address" wait_mail "$recovery" $((n0 + 2))
code=$(pcurl "$rlink" -c "$WORK/jar6" -b "$WORK/jar6")
check "the reset link works only once (410)" \
	bash -c '[[ $0 == 410 ]] && grep -q "does not work any more" "$1"' "$code" "$WORK/body"
csrf=$(pcurl "/m/$tok3/recover" -c "$WORK/jar6" -b "$WORK/jar6" >/dev/null; csrf_of)
code=$(pcurl "/m/$tok3/reset" -c "$WORK/jar6" -b "$WORK/jar6" --data-urlencode "csrf=$csrf" \
	--data-urlencode "k=$key" --data-urlencode pin=1234 --data-urlencode pin2=1234)
check "a used key posted with a valid form changes nothing (410)" test "$code" = 410
code=$(verify "$tok2" "$PIN1" "$WORK/jar7")
check "the old PIN no longer opens" test "$code" = 403
code=$(verify "$tok2" "$PIN2" "$WORK/jar8")
check "the new PIN opens every message of the patient" test "$code" = 303
# an expired key
code=$(POST_PATH=/recover post "$tok3" "$WORK/jar9")
wait_mail "$recovery" $((n0 + 3))
rlink=$(grep -oE "/m/$tok3/reset\?k=[A-Za-z0-9_-]{43}" "$(mail_to "$recovery" | tail -1)" | head -1)
sql "UPDATE patient_tokens SET expires = UNIX_TIMESTAMP() - 1 WHERE used IS NULL AND address = '$rcpt'"
code=$(pcurl "$rlink")
check "an expired reset link does not work (410)" test "$code" = 410

# --- a number-only recipient sets its PIN on the number --------------------
SRC_ADDR=127.0.0.93
num2=$(new_number)
send_to "Number only $MARK" "Ferritin $MARK" "$num2@sms.invalid" >/dev/null
wait_sms "$num2" 1 30 >/dev/null
t=$(sms_link "$num2")
code=$(post "$t" "$WORK/jar10" pin=2468 pin2=2468 "recovery=$recovery")
check "number-only recipient: the PIN is set" test "$code" = 303
check "... on the number's recipients row" \
	test "$(sql "SELECT kind FROM recipients WHERE address = '$num2'")" = pin

# --- nothing in clear --------------------------------------------------------
leak=
for s in "$PIN1" "$PIN2" "$key"; do
	grep -qaF -- "$s" "$PORTAL_LOG" "$MILTER_LOG" "$SMSD_LOG" 2>/dev/null && leak+=" log:$s"
done
mariadb-dump --no-defaults --socket="$MYSQL_SOCKET" sealmail 2>/dev/null | grep -qaF -- "$key" && leak+=" db:key"
check "no PIN or reset key in a log, no key in the database" test -z "$leak"
check "the marker is nowhere: sink, logs, SMS log, database" no_marker_sms
tap_done
