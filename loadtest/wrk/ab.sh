#!/usr/bin/env bash
# Interleaved A/B of the fast reject path: fairslot as built at a git
# revision against the working tree, on one seeded database, wrk (the
# throughput benchmark's book.lua) for SECONDS each, alternating, ROUNDS
# times; and the working tree with refused attempts not recorded
# (FAIRSLOT_REFUSAL_BUFFER=0). On a shared machine one run of each drifts
# with the load by ±15%; alternating rounds and their medians show what
# a single run cannot.
#
#   deploy/local/services.sh start && eval "$(deploy/local/services.sh env)"
#   loadtest/wrk/ab.sh main [ROUNDS=3] [SECONDS=10]
set -euo pipefail

rev="${1:?usage: loadtest/wrk/ab.sh REVISION [ROUNDS] [SECONDS]}"
rounds="${2:-3}"
secs="${3:-10}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/.data/loadtest/ab"
addr=127.0.0.1:18091
: "${FAIRSLOT_DATABASE_URL:?run eval \"\$(deploy/local/services.sh env)\" first}"
: "${FAIRSLOT_REDIS_PORT:?run eval \"\$(deploy/local/services.sh env)\" first}"

rm -rf "$dir" && mkdir -p "$dir/src"
echo "==> build fairslot at $rev and the working tree"
git -C "$root" archive "$rev" | tar -x -C "$dir/src"
go build -C "$dir/src" -o "$dir/fairslot-$rev" ./cmd/fairslot
go build -C "$root" -o "$dir/fairslot-now" ./cmd/fairslot
go build -C "$root" -o "$dir/loadseed" ./loadtest/loadseed

echo "==> seed 20000 patients, 20 sessions × 50 slots, released (database fairslot_ab, Redis prefix ab)"
FAIRSLOT_SECRET_KEY="$(head -c32 /dev/urandom | base64)"
admin="${FAIRSLOT_DATABASE_URL/\/fairslot\?//postgres?}"
psql "$admin" -qc "DROP DATABASE IF EXISTS fairslot_ab WITH (FORCE)" 2>/dev/null
psql "$admin" -qc "CREATE DATABASE fairslot_ab"
export FAIRSLOT_SECRET_KEY FAIRSLOT_DATABASE_URL="${FAIRSLOT_DATABASE_URL/\/fairslot\?//fairslot_ab?}"
export FAIRSLOT_REDIS_PREFIX=ab FAIRSLOT_LOG_LEVEL=warn
redis-cli -p "$FAIRSLOT_REDIS_PORT" --scan --pattern 'ab*' | xargs -r redis-cli -p "$FAIRSLOT_REDIS_PORT" del >/dev/null
"$dir/fairslot-now" migrate >/dev/null
"$dir/loadseed" --out "$dir" --patients 20000 --sessions 20 --slots 50 --release-at -1m >/dev/null
python3 - "$dir" <<'PY'
import csv, json, sys
d = sys.argv[1]
sessions = json.load(open(d + "/sessions.json"))["sessions"]
rows = list(csv.reader(open(d + "/patients.csv")))[1:]
with open(d + "/wrk-input.txt", "w") as f:
    for i, r in enumerate(rows):
        a = i % 50000
        f.write("%s %s %s 10.%d.%d.%d\n" % (r[0], r[1], sessions[i % len(sessions)]["id"], (a >> 16) & 255, (a >> 8) & 255, a & 255))
PY

run() { # name refusal-buffer binary
	FAIRSLOT_REFUSAL_BUFFER="$2" "$3" serve --admin-addr off --trusted-proxies 127.0.0.0/8 --http-addr "$addr" >"$dir/$1.log" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break
		sleep 0.1
	done
	sleep 1
	wrk -t2 -c64 -d"${secs}s" --timeout 5s -s "$root/loadtest/wrk/book.lua" "http://$addr" -- "$dir/wrk-input.txt" |
		awk -v n="$1" '/Requests\/sec/ {printf "%-22s %8.0f requests/s\n", n, $2}' | tee -a "$dir/results.txt"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
: >"$dir/results.txt"
for round in $(seq "$rounds"); do
	echo "==> round $round, $(uptime | sed 's/.*load average/load average/')"
	run "at $rev" 32768 "$dir/fairslot-$rev"
	run "now" 32768 "$dir/fairslot-now"
	run "now, not recording" 0 "$dir/fairslot-now"
done
echo "==> medians"
sort -k1,1 "$dir/results.txt" | awk '{n=$0; sub(/ +[0-9]+ requests\/s$/, "", n); v[n]=v[n] " " $(NF-1)} END {for (k in v) print k ":" v[k]}' |
	while IFS=: read -r name values; do
		echo "$name $(echo "$values" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
	done
