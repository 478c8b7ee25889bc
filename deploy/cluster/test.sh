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
cleanup() {
	trap - EXIT INT TERM
	if ((${#started[@]})); then "$CLUSTER" stop "${started[@]}" || true; fi
	rm -rf "$BIN"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }

step "cluster: etcd, PostgreSQL under Patroni, HAProxy, Redis Cluster with replicas"
out=$("$CLUSTER" start) || { printf '%s\n' "$out"; exit 1; }
printf '%s\n' "$out"
for s in sql redis; do
	if grep -qx "started $s" <<<"$out"; then started+=("$s"); fi
done
eval "$("$CLUSTER" env)"

step "go vet and staticcheck with -tags cluster"
go vet -tags cluster ./loadtest/failover/
go tool staticcheck -tags cluster ./loadtest/failover/

step "go build fairslot"
go build -o "$BIN/fairslot" ./cmd/fairslot
export FAIRSLOT_TEST_BIN="$BIN/fairslot"

read -r -a extra <<<"${GOTESTFLAGS:-}"
step "go test -tags cluster ./loadtest/failover/ ${extra[*]}"
go test -tags cluster -count=1 -v -timeout 20m "${extra[@]}" ./loadtest/failover/ 2>&1 |
	grep -Ev '^=== (RUN|PAUSE|CONT)' || exit "${PIPESTATUS[0]}"
