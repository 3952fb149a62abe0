#!/bin/bash
# portal_big.sh - a 50 MB attachment: listed, downloaded byte for byte and
# resumed with Range, while a worker's memory stays bounded by the chunk
# size (the part is decoded from the escrow as it is sent, never held).
SRC_ADDR=127.0.0.51
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

sql "DELETE FROM rate_limits"
head -c 52428800 /dev/urandom >"$WORK/att.bin"
mime_message "$WORK/msg.eml" "$MARK" "$WORK/att.bin" scan.bin
addr=big-$RANDOM@example.net
tok=$(send_file "$addr" "$WORK/msg.eml")
[[ -n $tok ]] && ok "a message with a 50 MB attachment is sealed" || notok "no notice for the big message"
jar=$WORK/jar
[[ $(verify "$tok" 1980 "$jar") == 303 ]] && ok "verification succeeds" || notok "verify"

# AddressSanitizer keeps freed memory in quarantine (256 MB), which would
# hide what the portal itself holds: for this measurement the portal runs
# without it, and is restarted as it was at the end.
restart_portal() { "$TOP/contrib/stack" restart-portal "$STACK_DIR" >/dev/null 2>&1; }
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" restart_portal
trap 'restart_portal; rm -rf "$WORK"' EXIT
master=$(cat "$STACK_DIR/portal/portal.pid")
hwm() { local p m=0 v; for p in $(pgrep -P "$master"); do
	v=$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status"); ((v > m)) && m=$v; done; echo "$m"; }
base=$(hwm)
st=$(pcurl "/m/$tok/view" -b "$jar")
[[ $st == 200 ]] && grep -qE 'scan.bin</a> <span class="size">\((49|50)\.[0-9] MB\)' "$WORK/body" &&
	ok "the view lists the attachment with its size" || notok "view: $st" "$(grep -n '<li>' "$WORK/body")"
st=$(pcurl "/m/$tok/part/3" -b "$jar")
[[ $st == 200 ]] && cmp -s "$WORK/body" "$WORK/att.bin" && ok "the 50 MB attachment downloads byte for byte" ||
	notok "download: $st, $(wc -c <"$WORK/body") bytes"
st=$(pcurl "/m/$tok/part/3" -b "$jar" -H 'Range: bytes=40000000-')
[[ $st == 206 ]] && cmp -s "$WORK/body" <(tail -c +40000001 "$WORK/att.bin") &&
	ok "a download resumed at 40 MB gets the rest" || notok "resume: $st"
st=$(pcurl "/m/$tok/eml" -b "$jar")
[[ $st == 200 ]] && (($(wc -c <"$WORK/body") > 52428800)) && ok "the whole .eml streams" || notok "eml: $st"
grown=$(($(hwm) - base))
((grown < 24000)) && ok "worker peak memory grew by ${grown} kB, less than the 50 MB moved" ||
	notok "worker peak memory grew by ${grown} kB"
sql "DELETE FROM rate_limits"
tap_done
