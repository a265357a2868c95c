package metrics

import (
	"bytes"
	"crypto/x509/pkix"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// items is a fixed ItemSource.
type items []statuscache.Item

func (i items) Items() []statuscache.Item { return i }

// itemOf analyses a Secret as the server does.
func itemOf(t testing.TB, secret *corev1.Secret) statuscache.Item {
	t.Helper()
	analysis, listed := certificate.Analyze(certificate.InputFromSecret(secret), certificate.DefaultOptions())
	if !listed {
		t.Fatalf("%s/%s is not listed", secret.Namespace, secret.Name)
	}
	meta := secret.ObjectMeta
	return statuscache.Item{Meta: &meta, SecretType: string(secret.Type), Analysis: analysis}
}

func tlsSecret(namespace, name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: "uid-" + "name"},
		Type:       corev1.SecretTypeTLS,
		Data:       data,
	}
}

// manySecrets are n TLS Secrets, each a leaf and an intermediate of one CA,
// as in make bench.
func manySecrets(t testing.TB, n int, now time.Time) items {
	t.Helper()
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Bench Root CA", NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour)}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{
		Subject:   pkix.Name{CommonName: "Bench Intermediate CA", Organization: []string{"Bench"}, Country: []string{"FR"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour)}))
	key := certtest.Must(certtest.NewKey(certtest.ECDSA, 0))
	keyPEM := certtest.Must(certtest.KeyPEM(key, certtest.PKCS8))
	out := make(items, n)
	for i := range out {
		name := fmt.Sprintf("web-%05d", i)
		leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{
			Subject:   pkix.Name{CommonName: name + ".example.com", Organization: []string{"Example"}},
			DNSNames:  []string{name + ".example.com"},
			NotBefore: now.Add(-time.Duration(i%90) * 24 * time.Hour), NotAfter: now.Add(time.Duration(90-i%90) * 24 * time.Hour),
			Key: key,
		}))
		out[i] = itemOf(t, tlsSecret(fmt.Sprintf("ns-%02d", i%50), name, map[string][]byte{
			"tls.crt": certtest.ChainPEM(leaf, intermediate), "tls.key": keyPEM, "ca.crt": root.PEM(),
		}))
	}
	return out
}

func scrape(t testing.TB, source ItemSource, now time.Time, x509 bool) string {
	t.Helper()
	return scrapeWithUsedBy(t, source, now, x509, nil)
}

// scrapeWithUsedBy scrapes with usedBy on (usedBySynced not nil).
func scrapeWithUsedBy(t testing.TB, source ItemSource, now time.Time, x509 bool, usedBySynced func() bool) string {
	t.Helper()
	var out bytes.Buffer
	if err := NewCertificates(fixedClock(now), x509, Source{Kind: SecretKind, Items: source, UsedSynced: usedBySynced}).Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time                  { return time.Time(c) }
func (c fixedClock) Since(t time.Time) time.Duration { return time.Time(c).Sub(t) }
