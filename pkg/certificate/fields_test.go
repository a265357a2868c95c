package certificate

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"reflect"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestCertificateFields(t *testing.T) {
	p := newPKI(t)
	spiffe, _ := url.Parse("spiffe://cluster.local/ns/demo/sa/web")
	leaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{
		Subject:        pkix.Name{CommonName: "web.example.com", Organization: []string{"Example"}},
		DNSNames:       []string{"web.example.com", "www.example.com"},
		IPAddresses:    []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("2001:db8::1")},
		URIs:           []*url.URL{spiffe},
		EmailAddresses: []string{"ops@example.com"},
		NotBefore:      epoch.Add(-10 * day),
		NotAfter:       epoch.Add(80 * day),
		KeyAlgorithm:   certtest.RSA,
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}))
	status := statusAt(t, tlsInput(certtest.ChainPEM(leaf, p.intermediate), keyPEM(t, leaf, certtest.PKCS1), p.root.PEM()), epoch)

	if len(status.Certificates) != 3 {
		t.Fatalf("got %d certificates, want 3", len(status.Certificates))
	}
	// Data-key order: ca.crt before tls.crt.
	gotOrder := []string{}
	for _, c := range status.Certificates {
		gotOrder = append(gotOrder, c.Key+"/"+string(c.Role))
	}
	if want := []string{"ca.crt/CA", "tls.crt/Leaf", "tls.crt/Intermediate"}; !reflect.DeepEqual(gotOrder, want) {
		t.Errorf("order and roles: got %v, want %v", gotOrder, want)
	}

	got := status.Certificates[1]
	// Serial, fingerprint and key IDs as openssl prints them, not as our formatter would.
	printed := opensslIdentifiers(t, leaf.PEM())
	want := certstatus.CertificateInfo{
		Key:                "tls.crt",
		Index:              0,
		Role:               certstatus.RoleLeaf,
		Subject:            "CN=web.example.com,O=Example",
		CommonName:         "web.example.com",
		Issuer:             "CN=Test Intermediate,O=Test",
		IssuerCommonName:   "Test Intermediate",
		SerialNumber:       printed["serial"],
		NotBefore:          *apiTime(epoch.Add(-10 * day)),
		NotAfter:           *apiTime(epoch.Add(80 * day)),
		DNSNames:           []string{"web.example.com", "www.example.com"},
		IPAddresses:        []string{"10.0.0.1", "2001:db8::1"},
		URIs:               []string{"spiffe://cluster.local/ns/demo/sa/web"},
		EmailAddresses:     []string{"ops@example.com"},
		IsCA:               false,
		State:              certstatus.StateValid,
		PublicKeyAlgorithm: "RSA",
		PublicKeySize:      2048,
		SignatureAlgorithm: "ECDSA-SHA256",
		KeyUsages:          []string{"DigitalSignature", "KeyEncipherment"},
		ExtKeyUsages:       []string{"ServerAuth", "ClientAuth"},
		SHA256Fingerprint:  printed["fingerprint"],
		SubjectKeyID:       printed["subjectKeyId"],
		AuthorityKeyID:     printed["authorityKeyId"],
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("leaf info\n got: %+v\nwant: %+v", got, want)
	}
	if len(got.SHA256Fingerprint) != 32*3-1 || len(got.SubjectKeyID) != 20*3-1 {
		t.Errorf("fingerprint %q or key ID %q has the wrong length", got.SHA256Fingerprint, got.SubjectKeyID)
	}

	intermediate := status.Certificates[2]
	if !intermediate.IsCA || intermediate.Index != 1 || intermediate.PublicKeyAlgorithm != "ECDSA" || intermediate.PublicKeySize != 256 ||
		!reflect.DeepEqual(intermediate.KeyUsages, []string{"DigitalSignature", "CertSign", "CRLSign"}) {
		t.Errorf("intermediate info: %+v", intermediate)
	}

	if status.NotBefore.Time != epoch.Add(-10*day) || status.NotAfter.Time != epoch.Add(80*day) {
		t.Errorf("secret notBefore/notAfter: %v / %v, want the leaf's (latest notBefore, earliest notAfter)", status.NotBefore, status.NotAfter)
	}
	if status.SecretType != "kubernetes.io/tls" {
		t.Errorf("secretType %q", status.SecretType)
	}
}

func TestPublicKeyDescriptions(t *testing.T) {
	tests := []struct {
		algorithm certtest.KeyAlgorithm
		bits      int
		wantName  string
		wantSize  int32
	}{
		{certtest.RSA, 2048, "RSA", 2048},
		{certtest.RSA, 3072, "RSA", 3072},
		{certtest.ECDSA, 0, "ECDSA", 256},
		{certtest.Ed25519, 0, "Ed25519", 256},
	}
	for _, tt := range tests {
		t.Run(tt.wantName, func(t *testing.T) {
			cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "k", KeyAlgorithm: tt.algorithm, RSABits: tt.bits}))
			name, size := publicKeyDescription(cert.Certificate)
			if name != tt.wantName || size != tt.wantSize {
				t.Errorf("got %s/%d, want %s/%d", name, size, tt.wantName, tt.wantSize)
			}
		})
	}
}

func TestUnknownExtKeyUsageIsDottedOID(t *testing.T) {
	cert := &x509.Certificate{
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 99999, 1}},
	}
	if got, want := extKeyUsageNames(cert), []string{"CodeSigning", "1.3.6.1.4.1.99999.1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
