#!/usr/bin/env bash
# `make loadtest [SCENARIO=release_hour|steady_day|scalper_mix]`: start the
# local services, build fairslot, its seeding tool (loadtest/loadseed) and
# the pinned k6, then run the scenario through loadtest/run, which seeds its
# own database (fairslot_load), checks the invariants and writes the report
# into docs/performance.md.
# `make bench` is SCENARIO=throughput: wrk against a no-op handler, fairslot
# and the SQL-only baseline (loadtest/noop, loadtest/sqlbaseline).
# Extra arguments go to loadtest/run (e.g. -rate 5000 -duration 20s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
K6_VERSION="${K6_VERSION:-v1.8.1}"
SCENARIO="${SCENARIO:-release_hour}"

# shellcheck source=deploy/local/lib.sh
. "$ROOT/deploy/local/lib.sh"

need_apt=()
command -v gnuplot >/dev/null || need_apt+=(gnuplot-nox)
command -v wrk >/dev/null || need_apt+=(wrk)
if ((${#need_apt[@]})); then
	echo "==> apt-get install ${need_apt[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
fi

start_services start postgres redis
eval "$("$SERVICES" env)"

cd "$ROOT"
mkdir -p bin
if [[ "$(bin/k6 version 2>/dev/null | awk '{print $2}')" != "$K6_VERSION" ]]; then
	echo "==> GOBIN=bin go install go.k6.io/k6@$K6_VERSION (once; about two minutes)"
	GOBIN="$ROOT/bin" go install "go.k6.io/k6@$K6_VERSION"
fi
echo "==> go build -o bin/ ./cmd/fairslot ./loadtest/loadseed ./loadtest/noop ./loadtest/sqlbaseline ./loadtest/spike"
go build -o bin/ ./cmd/fairslot ./loadtest/loadseed ./loadtest/noop ./loadtest/sqlbaseline ./loadtest/spike
ulimit -n 65536 2>/dev/null || true
go run ./loadtest/run -scenario "$SCENARIO" "$@"
