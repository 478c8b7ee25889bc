#!/usr/bin/env bash
# Bounded fuzzing: every Fuzz target of the module, FUZZTIME (3s) each.
# `go test` already ran their seed corpora (testdata/fuzz/ and f.Add); this
# explores beyond them for a little while, so a decoder that panics or
# breaks its property on a new input fails `make test`. A failing input is
# saved under the package's testdata/fuzz/: commit it with the fix.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
fuzztime=${FUZZTIME:-3s}
mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' internal cmd loadtest 2>/dev/null | xargs -r -n1 dirname | sort -u)
for dir in "${dirs[@]}"; do
	mapfile -t targets < <(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u)
	for target in "${targets[@]}"; do
		printf 'fuzz ./%s %s for %s\n' "$dir" "$target" "$fuzztime"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$dir" >/dev/null
	done
done
