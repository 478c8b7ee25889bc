#!/usr/bin/env bash
# Local PostgreSQL + Redis for fairslot, private to this checkout:
# loopback only, non-default ports, data under $FAIRSLOT_DATA_DIR (default .data/).
#
# Usage: services.sh start|start-cluster|stop [postgres|redis|redis-cluster]...|stop-cluster|status|env
#
#   start          install missing packages (root only), start both servers if needed.
#                  stdout lists what this call did, one line per server:
#                  "started postgres" / "postgres already running (...)" and the same for redis.
#   start-cluster  start a test Redis Cluster (3 masters, no replicas, no persistence)
#                  and create it on first use; prints "started redis-cluster" or
#                  "redis-cluster already running (...)". Only the tests need it.
#   stop           stop the servers (all, or only those named); quiet if already stopped.
#   stop-cluster   the same as `stop redis-cluster`.
#   status         print running/stopped for each; exit 0 if postgres and redis run,
#                  3 otherwise (the cluster does not count).
#   env            print `export` lines for the app and the tests.
#
# Environment: FAIRSLOT_DATA_DIR, FAIRSLOT_PG_PORT (15432), FAIRSLOT_REDIS_PORT (16379),
# FAIRSLOT_REDIS_CLUSTER_PORT (17001: the cluster uses it and the next two ports,
# and each port + 10000 for the cluster bus).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FAIRSLOT_DATA_DIR:-$ROOT/.data}"
PG_PORT="${FAIRSLOT_PG_PORT:-15432}"
REDIS_PORT="${FAIRSLOT_REDIS_PORT:-16379}"
CLUSTER_PORT="${FAIRSLOT_REDIS_CLUSTER_PORT:-17001}"
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
[[ $DATA == /* ]] || DATA="$PWD/$DATA"

PG="$DATA/pg"
RDS="$DATA/redis"
LOG="$DATA/log"
RUN="$DATA/run"
REDIS_PID="$RUN/redis.pid"
CLUSTER_DIR="$DATA/redis-cluster"

IS_ROOT=false
[[ $(id -u) == 0 ]] && IS_ROOT=true

# ---------------------------------------------------------------- helpers

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
	timeout 5 redis-cli -h "$HOST" -p "$port" "$@" </dev/null 2>/dev/null 9>&-
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
		redis-server --bind "$HOST" --port "$port" --dir "$dir" \
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
		timeout 60 redis-cli --cluster create "${addrs[@]}" \
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

cmd_start() {
	lock
	install_missing
	pg_start
	pg_ensure_db
	redis_start
}

cmd_start_cluster() {
	lock
	install_missing
	cluster_start
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
		echo "postgres: stopped"
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
	cat <<EOF
export FAIRSLOT_DATABASE_URL=postgres://$PG_USER@$HOST:$PG_PORT/$PG_DB?sslmode=disable
export FAIRSLOT_REDIS_ADDR=$HOST:$REDIS_PORT
export FAIRSLOT_TEST_DATABASE_URL=postgres://$PG_USER@$HOST:$PG_PORT/postgres?sslmode=disable
export FAIRSLOT_TEST_REDIS_ADDR=$HOST:$REDIS_PORT
export FAIRSLOT_TEST_REDIS_CLUSTER=$(cluster_addrs)
EOF
}

usage() { echo "usage: $0 start|start-cluster|stop [postgres|redis|redis-cluster]...|stop-cluster|status|env" >&2; exit 2; }

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case $cmd in
start) [[ $# == 0 ]] || usage; cmd_start ;;
start-cluster) [[ $# == 0 ]] || usage; cmd_start_cluster ;;
stop) cmd_stop "$@" ;;
stop-cluster) [[ $# == 0 ]] || usage; cmd_stop redis-cluster ;;
status) [[ $# == 0 ]] || usage; cmd_status ;;
env) [[ $# == 0 ]] || usage; cmd_env ;;
*) usage ;;
esac
