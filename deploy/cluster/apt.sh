# Sourced by deploy/cluster/cluster.sh and deploy/prometheus/check.sh:
# install Debian packages without letting their maintainer scripts start
# system services (etcd, haproxy, redis, postgresql and prometheus all would):
# fairslot runs its own processes with its own config and data folders.
# shellcheck shell=bash

# apt_install LOGFILE PACKAGE...: as root, apt-get update and install; a
# policy-rc.d that denies every start is in place for the length of the
# install (an existing one is left as it is).
apt_install() {
	local log=$1 policy=/usr/sbin/policy-rc.d made_policy=false rc=0
	shift
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		printf 'missing: %s. Install with: sudo apt-get install %s\n' "$*" "$*" >&2
		return 1
	fi
	mkdir -p "$(dirname "$log")"
	printf 'installing %s (log: %s) ...\n' "$*" "$log" >&2
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=true
	fi
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } \
		</dev/null >"$log" 2>&1 || rc=$?
	if $made_policy; then rm -f "$policy"; fi
	if ((rc != 0)); then
		tail -n 20 "$log" >&2
		printf 'apt-get install %s failed\n' "$*" >&2
	fi
	return "$rc"
}
