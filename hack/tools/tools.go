//go:build tools

// Package tools pins the real control-plane binaries the e2e tests, `make run`
// and `make bench` start. It is never compiled; hack/build-tools.sh builds the
// commands it names.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
