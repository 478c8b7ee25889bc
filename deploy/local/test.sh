#!/usr/bin/env bash
# `make test`: the fast checks (lint.sh) first, then the services, the
# race-enabled test suite against them, and last the newcomer's `make run`
# from a 0700 folder (newcomer.sh). Extra `go test` flags: GOTESTFLAGS="-run Foo -v".
# Services started here are stopped on exit; running ones are left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# CI runs without a terminal; nothing here should ever wait for input.
if [[ ${CI:-} == true ]]; then exec </dev/null; fi
# shellcheck source=deploy/local/lib.sh
. "$ROOT/deploy/local/lib.sh"

step() { printf '\n==> %s\n' "$*"; }

deploy/local/lint.sh

step "services"
start_services start postgres redis
# The Redis Cluster the admission tests also run on (not needed by `make run`).
start_services start-cluster redis-cluster
envlines=$("$SERVICES" env)
eval "$envlines"

# -race needs cgo and a C compiler.
if ! command -v "$(go env CC)" >/dev/null; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		step "installing gcc (needed by go test -race)"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
	else
		echo "test.sh: go test -race needs a C compiler: sudo apt-get install gcc libc6-dev" >&2
		exit 1
	fi
fi

# The web console's browser test drives Debian's headless Chromium; a small
# CJK font makes its screenshots of the bilingual pages readable.
browser_pkgs=()
[[ -x /usr/bin/chromium ]] || browser_pkgs+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || browser_pkgs+=(fonts-wqy-microhei)
# The load-test report (loadtest/report) draws its plots with gnuplot.
command -v gnuplot >/dev/null || browser_pkgs+=(gnuplot-nox)
# TestSystemdKit checks deploy/systemd's units with systemd-analyze verify.
command -v systemd-analyze >/dev/null || browser_pkgs+=(systemd)
# The accessibility tests run axe-core, an npm package, in that Chromium.
command -v npm >/dev/null || browser_pkgs+=(npm)
if ((${#browser_pkgs[@]})); then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		step "installing ${browser_pkgs[*]} (the browser test of internal/web, the plots of loadtest/report, the systemd units' check, axe-core)"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser_pkgs[@]}" >/dev/null
	else
		echo "test.sh: the tests need Chromium, gnuplot, systemd-analyze and npm: sudo apt-get install chromium fonts-wqy-microhei gnuplot-nox systemd npm" >&2
		exit 1
	fi
fi
# axe-core, pinned, into .data/npm, where internal/web's accessibility
# tests read it (docs/accessibility.md); installed again only when the
# version changes.
AXE_CORE_VERSION=4.11.0
if ! grep -qs "\"version\": \"$AXE_CORE_VERSION\"" .data/npm/node_modules/axe-core/package.json; then
	step "installing axe-core $AXE_CORE_VERSION with npm (the accessibility tests of internal/web)"
	mkdir -p .data/npm
	npm install --prefix .data/npm --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_CORE_VERSION" >/dev/null
fi

read -r -a extra <<<"${GOTESTFLAGS:-}"
step "go test -race -count=1 -timeout 30m ${extra[*]} ./..."
CGO_ENABLED=1 go test -race -count=1 -timeout 30m "${extra[@]}" ./...

step "bounded fuzzing (deploy/local/fuzz.sh, FUZZTIME=${FUZZTIME:-3s} per target)"; deploy/local/fuzz.sh

step "operations kit: promtool checks and unit-tests the alert rules"
deploy/prometheus/check.sh

# The scale-out stack (Patroni + etcd + HAProxy, Redis Cluster 3+3) and its
# failover tests, make run INSTANCES=2 CLUSTER=1: about a minute and a half.
step "cluster: failover tests and several instances (deploy/cluster/test.sh)"
deploy/cluster/test.sh

step "newcomer: make run from a copy in a 0700 folder"
deploy/local/newcomer.sh
