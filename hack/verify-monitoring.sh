#!/usr/bin/env bash
# Fails when artifacts/monitoring (or the Helm chart's copies in
# charts/certstatus/files) differs from what internal/monitoring generates
# (run hack/update-monitoring.sh), then checks the rules with promtool and
# runs their unit tests (test/monitoring/*.test.yaml).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./hack/monitoring --out "$tmp"
for f in "$tmp"/*; do
  if ! diff -u "artifacts/monitoring/$(basename "$f")" "$f"; then
    echo "artifacts/monitoring/$(basename "$f") is out of date: run hack/update-monitoring.sh" >&2
    exit 1
  fi
done
for f in certstatus.rules.yaml grafana-dashboard.json; do
  if ! diff -u "charts/certstatus/files/$f" "$tmp/$f"; then
    echo "charts/certstatus/files/$f is out of date: run hack/update-monitoring.sh" >&2
    exit 1
  fi
done
tools=$(hack/build-monitoring-tools.sh | tail -1)
"$tools/promtool" check rules artifacts/monitoring/certstatus.rules.yaml
"$tools/promtool" test rules test/monitoring/*.test.yaml
