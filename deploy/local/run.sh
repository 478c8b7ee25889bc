#!/usr/bin/env bash
# `make run`: start the local services, build, migrate, seed and serve fairslot.
# Extra arguments go to `fairslot serve`. Services started here are stopped on exit;
# services that were already running are left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${FAIRSLOT_DATA_DIR:-$ROOT/.data}"
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
BIN="$ROOT/bin/fairslot"
# shellcheck source=deploy/local/lib.sh
. "$ROOT/deploy/local/lib.sh"

start_services start postgres redis
envlines=$("$SERVICES" env)
eval "$envlines"

prepare_fairslot "$DATA" "$BIN" # lib.sh: key, build, migrate, seed
echo "==> fairslot serve $*"
# The owner's URL is migrate's alone (serve warns when it can read it).
env -u FAIRSLOT_MIGRATE_DATABASE_URL "$BIN" serve "$@"
