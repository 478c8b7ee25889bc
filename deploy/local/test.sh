#!/usr/bin/env bash
# `make test`: gofmt, go vet, staticcheck and the race-enabled test suite against
# the local services. Extra `go test` flags: GOTESTFLAGS="-run Foo -v".
# Services started here are stopped on exit; running ones are left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# CI runs without a terminal; nothing here should ever wait for input.
if [[ ${CI:-} == true ]]; then exec </dev/null; fi
# shellcheck source=deploy/local/lib.sh
. "$ROOT/deploy/local/lib.sh"

step() { printf '\n==> %s\n' "$*"; }

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
if ((${#browser_pkgs[@]})); then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		step "installing ${browser_pkgs[*]} (the browser test of internal/web, the plots of loadtest/report)"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser_pkgs[@]}" >/dev/null
	else
		echo "test.sh: the tests need Chromium and gnuplot: sudo apt-get install chromium fonts-wqy-microhei gnuplot-nox" >&2
		exit 1
	fi
fi

step "gofmt -l ."
unformatted=$(find . \( -path ./.data -o -path ./.git -o -path ./bin \) -prune -o -name '*.go' -print0 |
	xargs -0 -r gofmt -l)
if [[ -n $unformatted ]]; then
	printf 'not gofmt-ed (run gofmt -w):\n%s\n' "$unformatted" >&2
	exit 1
fi

step "go vet ./..."
go vet ./...

step "go tool staticcheck ./..."
go tool staticcheck ./...

read -r -a extra <<<"${GOTESTFLAGS:-}"
step "go test -race -count=1 -timeout 30m ${extra[*]} ./..."
CGO_ENABLED=1 go test -race -count=1 -timeout 30m "${extra[@]}" ./...
