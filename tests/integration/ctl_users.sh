#!/bin/bash
# ctl_users.sh - sealmailctl user add|reset|disable and apikey
# create|list|revoke: secrets shown once, stored only hashed or sealed.
set -u
. "$(dirname "$0")/lib.sh"

tag=u$RANDOM$RANDOM
login="alice-$tag@stack.test"

out=$(ctl user add --lab "$LAB_NAME" --role sender-admin --qr "$login" 2>&1)
check "user add prints a password" grep -qE '^password: [a-z2-9]{20}$' <<<"$out"
pw=$(sed -n 's/^password: //p' <<<"$out")
check "user add prints the TOTP enrolment URI" \
	grep -qE '^TOTP: +otpauth://totp/sealmail:[^?]+\?secret=[A-Z2-7]{32}&issuer=sealmail' <<<"$out"
check "and its QR code in block characters" grep -q $'\xe2\x96\x88' <<<"$out"
secret=$(sed -nE 's/.*secret=([A-Z2-7]+).*/\1/p' <<<"$out")
check "the user row has an Argon2id hash and a sealed TOTP secret" \
	test "$(sql "SELECT CONCAT(role, ' ', password_hash LIKE '\$argon2id\$%', ' ', LENGTH(totp_sealed)) FROM lab_users WHERE login = '$login'")" = "sender-admin 1 60"
check "the password is nowhere in the table" \
	test "$(sql "SELECT COUNT(*) FROM lab_users WHERE CONCAT(login, password_hash) LIKE '%$pw%'")" = 0
check "the TOTP secret is not stored in the clear" \
	python3 -c 'import base64,sys,subprocess
raw = base64.b32decode(sys.argv[1])
out = subprocess.run(["mariadb","--no-defaults","--socket="+sys.argv[2],"-N","-B","sealmail","-e",
    "SELECT HEX(totp_sealed) FROM lab_users WHERE login = \"%s\"" % sys.argv[3]], capture_output=True, text=True).stdout
assert out.strip() and raw.hex().upper() not in out' "$secret" "$MYSQL_SOCKET" "$login"
refuse "a second user with that login is refused" "exists already" \
	ctl user add --lab "$LAB_NAME" --role viewer "$login"
refuse "an unknown role is refused" "role: viewer or sender-admin" \
	ctl user add --lab "$LAB_NAME" --role root "bob-$tag"
refuse "a login with odd characters is refused" "login is 1 to 64" \
	ctl user add --lab "$LAB_NAME" --role viewer "Bob'; --"
h1=$(sql "SELECT password_hash FROM lab_users WHERE login = '$login'")
sql "UPDATE lab_users SET failed_attempts = 7, locked_until = UNIX_TIMESTAMP() + 600 WHERE login = '$login'"
check "user disable" ctl user disable "$login"
check "the user is disabled" test "$(sql "SELECT disabled IS NOT NULL FROM lab_users WHERE login = '$login'")" = 1
out2=$(ctl user reset "$login" 2>&1)
check "user reset prints a new password" \
	bash -c 'p=$(sed -n "s/^password: //p" <<<"$0"); [ -n "$p" ] && [ "$p" != "$1" ]' "$out2" "$pw"
check "reset replaced the hash, cleared the lock and re-enabled" \
	test "$(sql "SELECT CONCAT(password_hash <> '$h1', failed_attempts, COALESCE(locked_until, '-'), COALESCE(disabled, '-')) FROM lab_users WHERE login = '$login'")" = "10--"
refuse "reset of an unknown user" "no lab user" ctl user reset "nobody-$tag"

key=$(ctl apikey create --lab "$LAB_NAME" --label "test $tag" 2>/dev/null)
check "apikey create prints a key once" grep -qE '^smk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$' <<<"$key"
prefix=${key:4:12}
check "only a hash of the key is stored" \
	test "$(sql "SELECT CONCAT(LENGTH(hash), ' ', LOCATE('${key:17}', CONCAT(prefix, HEX(hash), COALESCE(label, ''))) ) FROM api_keys WHERE prefix = '$prefix'")" = "32 0"
check "apikey list shows the prefix, not the key" \
	bash -c 'o=$("$0" -c "$1" apikey list --lab "$2") && grep -q "^$3" <<<"$o" && ! grep -qF "$4" <<<"$o"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$LAB_NAME" "$prefix" "$key"
check "apikey list --json is valid JSON" \
	bash -c '"$0" -c "$1" apikey list --json | python3 -c "import json,sys; assert any(k[\"prefix\"] == sys.argv[1] for k in json.load(sys.stdin))" "$2"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF" "$prefix"
check "apikey revoke" ctl apikey revoke "$prefix"
check "the key is marked revoked" test "$(sql "SELECT revoked IS NOT NULL FROM api_keys WHERE prefix = '$prefix'")" = 1
refuse "revoking it again says so" "no live API key" ctl apikey revoke "$prefix"

tap_done
