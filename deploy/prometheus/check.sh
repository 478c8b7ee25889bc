#!/usr/bin/env bash
# A step of `make test`: the alert rules and the Prometheus config are valid
# (promtool check), and the rules raise what their unit tests say
# (promtool test rules alerts_test.yml). promtool comes with Debian's
# prometheus package, installed when missing (without starting its service).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/cluster/apt.sh
. "$ROOT/deploy/cluster/apt.sh"
cd "$ROOT/deploy/prometheus"
if ! command -v promtool >/dev/null; then
	apt_install "${FAIRSLOT_DATA_DIR:-$ROOT/.data}/log/install-prometheus.log" prometheus
fi
promtool check rules alerts.yml
promtool check config prometheus.yml
promtool test rules alerts_test.yml
python3 -m json.tool ../grafana/fairslot-release-hour.json >/dev/null
echo "dashboard JSON parses"
