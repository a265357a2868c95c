package stack

import (
	"fmt"
	"net"
	"os"
)

// Identities the control plane and certstatus authenticate as.
const (
	adminUser             = "certstatus-admin"
	controllerManagerUser = "system:kube-controller-manager"
	frontProxyClientName  = "front-proxy-client"

	// ServerNamespace and ServerServiceAccount name the ServiceAccount whose
	// identity the certstatus server runs with, so the RBAC in
	// artifacts/deploy/rbac.yaml is exactly what it gets.
	ServerNamespace      = "certstatus"
	ServerServiceAccount = "certstatus-apiserver"
	// ServerServiceName is the Service the APIService points at; the
	// aggregator verifies the serving certificate for <name>.<namespace>.svc.
	ServerServiceName = "certstatus-apiserver"
)

// certs is every certificate and key file of one stack.
type certs struct {
	clusterCA *keyPair // kept in memory to sign user certificates later

	ClusterCAFile        string
	APIServerCertFile    string
	APIServerKeyFile     string
	FrontProxyCAFile     string
	FrontProxyClientCert string
	FrontProxyClientKey  string
	ServingCAFile        string
	ServingCAPEM         []byte
	ServerCertFile       string
	ServerKeyFile        string
	SAPrivateKeyFile     string
	SAPublicKeyFile      string

	admin             *keyPair
	controllerManager *keyPair
	serverIdentity    *keyPair
}

// newCerts creates the whole PKI under dir.
func newCerts(dir string) (*certs, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki dir: %w", err)
	}
	c := &certs{}
	var err error
	loopback := []net.IP{net.ParseIP("127.0.0.1")}

	if c.clusterCA, err = newCA("certstatus-test-cluster-ca"); err != nil {
		return nil, err
	}
	if c.ClusterCAFile, _, err = c.clusterCA.write(dir, "cluster-ca"); err != nil {
		return nil, err
	}
	apiserver, err := c.clusterCA.issue(certSpec{CommonName: "kube-apiserver", DNSNames: []string{"localhost"}, IPs: loopback, Server: true})
	if err != nil {
		return nil, err
	}
	if c.APIServerCertFile, c.APIServerKeyFile, err = apiserver.write(dir, "kube-apiserver"); err != nil {
		return nil, err
	}
	if c.admin, err = c.clusterCA.issue(certSpec{CommonName: adminUser, Organization: []string{"system:masters"}}); err != nil {
		return nil, err
	}
	if c.controllerManager, err = c.clusterCA.issue(certSpec{CommonName: controllerManagerUser}); err != nil {
		return nil, err
	}
	c.serverIdentity, err = c.clusterCA.issue(certSpec{
		CommonName:   "system:serviceaccount:" + ServerNamespace + ":" + ServerServiceAccount,
		Organization: []string{"system:serviceaccounts", "system:serviceaccounts:" + ServerNamespace},
	})
	if err != nil {
		return nil, err
	}

	frontProxyCA, err := newCA("certstatus-test-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if c.FrontProxyCAFile, _, err = frontProxyCA.write(dir, "front-proxy-ca"); err != nil {
		return nil, err
	}
	frontProxyClient, err := frontProxyCA.issue(certSpec{CommonName: frontProxyClientName})
	if err != nil {
		return nil, err
	}
	if c.FrontProxyClientCert, c.FrontProxyClientKey, err = frontProxyClient.write(dir, "front-proxy-client"); err != nil {
		return nil, err
	}

	// A CA of its own for certstatus's serving certificate: that is what the
	// APIService's caBundle pins, as in a real installation.
	servingCA, err := newCA("certstatus-test-serving-ca")
	if err != nil {
		return nil, err
	}
	if c.ServingCAFile, _, err = servingCA.write(dir, "serving-ca"); err != nil {
		return nil, err
	}
	c.ServingCAPEM = servingCA.CertPEM
	serving, err := servingCA.issue(certSpec{
		CommonName: ServerServiceName + "." + ServerNamespace + ".svc",
		DNSNames:   []string{ServerServiceName + "." + ServerNamespace + ".svc", "localhost"},
		IPs:        loopback,
		Server:     true,
	})
	if err != nil {
		return nil, err
	}
	if c.ServerCertFile, c.ServerKeyFile, err = serving.write(dir, "certstatus-serving"); err != nil {
		return nil, err
	}

	if c.SAPrivateKeyFile, c.SAPublicKeyFile, err = writeServiceAccountKeys(dir); err != nil {
		return nil, err
	}
	return c, nil
}
