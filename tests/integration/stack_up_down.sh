#!/bin/bash
# stack_up_down.sh - every component of a running contrib/stack answers:
# MariaDB, both Postfix listeners, SASL submission over TLS, the milter
# socket when the milter is enabled, and the sink receiving relayed mail.
# TAP output. Needs SEALMAIL_STACK_ENV (DIR/stack.env of "contrib/stack up").

set -u

if [[ -z ${SEALMAIL_STACK_ENV:-} ]]; then
	echo "1..0 # SKIP stack not running"
	exit 0
fi
# shellcheck disable=SC1090
. "$SEALMAIL_STACK_ENV"

n=0
failed=0
ok()   { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	[[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/# /'
	return 0
}
check() {  # check TEXT CMD...: ok when CMD succeeds, its output as diagnostics
	local text=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$text"; else notok "$text" "$out"; fi
}

smtp_banner() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		read -r line <&3 || exit 1
		printf "QUIT\r\n" >&3
		echo "$line"
		[[ $line == 220* ]]' _ "$1"
}

# wait_grep TIMEOUT PATTERN DIR: a file under DIR matches PATTERN in time.
wait_grep() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		grep -rqF -- "$2" "$3" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no file under $3 contains $2 after $1 s"
	return 1
}

marker=stack$$x$RANDOM
# Verification headers so a sealing milter has what a lab would give it;
# the envelope recipient carries the marker, since sealing replaces bodies.
sealing_headers=(--add-header "X-Sealmail-Question: Year of birth?"
	--add-header "X-Sealmail-Answer: 1970")

echo "1..9"

check "mariadb_answers_ping_on_private_socket" \
	mariadb-admin --no-defaults --socket="$MYSQL_SOCKET" ping

check "mariadb_listens_on_its_tcp_port" \
	mariadb-admin --no-defaults --protocol=tcp --host=127.0.0.1 \
	--port="$MYSQL_PORT" --connect-timeout=5 ping

check "smtp_port_greets_with_220" smtp_banner "$SMTP_PORT"
check "submission_port_greets_with_220" smtp_banner "$SUBMISSION_PORT"

out=$(swaks --server 127.0.0.1 --port "$SUBMISSION_PORT" --tls \
	--from lab@stack.test --to patient@example.net 2>&1)
if grep -q '^<~\*  *554 5.7.1' <<<"$out"; then
	ok "submission_without_auth_is_refused"
else
	notok "submission_without_auth_is_refused" "$out"
fi

out=$(swaks --server 127.0.0.1 --port "$SUBMISSION_PORT" --tls \
	--auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
	--from lab@stack.test --to "patient+sub$marker@example.net" \
	"${sealing_headers[@]}" --header "Subject: stack test" 2>&1)
if grep -q '^<~  *235 ' <<<"$out" && grep -q '^<~  *250 2.0.0' <<<"$out"; then
	ok "submission_with_auth_plain_over_tls_is_accepted"
else
	notok "submission_with_auth_plain_over_tls_is_accepted" "$out"
fi

# {auth_authen}, which the milter sees, is Postfix's sasl_username.
check "postfix_sasl_username_is_SASL_USER" \
	wait_grep 10 "sasl_method=PLAIN, sasl_username=$SASL_USER" "$MAILLOG"

if [[ ${MILTER_ENABLED:-no} == yes ]]; then
	check "milter_socket_exists" test -S "$MILTER_SOCKET"
else
	skip "milter_socket_exists" "milter not enabled in this stack"
fi

out=$(swaks --server 127.0.0.1 --port "$SMTP_PORT" \
	--from lis@stack.test --to "patient+lis$marker@example.net" \
	"${sealing_headers[@]}" --header "Subject: stack test" 2>&1)
if ! grep -q '^<-  *250 2.0.0' <<<"$out"; then
	notok "smtp_port_relays_to_sink" "$out"
else
	check "smtp_port_relays_to_sink" \
		wait_grep 20 "<patient+lis$marker@example.net>" "$SINK_DIR"
fi

((failed == 0))
