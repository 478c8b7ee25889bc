#!/usr/bin/env bash
# `make lint`, and the first step of `make test`: the checks that need no
# service and take seconds, so a formatting slip fails before anything is
# installed or started. gofmt, go vet, staticcheck, go.mod tidy, shellcheck of
# the scripts, and no built binary tracked by git.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if [[ ${CI:-} == true ]]; then exec </dev/null; fi

step() { printf '\n==> %s\n' "$*"; }

step "gofmt -l ."
unformatted=$(find . \( -path ./.data -o -path ./.git -o -path ./bin \) -prune -o -name '*.go' -print0 |
	xargs -0 -r gofmt -l)
if [[ -n $unformatted ]]; then
	printf 'not gofmt-ed (run gofmt -w):\n%s\n' "$unformatted" >&2
	exit 1
fi

step "go mod tidy -diff"
go mod tidy -diff

step "go vet ./..."
go vet ./...

step "go tool staticcheck ./..."
go tool staticcheck ./...

step "shellcheck deploy/ .ci/"
if ! command -v shellcheck >/dev/null; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "installing shellcheck"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; } >/dev/null
	else
		echo "lint.sh: shellcheck is missing: sudo apt-get install shellcheck" >&2
		exit 1
	fi
fi
shopt -s globstar nullglob
shellcheck -x deploy/**/*.sh .ci/run

# (Only in a git checkout: a copy without .git has nothing tracked.)
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0
step "no built binary in git"
binaries=()
while IFS= read -r -d '' f; do
	[[ -f $f ]] || continue
	if [[ $(head -c4 "$f" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then binaries+=("$f"); fi
done < <(git ls-files -z)
if ((${#binaries[@]})); then
	printf 'built binaries are tracked (git rm --cached them; .gitignore lists the usual ones):\n%s\n' "${binaries[@]}" >&2
	exit 1
fi
