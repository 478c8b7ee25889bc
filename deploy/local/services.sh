#!/usr/bin/env bash
# Local PostgreSQL + Redis for fairslot, private to this checkout:
# loopback only, non-default ports, data under $FAIRSLOT_DATA_DIR (default .data/).
#
# Usage: services.sh start|stop [postgres|redis]...|status|env
#
#   start   install missing packages (root only), start both servers if needed.
#           stdout lists what this call did, one line per server:
#           "started postgres" / "postgres already running (...)" and the same for redis.
#   stop    stop the servers (both, or only those named); quiet if already stopped.
#   status  print running/stopped for each; exit 0 if both run, 3 otherwise.
#   env     print `export` lines for the app and the tests.
#
# Environment: FAIRSLOT_DATA_DIR, FAIRSLOT_PG_PORT (15432), FAIRSLOT_REDIS_PORT (16379).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FAIRSLOT_DATA_DIR:-$ROOT/.data}"
PG_PORT="${FAIRSLOT_PG_PORT:-15432}"
REDIS_PORT="${FAIRSLOT_REDIS_PORT:-16379}"
HOST=127.0.0.1
PG_USER=fairslot
PG_DB=fairslot

die() { printf 'services.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }

# die_log MESSAGE LOGFILE: error plus the tail of a log.
die_log() {
	printf 'services.sh: %s\n' "$1" >&2
	if [[ -s $2 ]]; then
		printf -- '--- last lines of %s ---\n' "$2" >&2
		tail -n 15 "$2" >&2
	fi
	exit 1
}

for p in "$PG_PORT" "$REDIS_PORT"; do
	if [[ ! $p =~ ^[1-9][0-9]*$ ]] || ((p > 65535)); then die "invalid port: $p"; fi
done
[[ $DATA != *"'"* ]] || die "FAIRSLOT_DATA_DIR must not contain a single quote: $DATA"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"

PG="$DATA/pg"
RDS="$DATA/redis"
LOG="$DATA/log"
RUN="$DATA/run"
REDIS_PID="$RUN/redis.pid"

IS_ROOT=false
[[ $(id -u) == 0 ]] && IS_ROOT=true

# ---------------------------------------------------------------- helpers

# alive PID NAME: is PID a live process whose name starts with NAME?
alive() {
	local pid=$1 name=$2 comm
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	if [[ -r /proc/$pid/comm ]]; then
		comm=$(<"/proc/$pid/comm") || return 1
		[[ $comm == "$name"* ]]
	else
		kill -0 "$pid" 2>/dev/null
	fi
}

dead() { ! alive "$@"; }

# Prints the pid of the PostgreSQL server running on $PG, or fails.
pg_pid() {
	local pid
	[[ -r $PG/postmaster.pid ]] || return 1
	pid=$(head -n 1 "$PG/postmaster.pid" 2>/dev/null) || return 1
	alive "$pid" postgres || return 1
	printf '%s\n' "$pid"
}

# Port recorded in postmaster.pid (line 4).
pg_running_port() { sed -n 4p "$PG/postmaster.pid" 2>/dev/null || true; }

redis_pid() {
	local pid
	[[ -r $REDIS_PID ]] || return 1
	pid=$(<"$REDIS_PID") || return 1
	alive "$pid" redis || return 1
	printf '%s\n' "$pid"
}

# Directory holding initdb/pg_ctl: the one matching an existing cluster's
# PG_VERSION, else the highest /usr/lib/postgresql/*/bin, else $PATH.
pg_bindir() {
	local ver dirs
	if [[ -r $PG/PG_VERSION ]]; then
		ver=$(<"$PG/PG_VERSION")
		if [[ -x /usr/lib/postgresql/$ver/bin/pg_ctl ]]; then
			printf '%s\n' "/usr/lib/postgresql/$ver/bin"
			return 0
		fi
	fi
	dirs=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true)
	if [[ -n $dirs ]]; then
		dirname "$dirs"
		return 0
	fi
	if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		dirname "$(command -v pg_ctl)"
		return 0
	fi
	return 1
}

# Run a PostgreSQL server tool as the right user (postgres when we are root).
as_pg() {
	if $IS_ROOT; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

psql_cmd() {
	local bin=psql
	[[ -n ${PGBIN:-} && -x $PGBIN/psql ]] && bin="$PGBIN/psql"
	PGCONNECT_TIMEOUT=5 "$bin" -X -q -v ON_ERROR_STOP=1 \
		-d "postgres://$PG_USER@$HOST:$PG_PORT/postgres?sslmode=disable" "$@"
}

# wait_until SECONDS CMD...: poll CMD every 0.2 s.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

lock() {
	mkdir -p "$RUN"
	exec 9>>"$RUN/services.lock"
	flock -w 300 9 || die "timed out waiting for another services.sh on $DATA"
}

# ---------------------------------------------------------------- install

install_missing() {
	local pkgs=() hint
	PGBIN=$(pg_bindir || true)
	[[ -n $PGBIN ]] || pkgs+=(postgresql)
	if [[ -n $PGBIN && ! -x $PGBIN/psql ]] && ! command -v psql >/dev/null; then
		pkgs+=(postgresql-client)
	fi
	command -v redis-server >/dev/null || pkgs+=(redis-server)
	command -v redis-cli >/dev/null || [[ " ${pkgs[*]} " == *" redis-server "* ]] || pkgs+=(redis-tools)
	((${#pkgs[@]})) || return 0

	if ! $IS_ROOT; then
		hint="sudo apt-get install ${pkgs[*]}"
		die "missing: ${pkgs[*]}. Install with: $hint (or run this script as root)"
	fi
	command -v apt-get >/dev/null || die "missing: ${pkgs[*]} and apt-get is not available"
	mkdir -p "$LOG"
	note "installing ${pkgs[*]} (log: $LOG/install.log) ..."
	{
		apt-get update &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}"
	} </dev/null >"$LOG/install.log" 2>&1 || die_log "apt-get install ${pkgs[*]} failed" "$LOG/install.log"
	PGBIN=$(pg_bindir) || die "PostgreSQL is still missing after installing ${pkgs[*]}"
	command -v redis-server >/dev/null || die "redis-server is still missing after install"
}

# ---------------------------------------------------------------- postgres

pg_prepare_dirs() {
	mkdir -p "$PG" "$LOG" "$RUN"
	chmod 700 "$PG"
	if $IS_ROOT; then
		id -u postgres >/dev/null 2>&1 ||
			useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
				--shell /usr/sbin/nologin postgres ||
			die "could not create the system user postgres"
		chmod go+x "$DATA"
		chown -R postgres:postgres "$PG"
		chown postgres:postgres "$RUN" "$LOG"
		[[ ! -e $LOG/postgres.log ]] || chown postgres:postgres "$LOG/postgres.log"
		as_pg test -w "$PG" -a -w "$RUN" -a -w "$LOG" ||
			die "user postgres cannot write to $DATA (is a parent folder closed to other users, e.g. /root?); set FAIRSLOT_DATA_DIR to a folder postgres can reach"
	fi
}

pg_initdb() {
	local locale=C.UTF-8
	[[ ! -e $PG/PG_VERSION ]] || return 0
	if [[ -n $(ls -A "$PG") ]]; then
		die "$PG is not empty but has no PG_VERSION (interrupted initdb?); remove it and retry"
	fi
	if command -v locale >/dev/null && ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		locale=C
	fi
	note "initialising PostgreSQL data folder $PG (locale $locale) ..."
	if ! as_pg "$PGBIN/initdb" -D "$PG" -A trust -U "$PG_USER" -E UTF8 --locale="$locale" \
		>"$LOG/initdb.log" 2>&1 9>&-; then
		if [[ $locale != C ]] && grep -qi 'invalid locale' "$LOG/initdb.log"; then
			note "locale $locale rejected, retrying with --locale=C"
			find "$PG" -mindepth 1 -delete
			as_pg "$PGBIN/initdb" -D "$PG" -A trust -U "$PG_USER" -E UTF8 --locale=C \
				>"$LOG/initdb.log" 2>&1 9>&- || die_log "initdb failed" "$LOG/initdb.log"
		else
			die_log "initdb failed" "$LOG/initdb.log"
		fi
	fi
}

pg_start() {
	local pid port sockdir opts
	if pid=$(pg_pid); then
		port=$(pg_running_port)
		echo "postgres already running (pid $pid, $HOST:$port)"
		[[ $port == "$PG_PORT" ]] ||
			note "warning: postgres on $PG listens on port $port, not FAIRSLOT_PG_PORT=$PG_PORT; run 'services.sh stop' first"
		return 0
	fi
	pg_prepare_dirs
	pg_initdb

	# A Unix socket path must fit in 107 bytes; without room, use TCP only.
	sockdir="$RUN"
	if ((${#RUN} + ${#PG_PORT} + 11 > 107)); then
		note "note: $RUN is too long for a Unix socket; PostgreSQL listens on TCP only"
		sockdir=""
	fi
	opts="-p $PG_PORT -c listen_addresses=$HOST -k '$sockdir' -c fsync=on -c max_connections=200 -c shared_buffers=256MB"
	if ! as_pg "$PGBIN/pg_ctl" -D "$PG" -l "$LOG/postgres.log" -w -t 60 -o "$opts" start \
		>"$RUN/pg_ctl.out" 2>&1 9>&-; then
		cat "$RUN/pg_ctl.out" >&2
		die_log "PostgreSQL did not start on $HOST:$PG_PORT" "$LOG/postgres.log"
	fi
	echo "started postgres"
}

pg_ensure_db() {
	local out
	out=$(psql_cmd -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>&1) ||
		die_log "cannot connect to PostgreSQL on $HOST:$PG_PORT: $out" "$LOG/postgres.log"
	[[ $out != 1 ]] || return 0
	if out=$(psql_cmd -c "CREATE DATABASE $PG_DB" 2>&1); then
		note "created database $PG_DB"
	elif [[ $out != *"already exists"* ]]; then
		die "could not create database $PG_DB: $out"
	fi
}

pg_stop() {
	local pid
	pid=$(pg_pid) || return 0
	PGBIN=$(pg_bindir || true)
	if [[ -n $PGBIN ]]; then
		as_pg "$PGBIN/pg_ctl" -D "$PG" -m fast -w -t 60 stop >/dev/null 9>&- ||
			die_log "pg_ctl stop failed" "$LOG/postgres.log"
	else
		kill -INT "$pid"
		wait_until 60 dead "$pid" postgres || die "postgres (pid $pid) did not stop"
	fi
	echo "stopped postgres"
}

# ---------------------------------------------------------------- redis

redis_cli() { timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" "$@" </dev/null 2>/dev/null; }

redis_ready() {
	redis_pid >/dev/null && [[ $(redis_cli ping) == PONG ]]
}

redis_start() {
	local pid other
	if pid=$(redis_pid); then
		echo "redis already running (pid $pid, $HOST:$REDIS_PORT)"
		return 0
	fi
	if other=$(redis_cli ping) && [[ -n $other ]]; then
		die "port $HOST:$REDIS_PORT is already used by another Redis; set FAIRSLOT_REDIS_PORT"
	fi
	mkdir -p "$RDS" "$LOG" "$RUN"
	rm -f "$REDIS_PID"
	redis-server --bind "$HOST" --port "$REDIS_PORT" --dir "$RDS" \
		--daemonize yes --pidfile "$REDIS_PID" --logfile "$LOG/redis.log" \
		--appendonly yes --appendfsync everysec --save '' \
		</dev/null >"$RUN/redis-start.out" 2>&1 9>&- ||
		{ cat "$RUN/redis-start.out" >&2; die_log "redis-server failed to start" "$LOG/redis.log"; }
	wait_until 20 redis_ready ||
		die_log "Redis did not answer PONG on $HOST:$REDIS_PORT within 20 s" "$LOG/redis.log"
	echo "started redis"
}

redis_stop() {
	local pid
	pid=$(redis_pid) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 30 dead "$pid" redis || die "redis (pid $pid) did not stop within 30 s"
	echo "stopped redis"
}

# ---------------------------------------------------------------- commands

cmd_start() {
	lock
	install_missing
	pg_start
	pg_ensure_db
	redis_start
}

cmd_stop() {
	local want=("$@") s
	((${#want[@]})) || want=(postgres redis)
	[[ -d $DATA ]] || return 0
	lock
	for s in "${want[@]}"; do
		case $s in
		postgres) pg_stop ;;
		redis) redis_stop ;;
		*) die "unknown service: $s (want postgres or redis)" ;;
		esac
	done
}

cmd_status() {
	local pid rc=0
	if pid=$(pg_pid); then
		echo "postgres: running (pid $pid, $HOST:$(pg_running_port), data $PG)"
	else
		echo "postgres: stopped"
		rc=3
	fi
	if pid=$(redis_pid); then
		echo "redis: running (pid $pid, $HOST:$REDIS_PORT, data $RDS)"
	else
		echo "redis: stopped"
		rc=3
	fi
	return "$rc"
}

cmd_env() {
	cat <<EOF
export FAIRSLOT_DATABASE_URL=postgres://$PG_USER@$HOST:$PG_PORT/$PG_DB?sslmode=disable
export FAIRSLOT_REDIS_ADDR=$HOST:$REDIS_PORT
export FAIRSLOT_TEST_DATABASE_URL=postgres://$PG_USER@$HOST:$PG_PORT/postgres?sslmode=disable
export FAIRSLOT_TEST_REDIS_ADDR=$HOST:$REDIS_PORT
EOF
}

usage() { echo "usage: $0 start|stop [postgres|redis]...|status|env" >&2; exit 2; }

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case $cmd in
start) [[ $# == 0 ]] || usage; cmd_start ;;
stop) cmd_stop "$@" ;;
status) [[ $# == 0 ]] || usage; cmd_status ;;
env) [[ $# == 0 ]] || usage; cmd_env ;;
*) usage ;;
esac
