#!/bin/bash
# milter_dbdown.sh - fail closed (issue 2, item 7): MariaDB is stopped in
# the middle of a batch of 200 sealed messages and started again.  While it
# is down the milter answers 4xx and the client keeps each message and
# retries, as a lab's mail client or LIS does.  Afterwards the sink holds
# exactly 200 notices, the escrow exactly 200 messages, and no marker from
# any body is at the sink, in the logs or in a dump of the database.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/milter_lib.sh"

RUN=$RANDOM$RANDOM
tmp=$(mktemp -d)
rcpt=batch-$RUN@example.org
restart_db() { "$TOP/contrib/stack" db-start "$STACK_DIR" >/dev/null 2>&1 || true; }
trap 'restart_db; rm -rf "$tmp"' EXIT

# The sender: 200 messages over a few connections; a 4xx anywhere in a
# transaction means "try this message again" after a short pause.
python3 - "$SMTP_PORT" "$LAB_SENDER" "$rcpt" "$MARK" "$tmp/progress" >"$tmp/sender.log" 2>&1 <<'PY' &
import smtplib, sys, time
port, sender, rcpt, mark, progress = sys.argv[1:]
sent = tempfails = 0
s = None
i = 0
while i < 200:
    msg = ('Subject: batch %d %s\r\nX-Sealmail-Password: pw\r\n\r\n'
           'result %d %s\r\n' % (i, mark, i, mark)).encode()
    try:
        if s is None:
            s = smtplib.SMTP('127.0.0.1', int(port), timeout=120)
            s.ehlo('client.test')
        s.sendmail(sender, [rcpt], msg)
        i += 1
        with open(progress, 'w') as f:
            f.write('%d %d\n' % (i, tempfails))
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused) as e:
        code = getattr(e, 'smtp_code', 0) or 450
        if code >= 500:
            print('permanent failure on message %d: %s' % (i, e))
            sys.exit(1)
        tempfails += 1
        try: s.rset()
        except Exception: s = None
        time.sleep(0.2)
    except (smtplib.SMTPServerDisconnected, OSError):
        s = None
        time.sleep(0.2)
if s is not None:
    s.quit()
print('sent %d tempfails %d' % (i, tempfails))
PY
sender=$!

progress() { cut -d' ' -f1 "$tmp/progress" 2>/dev/null || echo 0; }
for ((k = 0; k < 600 && $(progress) < 60; k++)); do sleep 0.1; done
"$TOP/contrib/stack" db-stop "$STACK_DIR" >/dev/null 2>&1
stopped_at=$(progress)
# A message of its own while the database is down: the batch sender may
# not offer one, as the milter holds a message whose COMMIT the stop cut
# short until it can learn whether that COMMIT went through.
down_reply=$(final_reply "$(smtp --to "down-$RUN@example.org" \
	--header "X-Sealmail-Password: pw" --body "down $MARK")")
sleep 3
restart_db
wait "$sender"
rc=$?
check "the sender delivered all 200 messages, retrying after each 4xx" \
	bash -c '(($0 == 0)) && grep -qE "^sent 200 tempfails [0-9]+$" "$1"' "$rc" "$tmp/sender.log"
echo "# database stopped after message $stopped_at; $(tail -1 "$tmp/sender.log")"
check "a message sent while the database was down got 451 4.3.0" \
	grep -qE "^451 4\.3\.0 " <<<"$down_reply"
check "the milter answered 4.3.0 while the database was down" \
	grep -q "event=tempfail .*what=database unavailable" "$MILTER_LOG"
settle 120
check "the sink holds exactly 200 notices" test "$(sink_for "$rcpt" | wc -l)" = 200
check "the escrow holds exactly 200 messages" \
	test "$(sql "SELECT COUNT(DISTINCT message_id) FROM deliveries WHERE address = '$rcpt'")" = 200
check "every escrow message is complete (chunks and sealed event)" \
	test "$(sql "SELECT COUNT(*) FROM deliveries d WHERE d.address = '$rcpt'
		AND EXISTS (SELECT 1 FROM message_chunks c WHERE c.message_id = d.message_id)
		AND EXISTS (SELECT 1 FROM events e WHERE e.message_id = d.message_id AND e.kind = 'sealed')")" = 200
check "every notice links to its own escrow message" \
	test "$(for f in $(sink_for "$rcpt"); do header "$f" X-Sealmail-Id; done | sort -u | wc -l)" = 200
check "no marker of any of the 200 bodies anywhere in clear" no_marker
tap_done
