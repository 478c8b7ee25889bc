#!/usr/bin/env bash
# Local PostgreSQL + Redis for fairslot, private to this checkout:
# loopback only, non-default ports, data under $FAIRSLOT_DATA_DIR (default .data/;
# PostgreSQL's own files may live elsewhere, see deploy/local/pghome.sh).
#
# Usage: services.sh start|start-cluster|stop [postgres|redis|redis-cluster]...|stop-cluster|purge|status|env
#
#   start          install missing packages (root only), start both servers if needed.
#                  stdout lists what this call did, one line per server:
#                  "started postgres" / "postgres already running (...)" and the same for redis.
#   start-cluster  start a test Redis Cluster (3 masters, no replicas, no persistence)
#                  and create it on first use; prints "started redis-cluster" or
#                  "redis-cluster already running (...)". Only the tests need it.
#   stop           stop the servers (all, or only those named); quiet if already stopped.
#   stop-cluster   the same as `stop redis-cluster`.
#   purge          stop everything, then delete the data folder and PostgreSQL's files.
#   status         print running/stopped for each; exit 0 if postgres and redis run,
#                  3 otherwise (the cluster does not count).
#   env            print `export` lines for the app and the tests.
#
# Environment: FAIRSLOT_DATA_DIR, FAIRSLOT_PG_PORT (15432), FAIRSLOT_REDIS_PORT (16379),
# FAIRSLOT_REDIS_CLUSTER_PORT (17001: the cluster uses it and the next two ports,
# and each port + 10000 for the cluster bus), FAIRSLOT_PG_DIR (where PostgreSQL's
# own files live; see deploy/local/pghome.sh). A port that is not set is the one this data
# folder's services were last started with ($DATA/services.env), else the default,
# so `env` and `stop` in a fresh terminal find what `start` started.
# FAIRSLOT_PG_HUGE_PAGES=on (opt-in; unset leaves PostgreSQL's default, try,
# which finds no huge pages on a machine that has none) starts PostgreSQL
# with its shared memory in huge pages, or fails: as root, when too few are
# free, vm.nr_hugepages is raised by what the server needs for its start
# and lowered again at once (the server keeps its pages until it stops; the
# setting is left as it was). docs/performance.md measures what it buys.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FAIRSLOT_DATA_DIR:-$ROOT/.data}"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
STATE="$DATA/services.env"
rec_pg_port='' rec_redis_port='' rec_cluster_port=''
if [[ -r $STATE ]]; then
	while IFS='=' read -r key val; do
		case $key in
		pg_port) rec_pg_port=$val ;;
		redis_port) rec_redis_port=$val ;;
		cluster_port) rec_cluster_port=$val ;;
		esac
	done <"$STATE"
fi
PG_PORT="${FAIRSLOT_PG_PORT:-${rec_pg_port:-15432}}"
REDIS_PORT="${FAIRSLOT_REDIS_PORT:-${rec_redis_port:-16379}}"
CLUSTER_PORT="${FAIRSLOT_REDIS_CLUSTER_PORT:-${rec_cluster_port:-17001}}"
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

for p in "$PG_PORT" "$REDIS_PORT" "$CLUSTER_PORT"; do
	if [[ ! $p =~ ^[1-9][0-9]*$ ]] || ((p > 65535)); then die "invalid port: $p"; fi
done
# The cluster bus of a node listens on its port + 10000.
((CLUSTER_PORT + 2 + 10000 <= 65535)) || die "FAIRSLOT_REDIS_CLUSTER_PORT must be at most 55533: $CLUSTER_PORT"
CLUSTER_PORTS=("$CLUSTER_PORT" "$((CLUSTER_PORT + 1))" "$((CLUSTER_PORT + 2))")
[[ $DATA != *"'"* ]] || die "FAIRSLOT_DATA_DIR must not contain a single quote: $DATA"

RDS="$DATA/redis"
LOG="$DATA/log"
RUN="$DATA/run"
REDIS_PID="$RUN/redis.pid"
CLUSTER_DIR="$DATA/redis-cluster"

IS_ROOT=false
[[ $(id -u) == 0 ]] && IS_ROOT=true

# Passwords of the local servers, made on first use and kept in the data
# folder (mode 0600): loopback is shared by every user of the machine.
PG_PASSWORD_FILE="$DATA/pg.password"
REDIS_PASSWORD_FILE="$DATA/redis.password"

# PostgreSQL's own files: its data folder ($PG), its log and its socket. As
# root they live in a folder of their own, pg_home_for in pghome.sh, named in
# $DATA/postgres-location. Otherwise, or when an earlier version already made
# $DATA/pg, they stay in the data folder. FAIRSLOT_PG_DIR chooses the folder.
# shellcheck source=deploy/local/pghome.sh
. "$ROOT/deploy/local/pghome.sh"
PG_HOME="${FAIRSLOT_PG_DIR:-}"
if [[ -z $PG_HOME ]] && $IS_ROOT && [[ ! -e $DATA/pg/PG_VERSION ]]; then
	PG_HOME=$(pg_home_for "$ROOT" "$DATA")
fi
if [[ -n $PG_HOME ]]; then
	[[ $PG_HOME == /* ]] || PG_HOME="$PWD/$PG_HOME"
	[[ $PG_HOME != *"'"* ]] || die "FAIRSLOT_PG_DIR must not contain a single quote: $PG_HOME"
	PG="$PG_HOME/data"
	PG_LOG="$PG_HOME/postgres.log"
	PG_SOCK="$PG_HOME/run"
else
	PG="$DATA/pg"
	PG_LOG="$LOG/postgres.log"
	PG_SOCK="$RUN"
fi

# ---------------------------------------------------------------- helpers

# secret FILE: print the password kept in FILE, making it on first use.
secret() {
	local file=$1
	if [[ ! -s $file ]]; then
		mkdir -p "$DATA"
		(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file.tmp" && mv "$file.tmp" "$file")
	fi
	printf '%s\n' "$(<"$file")"
}

# alive PID NAME: is PID a live process whose name starts with NAME? A zombie
# (exited, not yet reaped: a container's init may take seconds) is not.
alive() {
	local pid=$1 name=$2 comm stat
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	if [[ -r /proc/$pid/comm ]]; then
		comm=$(<"/proc/$pid/comm") || return 1
		stat=$(<"/proc/$pid/stat") || return 1
		stat=${stat##*) }
		[[ $comm == "$name"* && ${stat%% *} != Z ]]
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
	PGPASSWORD=$(secret "$PG_PASSWORD_FILE") PGCONNECT_TIMEOUT=5 "$bin" -X -q -v ON_ERROR_STOP=1 \
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
	mkdir -p "$LOG" "$RUN"
	if [[ -n $PG_HOME ]]; then
		# Every folder above PG_HOME must let postgres through, whatever the umask.
		[[ -n ${FAIRSLOT_PG_DIR:-} ]] || install -d -m 0755 "$(dirname "$PG_HOME")"
		mkdir -p "$PG" "$PG_SOCK"
		printf '%s\n' "$PG_HOME" >"$DATA/postgres-location"
	else
		mkdir -p "$PG"
	fi
	chmod 700 "$PG"
	if $IS_ROOT; then
		id -u postgres >/dev/null 2>&1 ||
			useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
				--shell /usr/sbin/nologin postgres ||
			die "could not create the system user postgres"
		if [[ -n $PG_HOME ]]; then
			chown -R postgres:postgres "$PG_HOME"
			chmod 700 "$PG_HOME"
		else
			chmod go+x "$DATA"
			chown -R postgres:postgres "$PG"
			chown postgres:postgres "$RUN" "$LOG"
			[[ ! -e $PG_LOG ]] || chown postgres:postgres "$PG_LOG"
		fi
		as_pg test -w "$PG" -a -w "$PG_SOCK" -a -w "$(dirname "$PG_LOG")" ||
			die "user postgres cannot write to $PG (is a parent folder closed to other users?); set FAIRSLOT_PG_DIR to a folder postgres can reach"
	fi
}

pg_initdb() {
	local locale=C.UTF-8 pwfile
	[[ ! -e $PG/PG_VERSION ]] || return 0
	if [[ -n $(ls -A "$PG") ]]; then
		die "$PG is not empty but has no PG_VERSION (interrupted initdb?); remove it and retry"
	fi
	if command -v locale >/dev/null && ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		locale=C
	fi
	# initdb reads the password from a file the postgres user can open.
	pwfile="$PG_SOCK/.pwfile"
	(umask 077 && secret "$PG_PASSWORD_FILE" >"$pwfile")
	if $IS_ROOT; then chown postgres:postgres "$pwfile"; fi
	note "initialising PostgreSQL data folder $PG (locale $locale) ..."
	if ! pg_run_initdb "$locale" "$pwfile"; then
		if [[ $locale != C ]] && grep -qi 'invalid locale' "$LOG/initdb.log"; then
			note "locale $locale rejected, retrying with --locale=C"
			find "$PG" -mindepth 1 -delete
			pg_run_initdb C "$pwfile" || { rm -f "$pwfile"; die_log "initdb failed" "$LOG/initdb.log"; }
		else
			rm -f "$pwfile"
			die_log "initdb failed" "$LOG/initdb.log"
		fi
	fi
	rm -f "$pwfile"
}

# pg_run_initdb LOCALE PWFILE: a cluster whose every connection needs the password.
pg_run_initdb() {
	as_pg "$PGBIN/initdb" -D "$PG" -A scram-sha-256 --pwfile="$2" -U "$PG_USER" -E UTF8 --locale="$1" \
		>"$LOG/initdb.log" 2>&1 9>&-
}

# A cluster made by an earlier version trusted every local connection: give
# its user the password and make the server ask for it.
pg_require_password() {
	grep -Eq '^[^#]*[[:space:]]trust([[:space:]]|$)' "$PG/pg_hba.conf" || return 0
	note "PostgreSQL in $PG accepted connections without a password; setting one ($PG_PASSWORD_FILE)"
	psql_cmd -c "ALTER ROLE $PG_USER PASSWORD '$(secret "$PG_PASSWORD_FILE")'" >/dev/null ||
		die "could not set the password of $PG_USER"
	as_pg sed -i -E 's/^([^#]*[[:space:]])trust([[:space:]]|$)/\1scram-sha-256\2/' "$PG/pg_hba.conf" 9>&- ||
		die "could not edit $PG/pg_hba.conf"
	as_pg "$PGBIN/pg_ctl" -D "$PG" reload >/dev/null 9>&- || die "pg_ctl reload failed"
}

# pg_forget_stale_home: the default folder of PostgreSQL's files, left by an
# earlier clone at this path (see pg_home_stale), is stopped and deleted, so
# that this checkout makes its own. A folder chosen with FAIRSLOT_PG_DIR is
# never deleted.
pg_forget_stale_home() {
	[[ -n $PG_HOME && -z ${FAIRSLOT_PG_DIR:-} ]] || return 0
	pg_home_stale "$PG_HOME" "$DATA/postgres-location" || return 0
	note "PostgreSQL's files in $PG_HOME were made for an earlier data folder at this path, whose password went with it: deleting them and starting afresh"
	PGBIN=$(pg_bindir || true)
	pg_stop >&2
	rm -rf "$PG_HOME"
}

pg_start() {
	local pid port sockdir opts
	pg_forget_stale_home
	if pid=$(pg_pid); then
		port=$(pg_running_port)
		echo "postgres already running (pid $pid, $HOST:$port)"
		[[ $port == "$PG_PORT" ]] ||
			note "warning: postgres on $PG listens on port $port, not FAIRSLOT_PG_PORT=$PG_PORT; run 'services.sh stop' first"
		[[ -z ${FAIRSLOT_PG_HUGE_PAGES:-} ]] ||
			note "note: FAIRSLOT_PG_HUGE_PAGES applies when PostgreSQL starts; run 'services.sh stop postgres' first"
		return 0
	fi
	pg_prepare_dirs
	pg_initdb

	# A Unix socket path must fit in 107 bytes; without room, use TCP only.
	sockdir="$PG_SOCK"
	if ((${#PG_SOCK} + ${#PG_PORT} + 11 > 107)); then
		note "note: $PG_SOCK is too long for a Unix socket; PostgreSQL listens on TCP only"
		sockdir=""
	fi
	# log_error_verbosity=terse: no DETAIL lines in the server log, where a
	# refused duplicate's would name the keyed hash of a phone or an ID number
	# beyond their retention (review21 L3).
	opts="-p $PG_PORT -c listen_addresses=$HOST -k '$sockdir' -c fsync=on -c log_error_verbosity=terse $PG_SIZING"
	local huge=${FAIRSLOT_PG_HUGE_PAGES:-} added=0 started=true
	case $huge in
	'') ;;
	on | off | try) opts+=" -c huge_pages=$huge" ;;
	*) die "FAIRSLOT_PG_HUGE_PAGES must be on, off or try: $huge" ;;
	esac
	[[ $huge != on ]] || added=$(pg_huge_pages_raise)
	as_pg "$PGBIN/pg_ctl" -D "$PG" -l "$PG_LOG" -w -t 60 -o "$opts" start \
		>"$RUN/pg_ctl.out" 2>&1 9>&- || started=false
	((added == 0)) || pg_huge_pages_lower "$added"
	if ! $started; then
		cat "$RUN/pg_ctl.out" >&2
		die_log "PostgreSQL did not start on $HOST:$PG_PORT" "$PG_LOG"
	fi
	echo "started postgres${huge:+ (huge_pages=$huge)}"
}

# The settings that size PostgreSQL's shared memory.
PG_SIZING="-c max_connections=200 -c shared_buffers=256MB"

# pg_huge_pages_raise: make sure the huge pages the stopped server on $PG
# needs are free, raising vm.nr_hugepages (root only) by what is missing;
# prints how many it added.
pg_huge_pages_raise() {
	local need free rsvd nr missing
	# shellcheck disable=SC2086 # PG_SIZING is several words
	need=$(as_pg "$PGBIN/postgres" -D "$PG" -C shared_memory_size_in_huge_pages $PG_SIZING 2>/dev/null) ||
		die "FAIRSLOT_PG_HUGE_PAGES=on: cannot ask PostgreSQL (15 or later) how many huge pages it needs"
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	rsvd=$(awk '/^HugePages_Rsvd:/ {print $2}' /proc/meminfo)
	missing=$((need - (free - rsvd)))
	if ((missing <= 0)); then
		echo 0
		return 0
	fi
	$IS_ROOT || die "FAIRSLOT_PG_HUGE_PAGES=on: PostgreSQL needs $need huge pages and $((free - rsvd)) are free; as root this script raises vm.nr_hugepages for the start"
	nr=$(</proc/sys/vm/nr_hugepages)
	echo $((nr + missing)) >/proc/sys/vm/nr_hugepages 2>/dev/null ||
		die "FAIRSLOT_PG_HUGE_PAGES=on: cannot raise vm.nr_hugepages"
	note "vm.nr_hugepages raised by $missing for PostgreSQL's start (needs $need)"
	echo "$missing"
}

# pg_huge_pages_lower N: take back the N huge pages pg_huge_pages_raise
# added. Those the server holds stay its own (surplus pages) until it stops.
pg_huge_pages_lower() {
	local nr
	nr=$(</proc/sys/vm/nr_hugepages)
	echo $((nr > $1 ? nr - $1 : 0)) >/proc/sys/vm/nr_hugepages ||
		note "warning: could not lower vm.nr_hugepages by $1 (now $nr); set it back by hand"
	note "vm.nr_hugepages lowered by $1 again (now $(</proc/sys/vm/nr_hugepages))"
}

pg_ensure_db() {
	local out
	out=$(psql_cmd -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>&1) ||
		die_log "cannot connect to PostgreSQL on $HOST:$PG_PORT: $out" "$PG_LOG"
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
			die_log "pg_ctl stop failed" "$PG_LOG"
	else
		kill -INT "$pid"
		wait_until 60 dead "$pid" postgres || die "postgres (pid $pid) did not stop"
	fi
	echo "stopped postgres"
}

# ---------------------------------------------------------------- redis

redis_cli() {
	REDISCLI_AUTH=$(secret "$REDIS_PASSWORD_FILE") timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" "$@" </dev/null 2>/dev/null
}

# open_ping PORT: PONG when a Redis on PORT answers without a password.
open_ping() { env -u REDISCLI_AUTH timeout 5 redis-cli -h "$HOST" -p "$1" ping </dev/null 2>/dev/null 9>&-; }

# redis_conf: a config file (mode 0600) with the password, so that it never
# shows in a process listing as a command-line argument would.
redis_conf() {
	local conf="$RUN/redis-auth.conf" pw
	pw=$(secret "$REDIS_PASSWORD_FILE")
	(umask 077 && printf 'requirepass %s\nmasterauth %s\n' "$pw" "$pw" >"$conf.tmp" && mv -f "$conf.tmp" "$conf")
	printf '%s\n' "$conf"
}

redis_ready() {
	redis_pid >/dev/null && [[ $(redis_cli ping) == PONG ]]
}

redis_start() {
	local pid other
	if pid=$(redis_pid); then
		if [[ $(open_ping "$REDIS_PORT") != PONG ]]; then
			echo "redis already running (pid $pid, $HOST:$REDIS_PORT)"
			return 0
		fi
		note "redis (pid $pid) runs without a password (started by an earlier version): restarting it with one"
		redis_stop >/dev/null
	fi
	if other=$(redis_cli ping) && [[ -n $other ]]; then
		die "port $HOST:$REDIS_PORT is already used by another Redis; set FAIRSLOT_REDIS_PORT"
	fi
	mkdir -p "$RDS" "$LOG" "$RUN"
	rm -f "$REDIS_PID"
	redis-server "$(redis_conf)" --bind "$HOST" --port "$REDIS_PORT" --dir "$RDS" \
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

# ---------------------------------------------------------------- redis cluster
# Three masters on $CLUSTER_PORTS, no replicas and no persistence: only the
# tests use it, to run the admission scripts on a real cluster. Each node
# keeps its cluster identity in $CLUSTER_DIR/<port>/nodes.conf, so a
# restarted cluster comes back with the same slots (and no keys).

cnode_pidfile() { printf '%s\n' "$RUN/redis-cluster-$1.pid"; }
cnode_log() { printf '%s\n' "$LOG/redis-cluster-$1.log"; }

cnode_pid() {
	local pid file
	file=$(cnode_pidfile "$1")
	[[ -r $file ]] || return 1
	pid=$(<"$file") || return 1
	alive "$pid" redis || return 1
	printf '%s\n' "$pid"
}

cnode_cli() {
	local port=$1
	shift
	REDISCLI_AUTH=$(secret "$REDIS_PASSWORD_FILE") timeout 5 redis-cli -h "$HOST" -p "$port" "$@" </dev/null 2>/dev/null 9>&-
}

cnode_ready() { cnode_pid "$1" >/dev/null && [[ $(cnode_cli "$1" ping) == PONG ]]; }

# cnode_info PORT: CLUSTER INFO of a node, without the \r of each line.
cnode_info() {
	local out
	out=$(cnode_cli "$1" cluster info) || return 1
	printf '%s\n' "${out//$'\r'/}"
}

cnode_ok() {
	local info
	info=$(cnode_info "$1") || return 1
	grep -qx 'cluster_state:ok' <<<"$info"
}

# cnode_fresh PORT: the node has never joined a cluster (knows only itself,
# serves no slot).
cnode_fresh() {
	local info
	info=$(cnode_info "$1") || return 1
	grep -qx 'cluster_known_nodes:1' <<<"$info" && grep -qx 'cluster_slots_assigned:0' <<<"$info"
}

# cluster_all CHECK: CHECK PORT holds for every node.
cluster_all() {
	local port
	for port in "${CLUSTER_PORTS[@]}"; do
		"$1" "$port" || return 1
	done
}

cluster_addrs() {
	local port out=()
	for port in "${CLUSTER_PORTS[@]}"; do out+=("$HOST:$port"); done
	local IFS=,
	printf '%s\n' "${out[*]}"
}

# Running pids, space-separated.
cluster_pids() {
	local port pid out=()
	for port in "${CLUSTER_PORTS[@]}"; do
		if pid=$(cnode_pid "$port"); then out+=("$pid"); fi
	done
	printf '%s\n' "${out[*]}"
}

cluster_desc() { printf 'pids %s, %s:%s-%s' "$(cluster_pids)" "$HOST" "${CLUSTER_PORTS[0]}" "${CLUSTER_PORTS[2]}"; }

# cluster_fail MESSAGE [FILE]: error, FILE and the tail of each node's log,
# then stop the nodes this call started (listed in cluster_started) so a
# failed start leaves nothing half-running.
cluster_fail() {
	local port file
	printf 'services.sh: %s\n' "$1" >&2
	if [[ -n ${2:-} && -s $2 ]]; then
		printf -- '--- %s ---\n' "$2" >&2
		tail -n 20 "$2" >&2
	fi
	for port in "${CLUSTER_PORTS[@]}"; do
		file=$(cnode_log "$port")
		if [[ -s $file ]]; then
			printf -- '--- last lines of %s ---\n' "$file" >&2
			tail -n 8 "$file" >&2
		fi
	done
	for port in "${cluster_started[@]}"; do
		cnode_stop "$port" || true
	done
	exit 1
}

cluster_start() {
	local port other dir pidfile logfile addrs create_out="$RUN/redis-cluster-create.out"
	cluster_started=()
	# Nodes started by an earlier version without a password start again with one.
	for port in "${CLUSTER_PORTS[@]}"; do
		if cnode_pid "$port" >/dev/null && [[ $(open_ping "$port") == PONG ]]; then
			note "redis-cluster node $HOST:$port runs without a password: restarting it with one"
			cnode_stop "$port"
		fi
	done
	if cluster_all cnode_ready && cluster_all cnode_ok; then
		echo "redis-cluster already running ($(cluster_desc))"
		return 0
	fi
	mkdir -p "$LOG" "$RUN"
	for port in "${CLUSTER_PORTS[@]}"; do
		cnode_pid "$port" >/dev/null && continue
		if other=$(cnode_cli "$port" ping) && [[ -n $other ]]; then
			cluster_fail "port $HOST:$port is already used by another Redis; set FAIRSLOT_REDIS_CLUSTER_PORT"
		fi
		dir="$CLUSTER_DIR/$port"
		pidfile=$(cnode_pidfile "$port")
		logfile=$(cnode_log "$port")
		mkdir -p "$dir"
		rm -f "$pidfile"
		redis-server "$(redis_conf)" --bind "$HOST" --port "$port" --dir "$dir" \
			--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 3000 \
			--daemonize yes --pidfile "$pidfile" --logfile "$logfile" \
			--appendonly no --save '' \
			</dev/null >"$RUN/redis-cluster-start.out" 2>&1 9>&- ||
			{ cat "$RUN/redis-cluster-start.out" >&2; cluster_fail "redis-server failed to start on $HOST:$port"; }
		cluster_started+=("$port")
	done
	for port in "${CLUSTER_PORTS[@]}"; do
		wait_until 20 cnode_ready "$port" ||
			cluster_fail "Redis Cluster node $HOST:$port did not answer PONG within 20 s"
	done
	# Create the cluster only on nodes that never joined one; nodes that did
	# find each other again through their nodes.conf.
	if ! cluster_all cnode_ok && cluster_all cnode_fresh; then
		addrs=()
		for port in "${CLUSTER_PORTS[@]}"; do addrs+=("$HOST:$port"); done
		note "creating Redis Cluster ${addrs[*]} ..."
		REDISCLI_AUTH=$(secret "$REDIS_PASSWORD_FILE") timeout 60 redis-cli --cluster create "${addrs[@]}" \
			--cluster-replicas 0 --cluster-yes </dev/null >"$create_out" 2>&1 9>&- ||
			cluster_fail "redis-cli --cluster create failed" "$create_out"
	fi
	wait_until 20 cluster_all cnode_ok ||
		cluster_fail "Redis Cluster $(cluster_addrs) did not reach cluster_state:ok within 20 s (if its nodes.conf files disagree, run 'services.sh stop-cluster' and remove $CLUSTER_DIR)"
	if ((${#cluster_started[@]})); then
		echo "started redis-cluster"
	else
		echo "redis-cluster already running ($(cluster_desc))"
	fi
}

# cnode_stop PORT: stop one node; fails if it was not running.
cnode_stop() {
	local pid
	pid=$(cnode_pid "$1") || return 1
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 30 dead "$pid" redis || die "redis-cluster node $HOST:$1 (pid $pid) did not stop within 30 s"
}

cluster_stop() {
	local port stopped=false
	for port in "${CLUSTER_PORTS[@]}"; do
		if cnode_stop "$port"; then stopped=true; fi
	done
	if $stopped; then echo "stopped redis-cluster"; fi
}

# ---------------------------------------------------------------- commands

# Remember the ports of this data folder's services, for later calls that do
# not name them.
record_ports() {
	printf 'pg_port=%s\nredis_port=%s\ncluster_port=%s\n' "$PG_PORT" "$REDIS_PORT" "$CLUSTER_PORT" >"$STATE.tmp"
	mv "$STATE.tmp" "$STATE"
}

cmd_start() {
	lock
	install_missing
	pg_start
	pg_require_password
	pg_ensure_db
	redis_start
	record_ports
}

cmd_start_cluster() {
	lock
	install_missing
	cluster_start
	record_ports
}

cmd_purge() {
	cmd_stop
	if [[ -n $PG_HOME ]]; then
		rm -rf "$PG" "$PG_SOCK" "$PG_LOG"
		rmdir "$PG_HOME" 2>/dev/null || true
	fi
	rm -rf "$DATA"
}

cmd_stop() {
	local want=("$@") s
	((${#want[@]})) || want=(postgres redis redis-cluster)
	[[ -d $DATA ]] || return 0
	lock
	for s in "${want[@]}"; do
		case $s in
		postgres) pg_stop ;;
		redis) redis_stop ;;
		redis-cluster) cluster_stop ;;
		*) die "unknown service: $s (want postgres, redis or redis-cluster)" ;;
		esac
	done
}

cmd_status() {
	local pid state rc=0
	if pid=$(pg_pid); then
		echo "postgres: running (pid $pid, $HOST:$(pg_running_port), data $PG)"
	else
		echo "postgres: stopped (data $PG)"
		rc=3
	fi
	if pid=$(redis_pid); then
		echo "redis: running (pid $pid, $HOST:$REDIS_PORT, data $RDS)"
	else
		echo "redis: stopped"
		rc=3
	fi
	if cluster_all cnode_pid >/dev/null; then
		if cluster_all cnode_ok; then state=ok; else state="not ok"; fi
		echo "redis-cluster: running ($(cluster_desc), cluster_state $state, data $CLUSTER_DIR)"
	elif [[ -n $(cluster_pids) ]]; then
		echo "redis-cluster: partly running ($(cluster_desc))"
	else
		echo "redis-cluster: stopped"
	fi
	return "$rc"
}

cmd_env() {
	local pg_pw redis_pw
	pg_pw=$(secret "$PG_PASSWORD_FILE")
	redis_pw=$(secret "$REDIS_PASSWORD_FILE")
	# The service runs as fairslot_app, a login `fairslot migrate` (run as the
	# owner, $PG_USER) creates with this password and grants the
	# fairslot_service role: it may not rewrite the audit log
	# (docs/security.md).
	cat <<EOF
export FAIRSLOT_DATABASE_URL=postgres://fairslot_app:$pg_pw@$HOST:$PG_PORT/$PG_DB?sslmode=disable
export FAIRSLOT_MIGRATE_DATABASE_URL=postgres://$PG_USER:$pg_pw@$HOST:$PG_PORT/$PG_DB?sslmode=disable
export FAIRSLOT_REDIS_ADDR=$HOST:$REDIS_PORT
export FAIRSLOT_REDIS_PASSWORD=$redis_pw
export FAIRSLOT_TEST_DATABASE_URL=postgres://$PG_USER:$pg_pw@$HOST:$PG_PORT/postgres?sslmode=disable
export FAIRSLOT_TEST_REDIS_ADDR=$HOST:$REDIS_PORT
export FAIRSLOT_TEST_REDIS_PASSWORD=$redis_pw
export FAIRSLOT_TEST_REDIS_CLUSTER=$(cluster_addrs)
EOF
}

usage() { echo "usage: $0 start|start-cluster|stop [postgres|redis|redis-cluster]...|stop-cluster|purge|status|env" >&2; exit 2; }

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case $cmd in
start) [[ $# == 0 ]] || usage; cmd_start ;;
start-cluster) [[ $# == 0 ]] || usage; cmd_start_cluster ;;
stop) cmd_stop "$@" ;;
stop-cluster) [[ $# == 0 ]] || usage; cmd_stop redis-cluster ;;
purge) [[ $# == 0 ]] || usage; cmd_purge ;;
status) [[ $# == 0 ]] || usage; cmd_status ;;
env) [[ $# == 0 ]] || usage; cmd_env ;;
*) usage ;;
esac
