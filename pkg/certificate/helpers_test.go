package certificate

import (
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

const day = 24 * time.Hour

// epoch is the fixed "now" of the tests; certificates are dated around it.
var epoch = time.Date(2030, time.June, 1, 12, 0, 0, 0, time.UTC)

// changedAt is when the test Secrets were last written.
var changedAt = epoch.Add(-400 * day)

// testPKI is a root, an intermediate and a leaf, valid around epoch, and
// two CAs outside that chain: an unrelated root and a CA of client
// certificates (what ingress controllers put in ca.crt).
type testPKI struct {
	root, intermediate, leaf *certtest.Certificate
	otherRoot, clientCA      *certtest.Certificate
	// leafKey is the leaf's private key, PKCS#8 PEM.
	leafKey []byte
}

func newPKI(t testing.TB) testPKI {
	t.Helper()
	root := certtest.Must(certtest.NewCA(certtest.Spec{
		Subject:   pkix.Name{CommonName: "Test Root", Organization: []string{"Test"}},
		NotBefore: epoch.Add(-5 * 365 * day), NotAfter: epoch.Add(5 * 365 * day),
	}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{
		Subject:   pkix.Name{CommonName: "Test Intermediate", Organization: []string{"Test"}},
		NotBefore: epoch.Add(-2 * 365 * day), NotAfter: epoch.Add(2 * 365 * day),
	}))
	leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{
		CommonName: "web.example.com", DNSNames: []string{"web.example.com"},
		NotBefore: epoch.Add(-10 * day), NotAfter: epoch.Add(80 * day),
	}))
	return testPKI{root: root, intermediate: intermediate, leaf: leaf,
		otherRoot: newRootCA("Other Root"), clientCA: newRootCA("Client CA"),
		leafKey: certtest.Must(leaf.KeyPEM(certtest.PKCS8))}
}

// newRootCA is a self-signed CA valid from a day before epoch for 900 days:
// another root beside the test PKI's.
func newRootCA(commonName string) *certtest.Certificate {
	return certtest.Must(certtest.NewCA(certtest.Spec{CommonName: commonName, NotBefore: epoch.Add(-day), NotAfter: epoch.Add(900 * day)}))
}

func keyPEM(t testing.TB, c *certtest.Certificate, format certtest.KeyFormat) []byte {
	t.Helper()
	return certtest.Must(c.KeyPEM(format))
}

// tlsInput is a kubernetes.io/tls Secret; a nil value leaves the key out.
func tlsInput(crt, key, ca []byte) Input {
	data := map[string][]byte{}
	for name, value := range map[string][]byte{"tls.crt": crt, "tls.key": key, "ca.crt": ca} {
		if value != nil {
			data[name] = value
		}
	}
	return Input{Type: "kubernetes.io/tls", Data: data, CreatedAt: changedAt}
}

// validTLS is the PKI's leaf served with its intermediate, its key and ca.crt.
func (p testPKI) validTLS(t testing.TB) Input {
	return tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), p.leafKey, p.root.PEM())
}

func analyze(t testing.TB, in Input) *Analysis {
	t.Helper()
	a, listed := Analyze(in, DefaultOptions())
	if !listed {
		t.Fatal("Secret not listed")
	}
	return a
}

func statusAt(t testing.TB, in Input, now time.Time) certstatus.CertificateStatusStatus {
	t.Helper()
	return analyze(t, in).StatusAt(now)
}

// conditionView is the part of a condition the tests compare.
type conditionView struct {
	Status, Reason, Message string
	LastTransitionTime      time.Time
}

func condition(t testing.TB, status certstatus.CertificateStatusStatus, conditionType string) conditionView {
	t.Helper()
	for _, c := range status.Conditions {
		if c.Type == conditionType {
			return conditionView{string(c.Status), c.Reason, c.Message, c.LastTransitionTime.Time}
		}
	}
	t.Fatalf("no %s condition in %+v", conditionType, status.Conditions)
	return conditionView{}
}
