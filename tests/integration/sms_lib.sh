# sms_lib.sh - helpers for the sms*.sh integration tests (sourced after
# lib.sh and milter_lib.sh).  SMS leave through sealmail-smsd to
# contrib/sms-receiver, which appends one JSON line per SMS to SMS_LOG.
# shellcheck shell=bash

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	echo "1..0 # SKIP helper library, sourced by the sms*.sh tests"
	exit 0
fi
if [[ ${SMSD_ENABLED:-no} != yes ]]; then
	echo "1..0 # SKIP the stack runs no sealmail-smsd (not built)"
	exit 0
fi

# sms_to NUMBER: the texts the receiver got for NUMBER, one per line.
sms_to() {
	/usr/bin/python3 - "$SMS_LOG" "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec["to"] == sys.argv[2]:
                print(rec["text"])
except FileNotFoundError:
    pass
PY
}

# wait_sms NUMBER [N] [SECS]: waits until N SMS reached NUMBER.
wait_sms() {
	local num=$1 want=${2:-1} secs=${3:-30} i
	for ((i = 0; i < secs * 10; i++)); do
		(($(sms_to "$num" | grep -c .) >= want)) && return 0
		sleep 0.1
	done
	echo "$(sms_to "$num" | grep -c .) SMS for $num after ${secs}s, wanted $want"
	return 1
}

# sms_link NUMBER: the token of the newest SMS to NUMBER.
sms_link() { sms_to "$1" | tail -1 | grep -oE '/m/[A-Za-z0-9_-]{43}' | cut -c4-; }

# a fresh E.164 number for this run: +49 151 and 8 random digits
new_number() { printf '+49151%08d' $(((RANDOM * 32768 + RANDOM) % 100000000)); }

# gsm7_ok TEXT: one GSM-7 segment (160 septets) of characters GSM-7 has.
gsm7_ok() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
basic = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
ext = set("^{}\\[~]|€")
n = 0
for ch in sys.argv[1]:
    if ch in basic: n += 1
    elif ch in ext: n += 2
    else: print("not GSM-7: %r" % ch); sys.exit(1)
if n > 160: print("%d septets" % n); sys.exit(1)
PY
}

# no_marker_sms [MARKER]: no_marker, plus the SMS log and the smsd log.
no_marker_sms() {
	local m=${1:-$MARK}
	no_marker "$m" || return 1
	if grep -qaF -- "$m" "$SMS_LOG" "$SMSD_LOG" 2>/dev/null; then
		echo "marker $m found in the SMS log or the smsd log"
		return 1
	fi
}

# send_to SUBJECT BODY RCPT...: a plain message by smtplib (swaks takes an
# address starting with "+" for an option); prints the deciding reply.
send_to() {
	local subj=$1 body=$2 f
	shift 2
	f=$(mktemp)
	message "$f" "From: <$LAB_SENDER>" "To: <$1>" "Subject: $subj" -- "$body"
	send_raw "$f" "$@"
	local rc=$?
	rm -f "$f"
	return $rc
}
