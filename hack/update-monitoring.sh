#!/usr/bin/env bash
# Regenerates artifacts/monitoring's alert rules, PrometheusRule, Alertmanager
# example and Grafana dashboard from pkg/monitoring (their one source).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" && go run ./hack/monitoring --out artifacts/monitoring
