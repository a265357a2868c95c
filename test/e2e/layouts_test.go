package e2e

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// TestRealWorldLayouts: Secrets laid out the way real clusters lay them out
// raise no false alarm through the real stack, and names and algorithms are
// what openssl prints.
func TestRealWorldLayouts(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	c := newChain(t, "layouts.example.com", now.Add(-time.Hour), now.Add(60*24*time.Hour))
	key := certtest.Must(c.leaf.KeyPEM(certtest.PKCS8))
	clientCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Client CA", KeyAlgorithm: certtest.ECDSA}))
	otherRoot := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Old Root CA", KeyAlgorithm: certtest.ECDSA}))
	// The root's name and key, issued by the old root: a cross-signed root.
	crossSigned := certtest.Must(otherRoot.NewIntermediate(certtest.Spec{Subject: c.root.Certificate.Subject, Key: c.root.Key}))
	dir := t.TempDir()
	chainFile := filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(chainFile, certtest.ChainPEM(c.leaf, c.intermediate), 0o600); err != nil {
		t.Fatal(err)
	}
	p7b := certtest.OpenSSL(t, "crl2pkcs7", "-nocrl", "-certfile", chainFile)
	// Names openssl knows that a hand-typed table missed.
	named := certtest.Must(c.intermediate.NewLeaf(certtest.Spec{KeyAlgorithm: certtest.ECDSA, Subject: pkix.Name{
		CommonName: "named.example.com", Organization: []string{"ООО Пример"},
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 3}, Value: "ops@example.com"}, // mail
			{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 1}, Value: "1027700132195"},                 // OGRN
			{Type: asn1.ObjectIdentifier{1, 2, 643, 100, 3}, Value: "12345678901"},                   // SNILS
			{Type: asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}, Value: "7707083893"},              // INN
		},
	}}))
	certtest.OpenSSL(t, "req", "-x509", "-newkey", "ed448", "-nodes", "-days", "30", "-subj", "/CN=ed448.example.com",
		"-keyout", filepath.Join(dir, "ed448.key"), "-out", filepath.Join(dir, "ed448.pem"))
	ed448, err := os.ReadFile(filepath.Join(dir, "ed448.pem"))
	if err != nil {
		t.Fatal(err)
	}
	secret := func(name string, secretType corev1.SecretType, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: secretType, Data: data}
	}
	served := certtest.ChainPEM(c.leaf, c.intermediate)
	secrets := []*corev1.Secret{
		secret("cross-signed", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": certtest.ChainPEM(c.leaf, c.intermediate, crossSigned), "tls.key": key, "ca.crt": c.root.PEM()}),
		secret("ed448", corev1.SecretTypeOpaque, map[string][]byte{"server.pem": ed448}),
		secret("huge-ca", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": served, "tls.key": key, "ca.crt": bytes.Repeat(c.root.PEM(), 1005)}),
		secret("leaf-only", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": c.leaf.PEM(), "tls.key": key}),
		secret("mutual-tls-opaque", corev1.SecretTypeOpaque, map[string][]byte{"tls.crt": served, "tls.key": key, "ca.crt": clientCA.PEM()}),
		secret("mutual-tls-tls", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": served, "tls.key": key, "ca.crt": clientCA.PEM()}),
		secret("named", corev1.SecretTypeOpaque, map[string][]byte{"tls.crt": certtest.ChainPEM(named, c.intermediate), "ca.crt": c.root.PEM()}),
		secret("pasted-twice", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": certtest.ChainPEM(c.leaf, c.intermediate, c.intermediate), "tls.key": key, "ca.crt": c.root.PEM()}),
		secret("pkcs7", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": []byte(p7b), "tls.key": key}),
	}
	var names []string
	for _, s := range secrets {
		createSecret(t, s)
		names = append(names, s.Name)
	}
	list := waitListed(t, ns, names...)
	byName := map[string]*v1alpha1.CertificateStatus{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}

	for _, tt := range []struct {
		name, state, chain, message, keyPair string
	}{
		{"mutual-tls-opaque", "Valid", "Unknown", "ca.crt does not issue the served chain", "Match"},
		{"mutual-tls-tls", "Valid", "Unknown", "ca.crt does not issue the served chain", "Match"},
		{"pasted-twice", "Valid", "True", "tls.crt[2] (E2E Intermediate CA) repeats tls.crt[1] (E2E Intermediate CA)", "Match"},
		{"cross-signed", "Valid", "True", "verifies up to ca.crt[0] (E2E Root CA)", "Match"},
		{"leaf-only", "Valid", "Unknown", "tls.crt holds only the leaf", "Match"},
		{"huge-ca", "Valid", "True", "verifies up to ca.crt[0] (E2E Root CA)", "Match"},
		{"pkcs7", "Invalid", "Unknown", "", "Match"},
	} {
		got := byName[tt.name].Status
		if string(got.State) != tt.state || string(got.Chain.Verified) != tt.chain || !strings.Contains(got.Chain.Message, tt.message) {
			t.Errorf("%s: state %s chain %s %q; want %s %s containing %q", tt.name, got.State, got.Chain.Verified, got.Chain.Message, tt.state, tt.chain, tt.message)
		}
		if tt.name != "pkcs7" && (got.PrivateKey == nil || !got.PrivateKey.MatchesCertificate) {
			t.Errorf("%s: private key %+v, want matching the leaf", tt.name, got.PrivateKey)
		}
	}
	// The README's table: a mutual-TLS Secret is healthy in kubectl too.
	_, rows := table(t, kubectl(t, "get", "cst", "-n", ns, "-o", "wide"))
	for _, name := range []string{"mutual-tls-opaque", "mutual-tls-tls"} {
		if row := rows[name]; len(row) < 11 || row[1] != "Valid" || row[10] != "Unknown" {
			t.Errorf("kubectl get -o wide %s: %v, want Valid with CHAIN Unknown", name, row)
		}
	}

	huge := byName["huge-ca"].Status
	if len(huge.Certificates) != 1000 || huge.Certificates[998].Key != "tls.crt" || huge.Certificates[998].Role != v1alpha1.RoleLeaf {
		t.Errorf("huge-ca: %d certificates, the leaf not read", len(huge.Certificates))
	}
	if len(huge.Errors) != 1 || huge.Errors[0].Key != "ca.crt" || !strings.Contains(huge.Errors[0].Message, "7 certificates were not analysed") {
		t.Errorf("huge-ca errors %+v, want ca.crt's 7 skipped", huge.Errors)
	}
	pkcs7 := byName["pkcs7"].Status
	if len(pkcs7.Errors) == 0 || pkcs7.Errors[len(pkcs7.Errors)-1].Key != "tls.crt" || !strings.Contains(pkcs7.Errors[len(pkcs7.Errors)-1].Message, "openssl pkcs7 -print_certs") {
		t.Errorf("pkcs7 errors %+v, want tls.crt explained as PKCS#7 with its conversion", pkcs7.Errors)
	}

	// Names and algorithms as openssl prints them.
	for file, info := range map[string]v1alpha1.CertificateInfo{
		"named.pem": byName["named"].Status.Certificates[1], // ca.crt[0] sorts first
		"ed448.pem": byName["ed448"].Status.Certificates[0],
	} {
		path := filepath.Join(dir, file)
		if file == "named.pem" {
			if err := os.WriteFile(path, named.PEM(), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		subject := strings.TrimSpace(strings.TrimPrefix(certtest.OpenSSL(t, "x509", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb", "-in", path), "subject="))
		if info.Subject != subject {
			t.Errorf("%s subject %q, openssl prints %q", file, info.Subject, subject)
		}
		signature := regexp.MustCompile(`(?m)^\s*Signature Algorithm: (\S+)`).FindStringSubmatch(certtest.OpenSSL(t, "x509", "-noout", "-text", "-in", path))
		if file == "ed448.pem" && (signature == nil || info.SignatureAlgorithm != signature[1] || info.PublicKeyAlgorithm != "Ed448") {
			t.Errorf("ed448: key %s signature %s, openssl prints %v", info.PublicKeyAlgorithm, info.SignatureAlgorithm, signature)
		}
	}
	if subject := byName["named"].Status.Certificates[1].Subject; !strings.Contains(subject, "mail=ops@example.com") || !strings.Contains(subject, "OGRN=") || !strings.Contains(subject, "SNILS=") || !strings.Contains(subject, "INN=") {
		t.Errorf("named subject %q lacks mail, OGRN, SNILS or INN", subject)
	}
}

// TestMetadataWritesAreQuiet: an annotation, a metadata-only kubectl apply
// and another data key change nothing (same object, same resourceVersion, no
// event); a label edit changes labels and resourceVersion and re-dates no
// condition. An Invalid Secret is included: its conditions are dated by a
// non-clock transition, which metadata writes used to move.
func TestMetadataWritesAreQuiet(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	c := newChain(t, "quiet.example.com", now.Add(-time.Hour), now.Add(60*24*time.Hour))
	other := newChain(t, "other.example.com", now.Add(-time.Hour), now.Add(60*24*time.Hour))
	valid := c.tlsSecret(ns, "valid", map[string]string{"app": "web"})
	mismatch := c.tlsSecret(ns, "mismatch", map[string]string{"app": "web"})
	mismatch.Data["tls.key"] = certtest.Must(other.leaf.KeyPEM(certtest.PKCS8))
	createSecret(t, valid)
	createSecret(t, mismatch)
	// Let a second pass: creationTimestamp and a write differ then.
	time.Sleep(1100 * time.Millisecond)
	list := waitListed(t, ns, "mismatch", "valid")
	before := map[string]v1alpha1.CertificateStatus{}
	for _, item := range list.Items {
		before[item.Name] = item
	}
	if before["mismatch"].Status.State != v1alpha1.StateInvalid {
		t.Fatalf("mismatch is %s, want Invalid", before["mismatch"].Status.State)
	}
	w := startWatch(t, ns, metav1.ListOptions{ResourceVersion: list.ResourceVersion})

	manifest := filepath.Join(t.TempDir(), "metadata.yaml")
	for _, name := range []string{"valid", "mismatch"} {
		kubectl(t, "annotate", "secret", name, "-n", ns, "example.com/owner=team-a")
		if err := os.WriteFile(manifest, []byte(fmt.Sprintf("apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: %s\n  namespace: %s\n  annotations:\n    example.com/ticket: OPS-1\n", name, ns)), 0o600); err != nil {
			t.Fatal(err)
		}
		kubectl(t, "apply", "-f", manifest)
		kubectl(t, "patch", "secret", name, "-n", ns, "-p", `{"data":{"username":"YWRtaW4="}}`)
	}
	// The label edit comes after those writes through the same informer:
	// its MODIFIED being the first event proves they sent none.
	kubectl(t, "label", "secret", "valid", "-n", ns, "tier=frontend")
	ev := w.expect(t, 20*time.Second, watch.Modified, "valid")
	if ev.Object.Labels["tier"] != "frontend" || ev.Object.ResourceVersion == before["valid"].ResourceVersion {
		t.Errorf("label edit: labels %v resourceVersion %s (was %s)", ev.Object.Labels, ev.Object.ResourceVersion, before["valid"].ResourceVersion)
	}
	sameConditions(t, "valid after the label edit", before["valid"].Status.Conditions, ev.Object.Status.Conditions)
	w.none(t, 2*time.Second)

	after, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).Get(context.Background(), "mismatch", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before["mismatch"].ResourceVersion {
		t.Errorf("mismatch: resourceVersion %s, was %s", after.ResourceVersion, before["mismatch"].ResourceVersion)
	}
	if len(after.Annotations) != 0 || len(after.ManagedFields) != 0 {
		t.Errorf("mismatch shows annotations %v or managedFields", after.Annotations)
	}
	sameConditions(t, "mismatch", before["mismatch"].Status.Conditions, after.Status.Conditions)
}

func sameConditions(t *testing.T, what string, before, after []metav1.Condition) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%s: %d conditions, were %d", what, len(after), len(before))
	}
	for i := range before {
		if !before[i].LastTransitionTime.Equal(&after[i].LastTransitionTime) || before[i].Reason != after[i].Reason || before[i].Message != after[i].Message {
			t.Errorf("%s: condition %s was %+v, now %+v", what, before[i].Type, before[i], after[i])
		}
	}
}
