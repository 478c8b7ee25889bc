#!/usr/bin/env bash
# The first README command as a newcomer meets it: the checkout copied into a
# folder other users cannot enter (mode 0700, like root's home), `make run`
# there, the demo hospital answered over HTTP, `services.sh env` right in a
# terminal that exported nothing, then Ctrl-C and `make clean`. `make test`
# runs it last. It uses its own ports, so the test services are untouched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_PORT=14432 REDIS_PORT=14379 HTTP=127.0.0.1:14080 ADMIN=127.0.0.1:14090

home=$(mktemp -d) # 0700
chmod 700 "$home"
copy="$home/fairslot"
log="$home/make-run.log"
pgid=""
finish() {
	local rc=$?
	trap - EXIT
	if [[ -n $pgid ]] && kill -0 "$pgid" 2>/dev/null; then
		kill -INT -- "-$pgid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pgid" 2>/dev/null || break; sleep 0.2; done
	fi
	if ((rc != 0)) && [[ -s $log ]]; then
		printf -- '--- make run (last lines) ---\n' >&2
		tail -n 30 "$log" >&2
	fi
	(cd "$copy" 2>/dev/null && make -s clean >/dev/null 2>&1) || true
	rm -rf "$home"
	exit "$rc"
}
trap finish EXIT

# The working tree as it is (tracked and new files), without .git or local data.
mkdir -p "$copy"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
		(cd "$ROOT" && xargs -0 -r tar -cf - --no-recursion --ignore-failed-read 2>/dev/null) | tar -xf - -C "$copy"
else
	tar -C "$ROOT" --exclude=./.data --exclude=./bin -cf - . | tar -xf - -C "$copy"
fi

echo "make run in $copy (mode $(stat -c %a "$home") above it)"
cd "$copy"
FAIRSLOT_PG_PORT=$PG_PORT FAIRSLOT_REDIS_PORT=$REDIS_PORT FAIRSLOT_HTTP_ADDR=$HTTP FAIRSLOT_ADMIN_ADDR=$ADMIN \
	setsid make run >"$log" 2>&1 </dev/null &
pgid=$!

ok=false
for _ in $(seq 1 900); do # up to 3 minutes: a cold build cache on a slow machine
	if body=$(curl -fsS --max-time 2 "http://$HTTP/v1/hospitals" 2>/dev/null) && [[ $body == *hospital_id* ]]; then
		ok=true
		break
	fi
	kill -0 "$pgid" 2>/dev/null || break
	sleep 0.2
done
$ok || { echo "newcomer.sh: make run did not serve the demo hospital on $HTTP" >&2; exit 1; }
grep -q 'admin    phone' "$log" || { echo "newcomer.sh: make run printed no demo logins" >&2; exit 1; }
echo "make run serves the demo hospital on $HTTP"

# A fresh terminal: nothing exported, yet env names the ports make run used.
envout=$(env -i PATH="$PATH" HOME="$HOME" deploy/local/services.sh env)
for want in "127.0.0.1:$PG_PORT/" "FAIRSLOT_REDIS_ADDR=127.0.0.1:$REDIS_PORT"; do
	[[ $envout == *"$want"* ]] || { printf 'newcomer.sh: services.sh env in a fresh terminal lacks %s:\n%s\n' "$want" "$envout" >&2; exit 1; }
done
echo "services.sh env in a fresh terminal names the ports make run used"

kill -INT -- "-$pgid"
for _ in $(seq 1 150); do kill -0 "$pgid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$pgid" 2>/dev/null; then echo "newcomer.sh: make run did not stop on Ctrl-C" >&2; exit 1; fi
pgid=""
status=$(deploy/local/services.sh status || true)
if [[ $status == *": running"* ]]; then
	printf 'newcomer.sh: services still run after Ctrl-C:\n%s\n' "$status" >&2
	exit 1
fi
echo "Ctrl-C stopped the service, Redis and PostgreSQL"

# The same folder cloned again: CI deletes its checkout and clones main at the
# same path, so the new data folder (new passwords) meets PostgreSQL's files
# of the old one under /var/lib/fairslot.
rm -rf .data
FAIRSLOT_PG_PORT=$PG_PORT FAIRSLOT_REDIS_PORT=$REDIS_PORT deploy/local/services.sh start >/dev/null ||
	{ echo "newcomer.sh: services.sh start failed in a checkout cloned again at the same path" >&2; exit 1; }
deploy/local/services.sh stop >/dev/null
echo "a checkout cloned again at the same path starts its own PostgreSQL"
