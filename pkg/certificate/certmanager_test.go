package certificate

import (
	"net"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// Only cert-manager's four annotations reach status.certManager; any other
// annotation stays unread.
func TestCertManagerFromAnnotations(t *testing.T) {
	p := newPKI(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			certstatus.CertManagerCertificateNameAnnotation:    "web",
			certstatus.CertManagerIssuerNameAnnotation:         "letsencrypt",
			certstatus.CertManagerIssuerKindAnnotation:         "ClusterIssuer",
			certstatus.CertManagerIssuerGroupAnnotation:        "cert-manager.io",
			"cert-manager.io/common-name":                      "leaks.example.com",
			"kubectl.kubernetes.io/last-applied-configuration": "{secret}",
		}},
		Type: corev1.SecretTypeTLS,
		Data: p.validTLS(t).Data,
	}
	in := InputFromSecret(secret)
	if len(in.Annotations) != 4 {
		t.Errorf("annotations read %v, want the four cert-manager ones", in.Annotations)
	}
	got := analyze(t, in).StatusAt(epoch).CertManager
	want := &certstatus.CertManagerReference{Certificate: "web",
		Issuer: &certstatus.CertManagerIssuer{Name: "letsencrypt", Kind: "ClusterIssuer", Group: "cert-manager.io"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("certManager %+v, want %+v", got, want)
	}

	for _, tc := range []struct {
		annotations map[string]string
		want        *certstatus.CertManagerReference
	}{
		{nil, nil},
		{map[string]string{"cert-manager.io/common-name": "x"}, nil},
		{map[string]string{certstatus.CertManagerCertificateNameAnnotation: "web"}, &certstatus.CertManagerReference{Certificate: "web"}},
		{map[string]string{certstatus.CertManagerIssuerKindAnnotation: "Issuer"},
			&certstatus.CertManagerReference{Issuer: &certstatus.CertManagerIssuer{Kind: "Issuer"}}},
	} {
		if got := certManagerFrom(tc.annotations); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("certManagerFrom(%v) = %+v, want %+v", tc.annotations, got, tc.want)
		}
	}
}

func TestLeafNames(t *testing.T) {
	p := newPKI(t)
	leaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{
		CommonName: "web.example.com", DNSNames: []string{"web.example.com", "*.api.example.com"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1")},
		NotBefore:   epoch.Add(-day), NotAfter: epoch.Add(80 * day),
	}))
	// The leaf is tls.crt's first certificate, not ca.crt's.
	a := analyze(t, tlsInput(certtest.ChainPEM(leaf, p.intermediate), nil, p.root.PEM()))
	dns, ips, ok := a.LeafNames()
	if !ok || !reflect.DeepEqual(dns, []string{"web.example.com", "*.api.example.com"}) || !reflect.DeepEqual(ips, []string{"10.0.0.1"}) {
		t.Errorf("LeafNames() = %q, %q, %v", dns, ips, ok)
	}
	// A TLS Secret with no readable certificate has no leaf.
	if _, _, ok := analyze(t, tlsInput([]byte("garbage"), nil, nil)).LeafNames(); ok {
		t.Error("LeafNames() ok for a Secret without certificates")
	}
}

// CreatedAt is the Secret's creationTimestamp, read or not readable.
func TestCreatedAt(t *testing.T) {
	p := newPKI(t)
	created := epoch.Add(-3 * day)
	for _, data := range []map[string][]byte{p.validTLS(t).Data, {corev1.TLSCertKey: []byte("garbage")}} {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(created)}, Type: corev1.SecretTypeTLS, Data: data}
		if got := analyze(t, InputFromSecret(secret)).CreatedAt(); !got.Equal(created) {
			t.Errorf("CreatedAt() = %v, want %v", got, created)
		}
	}
}
