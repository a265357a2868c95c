#!/usr/bin/env bash
# Builds the real control plane (etcd, kube-apiserver, kube-controller-manager,
# kubectl) from the Go module proxy into a cache outside the checkout, keyed by
# version. A second run finds the binaries and does nothing.
# Prints the directory that holds them.
set -euo pipefail

k8s_version=v1.37.2
etcd_version=v3.7.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${CERTSTATUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/k8s-${k8s_version}-etcd-${etcd_version}}
mkdir -p "$cache"

# kubectl version fails to parse an unstamped version, so stamp the release.
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version}
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37
 -X k8s.io/client-go/pkg/version.gitVersion=${k8s_version}
 -X k8s.io/component-base/version.gitTreeState=clean"

build() { # name package
  local name=$1 pkg=$2
  if [ -x "$cache/$name" ]; then return; fi
  echo "building $name ($pkg) into $cache ..." >&2
  (cd "$root/hack/tools" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$cache/$name.tmp" "$pkg")
  mv "$cache/$name.tmp" "$cache/$name"
}

build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl k8s.io/kubernetes/cmd/kubectl
echo "$cache"
