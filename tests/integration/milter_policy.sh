#!/bin/bash
# milter_policy.sh - X-Sealmail-* headers through the real Postfix: every
# expiry form accepted with the right lifetime, every malformed one refused
# with a 5xx that names the header (and nothing delivered), duplicate
# verification headers refused, and nothing of a refused message anywhere.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"

RUN=$RANDOM$RANDOM
date_in_30=$(date -u -d '+30 days' +%Y-%m-%d)

# expiry FORM SECONDS-OR-EMPTY: accepted with that lifetime (checked to the
# day for dates), or refused when SECONDS is "refuse".
i=0
accept_expiry() {
	local form=$1 secs=$2 rcpt out life
	i=$((i + 1))
	rcpt=exp$i-$RUN@example.org
	out=$(smtp --to "$rcpt" --header "X-Sealmail-Password: pw" \
		--header "X-Sealmail-Expires: $form" --header "Subject: $MARK" --body "$MARK")
	if ! queued "$out"; then
		notok "expiry '$form' is accepted" "$(final_reply "$out")"
		return
	fi
	life=$(sql "SELECT m.expires - m.created FROM messages m JOIN deliveries d
		ON d.message_id = m.id WHERE d.address = '$rcpt'")
	if [[ $secs == date:* ]]; then
		check "expiry '$form' is accepted and ends on ${secs#date:}" \
			test "$(sql "SELECT DATE(FROM_UNIXTIME(m.expires)) FROM messages m
				JOIN deliveries d ON d.message_id = m.id WHERE d.address = '$rcpt'")" = "${secs#date:}"
	else
		check "expiry '$form' is accepted with $secs s" test "$life" = "$secs"
	fi
}
refuse_expiry() {
	local form=$1 rcpt out reply
	i=$((i + 1))
	rcpt=exp$i-$RUN@example.org
	out=$(smtp --to "$rcpt" --header "X-Sealmail-Password: pw" \
		--header "X-Sealmail-Expires: $form" --header "Subject: $MARK" --body "$MARK")
	reply=$(final_reply "$out")
	check "expiry '$form' is refused with 5.6.0 naming the header" \
		bash -c '[[ $0 == 550\ 5.6.0\ X-Sealmail-Expires:* ]]' "$reply"
	check "refused expiry '$form' leaves no escrow row" \
		test "$(sql "SELECT COUNT(*) FROM deliveries WHERE address = '$rcpt'")" = 0
}

accept_expiry 1d 86400
accept_expiry 7d 604800
accept_expiry 2w 1209600
accept_expiry 6m "date:$(date -u -d '+6 months' +%Y-%m-%d)"
accept_expiry 10y "date:$(date -u -d '+10 years' +%Y-%m-%d)"
accept_expiry "$date_in_30" "date:$date_in_30"
for bad in 0d 11y 3661d "next week" "7 d" 7x -1d 2020-01-01 2026-02-30 "06/30/2027" "7d;DROP TABLE messages"; do
	refuse_expiry "$bad"
done

# Duplicate and contradictory verification headers.
refusal() {
	local name=$1 pat=$2 rcpt out reply
	shift 2
	i=$((i + 1))
	rcpt=dup$i-$RUN@example.org
	out=$(smtp --to "$rcpt" "$@" --header "Subject: $MARK" --body "$MARK")
	reply=$(final_reply "$out")
	check "$name" bash -c '[[ $0 == 550\ 5.* && $0 == *"$1"* ]]' "$reply" "$pat"
}
refusal "duplicate X-Sealmail-Answer is refused" "X-Sealmail-Answer appears 2 times" \
	--header "X-Sealmail-Question: Born?" --header "X-Sealmail-Answer: 1970" \
	--add-header "X-Sealmail-Answer: 1971"
refusal "duplicate X-Sealmail-Password is refused" "X-Sealmail-Password appears 2 times" \
	--header "X-Sealmail-Password: a" --add-header "X-Sealmail-Password: b"
refusal "password and question together are refused" "not both" \
	--header "X-Sealmail-Password: a" --header "X-Sealmail-Question: q?" \
	--header "X-Sealmail-Answer: b"
refusal "a question without its answer is refused" "must be set together" \
	--header "X-Sealmail-Question: q?"
refusal "a misspelt X-Sealmail header is refused" "unknown header X-Sealmail-Expire" \
	--header "X-Sealmail-Password: a" --header "X-Sealmail-Expire: 7d"
refusal "a reference with control or 8-bit bytes is refused" "X-Sealmail-Reference" \
	--header "X-Sealmail-Password: a" --header "X-Sealmail-Reference: caf$(printf '\xc3\xa9')"
refusal "a phone number that is not E.164 is refused" "E.164" \
	--header "X-Sealmail-Password: a" --header "X-Sealmail-Phone: 079 123 45 67"
refusal "an unknown template variant is refused" "X-Sealmail-Template" \
	--header "X-Sealmail-Password: a" --header "X-Sealmail-Template: nosuch"

settle
check "refused messages reached nobody" \
	test -z "$(grep -rlE "X-Rcpt-Args: <dup[0-9]+-$RUN@" "$SINK_DIR" 2>/dev/null)"
check "no marker anywhere in clear" no_marker
tap_done
