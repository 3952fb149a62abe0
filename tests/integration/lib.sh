# lib.sh - TAP helpers for the integration tests.  Source it first; it
# skips the whole script when no stack is running and loads stack.env.
# shellcheck shell=bash

if [[ -z ${SEALMAIL_STACK_ENV:-} ]]; then
	echo "1..0 # SKIP stack not running (tests/run starts it)"
	exit 0
fi
# shellcheck disable=SC1090
. "$SEALMAIL_STACK_ENV"

tap_n=0
tap_failed=0
ok()    { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
notok() {
	tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	[[ -n ${2:-} ]] && printf '%s\n' "$2" | head -40 | sed 's/^/# /'
	return 0
}
# check TEXT CMD...: ok when CMD succeeds; its output becomes diagnostics.
check() {
	local text=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$text"; else notok "$text" "$out"; fi
}
# refuse TEXT PATTERN CMD...: ok when CMD fails and says PATTERN.
refuse() {
	local text=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		notok "$text" "succeeded: $out"
	elif grep -qE -- "$pat" <<<"$out"; then
		ok "$text"
	else
		notok "$text" "failed without \"$pat\": $out"
	fi
}
tap_done() { echo "1..$tap_n"; [[ $tap_failed -eq 0 ]]; }

ctl() { "$SEALMAIL_BUILDDIR/ctl/sealmailctl" -c "$SEALMAIL_CONF" "$@"; }
# sql_as ROLE SQL: runs SQL as the program's own database account.
sql_as() {
	local role=$1 user pwfile
	user=sealmail_$role
	pwfile=$(sed -n "/^ *$role {/,/}/s/^ *password_file = //p" "$SEALMAIL_CONF" | head -1)
	mariadb --no-defaults --socket="$MYSQL_SOCKET" -u "$user" \
		--password="$(cat "$pwfile")" -N -B sealmail -e "$2"
}
# sql SQL: as the database root (test set-up and inspection only).
sql() { mariadb --no-defaults --socket="$MYSQL_SOCKET" -N -B sealmail -e "$1"; }
