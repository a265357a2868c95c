package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
)

// UserKubeconfig writes a kubeconfig for a client certificate with the given
// user name and groups, signed by the cluster CA, and returns its path. No
// RBAC is granted: the user can do what the cluster's bindings for name and
// groups allow (plus system:authenticated).
func (s *Stack) UserKubeconfig(name string, groups ...string) (string, error) {
	client, err := s.certs.clusterCA.issue(certSpec{CommonName: name, Organization: groups})
	if err != nil {
		return "", fmt.Errorf("user %q: %w", name, err)
	}
	dir := filepath.Join(s.dir, "users")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("user %q: %w", name, err)
	}
	s.mu.Lock()
	s.userCount++
	n := s.userCount
	s.mu.Unlock()
	// A counter keeps two calls for the same name (with other groups) apart.
	safe := strings.NewReplacer("/", "_", ":", "_").Replace(name)
	path := filepath.Join(dir, fmt.Sprintf("%03d-%s.kubeconfig", n, safe))
	if err := writeKubeconfig(path, s.apiserverURL, s.certs.clusterCA.CertPEM, client); err != nil {
		return "", fmt.Errorf("user %q: %w", name, err)
	}
	return path, nil
}

// UserRESTConfig is UserKubeconfig loaded as a client configuration.
func (s *Stack) UserRESTConfig(name string, groups ...string) (*rest.Config, error) {
	path, err := s.UserKubeconfig(name, groups...)
	if err != nil {
		return nil, err
	}
	return restConfigFromFile(path)
}
