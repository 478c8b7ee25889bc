#!/usr/bin/env bash
# `make run INSTANCES=N`: N `fairslot serve` processes behind HAProxy on one
# address (the API and the consoles), on loopback, in the foreground until
# Ctrl-C, which stops all of them and the services this script started.
#
# Usage: instances.sh N [serve flags...]
#
# Backends: the local PostgreSQL and Redis of deploy/local/services.sh, or,
# with FAIRSLOT_CLUSTER=1 (`make run INSTANCES=3 CLUSTER=1`), the replicated
# stack of deploy/cluster/cluster.sh (PostgreSQL under Patroni behind
# HAProxy, a Redis Cluster with replicas).
#
# With FAIRSLOT_PROMETHEUS=1 (`make run INSTANCES=3 PROMETHEUS=1`) a
# Prometheus scrapes the instances and evaluates deploy/prometheus/alerts.yml
# on FAIRSLOT_PROMETHEUS_PORT (20090); its data lives in $DATA/prometheus.
#
# Ports (127.0.0.1): FAIRSLOT_LB_PORT (20080: the one address to use),
# FAIRSLOT_LB_STATS_PORT (20079: HAProxy's stats page), and instance i
# (1..N) on FAIRSLOT_INSTANCE_PORT + i - 1 (20081...) with its /metrics on
# FAIRSLOT_INSTANCE_ADMIN_PORT + i - 1 (20091...). N is 1 to 9.
# Every instance trusts loopback's X-Forwarded-For (HAProxy's), so the
# rate limits and the booking events see the client's address.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FAIRSLOT_DATA_DIR:-$ROOT/.data}"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
BIN="$ROOT/bin/fairslot"
N=${1:-}
[[ $N =~ ^[1-9]$ ]] || { echo "usage: $0 N [serve flags...]  (N from 1 to 9)" >&2; exit 2; }
shift
LB_PORT=${FAIRSLOT_LB_PORT:-20080}
LB_STATS_PORT=${FAIRSLOT_LB_STATS_PORT:-20079}
INSTANCE_PORT=${FAIRSLOT_INSTANCE_PORT:-20081}
ADMIN_PORT=${FAIRSLOT_INSTANCE_ADMIN_PORT:-20091}
PROM_PORT=${FAIRSLOT_PROMETHEUS_PORT:-20090}
HOST=127.0.0.1
RUN="$DATA/instances"
LOG="$DATA/log"

# shellcheck source=deploy/local/lib.sh
. "$ROOT/deploy/local/lib.sh"
# shellcheck source=deploy/cluster/apt.sh
. "$ROOT/deploy/cluster/apt.sh"

pids=()
cluster_started=()
# shellcheck disable=SC2317 # called by the EXIT trap
stop_all() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
	if ((${#cluster_started[@]})); then
		"$ROOT/deploy/cluster/cluster.sh" stop "${cluster_started[@]}" || true
	fi
	cleanup # lib.sh: the local services this script started
}
trap stop_all EXIT

if [[ ${FAIRSLOT_CLUSTER:-} == 1 ]]; then
	out=$("$ROOT/deploy/cluster/cluster.sh" start)
	printf '%s\n' "$out"
	for s in sql redis; do
		if grep -qx "started $s" <<<"$out"; then cluster_started+=("$s"); fi
	done
	eval "$("$ROOT/deploy/cluster/cluster.sh" env)"
else
	start_services start postgres redis
	eval "$("$SERVICES" env)"
fi
command -v haproxy >/dev/null || apt_install "$LOG/install-haproxy.log" haproxy
if [[ ${FAIRSLOT_PROMETHEUS:-} == 1 ]] && ! command -v prometheus >/dev/null; then
	apt_install "$LOG/install-prometheus.log" prometheus
fi

prepare_fairslot "$DATA" "$BIN" # lib.sh: key, build, migrate, seed

mkdir -p "$RUN" "$LOG"
{
	cat <<EOF
global
    maxconn 8000
    log stdout format raw local0 notice
defaults
    mode http
    log global
    option forwardfor
    # A connection an instance refuses (starting, stopped) is tried on
    # another one rather than answered 503.
    retries 3
    option redispatch
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout check 1s
listen stats
    bind $HOST:$LB_STATS_PORT
    stats enable
    stats uri /
    stats refresh 2s
frontend fairslot
    bind $HOST:$LB_PORT
    default_backend instances
# An instance whose /readyz fails (Redis or SQL unreachable, shutting down)
# gets no new requests; the others take its share.
backend instances
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 1
EOF
	for i in $(seq 1 "$N"); do
		printf '    server fairslot%s %s:%s check\n' "$i" "$HOST" "$((INSTANCE_PORT + i - 1))"
	done
} >"$RUN/haproxy.cfg"
haproxy -c -q -f "$RUN/haproxy.cfg" || { echo "instances.sh: haproxy rejected $RUN/haproxy.cfg" >&2; exit 1; }

for i in $(seq 1 "$N"); do
	echo "==> fairslot serve #$i on $HOST:$((INSTANCE_PORT + i - 1)) (log $LOG/instance-$i.log)"
	"$BIN" serve --http-addr "$HOST:$((INSTANCE_PORT + i - 1))" --admin-addr "$HOST:$((ADMIN_PORT + i - 1))" \
		--trusted-proxies 127.0.0.1/32 "$@" >"$LOG/instance-$i.log" 2>&1 &
	pids+=("$!")
done
haproxy -W -db -f "$RUN/haproxy.cfg" >"$LOG/haproxy-lb.log" 2>&1 &
pids+=("$!")

if [[ ${FAIRSLOT_PROMETHEUS:-} == 1 ]]; then
	# deploy/prometheus/prometheus.yml with this run's instances.
	{
		sed -n '/^global:/,/^rule_files:/p' "$ROOT/deploy/prometheus/prometheus.yml"
		printf '  - %s\n' "$ROOT/deploy/prometheus/alerts.yml"
		printf 'scrape_configs:\n  - job_name: fairslot\n    static_configs:\n      - targets: ['
		for i in $(seq 1 "$N"); do printf '%s"%s:%s"' "$([[ $i == 1 ]] || echo ', ')" "$HOST" "$((ADMIN_PORT + i - 1))"; done
		printf ']\n'
	} >"$RUN/prometheus.yml"
	mkdir -p "$DATA/prometheus"
	prometheus --config.file="$RUN/prometheus.yml" --storage.tsdb.path="$DATA/prometheus" \
		--storage.tsdb.retention.time=2d --web.listen-address="$HOST:$PROM_PORT" >"$LOG/prometheus.log" 2>&1 &
	pids+=("$!")
fi

# Ready when HAProxy's own checks see every instance UP (its stats, as CSV:
# column 18 is the status).
all_ready() {
	local csv
	csv=$(curl -fsS --max-time 2 "http://$HOST:$LB_STATS_PORT/;csv" 2>/dev/null) || return 1
	awk -F, -v n="$N" '$1 == "instances" && $2 ~ /^fairslot/ { if ($18 == "UP") up++ } END { exit !(up == n) }' <<<"$csv"
}
for _ in $(seq 1 300); do
	if all_ready; then break; fi
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null || { echo "instances.sh: a process exited; see $LOG/instance-*.log" >&2; exit 1; }
	done
	sleep 0.2
done
cat <<EOF

fairslot API and consoles: http://$HOST:$LB_PORT/  ($N instances behind HAProxy; stats http://$HOST:$LB_STATS_PORT/)
metrics: $(for i in $(seq 1 "$N"); do printf 'http://%s:%s/metrics ' "$HOST" "$((ADMIN_PORT + i - 1))"; done)$(
	[[ ${FAIRSLOT_PROMETHEUS:-} != 1 ]] || printf '\nPrometheus with the alert rules: http://%s:%s/alerts' "$HOST" "$PROM_PORT")
Ctrl-C stops them all.
EOF
wait -n "${pids[@]}" || true
echo "instances.sh: a process exited; stopping the others" >&2
exit 1
