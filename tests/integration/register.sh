#!/bin/bash
# register.sh - registered patients through the real stack: the first visit
# to a link of kind registered mails a one-time code to the address
# (through sendmail, not sealed, no content of the message), the code and
# a strong password set the patient's password, and later messages to the
# same address open with it through the ordinary verify path, five wrong
# tries lock; a mailed one-time link resets it; every set and change is an
# event and a mail.  No code, password or key in clear in a log or the DB.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"
SRC_ADDR=127.0.0.101
. "$(dirname "$0")/portal_lib.sh"

RUN=$RANDOM$RANDOM
PW1="violet harbour $RUN lantern"
PW2="quiet otter $RUN meadow"
rcpt=reg-$RUN@example.org
tmp=$WORK/csv

# post TOKEN JAR FIELD=VALUE...: fetches the form at $POST_PATH, posts
# the fields with its CSRF token; prints the status.
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
# portal_mails: the mails the portal sent the patient (not sealed notices).
portal_mails() { for f in $(mail_to "$rcpt"); do grep -q '^From: <noreply@portal.test>' "$f" && echo "$f"; done; }
wait_portal_mail() {
	local i
	for ((i = 0; i < 300; i++)); do
		(($(portal_mails | grep -c .) >= $1)) && return 0
		sleep 0.1
	done
	return 1
}
last_code() { grep -oE '^    [0-9]{8}$' "$(portal_mails | tail -1)" | tr -d ' '; }
# send_code TOKEN JAR: asks for a code; waits for its mail; prints it.
send_code() {
	local n0
	n0=$(portal_mails | grep -c .)
	[[ $(post "$1" "$2" step=send) == 200 ]] || return 1
	wait_portal_mail $((n0 + 1)) || return 1
	last_code
}
# later_message BODY: one more message to the patient; waits for its
# notice and prints its token (seal would find the first notice).
later_message() {
	local n0 i f
	n0=$(notices | grep -c .)
	swaks --server "127.0.0.1:$SMTP_PORT" --from lab@stack.test --to "$rcpt" \
		--timeout 120 --hide-all --header "Subject: Later $MARK" --body "$1" \
		>/dev/null 2>&1 || return 1
	for ((i = 0; i < 300; i++)); do
		f=$(notices | sed -n "$((n0 + 1))p")
		if [[ -n $f ]]; then
			grep -oE '/m/[A-Za-z0-9_-]{43}' "$f" | head -1 | cut -c4-
			return 0
		fi
		sleep 0.1
	done
	return 1
}
notices() { for f in $(mail_to "$rcpt"); do grep -q '^X-Sealmail-Id' "$f" && echo "$f"; done; }
register() { post "$1" "$2" step=set "code=$3" "password=$4" "password2=${5:-$4}"; }

printf 'address,kind,question,answer,recovery_email\r\n%s,registered,,,\r\n' "$rcpt" >"$tmp"
check "the lab uploads the patient as registered" ctl recipients import --lab "$LAB_NAME" "$tmp"
tok=$(seal "$rcpt" --header "Subject: Results $MARK" --body "Potassium 5.9 mmol/L $MARK")
check "a message to the registered patient is sealed with a link" test -n "$tok"
did=$(delivery_of "$rcpt")

# --- first visit: prove the address ---------------------------------------
JAR=$WORK/jar
code=$(pcurl "/m/$tok" -c "$JAR" -b "$JAR")
check "first visit offers to mail a code, and asks for nothing else" \
	bash -c '[[ $0 == 200 ]] && grep -q "name=\"step\" value=\"send\"" "$1" && ! grep -q "name=\"answer\"" "$1"' "$code" "$WORK/body"
check "the first-visit page carries the security headers" security_headers
check "a GET mails nothing (scanners fetch links)" test "$(portal_mails | grep -c .)" = 0
c1=$(send_code "$tok" "$JAR")
check "asking for a code: a code mail reaches the address" test -n "$c1"
check "... and the page asks for the code and a password, twice" \
	bash -c 'grep -q "name=\"code\"" "$0" && grep -q "name=\"password2\"" "$0"' "$WORK/body"
cf=$(portal_mails | tail -1)
check "the code mail is not sealed and holds nothing of the message" \
	bash -c '! grep -qi "^X-Sealmail-Id" "$0" && ! grep -qF "$1" "$0" && ! grep -q "Potassium" "$0"' "$cf" "$MARK"
check "the milter never saw it" test "$(sql "SELECT COUNT(*) FROM deliveries WHERE address = '$rcpt'")" = 1
check "only a hash of the code is stored, spent never, valid 15 minutes" \
	test "$(sql "SELECT CONCAT(LENGTH(hash), ' ', expires - created, ' ', used IS NULL) FROM patient_tokens WHERE address = '$rcpt' AND purpose = 'address_code'")" = "32 900 1"
code=$(register "$tok" "$JAR" "$c1" short1)
check "a short password is refused (400) with a clear message" \
	bash -c '[[ $0 == 400 ]] && grep -q "too short" "$1"' "$code" "$WORK/body"
code=$(register "$tok" "$JAR" "$c1" "Password12345")
check "a common password is refused (400) with a clear message" \
	bash -c '[[ $0 == 400 ]] && grep -q "too common" "$1"' "$code" "$WORK/body"
code=$(register "$tok" "$JAR" "$c1" "$PW1" "$PW1 x")
check "two different passwords are refused" \
	bash -c '[[ $0 == 400 ]] && grep -q "not the same" "$1"' "$code" "$WORK/body"
wrong=$(printf '%08d' $(((10#$c1 + 1) % 100000000)))
code=$(register "$tok" "$JAR" "$wrong" "$PW1")
check "a wrong code is refused" \
	bash -c '[[ $0 == 400 ]] && grep -q "code is not right" "$1"' "$code" "$WORK/body"
check "nothing is stored before code and password are right" \
	test "$(sql "SELECT COUNT(*) FROM recipients WHERE address = '$rcpt' AND answer_hash IS NOT NULL")" = 0
# an expired code
c2=$(send_code "$tok" "$JAR")
check "a new code spends the old one" \
	test "$(sql "SELECT COUNT(*) FROM patient_tokens WHERE address = '$rcpt' AND purpose = 'address_code' AND used IS NULL")" = 1
code=$(register "$tok" "$JAR" "$c1" "$PW1")
check "the old code no longer works" test "$code" = 400
sql "UPDATE patient_tokens SET expires = UNIX_TIMESTAMP() - 1 WHERE address = '$rcpt' AND used IS NULL"
code=$(register "$tok" "$JAR" "$c2" "$PW1")
check "an expired code is refused" test "$code" = 400
# five wrong entries spend a code
c3=$(send_code "$tok" "$JAR")
for i in 1 2 3 4 5; do register "$tok" "$JAR" "$wrong" "$PW1" >/dev/null; done
code=$(register "$tok" "$JAR" "$c3" "$PW1")
check "five wrong entries spend the code" test "$code" = 400
SRC_ADDR=127.0.0.102	# a fresh per-client rate limit for what follows
c4=$(send_code "$tok" "$JAR")
code=$(register "$tok" "$JAR" "$c4" "$PW1")
check "the right code and a good password open the message (303 to the view)" \
	bash -c '[[ $0 == 303 ]] && grep -qi "^Location: /m/.*/view" "$1"' "$code" "$WORK/head"
code=$(pcurl "/m/$tok/view" -b "$JAR" -c "$JAR")
check "the message shows" bash -c '[[ $0 == 200 ]] && grep -qF "$1" "$2"' "$code" "$MARK" "$WORK/body"
check "the password is an Argon2id hash in the patient's registered row" \
	test "$(sql "SELECT CONCAT(kind, ' ', LEFT(answer_hash, 10)) FROM recipients WHERE address = '$rcpt'")" = "registered \$argon2id\$"
code=$(register "$tok" "$WORK/jarx" "$c4" "$PW2")
check "the code works once" bash -c '[[ $0 != 303 ]]' "$code"
check "events: code_sent, code_failed, password_set, verified, viewed" \
	bash -c '[[ $0 == *code_sent*code_failed*"password_set verified"*viewed* ]]' "$(events_of "$did")"
check "the patient is told by mail that a password was set" \
	bash -c 'grep -q "^Subject: Your password was set" "$(tail -1 <<<"$0")"' "$(portal_mails)"

# --- later messages ---------------------------------------------------------
code=$(pcurl "/m/$tok" -c "$WORK/jar2" -b "$WORK/jar2")
check "the link now asks for the password, with a way to reset it" \
	bash -c '[[ $0 == 200 ]] && grep -q "name=\"answer\"" "$1" && ! grep -q "name=\"code\"" "$1" && grep -q "/recover" "$1"' "$code" "$WORK/body"
tok2=$(later_message "Sodium 139 mmol/L $MARK")
check "a later message to the same address is sealed" test -n "$tok2"
check "... with a link of its own" bash -c '[[ -n $0 && $0 != "$1" ]]' "$tok2" "$tok"
code=$(verify "$tok2" "$PW1" "$WORK/jar3")
check "the password opens the later message" test "$code" = 303
did2=$(sql "SELECT id FROM deliveries WHERE address = '$rcpt' ORDER BY id DESC LIMIT 1")

# --- wrong passwords lock -----------------------------------------------------
SRC_ADDR=127.0.0.103
for i in 1 2 3 4; do
	code=$(verify "$tok2" "wrong password $i" "$WORK/jar4")
	check "wrong password $i: refused (403)" test "$code" = 403
done
code=$(verify "$tok2" "wrong password 5" "$WORK/jar4")
check "the fifth wrong password locks (429)" test "$code" = 429
code=$(verify "$tok2" "$PW1" "$WORK/jar4")
check "while locked, even the right password does not open (429)" test "$code" = 429

# --- reset by a mailed link ------------------------------------------------
code=$(pcurl "/m/$tok2/recover" -c "$WORK/jar5" -b "$WORK/jar5")
check "the reset page offers to mail a link to the address" \
	bash -c '[[ $0 == 200 ]] && grep -q "address this message was sent to" "$1"' "$code" "$WORK/body"
n0=$(portal_mails | grep -c .)
code=$(POST_PATH=/recover post "$tok2" "$WORK/jar5")
check "asking for the link: 200, check your email" \
	bash -c '[[ $0 == 200 ]] && grep -q "Check your email" "$1"' "$code" "$WORK/body"
check "the reset mail reaches the address" wait_portal_mail $((n0 + 1))
rlink=$(grep -oE "/m/$tok2/reset\?k=[A-Za-z0-9_-]{43}" "$(portal_mails | tail -1)" | head -1)
check "it holds a one-time reset link" test -n "$rlink"
key=${rlink##*k=}
code=$(pcurl "$rlink" -c "$WORK/jar6" -b "$WORK/jar6")
check "the reset link asks for a new password" \
	bash -c '[[ $0 == 200 ]] && grep -q "name=\"password2\"" "$1" && grep -q "name=\"k\"" "$1"' "$code" "$WORK/body"
code=$(POST_PATH="/reset?k=$key" post "$tok2" "$WORK/jar6" "k=$key" password=password1234 password2=password1234)
check "the reset refuses a common password" test "$code" = 400
code=$(POST_PATH="/reset?k=$key" post "$tok2" "$WORK/jar6" "k=$key" "password=$PW2" "password2=$PW2")
check "a new password through the reset link opens the message" test "$code" = 303
check "the lock is gone" \
	test "$(sql "SELECT CONCAT(failed_attempts, ' ', COALESCE(locked_until, 'none')) FROM deliveries WHERE id = $did2")" = "0 none"
check "the change is recorded: password_reset_sent, password_changed" \
	bash -c '[[ $0 == *password_reset_sent*password_changed* ]]' "$(events_of "$did2")"
check "the change is mailed to the address" wait_portal_mail $((n0 + 2))
check "... saying the password was changed" \
	grep -q "^Subject: Your password was changed" "$(portal_mails | tail -1)"
code=$(pcurl "$rlink" -c "$WORK/jar7" -b "$WORK/jar7")
check "the reset link works only once (410)" test "$code" = 410
code=$(verify "$tok" "$PW1" "$WORK/jar8")
check "the old password no longer opens" test "$code" = 403
code=$(verify "$tok" "$PW2" "$WORK/jar9")
check "the new password opens every message of the patient" test "$code" = 303

# --- nothing in clear ----------------------------------------------------------
leak=
for s in "$c1" "$c2" "$c3" "$c4" "$PW1" "$PW2" "$key"; do
	[[ -n $s ]] || { leak+=" (a secret of this test is empty)"; continue; }
	grep -qaF -- "$s" "$PORTAL_LOG" "$MILTER_LOG" 2>/dev/null && leak+=" log:$s"
done
dump=$(mariadb-dump --no-defaults --socket="$MYSQL_SOCKET" sealmail 2>/dev/null)
for s in "$PW1" "$PW2" "$key" "violet harbour"; do
	grep -qaF -- "$s" <<<"$dump" && leak+=" db:$s"
done
check "no code, password or reset key in a log or in the database" test -z "$leak"
check "the marker is nowhere: sink, logs, database" no_marker
tap_done
