#!/bin/bash
# ctl_recipients.sh - sealmailctl recipients import|list|delete against the
# stack: a good file lands whole, a bad one not at all with every bad row
# named, hostile input is refused, answers are never printed, and the
# milter verifies a patient with what was imported.
set -u
. "$(dirname "$0")/lib.sh"

lab=$LAB_NAME
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tag=r$RANDOM$RANDOM
secret="Answer-$tag"
count() { sql "SELECT COUNT(*) FROM recipients r JOIN labs l ON l.id = r.lab_id WHERE l.name = '$lab' AND r.address LIKE '%$tag%'"; }

printf '\xef\xbb\xbfaddress,kind,question,answer,recovery_email\r\n' >"$tmp/ok.csv"
printf 'q-%s@example.net,question,"Town, and year?","%s",\r\n' "$tag" "$secret" >>"$tmp/ok.csv"
printf 'P-%s@Example.NET,password,,"pw ""%s""",back-%s@example.org\r\n' "$tag" "$tag" "$tag" >>"$tmp/ok.csv"
printf 'reg-%s@example.net,registered,,,\r\n' "$tag" >>"$tmp/ok.csv"

check "dry run checks without writing" \
	bash -c 'out=$("$0" -c "$1" recipients import --lab "$2" --dry-run "$3") && grep -q "3 row(s) valid" <<<"$out"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab" "$tmp/ok.csv"
check "dry run wrote nothing" test "$(count)" = 0
out=$(ctl recipients import --lab "$lab" "$tmp/ok.csv" 2>&1)
check "import of a good file (BOM, CRLF, quoting) succeeds" grep -q "3 recipient(s) imported.*3 new" <<<"$out"
check "all three rows are in the table" test "$(count)" = 3
check "the address is stored in lower case" \
	test "$(sql "SELECT COUNT(*) FROM recipients WHERE address = 'p-$tag@example.net'")" = 1
check "answers are stored as Argon2id hashes only" \
	test "$(sql "SELECT COUNT(*) FROM recipients WHERE address LIKE '%$tag%' AND answer_hash LIKE '\$argon2id\$%'")" = 2
refuse "the answer appears nowhere in the database" "^0$" \
	bash -c 'n=$(mariadb --no-defaults --socket="$0" -N -B sealmail -e "SELECT COUNT(*) FROM recipients WHERE CONCAT_WS(\",\", address, question, answer_hash, recovery_email) LIKE \"%$1%\""); echo $n; [ "$n" != 0 ]' \
	"$MYSQL_SOCKET" "$secret"
check "the answer appears in no output" bash -c '! grep -qF -- "$1" <<<"$0"' "$out" "$secret"
check "list shows the rows without answers" \
	bash -c 'o=$("$0" -c "$1" recipients list --lab "$2") && grep -q "q-$3@example.net	question	answer-set" <<<"$o" && ! grep -qF "$4" <<<"$o"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab" "$tag" "$secret"
check "list --json is valid JSON" \
	bash -c '"$0" -c "$1" recipients list --lab "$2" --json | python3 -c "import json,sys; d=json.load(sys.stdin); assert any(r[\"recovery_email\"] for r in d)"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab"

# Re-import from stdin: the same addresses are updated, not duplicated.
printf 'address,kind,question,answer\nq-%s@EXAMPLE.net,password,,newpass\n' "$tag" >"$tmp/up.csv"
check "import from stdin updates an existing address" \
	bash -c '"$0" -c "$1" recipients import --lab "$2" - <"$3" | grep -q "0 new, 1 updated"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab" "$tmp/up.csv"
check "the updated row changed kind" \
	test "$(sql "SELECT kind FROM recipients WHERE address = 'q-$tag@example.net'")" = password

# All or nothing: two good rows and one bad one write nothing.
printf 'address,kind,question,answer\nn1-%s@example.net,pin,,\nn2-%s@example.net,question,Q\nn3-%s@example.net,pin,,\n' \
	"$tag" "$tag" "$tag" >"$tmp/mixed.csv"
refuse "a file with a bad row is refused, naming the line" "line 3: 3 fields, but the header has 4" \
	ctl recipients import --lab "$lab" "$tmp/mixed.csv"
check "and none of its good rows was written" \
	test "$(sql "SELECT COUNT(*) FROM recipients WHERE address LIKE 'n_-$tag@%'")" = 0

# Bad input, each named with its line and reason.
hdr='address,kind,question,answer'
bad() { printf '%s\n' "$hdr" >"$tmp/bad.csv"; printf "$@" >>"$tmp/bad.csv"; }
bad 'a@example.net,question,"What year?,1980\nb@example.net,pin,,\n'
refuse "unbalanced quotes are refused" "line 2: unbalanced quote" \
	ctl recipients import --lab "$lab" "$tmp/bad.csv"
bad 'a@example.net,question,Q\xc3\x28,A\n'
refuse "invalid UTF-8 is refused" "line 2: question is not valid UTF-8" \
	ctl recipients import --lab "$lab" "$tmp/bad.csv"
bad 'x-%s@example.net,pin,,\nX-%s@EXAMPLE.NET,pin,,\n' "$tag" "$tag"
refuse "duplicate addresses are refused" "line 3: .*appears again \\(first on line 2\\)" \
	ctl recipients import --lab "$lab" "$tmp/bad.csv"
bad 'a@example.net,teleport,Q,A\nb@example.net,password,,\nnot-mail,pin,,\n'
refuse "unknown kind, missing answer and bad address are each named" \
	"line 2: unknown kind.*line 3: answer is empty.*line 4: address" \
	bash -c '"$0" -c "$1" recipients import --lab "$2" "$3" 2>&1 | tr "\n" " "; exit 1' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab" "$tmp/bad.csv"
{ printf '%s\n"a@example.net","question","' "$hdr"; head -c 10485760 /dev/zero | tr '\0' x; printf '","A"\n'; } >"$tmp/big.csv"
check "a 10 MB field is refused quickly and in little memory" \
	bash -c 'out=$( { /usr/bin/time -f "maxrss=%M" "$0" -c "$1" recipients import --lab "$2" "$3"; } 2>&1); rc=$?
		rss=$(sed -n "s/^maxrss=//p" <<<"$out")
		[ $rc = 1 ] && grep -q "line 2: a field is longer than 4096 bytes" <<<"$out" &&
		[ "$rss" -lt 150000 ] || { echo "rc=$rc rss=$rss $out"; exit 1; }' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab" "$tmp/big.csv"
refuse "an unknown lab is refused" 'no lab named "nosuchlab"' \
	ctl recipients import --lab nosuchlab "$tmp/ok.csv"

# The milter verifies a patient with the imported question (no headers).
rcpt="q2-$tag@example.net"
printf 'address,kind,question,answer\n%s,question,Imported question?,1980\n' "$rcpt" >"$tmp/one.csv"
check "import of one patient" ctl recipients import --lab "$lab" "$tmp/one.csv"
check "mail to that patient is sealed with the imported question" \
	swaks --server "127.0.0.1:$SMTP_PORT" --from lab@stack.test --to "$rcpt" \
		--header "X-Sealmail-Reference: IMP-$tag" --body "imported $tag" --timeout 60
for _ in $(seq 50); do
	n=$(sql "SELECT COUNT(*) FROM deliveries d JOIN recipients r ON r.id = d.recipient_id WHERE d.address = '$rcpt' AND d.kind = 'question' AND r.address = '$rcpt' AND r.question = 'Imported question?'")
	[ "$n" = 1 ] && break
	sleep 0.2
done
check "the delivery points at the imported recipient" test "$n" = 1

# Another lab's rows stay its own.
other="oth-$tag"
check "a second lab" ctl lab add "$other" --domain "$other.example"
printf 'address,kind,question,answer\nq-%s@example.net,pin,,\nonly-%s@example.net,pin,,\n' "$tag" "$tag" >"$tmp/other.csv"
check "the second lab imports an address the first also has" \
	bash -c '"$0" -c "$1" recipients import --lab "$2" "$3" | grep -q "2 new"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$other" "$tmp/other.csv"
check "the first lab's row for it is unchanged" \
	test "$(sql "SELECT kind FROM recipients r JOIN labs l ON l.id = r.lab_id WHERE l.name = '$lab' AND address = 'q-$tag@example.net'")" = password
check "each lab lists only its own recipients" \
	bash -c 'a=$("$0" -c "$1" recipients list --lab "$2"); b=$("$0" -c "$1" recipients list --lab "$3"); ! grep -q "only-$4" <<<"$a" && grep -q "only-$4" <<<"$b" && ! grep -q "reg-$4" <<<"$b"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$lab" "$other" "$tag"
refuse "a lab cannot delete another lab's recipient" "has no recipient" \
	ctl recipients delete --lab "$other" "reg-$tag@example.net"

check "delete removes one recipient" ctl recipients delete --lab "$lab" "reg-$tag@example.net"
refuse "deleting it again says so" "has no recipient" ctl recipients delete --lab "$lab" "reg-$tag@example.net"

tap_done
