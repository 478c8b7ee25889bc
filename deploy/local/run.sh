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

# A persistent key keeps stored identities decryptable across restarts.
if [[ -z ${FAIRSLOT_SECRET_KEY:-} ]]; then
	keyfile="$DATA/secret.key"
	if [[ ! -s $keyfile ]]; then
		(umask 077 && head -c32 /dev/urandom | base64 >"$keyfile.tmp" && mv "$keyfile.tmp" "$keyfile")
		echo "generated $keyfile (keep it: without it stored identities cannot be decrypted)"
	fi
	FAIRSLOT_SECRET_KEY="$(<"$keyfile")"
	export FAIRSLOT_SECRET_KEY
fi

cd "$ROOT"
echo "==> go build -o bin/fairslot ./cmd/fairslot"
go build -o "$BIN" ./cmd/fairslot
echo "==> fairslot migrate"
"$BIN" migrate
echo "==> fairslot seed"
"$BIN" seed
echo "==> fairslot serve $*"
"$BIN" serve "$@"
