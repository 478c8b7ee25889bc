#!/usr/bin/env bash
# The scale-out stack of fairslot on one machine, for the failover tests, the
# capacity runs and `make run INSTANCES=N CLUSTER=1`: every process on
# loopback, started as this script's own processes with their own config and
# data folders (never as system services), stopped by the pids it recorded.
#
#   sql    etcd (one member: a single machine cannot survive its own loss
#          anyway; production runs three or five), two PostgreSQL nodes under
#          Patroni with synchronous replication (synchronous_mode: true), and
#          HAProxy sending connections to the node Patroni's REST API calls
#          the primary (GET /primary).
#   redis  a Redis Cluster of 3 masters and 3 replicas, with a password
#          (requirepass and masterauth), no persistence: a replica is the copy.
#
# Usage: cluster.sh start [sql|redis]... | stop [sql|redis]... | status | env | purge
#        cluster.sh crash-pg-leader     kill -9 the leader's Patroni and postmaster (a node's death);
#                                       prints the node's name
#        cluster.sh leader              the name of the PostgreSQL leader
#        cluster.sh psql [ARGS]         psql to the primary through HAProxy, as the superuser
#
# `start` starts what is not running (a crashed node comes back and rejoins as
# a standby) and prints "started sql" / "started redis" for what it started, as
# services.sh does, so callers can stop only those.
#
# Ports (all on 127.0.0.1; each can be set, defaults in 20000-20999):
#   FAIRSLOT_ETCD_PORT (20379) and FAIRSLOT_ETCD_PEER_PORT (20380)
#   FAIRSLOT_PATRONI_PORT (20008: node 1; node 2 takes the next)
#   FAIRSLOT_PG_NODE_PORT (20432: node 1; node 2 takes the next)
#   FAIRSLOT_PG_HA_PORT (20500: HAProxy to the primary)
#   FAIRSLOT_HAPROXY_STATS_PORT (20501: HAProxy's stats page)
#   FAIRSLOT_REDIS_HA_PORT (20601: six nodes on it and the next five)
#   FAIRSLOT_REDIS_HA_BUS_PORT (20611: their cluster bus ports, the same way)
# Folders: FAIRSLOT_DATA_DIR (.data), the stack's own under $FAIRSLOT_DATA_DIR/ha;
# as root, PostgreSQL's files live in /var/lib/fairslot/<checkout>-<hash>-ha
# (FAIRSLOT_HA_PG_DIR), which the postgres user can reach.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FAIRSLOT_DATA_DIR:-$ROOT/.data}"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
HA="$DATA/ha"
HOST=127.0.0.1
STATE="$HA/ports.env"

# shellcheck source=deploy/cluster/apt.sh
. "$ROOT/deploy/cluster/apt.sh"

die() { printf 'cluster.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }

# Ports: the environment, else what this data folder was last started with,
# else the default.
declare -A rec=()
if [[ -r $STATE ]]; then
	while IFS='=' read -r key val; do rec[$key]=$val; done <"$STATE"
fi
port() { # port NAME DEFAULT
	local var="FAIRSLOT_$1"
	printf '%s\n' "${!var:-${rec[$1]:-$2}}"
}
ETCD_PORT=$(port ETCD_PORT 20379)
ETCD_PEER_PORT=$(port ETCD_PEER_PORT 20380)
PATRONI_PORT=$(port PATRONI_PORT 20008)
PG_NODE_PORT=$(port PG_NODE_PORT 20432)
PG_HA_PORT=$(port PG_HA_PORT 20500)
STATS_PORT=$(port HAPROXY_STATS_PORT 20501)
REDIS_HA_PORT=$(port REDIS_HA_PORT 20601)
REDIS_HA_BUS_PORT=$(port REDIS_HA_BUS_PORT 20611)
for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$PATRONI_PORT" "$PG_NODE_PORT" "$PG_HA_PORT" "$STATS_PORT" "$REDIS_HA_PORT" "$REDIS_HA_BUS_PORT"; do
	if [[ ! $p =~ ^[1-9][0-9]*$ ]] || ((p + 5 > 65535)); then die "invalid port: $p"; fi
done
PG_NODES=(1 2)
REDIS_NODES=(0 1 2 3 4 5)

IS_ROOT=false
[[ $(id -u) == 0 ]] && IS_ROOT=true
RUN="$HA/run"
LOG="$HA/log"

# PostgreSQL's files, where the postgres user can reach them (see
# deploy/local/pghome.sh: a checkout in root's 0700 home is closed to it).
# shellcheck source=deploy/local/pghome.sh
. "$ROOT/deploy/local/pghome.sh"
PGH="${FAIRSLOT_HA_PG_DIR:-}"
if [[ -z $PGH ]]; then
	if $IS_ROOT; then PGH=$(pg_home_for "$ROOT" "$DATA" -ha); else PGH="$HA/pg"; fi
fi
[[ $PGH == /* ]] || PGH="$PWD/$PGH"

# ---------------------------------------------------------------- helpers

# secret NAME: a password kept in $HA/NAME.password (0600), made on first use.
secret() {
	local file="$HA/$1.password"
	if [[ ! -s $file ]]; then
		mkdir -p "$HA"
		(umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file.tmp" && mv "$file.tmp" "$file")
	fi
	printf '%s\n' "$(<"$file")"
}

# alive PID NAME: a live (not zombie) process whose name starts with NAME.
alive() {
	local pid=$1 name=$2 comm stat
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm ]] || return 1
	comm=$(<"/proc/$pid/comm") || return 1
	stat=$(<"/proc/$pid/stat") || return 1
	stat=${stat##*) }
	[[ $comm == "$name"* && ${stat%% *} != Z ]]
}

# pidof_file FILE NAME: the pid in FILE if it is a live NAME process.
pidof_file() {
	local pid
	[[ -r $1 ]] || return 1
	pid=$(head -n 1 "$1" 2>/dev/null) || return 1
	alive "$pid" "$2" || return 1
	printf '%s\n' "$pid"
}

wait_until() { # wait_until SECONDS CMD...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# stop_pid FILE NAME: TERM, then KILL after 20 s.
stop_pid() {
	local pid
	pid=$(pidof_file "$1" "$2") || return 1
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until 20 not_alive "$pid" "$2"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait_until 10 not_alive "$pid" "$2" || die "$2 (pid $pid) did not stop"
	fi
	rm -f "$1"
}
not_alive() { ! alive "$@"; }

lock() {
	mkdir -p "$RUN"
	exec 9>>"$RUN/cluster.lock"
	flock -w 300 9 || die "timed out waiting for another cluster.sh on $HA"
}

# daemon PIDFILE LOGFILE CMD...: start CMD in its own session, detached, and
# record its pid. CMD must exec the server (no forking wrapper), so the pid
# is the server's.
daemon() {
	local pidfile=$1 logfile=$2
	shift 2
	setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
	printf '%s\n' "$!" >"$pidfile"
}

install_missing() {
	local pkgs=()
	command -v etcd >/dev/null || pkgs+=(etcd-server)
	command -v etcdctl >/dev/null || pkgs+=(etcd-client)
	command -v patroni >/dev/null || pkgs+=(patroni)
	command -v haproxy >/dev/null || pkgs+=(haproxy)
	command -v redis-server >/dev/null || pkgs+=(redis-server)
	command -v psql >/dev/null || pkgs+=(postgresql-client)
	compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || pkgs+=(postgresql)
	((${#pkgs[@]})) || return 0
	apt_install "$LOG/install.log" "${pkgs[@]}" || die "could not install ${pkgs[*]}"
}

pg_bindir() {
	local d
	d=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1) || return 1
	dirname "$d"
}

# ---------------------------------------------------------------- etcd

etcd_pidfile="$RUN/etcd.pid"
etcd_url="http://$HOST:$ETCD_PORT"
etcd_ready() { ETCDCTL_API=3 timeout 3 etcdctl --endpoints="$etcd_url" endpoint health >/dev/null 2>&1; }

etcd_start() {
	pidof_file "$etcd_pidfile" etcd >/dev/null && return 1
	mkdir -p "$HA/etcd" "$LOG"
	chmod 700 "$HA/etcd"
	daemon "$etcd_pidfile" "$LOG/etcd.log" etcd --name fairslot-etcd --data-dir "$HA/etcd" \
		--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
		--listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
		--initial-cluster "fairslot-etcd=http://$HOST:$ETCD_PEER_PORT" --initial-cluster-state new \
		--initial-cluster-token "fairslot-$(basename "$ROOT")"
	wait_until 30 etcd_ready || { tail -n 20 "$LOG/etcd.log" >&2; die "etcd did not become healthy on $etcd_url"; }
}

# ---------------------------------------------------------------- patroni + postgres

node_dir() { printf '%s/pg%s\n' "$PGH" "$1"; }
patroni_pidfile() { printf '%s/patroni%s.pid\n' "$RUN" "$1"; }
patroni_api() { printf 'http://%s:%s\n' "$HOST" "$((PATRONI_PORT + $1 - 1))"; }

# Every node's config: the DCS part (bootstrap.dcs) is written to etcd by the
# first node and is the cluster's from then on.
patroni_config() {
	local n=$1 dir pgport apiport
	dir=$(node_dir "$n")
	pgport=$((PG_NODE_PORT + n - 1))
	apiport=$((PATRONI_PORT + n - 1))
	cat <<EOF
scope: fairslot
namespace: /fairslot/
name: pg$n
log:
  level: INFO
restapi:
  listen: $HOST:$apiport
  connect_address: $HOST:$apiport
etcd3:
  hosts: $HOST:$ETCD_PORT
bootstrap:
  dcs:
    # A node that stops renewing its leader key for ttl seconds loses it; the
    # synchronous standby then takes over. ttl >= loop_wait + 2 * retry_timeout.
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    # A crashed primary is not restarted in place: the synchronous standby,
    # which has every committed transaction, is promoted at once.
    primary_start_timeout: 0
    # Commits wait for the standby's flush, and Patroni promotes only a
    # synchronous standby: a 201 is never lost by a failover. Not strict: with
    # the standby gone the primary goes on alone (docs/operations.md).
    synchronous_mode: true
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        synchronous_commit: "on"
        max_connections: 200
        shared_buffers: 128MB
        wal_log_hints: "on"
        wal_keep_size: 256MB
        fsync: "on"
        # no DETAIL lines: a refused duplicate's would name a keyed hash
        log_error_verbosity: terse
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - auth-host: scram-sha-256
    - auth-local: scram-sha-256
postgresql:
  listen: $HOST:$pgport
  connect_address: $HOST:$pgport
  data_dir: $dir/data
  bin_dir: $(pg_bindir)
  pgpass: $dir/pgpass
  authentication:
    superuser:
      username: postgres
      password: $(secret pg-superuser)
    replication:
      username: replicator
      password: $(secret pg-replication)
    rewind:
      username: rewinder
      password: $(secret pg-rewind)
  parameters:
    unix_socket_directories: '$dir/run'
    password_encryption: scram-sha-256
  pg_hba:
    - local all all scram-sha-256
    - host replication replicator $HOST/32 scram-sha-256
    - host all all $HOST/32 scram-sha-256
watchdog:
  mode: "off"
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

pg_prepare() {
	local n=$1 dir
	dir=$(node_dir "$n")
	if $IS_ROOT; then
		id -u postgres >/dev/null 2>&1 ||
			useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
		[[ -n ${FAIRSLOT_HA_PG_DIR:-} ]] || install -d -m 0755 "$(dirname "$PGH")"
	fi
	mkdir -p "$dir/run" "$dir/data"
	(umask 077 && patroni_config "$n" >"$dir/patroni.yml")
	chmod 700 "$PGH" "$dir" "$dir/data"
	if $IS_ROOT; then chown -R postgres:postgres "$PGH"; fi
	printf '%s\n' "$PGH" >"$HA/postgres-location"
}

# as_postgres: the command prefix that runs a server as the postgres user when
# we are root (PostgreSQL refuses root). setpriv execs, so the pid recorded
# is the server's own.
as_postgres() {
	if $IS_ROOT; then
		printf '%s\n' setpriv --reuid=postgres --regid=postgres --init-groups --reset-env
	fi
}

patroni_start() {
	local n=$1 dir prefix
	pidof_file "$(patroni_pidfile "$n")" patroni >/dev/null && return 1
	dir=$(node_dir "$n")
	pg_prepare "$n"
	mapfile -t prefix < <(as_postgres)
	# From its own folder: the postgres user may not be able to enter the
	# checkout (root's 0700 home), and Patroni and initdb fail in a working
	# directory they cannot read.
	(cd "$dir" && daemon "$(patroni_pidfile "$n")" "$LOG/patroni$n.log" "${prefix[@]}" patroni "$dir/patroni.yml")
	return 0
}

# The member list of Patroni's REST API: "name role state" lines.
members() {
	local n out
	for n in "${PG_NODES[@]}"; do
		out=$(curl -fsS --max-time 2 "$(patroni_api "$n")/cluster" 2>/dev/null) || continue
		python3 -c 'import json,sys
for m in json.load(sys.stdin)["members"]:
    print(m["name"], m["role"], m.get("state", ""))' <<<"$out" && return 0
	done
	return 1
}

leader() {
	local line
	line=$(members | awk '$2 == "leader" && $3 == "running" {print $1}') || return 1
	[[ -n $line ]] || return 1
	printf '%s\n' "$line"
}

# sql_ready: a leader, a streaming synchronous standby, and HAProxy reaching
# the leader.
sql_ready() {
	local m
	m=$(members) || return 1
	grep -q ' leader running' <<<"$m" && grep -Eq ' sync_standby (running|streaming)' <<<"$m" &&
		psql_ha -tAc 'SELECT 1' >/dev/null 2>&1
}

psql_ha() {
	PGPASSWORD=$(secret pg-superuser) PGCONNECT_TIMEOUT=3 psql -X -q -v ON_ERROR_STOP=1 \
		"postgres://postgres@$HOST:$PG_HA_PORT/postgres?sslmode=disable" "$@"
}

# The application's role (the tables' owner; CREATEROLE so that migrate can
# make the service's login, docs/security.md) and database, made once
# through the primary.
pg_app() {
	local pw
	pw=$(secret pg-app)
	psql_ha <<EOF >/dev/null
SELECT 'CREATE ROLE fairslot LOGIN CREATEDB CREATEROLE PASSWORD ''$pw'''
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fairslot') \gexec
ALTER ROLE fairslot CREATEROLE PASSWORD '$pw';
SELECT 'CREATE DATABASE fairslot OWNER fairslot'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'fairslot') \gexec
EOF
}

# ---------------------------------------------------------------- haproxy

haproxy_pidfile="$RUN/haproxy-pg.pid"
haproxy_config() {
	local n
	cat <<EOF
global
    maxconn 2000
    log stdout format raw local0 notice
defaults
    mode tcp
    log global
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s
listen stats
    mode http
    bind $HOST:$STATS_PORT
    stats enable
    stats uri /
    stats refresh 2s
# Only the node whose Patroni holds the leader key answers 200 on /primary:
# a demoted or isolated node is never written to, whatever its own state.
listen postgres_primary
    bind $HOST:$PG_HA_PORT
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fastinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions
EOF
	for n in "${PG_NODES[@]}"; do
		printf '    server pg%s %s:%s maxconn 400 check port %s\n' "$n" "$HOST" "$((PG_NODE_PORT + n - 1))" "$((PATRONI_PORT + n - 1))"
	done
}

haproxy_start() {
	pidof_file "$haproxy_pidfile" haproxy >/dev/null && return 1
	haproxy_config >"$HA/haproxy-pg.cfg"
	haproxy -c -q -f "$HA/haproxy-pg.cfg" || die "haproxy rejected $HA/haproxy-pg.cfg"
	daemon "$haproxy_pidfile" "$LOG/haproxy-pg.log" haproxy -W -db -f "$HA/haproxy-pg.cfg"
}

# ---------------------------------------------------------------- redis cluster

rnode_port() { printf '%s\n' "$((REDIS_HA_PORT + $1))"; }
rnode_pidfile() { printf '%s/redis-%s.pid\n' "$RUN" "$(rnode_port "$1")"; }
rcli() { # rcli PORT ARGS...
	local p=$1
	shift
	REDISCLI_AUTH=$(secret redis) timeout 5 redis-cli -h "$HOST" -p "$p" "$@" </dev/null 2>/dev/null
}
rnode_ok() { [[ $(rcli "$(rnode_port "$1")" cluster info | tr -d '\r' | grep '^cluster_state:') == cluster_state:ok ]]; }
rnode_up() { [[ $(rcli "$(rnode_port "$1")" ping) == PONG ]]; }
rnode_fresh() {
	local info
	info=$(rcli "$(rnode_port "$1")" cluster info | tr -d '\r') || return 1
	grep -qx 'cluster_known_nodes:1' <<<"$info"
}
redis_all() {
	local i
	for i in "${REDIS_NODES[@]}"; do "$1" "$i" || return 1; done
}

# redis_conf: the nodes' config file with the password. It is written to a
# temporary file and renamed over the old one: each node start writes it
# again while the node started just before may still be reading it, and a
# node that read it half-written started without a password (seen in CI:
# "AUTH called without any password configured").
redis_conf() {
	local pw
	pw=$(secret redis)
	(umask 077 && printf 'requirepass %s\nmasterauth %s\n' "$pw" "$pw" >"$RUN/redis-ha.conf.tmp" &&
		mv -f "$RUN/redis-ha.conf.tmp" "$RUN/redis-ha.conf")
	printf '%s\n' "$RUN/redis-ha.conf"
}

rnode_start() {
	local i=$1 p dir
	pidof_file "$(rnode_pidfile "$i")" redis >/dev/null && return 1
	p=$(rnode_port "$i")
	dir="$HA/redis/$p"
	mkdir -p "$dir"
	# cluster-node-timeout 2 s: a master silent that long is failed over.
	# cluster-replica-validity-factor 0: a replica is always allowed to take
	# over (SQL is the truth; reconciliation repairs what it missed).
	daemon "$(rnode_pidfile "$i")" "$LOG/redis-$p.log" redis-server "$(redis_conf)" --bind "$HOST" --port "$p" \
		--cluster-port "$((REDIS_HA_BUS_PORT + i))" --dir "$dir" --cluster-enabled yes \
		--cluster-config-file nodes.conf --cluster-node-timeout 2000 --cluster-replica-validity-factor 0 \
		--appendonly no --save '' --daemonize no --maxmemory-policy noeviction
}

redis_create() {
	local i addrs=()
	for i in "${REDIS_NODES[@]}"; do addrs+=("$HOST:$(rnode_port "$i")"); done
	note "creating Redis Cluster ${addrs[*]} (3 masters, 3 replicas) ..."
	REDISCLI_AUTH=$(secret redis) timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
		</dev/null >"$LOG/redis-create.log" 2>&1 || { tail -n 20 "$LOG/redis-create.log" >&2; die "redis-cli --cluster create failed"; }
}

redis_addrs() {
	local i out=()
	for i in "${REDIS_NODES[@]}"; do out+=("$HOST:$(rnode_port "$i")"); done
	local IFS=,
	printf '%s\n' "${out[*]}"
}

# ---------------------------------------------------------------- commands

record_ports() {
	mkdir -p "$HA"
	{
		printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nPATRONI_PORT=%s\nPG_NODE_PORT=%s\n' "$ETCD_PORT" "$ETCD_PEER_PORT" "$PATRONI_PORT" "$PG_NODE_PORT"
		printf 'PG_HA_PORT=%s\nHAPROXY_STATS_PORT=%s\nREDIS_HA_PORT=%s\nREDIS_HA_BUS_PORT=%s\n' "$PG_HA_PORT" "$STATS_PORT" "$REDIS_HA_PORT" "$REDIS_HA_BUS_PORT"
	} >"$STATE.tmp"
	mv "$STATE.tmp" "$STATE"
}

# forget_stale_pg: the default folder of PostgreSQL's files, left by an
# earlier clone at this path (see pg_home_stale), is stopped and deleted, so
# that this checkout's stack bootstraps its own. FAIRSLOT_HA_PG_DIR is never
# deleted.
forget_stale_pg() {
	local n pid
	[[ -z ${FAIRSLOT_HA_PG_DIR:-} ]] && $IS_ROOT || return 0
	pg_home_stale "$PGH" "$HA/postgres-location" || return 0
	note "PostgreSQL's files in $PGH were made for an earlier data folder at this path, whose passwords went with it: deleting them"
	for n in "${PG_NODES[@]}"; do
		if pid=$(pidof_file "$(node_dir "$n")/data/postmaster.pid" postgres); then
			kill -INT "$pid"
			wait_until 60 not_alive "$pid" postgres || die "postgres (pid $pid) in $PGH did not stop"
		fi
	done
	rm -rf "$PGH"
}

start_sql() {
	local started=false n
	forget_stale_pg
	if etcd_start; then started=true; fi
	# All nodes at once: on a new cluster they race for the initialize key in
	# etcd and the loser copies the winner; on a stopped one only the node
	# with every committed transaction (the last leader, or its synchronous
	# standby) may become leader, whichever starts first.
	for n in "${PG_NODES[@]}"; do
		if patroni_start "$n"; then started=true; fi
	done
	if haproxy_start; then started=true; fi
	wait_until 120 sql_ready || {
		members >&2 || true
		tail -n 15 "$LOG"/patroni*.log >&2
		die "PostgreSQL did not reach a leader with a synchronous standby behind HAProxy within 120 s"
	}
	pg_app
	if $started; then echo "started sql"; else echo "sql already running (leader $(leader))"; fi
}

start_redis() {
	local started=false i
	for i in "${REDIS_NODES[@]}"; do
		if rnode_start "$i"; then started=true; fi
	done
	wait_until 20 redis_all rnode_up || die "Redis nodes did not answer on $(redis_addrs) (logs in $LOG)"
	if ! redis_all rnode_ok && redis_all rnode_fresh; then redis_create; fi
	wait_until 30 redis_all rnode_ok || die "Redis Cluster $(redis_addrs) did not reach cluster_state:ok (logs in $LOG)"
	if $started; then echo "started redis"; else echo "redis already running ($(redis_addrs))"; fi
}

stop_sql() {
	local n stopped=false
	if stop_pid "$haproxy_pidfile" haproxy; then stopped=true; fi
	for n in "${PG_NODES[@]}"; do
		# Patroni stops its PostgreSQL before it exits.
		if stop_pid "$(patroni_pidfile "$n")" patroni; then stopped=true; fi
	done
	if stop_pid "$etcd_pidfile" etcd; then stopped=true; fi
	if $stopped; then echo "stopped sql"; fi
}

stop_redis() {
	local i stopped=false
	for i in "${REDIS_NODES[@]}"; do
		if stop_pid "$(rnode_pidfile "$i")" redis; then stopped=true; fi
	done
	if $stopped; then echo "stopped redis"; fi
}

# postmaster_pid N: the pid of node N's PostgreSQL server.
postmaster_pid() {
	local f
	f="$(node_dir "$1")/data/postmaster.pid"
	pidof_file "$f" postgres
}

cmd_crash_pg_leader() {
	local name n pids=()
	name=$(leader) || die "no PostgreSQL leader"
	n=${name#pg}
	if p=$(pidof_file "$(patroni_pidfile "$n")" patroni); then pids+=("$p"); fi
	if p=$(postmaster_pid "$n"); then pids+=("$p"); fi
	((${#pids[@]})) || die "leader $name has no process of ours to kill"
	kill -KILL "${pids[@]}"
	printf '%s\n' "$name"
}

cmd_status() {
	local n i rc=0 pid
	if pid=$(pidof_file "$etcd_pidfile" etcd); then echo "etcd: running (pid $pid, $etcd_url)"; else echo "etcd: stopped"; rc=3; fi
	for n in "${PG_NODES[@]}"; do
		if pid=$(pidof_file "$(patroni_pidfile "$n")" patroni); then
			echo "patroni pg$n: running (pid $pid, REST $(patroni_api "$n"), postgres $HOST:$((PG_NODE_PORT + n - 1)))"
		else
			echo "patroni pg$n: stopped"
			rc=3
		fi
	done
	members 2>/dev/null | sed 's/^/  member /' || true
	if pid=$(pidof_file "$haproxy_pidfile" haproxy); then
		echo "haproxy: running (pid $pid, primary on $HOST:$PG_HA_PORT, stats http://$HOST:$STATS_PORT/)"
	else
		echo "haproxy: stopped"
		rc=3
	fi
	for i in "${REDIS_NODES[@]}"; do
		if pid=$(pidof_file "$(rnode_pidfile "$i")" redis); then
			echo "redis $HOST:$(rnode_port "$i"): running (pid $pid, $(rcli "$(rnode_port "$i")" role | head -n 1))"
		else
			echo "redis $HOST:$(rnode_port "$i"): stopped"
			rc=3
		fi
	done
	return "$rc"
}

cmd_env() {
	cat <<EOF
export FAIRSLOT_DATABASE_URL=postgres://fairslot_app:$(secret pg-service)@$HOST:$PG_HA_PORT/fairslot?sslmode=disable
export FAIRSLOT_MIGRATE_DATABASE_URL=postgres://fairslot:$(secret pg-app)@$HOST:$PG_HA_PORT/fairslot?sslmode=disable
export FAIRSLOT_REDIS_ADDR=$(redis_addrs)
export FAIRSLOT_REDIS_PASSWORD=$(secret redis)
export FAIRSLOT_TEST_HA_DATABASE_URL=postgres://fairslot:$(secret pg-app)@$HOST:$PG_HA_PORT/fairslot?sslmode=disable
export FAIRSLOT_TEST_HA_REDIS=$(redis_addrs)
export FAIRSLOT_TEST_HA_REDIS_PASSWORD=$(secret redis)
export FAIRSLOT_TEST_HA_PATRONI=$(patroni_api 1),$(patroni_api 2)
export FAIRSLOT_TEST_HA_SCRIPT=$ROOT/deploy/cluster/cluster.sh
export FAIRSLOT_TEST_HA_DATA_DIR=$DATA
EOF
}

usage() { echo "usage: $0 start [sql|redis]... | stop [sql|redis]... | status | env | purge | crash-pg-leader | leader | psql [ARGS]" >&2; exit 2; }

[[ $# -ge 1 ]] || usage
cmd=$1
shift
parts=("$@")
((${#parts[@]})) || parts=(sql redis)
case $cmd in
start)
	lock
	install_missing
	mkdir -p "$HA" "$RUN" "$LOG"
	record_ports
	for s in "${parts[@]}"; do
		case $s in sql) start_sql ;; redis) start_redis ;; *) usage ;; esac
	done
	;;
stop)
	[[ -d $HA ]] || exit 0
	lock
	for s in "${parts[@]}"; do
		case $s in sql) stop_sql ;; redis) stop_redis ;; *) usage ;; esac
	done
	;;
purge)
	if [[ -d $HA ]]; then
		lock
		stop_redis
		stop_sql
	fi
	[[ ! -d $PGH ]] || rm -rf "$PGH"
	rm -rf "$HA"
	;;
status) cmd_status ;;
env) cmd_env ;;
leader) leader ;;
crash-pg-leader) lock; cmd_crash_pg_leader ;;
psql) psql_ha "$@" ;;
*) usage ;;
esac
