#!/usr/bin/env bash
# Builds the real control plane (etcd, kube-apiserver, kube-controller-manager,
# kubectl) and helm from the Go module proxy into a cache outside the checkout,
# keyed by version. A second run finds the binaries and does nothing.
# Prints the directory that holds them (helm is linked into it).
set -euo pipefail

k8s_version=v1.37.2
etcd_version=v3.7.0
helm_version=v3.22.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${CERTSTATUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/k8s-${k8s_version}-etcd-${etcd_version}}
mkdir -p "$cache"
# One builder at a time: \`make run\` and \`make test\` (or two helpers) started
# together would otherwise build the same binaries twice and race on their
# temporary files. The second waits, then finds them built.
exec 9>"$cache/.lock"
flock 9

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

# helm has its own go.mod (and its own Kubernetes minor), so it is installed
# from its module rather than through hack/tools; it gets a directory keyed by
# its own version, linked into the tools directory.
helm_dir=${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/helm-${helm_version}
if [ ! -x "$helm_dir/helm" ]; then
  echo "building helm (helm.sh/helm/v3 ${helm_version}) into $helm_dir ..." >&2
  mkdir -p "$helm_dir/tmp"
  CGO_ENABLED=0 GOBIN="$helm_dir/tmp" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${helm_version}" \
    "helm.sh/helm/v3/cmd/helm@${helm_version}"
  mv "$helm_dir/tmp/helm" "$helm_dir/helm"
  rmdir "$helm_dir/tmp"
fi
ln -sfn "$helm_dir/helm" "$cache/helm"
echo "$cache"
