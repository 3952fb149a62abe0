#!/bin/bash
# portal_process.sh - the prefork model: a worker that dies is replaced,
# SIGHUP makes every worker parse its templates again without a restart,
# and nothing is lost for the next request.
SRC_ADDR=127.0.0.41
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/portal_lib.sh"

master=$(cat "$STACK_DIR/portal/portal.pid")
workers() { pgrep -P "$master" | sort | tr '\n' ' '; }
n_workers() { pgrep -P "$master" | wc -l; }
wait_workers() {
	local i
	for ((i = 0; i < 50; i++)); do
		(($(n_workers) == $1)) && return 0
		sleep 0.1
	done
	return 1
}
wait_workers 2 && ok "the master runs portal.workers (2) workers" || notok "workers: $(workers)"
[[ -n $(grep -l 'sealmail-portal' /proc/"$master"/cmdline 2>/dev/null) ]] &&
	ok "the pid file names the master" || notok "pid file: $master"

addr=proc-$RANDOM@example.net
tok=$(seal_qa "$addr" 1980 --body "$MARK")
before=$(workers)
victim=${before%% *}
kill -KILL "$victim"
sleep 0.3
wait_workers 2 && [[ " $(workers) " != *" $victim "* ]] &&
	ok "a killed worker is replaced" || notok "after kill: $(workers)"
grep -q "event=worker_died pid=$victim" "$PORTAL_LOG" && ok "its death is logged" || notok "no worker_died line"
ok_all=1
for i in 1 2 3 4 5 6; do [[ $(pcurl "/m/$tok") == 200 ]] || ok_all=0; done
((ok_all)) && ok "every request after the restart is served" || notok "requests failed after restart"

lines=$(grep -c 'event=reloaded' "$PORTAL_LOG")
pids=$(workers)
kill -HUP "$master"
for i in $(seq 1 50); do
	(($(grep -c 'event=reloaded' "$PORTAL_LOG") >= lines + 2)) && break
	# A worker reloads when its accept returns: a request wakes it.
	pcurl "/m/$tok" >/dev/null
	sleep 0.1
done
(($(grep -c 'event=reloaded' "$PORTAL_LOG") >= lines + 2)) && [[ $(workers) == "$pids" ]] &&
	ok "SIGHUP reloads the templates in every worker without restarting it" ||
	notok "reload: $(grep -c 'event=reloaded' "$PORTAL_LOG") reload lines, workers $pids -> $(workers)"
[[ $(pcurl "/m/$tok") == 200 ]] && grep -q 'Year of birth?' "$WORK/body" &&
	ok "pages render after the reload" || notok "after reload"
tap_done
