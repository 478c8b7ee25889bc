#!/usr/bin/env bash
# `make test-cluster`, and the cluster step of `make test`: start the
# scale-out stack (cluster.sh: PostgreSQL under Patroni with a synchronous
# standby behind HAProxy, a Redis Cluster of 3 masters and 3 replicas), build
# fairslot, and run the failover tests (loadtest/failover, build tag
# `cluster`) against real `fairslot serve` processes. What this script
# started is stopped on exit; what was running is left alone.
# Extra `go test` flags: GOTESTFLAGS="-run Redis".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if [[ ${CI:-} == true ]]; then exec </dev/null; fi
CLUSTER="$ROOT/deploy/cluster/cluster.sh"
BIN=$(mktemp -d)

started=()
pgid="" # of instances.sh, while it runs
cleanup() {
	trap - EXIT INT TERM
	if [[ -n $pgid ]] && kill -0 "$pgid" 2>/dev/null; then
		kill -INT -- "-$pgid" 2>/dev/null || true
		for _ in $(seq 1 150); do kill -0 "$pgid" 2>/dev/null || break; sleep 0.2; done
	fi
	if ((${#started[@]})); then "$CLUSTER" stop "${started[@]}" || true; fi
	rm -rf "$BIN"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }

step "cluster: etcd, PostgreSQL under Patroni, HAProxy, Redis Cluster with replicas"
if ! out=$("$CLUSTER" start); then
	printf '%s\n' "$out"
	# A start that failed half-way stops the parts it did not find running,
	# so that no half-made stack holds the ports for the next run.
	for s in sql redis; do
		grep -q "^$s already running" <<<"$out" || "$CLUSTER" stop "$s" || true
	done
	exit 1
fi
printf '%s\n' "$out"
for s in sql redis; do
	if grep -qx "started $s" <<<"$out"; then started+=("$s"); fi
done
eval "$("$CLUSTER" env)"

step "go vet and staticcheck with -tags cluster"
go vet -tags cluster ./loadtest/failover/
go tool staticcheck -tags cluster ./loadtest/failover/

step "go build fairslot and the load tests' seeding tool"
go build -o "$BIN/" ./cmd/fairslot ./loadtest/loadseed
export FAIRSLOT_TEST_BIN="$BIN/fairslot" FAIRSLOT_TEST_LOADSEED_BIN="$BIN/loadseed"

read -r -a extra <<<"${GOTESTFLAGS:-}"
step "go test -tags cluster ./loadtest/failover/ ${extra[*]}"
go test -tags cluster -count=1 -v -timeout 20m "${extra[@]}" ./loadtest/failover/ 2>&1 |
	grep -Ev '^=== (RUN|PAUSE|CONT)' || exit "${PIPESTATUS[0]}"

step "make run INSTANCES=2 CLUSTER=1 PROMETHEUS=1: two instances behind HAProxy on the replicated stack"
LB=${FAIRSLOT_LB_PORT:-20080} ADMIN=${FAIRSLOT_INSTANCE_ADMIN_PORT:-20091}
log="$BIN/instances.log"
if curl -fsS --max-time 2 "http://127.0.0.1:$LB/healthz" >/dev/null 2>&1; then
	echo "test.sh: something already answers on 127.0.0.1:$LB (a make run INSTANCES=N still running?); set FAIRSLOT_LB_PORT" >&2
	exit 1
fi
FAIRSLOT_CLUSTER=1 FAIRSLOT_PROMETHEUS=1 setsid deploy/cluster/instances.sh 2 >"$log" 2>&1 </dev/null &
pgid=$!
ok=false
for _ in $(seq 1 600); do
	# instances.sh prints its banner once every instance is ready.
	if grep -q '^fairslot API and consoles' "$log" &&
		curl -fsS --max-time 2 "http://127.0.0.1:$LB/v1/hospitals" 2>/dev/null | grep -q hospital_id; then
		ok=true
		break
	fi
	kill -0 "$pgid" 2>/dev/null || break
	sleep 0.2
done
if ! $ok; then
	tail -n 30 "$log" >&2
	echo "test.sh: instances.sh did not serve the demo hospital on 127.0.0.1:$LB" >&2
	exit 1
fi
for _ in $(seq 1 20); do curl -fsS --max-time 2 "http://127.0.0.1:$LB/v1/hospitals" >/dev/null; done
for i in 0 1; do
	n=$(curl -fsS --max-time 2 "http://127.0.0.1:$((ADMIN + i))/metrics" |
		awk '/^fairslot_http_requests_total\{.*route="\/v1\/hospitals"/ {s += $NF} END {print s + 0}')
	echo "instance $((i + 1)) answered $n of the requests to /v1/hospitals"
	((n > 0)) || { echo "test.sh: HAProxy sent instance $((i + 1)) nothing" >&2; exit 1; }
done
# Prometheus scrapes both instances and has loaded the alert rules.
PROM=${FAIRSLOT_PROMETHEUS_PORT:-20090}
up=0
for _ in $(seq 1 100); do
	up=$(curl -fsS --max-time 2 "http://127.0.0.1:$PROM/api/v1/query?query=sum(up%7Bjob%3D%22fairslot%22%7D)" 2>/dev/null |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)' 2>/dev/null || echo 0)
	((up == 2)) && break
	sleep 0.3
done
((up == 2)) || { echo "test.sh: Prometheus sees $up of 2 instances up" >&2; exit 1; }
rules=$(curl -fsS --max-time 2 "http://127.0.0.1:$PROM/api/v1/rules" | grep -o '"name":"Fairslot[A-Za-z0-9]*"' | sort -u | wc -l)
((rules >= 10)) || { echo "test.sh: Prometheus loaded $rules fairslot alert rules" >&2; exit 1; }
echo "Prometheus scrapes both instances and evaluates $rules alert rules"
kill -INT -- "-$pgid"
for _ in $(seq 1 150); do kill -0 "$pgid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$pgid" 2>/dev/null; then echo "test.sh: instances.sh did not stop on Ctrl-C" >&2; exit 1; fi
pgid=""
if curl -fsS --max-time 2 "http://127.0.0.1:$LB/healthz" >/dev/null 2>&1; then
	echo "test.sh: something still answers on 127.0.0.1:$LB after Ctrl-C" >&2
	exit 1
fi
echo "Ctrl-C stopped the instances and HAProxy"
