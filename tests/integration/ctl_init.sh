#!/bin/bash
# ctl_init.sh - sealmailctl init, migrate, keygen, reseal and lab against the
# stack's MariaDB: idempotent, least-privilege accounts, strict input.
set -u
. "$(dirname "$0")/lib.sh"

check "init again applies nothing and keeps keys" \
	bash -c 'out=$("$0" -c "$1" init) && grep -q "0 migration(s) applied" <<<"$out"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF"
check "migrate --status reports the latest version" \
	bash -c '"$0" -c "$1" migrate --status | grep -Eq "^schema version ([0-9]+), latest \1$"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF"
check "schema_migrations records each migration once" \
	test "$(sql 'SELECT COUNT(*) = COUNT(DISTINCT version) FROM schema_migrations')" = 1

# Only messages.id: the milter learns whether a commit cut short went through.
refuse "milter account cannot read sealed messages" "denied" \
	sql_as milter "SELECT sealed_key FROM messages"
refuse "milter account cannot read message metadata" "denied" \
	sql_as milter "SELECT * FROM messages"
refuse "milter account cannot read deliveries" "denied" \
	sql_as milter "SELECT COUNT(*) FROM deliveries"
refuse "milter account cannot change messages" "denied" \
	sql_as milter "UPDATE messages SET expires = 0"
check "milter account reads labs and recipients" \
	sql_as milter "SELECT COUNT(*) FROM labs; SELECT COUNT(*) FROM recipients"
refuse "portal account cannot write escrow rows" "denied" \
	sql_as portal "DELETE FROM message_chunks"
refuse "portal account cannot change labs" "denied" \
	sql_as portal "UPDATE labs SET name = 'x'"
refuse "portal account cannot drop tables" "denied" \
	sql_as portal "DROP TABLE events"

keys=$(sed -n 's/^ *dir = //p' "$SEALMAIL_CONF" | head -1)
check "secret key files are mode 0600" \
	bash -c 'for f in "$0"/*.key "$0"/pepper; do [ "$(stat -c %a "$f")" = 600 ] || { echo "$f"; exit 1; }; done' "$keys"
chmod 0644 "$keys/escrow-1.key"
refuse "a world-readable escrow key is refused, naming the file" "escrow-1.key.*chmod 0600" \
	ctl reseal
chmod 0600 "$keys/escrow-1.key"

refuse "lab name with SQL is refused" "lab name" ctl lab add "x'; DROP TABLE labs; --"
refuse "lab with a bad network is refused" "invalid network" ctl lab add badnet --network 10.0.0.0/33
refuse "lab with a bad colour is refused" "colour" ctl lab add badcol --colour 'red;}'
refuse "lab subject with a newline is refused" "subject" ctl lab add badsub --subject $'a\r\nBcc: x@y'
refuse "a duplicate lab is refused" "exists" ctl lab add stacklab
check "tables survived hostile input" test "$(sql 'SELECT COUNT(*) FROM labs WHERE name = "stacklab"')" = 1
check "lab with HTML in its display name is stored as text" \
	ctl lab add htmllab --display '<script>alert(1)</script> Lab' --domain html.example
check "lab list --json is valid JSON" \
	bash -c '"$0" -c "$1" --json lab list | python3 -c "import json,sys; json.load(sys.stdin)"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$SEALMAIL_CONF"
check "lab sender rules can be removed" ctl lab sender del htmllab domain html.example

bad=$(mktemp)
printf 'database {\n  port = 3306\n  porrt = 1\n}\n' >"$bad"
refuse "an unknown setting is refused with file and line" "$bad:3: unknown setting" \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" -c "$bad" migrate
rm -f "$bad"

# Rotation: a second escrow key pair, every data key re-sealed to it.
conf2=$(mktemp)
sed 's/escrow_version = 1/escrow_version = 2/' "$SEALMAIL_CONF" >"$conf2"
check "keygen creates escrow key pair 2" \
	bash -c '"$0" -c "$1" keygen && test -f "$2/escrow-2.key" && test -f "$2/escrow-2.pub"' \
	"$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$conf2" "$keys"
# The store's unit tests leave messages whose sealed key was swapped for
# another's: reseal must name each of them and still move all the others.
out=$("$SEALMAIL_BUILDDIR/ctl/sealmailctl" -c "$conf2" reseal 2>&1)
bad=$(grep -c "not re-sealed: sealed data key belongs to another message" <<<"$out")
check "reseal moves every intact data key to version 2" \
	test "$(sql 'SELECT COUNT(*) FROM messages WHERE key_version = 1 AND sealed_key IS NOT NULL')" = "$bad"
check "reseal names each message it cannot open" \
	bash -c '[ "$1" = 0 ] || grep -q "could not be opened" <<<"$0"' "$out" "$bad"
check "reseal again has nothing to do" \
	bash -c '"$0" -c "$1" reseal 2>/dev/null | grep -q "^0 message"' "$SEALMAIL_BUILDDIR/ctl/sealmailctl" "$conf2"
rm -f "$conf2"

tap_done
