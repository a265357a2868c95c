package registrations

import (
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

const day = 24 * time.Hour

// epoch is the tests' "now"; certificates are dated around it.
var epoch = time.Now().UTC().Truncate(time.Second)

func newCA(t testing.TB, commonName string) *certtest.Certificate {
	t.Helper()
	return certtest.Must(certtest.NewCA(certtest.Spec{CommonName: commonName, KeyAlgorithm: certtest.ECDSA,
		NotBefore: epoch.Add(-365 * day), NotAfter: epoch.Add(5 * 365 * day)}))
}

// tlsSecret analyses a kubernetes.io/tls Secret serving leaf (with chain after it).
func tlsSecret(t testing.TB, chain ...*certtest.Certificate) *certificate.Analysis {
	t.Helper()
	in := certificate.Input{Type: "kubernetes.io/tls", Data: map[string][]byte{
		"tls.crt": certtest.ChainPEM(chain...),
		"tls.key": certtest.Must(chain[0].KeyPEM(certtest.PKCS8)),
	}}
	a, listed := certificate.Analyze(in, certificate.DefaultOptions())
	if !listed {
		t.Fatal("Secret not listed")
	}
	return a
}

// fakeCluster answers Cluster from maps keyed "namespace/name".
type fakeCluster struct {
	secrets      map[string]*certificate.Analysis
	certificates map[string][]string // namespace/certificate → Secret names
	services     map[string]map[string]string
	pods         map[string][]Pod // by namespace
	// unwatched are namespaces outside --namespaces.
	unwatched map[string]bool
}

func (c *fakeCluster) Secret(namespace, name string) (*certificate.Analysis, bool) {
	a, ok := c.secrets[namespace+"/"+name]
	return a, ok
}

func (c *fakeCluster) SecretsOfCertificate(namespace, name string) []string {
	return c.certificates[namespace+"/"+name]
}

func (c *fakeCluster) ServiceSelector(namespace, name string) (map[string]string, bool) {
	s, ok := c.services[namespace+"/"+name]
	return s, ok
}

func (c *fakeCluster) Pods(namespace string) []Pod { return c.pods[namespace] }

func (c *fakeCluster) Watched(namespace string) bool { return !c.unwatched[namespace] }
