// Package version holds the product's own version, stamped at build time.
// It is deliberately not k8s.io/component-base/version, which feeds the
// effective Kubernetes version of the generic API server.
package version

// Version is set with -ldflags "-X github.com/certstatus/certstatus/pkg/version.Version=...".
var Version = "dev"
