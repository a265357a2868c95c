#!/usr/bin/env bash
# Builds Prometheus, promtool and Alertmanager from the Go module proxy into a
# cache outside the checkout, keyed by version, for the rule tests, the
# monitoring e2e test and `make run-monitoring`. A second run finds the
# binaries and does nothing. Prints the directory that holds them.
#
# Prometheus built this way serves its API but no web UI (the UI assets are
# made by npm in its release process). Alertmanager's module zip lacks the
# embedded UI directory altogether, so it is built from a copy of the module
# with two placeholder pages; its API and receivers work as released.
set -euo pipefail

prometheus_version=v0.316.0
alertmanager_version=v0.35.0
cache=${CERTSTATUS_MONITORING_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/prometheus-${prometheus_version}-alertmanager-${alertmanager_version}}
mkdir -p "$cache"
# One builder at a time: \`make run\` and \`make test\` (or two helpers) started
# together would otherwise build the same binaries twice and race on their
# temporary files. The second waits, then finds them built.
exec 9>"$cache/.lock"
flock 9
export CGO_ENABLED=0 GOFLAGS=-mod=mod

install() { # name package@version
  local name=$1 pkg=$2
  if [ -x "$cache/$name" ]; then return; fi
  echo "building $name ($pkg) into $cache ..." >&2
  local bin
  bin=$(mktemp -d)
  GOBIN=$bin go install -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=3.${prometheus_version#v0.3}" "$pkg"
  mv "$bin/$name" "$cache/$name.tmp"
  rm -rf "$bin"
  mv "$cache/$name.tmp" "$cache/$name"
}

install prometheus github.com/prometheus/prometheus/cmd/prometheus@${prometheus_version}
install promtool github.com/prometheus/prometheus/cmd/promtool@${prometheus_version}

if [ ! -x "$cache/alertmanager" ]; then
  echo "building alertmanager (github.com/prometheus/alertmanager@${alertmanager_version}) into $cache ..." >&2
  module=$(go mod download -json "github.com/prometheus/alertmanager@${alertmanager_version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  src=$(mktemp -d)
  trap 'chmod -R u+w "$src"; rm -rf "$src"' EXIT
  cp -r "$module/." "$src"
  chmod -R u+w "$src"
  for ui in elm mantine; do
    mkdir -p "$src/ui/app/dist/$ui"
    echo '<!doctype html><title>Alertmanager</title><p>Built without the web UI; the API is at /api/v2.' >"$src/ui/app/dist/$ui/index.html"
  done
  (cd "$src" && go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${alertmanager_version#v}" -o "$cache/alertmanager.tmp" ./cmd/alertmanager)
  mv "$cache/alertmanager.tmp" "$cache/alertmanager"
fi
echo "$cache"
