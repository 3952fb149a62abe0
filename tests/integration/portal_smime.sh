#!/bin/bash
# portal_smime.sh - with a signing certificate for the lab in
# portal.smime_dir, the original .eml downloads S/MIME signed and
# `openssl smime -verify` accepts it; without one it is the plain original.
SRC_ADDR=127.0.0.71
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

dir=$(sed -n 's/^ *smime_dir = //p' "$SEALMAIL_CONF" | head -1)
[[ -n $dir && -d $dir ]] || { notok "the stack sets no portal.smime_dir"; tap_done; exit; }
sql "DELETE FROM rate_limits"
addr=smime-$RANDOM@example.net
tok=$(seal_qa "$addr" 1980 --header "Subject: Signed results" --body "$MARK")
[[ $(verify "$tok" 1980 "$WORK/jar") == 303 ]] && ok "verification succeeds" || notok "verify"

st=$(pcurl "/m/$tok/eml" -b "$WORK/jar")
[[ $st == 200 ]] && ! grep -q 'multipart/signed' "$WORK/body" && grep -q "$MARK" "$WORK/body" &&
	ok "without a certificate the .eml is the plain original" || notok "plain eml: $st"

# A CA and the lab's signing certificate.
ca=$WORK/ca
mkdir -p "$ca"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Test Lab CA' \
	-keyout "$ca/ca.key" -out "$ca/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj '/CN=Stack Test Laboratory/emailAddress=lab@stack.test' \
	-keyout "$ca/lab.key" -out "$ca/lab.csr" >/dev/null 2>&1
printf 'keyUsage=digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:lab@stack.test\n' >"$ca/ext"
openssl x509 -req -in "$ca/lab.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
	-days 2 -extfile "$ca/ext" -out "$ca/lab.pem" >/dev/null 2>&1
install -m 0644 "$ca/lab.pem" "$dir/$LAB_NAME.pem"
install -m 0644 "$ca/lab.key" "$dir/$LAB_NAME.key"
st=$(pcurl "/m/$tok/eml" -b "$WORK/jar")
[[ $st == 500 ]] && grep -qF 'event=smime_unusable' "$PORTAL_LOG" &&
	ok "a key file others may read is refused, not used" || notok "world-readable key: $st"
chmod 0600 "$dir/$LAB_NAME.key"

st=$(pcurl "/m/$tok/eml" -b "$WORK/jar")
[[ $st == 200 ]] && grep -q 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg="sha-256"' "$WORK/body" &&
	[[ $(hdr Content-Disposition) == 'attachment; filename="message.eml"'* ]] &&
	ok "with the lab's certificate the .eml is S/MIME signed" || notok "signed eml: $st" "$(head -5 "$WORK/body")"
if out=$(openssl smime -verify -in "$WORK/body" -CAfile "$ca/ca.pem" -purpose any -out "$WORK/content" 2>&1) &&
	grep -q 'Verification successful' <<<"$out"; then
	ok "openssl smime -verify accepts it"
else
	notok "openssl smime -verify" "$out"
fi
grep -q "$MARK" "$WORK/content" && grep -q '^Subject: Signed results' "$WORK/content" &&
	ok "the signed content is the original message" || notok "content" "$(head "$WORK/content")"
sed 's/Signed results/Signed resulTs/' "$WORK/body" >"$WORK/forged"
! openssl smime -verify -in "$WORK/forged" -CAfile "$ca/ca.pem" -purpose any -out /dev/null >/dev/null 2>&1 &&
	ok "a changed byte fails verification" || notok "forged message verified"
[[ $(sql "SELECT detail FROM events WHERE delivery_id = $(delivery_of "$addr") AND kind = 'downloaded' ORDER BY id DESC LIMIT 1") == 'eml whole signed' ]] &&
	ok "the download is recorded as signed" || notok "event"
rm -f "$dir/$LAB_NAME.pem" "$dir/$LAB_NAME.key"
sql "DELETE FROM rate_limits"
tap_done
