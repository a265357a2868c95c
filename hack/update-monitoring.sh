#!/usr/bin/env bash
# Regenerates artifacts/monitoring's alert rules, PrometheusRule, Alertmanager
# example and Grafana dashboard from internal/monitoring (their one source), and the
# Helm chart's copies of the rules and the dashboard.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" && go run ./hack/monitoring --out artifacts/monitoring
# The Helm chart can read only its own files: it gets copies of the rules and
# the dashboard (charts/certstatus/templates/monitoring.yaml).
for f in certstatus.rules.yaml grafana-dashboard.json; do
  cp "artifacts/monitoring/$f" "charts/certstatus/files/$f"
done
