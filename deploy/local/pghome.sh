# shellcheck shell=bash
# PostgreSQL's files outside the checkout, shared by deploy/local/services.sh
# and deploy/cluster/cluster.sh. As root, PostgreSQL runs as the `postgres`
# user, which cannot enter a checkout inside a folder closed to others (root's
# 0700 home), so its files live under /var/lib/fairslot, one folder per data
# folder; the data folder names it in its postgres-location file.

# pg_home_for ROOT DATA [SUFFIX]: /var/lib/fairslot/<checkout>-<hash of DATA's path><SUFFIX>.
pg_home_for() {
	local slug hash
	slug=$(basename "$1" | tr -c 'A-Za-z0-9_.\n-' '_' | cut -c1-32)
	hash=$(printf '%s' "$2" | sha256sum | cut -c1-12)
	printf '/var/lib/fairslot/%s-%s%s\n' "$slug" "$hash" "${3:-}"
}

# pg_home_stale HOME LOCATION_FILE: HOME holds a database that this data
# folder did not make. That happens when a checkout is deleted and cloned again
# at the same path (CI does it on every run) or its data folder is deleted:
# the folder's name is the same, but the passwords and keys that opened the
# database went with the old data folder, so nothing in it can be used.
pg_home_stale() {
	local home=$1 location=$2
	[[ -e $home ]] || return 1
	[[ ! -r $location || $(<"$location") != "$home" ]]
}
