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
log=$(mktemp) stamp=$(mktemp)
trap 'rm -f "$log" "$stamp"' EXIT
# fuzz_once runs one target quietly, and prints its output's end if it fails.
fuzz_once() {
	touch "$stamp" # older than any input this run writes
	if go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" "./$1" >"$log" 2>&1; then
		return 0
	fi
	tail -n 30 "$log"
	return 1
}
for dir in "${dirs[@]}"; do
	mapfile -t targets < <(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u)
	for target in "${targets[@]}"; do
		printf 'fuzz ./%s %s for %s\n' "$dir" "$target" "$fuzztime"
		fuzz_once "$dir" "$target" && continue
		# A failing input is always written to testdata/fuzz/<target>/. A
		# failure that wrote none is the fuzzing engine's own (a worker
		# lost on a loaded machine), not a finding: say so and run once more.
		if [ -z "$(find "$dir/testdata/fuzz/$target" -newer "$stamp" -type f 2>/dev/null)" ]; then
			printf 'fuzz ./%s %s failed without a failing input (the engine, not the code); once more\n' "$dir" "$target"
			fuzz_once "$dir" "$target" && continue
		fi
		exit 1
	done
done
