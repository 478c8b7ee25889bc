# Sourced by run.sh, test.sh, loadtest.sh and deploy/cluster/instances.sh: start the local services the
# script needs, remember which ones it started, and stop just those on exit;
# services that were already running are left alone.
# shellcheck shell=bash

SERVICES="$ROOT/deploy/local/services.sh"
started=()
cleanup() {
	trap - EXIT INT TERM
	if ((${#started[@]})); then
		"$SERVICES" stop "${started[@]}" || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_services ACTION NAME...: run `services.sh ACTION` (start or
# start-cluster) and note each NAME it reports as started.
start_services() {
	local action=$1 rc=0 out s
	shift
	out=$("$SERVICES" "$action") || rc=$?
	[[ -z $out ]] || printf '%s\n' "$out"
	for s in "$@"; do
		if grep -qx "started $s" <<<"$out"; then started+=("$s"); fi
	done
	((rc == 0)) || exit "$rc"
}

# prepare_fairslot DATA BIN: the steps before `fairslot serve` that run.sh
# and the cluster's instances.sh share: the secret key (kept in
# DATA/secret.key, so stored identities stay decryptable across restarts and
# every instance reads the others' tokens and forms), the build, the
# migrations and the demo data.
prepare_fairslot() {
	local data=$1 bin=$2 keyfile fresh=
	if [[ -z ${FAIRSLOT_SECRET_KEY:-} ]]; then
		keyfile="$data/secret.key"
		if [[ ! -s $keyfile ]]; then
			(umask 077 && head -c32 /dev/urandom | base64 >"$keyfile.tmp" && mv "$keyfile.tmp" "$keyfile")
			echo "generated $keyfile (keep it: without it stored identities cannot be decrypted)"
			fresh=1
		fi
		FAIRSLOT_SECRET_KEY="$(<"$keyfile")"
		export FAIRSLOT_SECRET_KEY
	fi
	cd "$ROOT" || return
	echo "==> go build -o bin/fairslot ./cmd/fairslot"
	go build -o "$bin" ./cmd/fairslot
	echo "==> fairslot migrate"
	"$bin" migrate
	echo "==> fairslot seed --demo"
	if ! "$bin" seed --demo; then
		# A key made just now beside a database kept from before: the
		# database refuses it (its data was made with the key deleted).
		[[ -n $fresh ]] && echo "the database was kept but $keyfile is new (was it deleted?): restore the old key, or start the demo over with deploy/local/services.sh purge" >&2
		return 1
	fi
}
