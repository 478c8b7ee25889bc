# Sourced by run.sh, test.sh and loadtest.sh: start the local services the
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
