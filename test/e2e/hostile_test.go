package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// zooEntry is one hostile Secret and what the server must make of it.
type zooEntry struct {
	secret *corev1.Secret
	// listed: the Secret must appear; otherwise get must answer 404.
	listed bool
	// invalid: the state must be Invalid.
	invalid bool
	// wantErrors maps a data key to a piece of its errors[] message.
	wantErrors map[string]string
	// check, if set, asserts more about the object.
	check func(t *testing.T, cst *v1alpha1.CertificateStatus)
}

// TestHostileZoo loads a zoo of hostile Secrets into one namespace and checks
// that listing never fails, the server survives with bounded memory, and each
// Secret shows as Invalid or with errors[] entries saying why (or, when it
// holds no certificate and is not kubernetes.io/tls, does not show at all).
func TestHostileZoo(t *testing.T) {
	ns := newNamespace(t)
	pid := env.server.PID()
	rssBefore := rssKiB(t, pid)

	started := time.Now()
	zoo := hostileZoo(t, ns)
	t.Logf("built %d hostile Secrets in %v", len(zoo), time.Since(started).Round(time.Millisecond))
	var total int
	for _, entry := range zoo {
		for _, v := range entry.secret.Data {
			total += len(v)
		}
		createSecret(t, entry.secret)
	}
	t.Logf("created them: %d bytes of data", total)

	// The list must succeed and hold every listed Secret, and nothing else.
	var list v1alpha1.CertificateStatusList
	wantListed := map[string]zooEntry{}
	for _, entry := range zoo {
		if entry.listed {
			wantListed[entry.secret.Name] = entry
		}
	}
	eventually(t, 30*time.Second, func() error {
		out := kubectl(t, "get", "cst", "-n", ns, "-o", "json")
		list = v1alpha1.CertificateStatusList{}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return fmt.Errorf("decode the list: %v", err)
		}
		if len(list.Items) != len(wantListed) {
			return fmt.Errorf("%d items listed, want %d", len(list.Items), len(wantListed))
		}
		return nil
	})
	seen := map[string]bool{}
	for i := range list.Items {
		cst := &list.Items[i]
		seen[cst.Name] = true
		entry, ok := wantListed[cst.Name]
		if !ok {
			t.Errorf("%s is listed, but holds no certificate and is not kubernetes.io/tls", cst.Name)
			continue
		}
		checkZooEntry(t, entry, cst)
	}
	for name := range wantListed {
		if !seen[name] {
			t.Errorf("%s is not listed", name)
		}
	}

	// Secrets without certificates are absent, and get answers 404.
	ctx := context.Background()
	for _, entry := range zoo {
		if entry.listed {
			continue
		}
		_, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).Get(ctx, entry.secret.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("get %s: %v, want 404 NotFound", entry.secret.Name, err)
		}
	}

	// Every other way to list still works with the zoo present.
	table := kubectl(t, "get", "cst", "-n", ns, "-o", "wide")
	if lines := strings.Count(strings.TrimSpace(table), "\n"); lines != len(wantListed) {
		t.Errorf("the wide table has %d rows, want %d:\n%s", lines, len(wantListed), table)
	}
	kubectl(t, "get", "cst", "-A", "-o", "yaml")
	for _, name := range []string{"ten-thousand-certificates", "five-thousand-sans"} {
		kubectl(t, "get", "cst", "-n", ns, name, "-o", "yaml")
	}

	if !env.server.Running() || env.server.PID() != pid {
		t.Fatalf("the server went down (running %v, pid %d, was %d)", env.server.Running(), env.server.PID(), pid)
	}
	rssAfter := rssKiB(t, pid)
	t.Logf("server RSS: %d MiB before the zoo, %d MiB after creating and listing it", rssBefore/1024, rssAfter/1024)
	// Generous: the whole zoo is under 4 MiB of Secret data; an analysis kept
	// per Secret is small. A server that kept the raw data, or blew up on it,
	// would be far above.
	const boundMiB = 400
	if rssAfter/1024 > boundMiB || (rssAfter-rssBefore)/1024 > 200 {
		t.Errorf("server RSS %d MiB (was %d MiB), want under %d MiB and at most 200 MiB of growth", rssAfter/1024, rssBefore/1024, boundMiB)
	}

	// The server still answers for other namespaces and still follows changes.
	other := newNamespace(t)
	c := newChain(t, "after-zoo.example.com", time.Time{}, time.Time{})
	createSecret(t, c.tlsSecret(other, "after-zoo", nil))
	eventually(t, 15*time.Second, func() error {
		cst, err := env.certs.CertstatusV1alpha1().CertificateStatuses(other).Get(ctx, "after-zoo", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cst.Status.State != v1alpha1.StateValid {
			return fmt.Errorf("state %s, want Valid", cst.Status.State)
		}
		return nil
	})
}

func checkZooEntry(t *testing.T, entry zooEntry, cst *v1alpha1.CertificateStatus) {
	t.Helper()
	name := cst.Name
	if entry.invalid && cst.Status.State != v1alpha1.StateInvalid {
		t.Errorf("%s: state %s, want Invalid", name, cst.Status.State)
	}
	if cst.Status.State == v1alpha1.StateInvalid {
		var ready *metav1.Condition
		for i := range cst.Status.Conditions {
			if cst.Status.Conditions[i].Type == "Ready" {
				ready = &cst.Status.Conditions[i]
			}
		}
		if ready == nil || ready.Status != metav1.ConditionFalse || ready.Message == "" {
			t.Errorf("%s: Invalid without a Ready=False condition saying why: %+v", name, cst.Status.Conditions)
		}
	}
	for key, want := range entry.wantErrors {
		var messages []string
		for _, e := range cst.Status.Errors {
			if e.Key == key {
				messages = append(messages, e.Message)
			}
		}
		if len(messages) != 1 || !strings.Contains(messages[0], want) {
			t.Errorf("%s: errors for %s are %q, want one containing %q (all errors: %+v)", name, key, messages, want, cst.Status.Errors)
		}
	}
	for _, e := range cst.Status.Errors {
		if len(e.Message) > 1000 {
			t.Errorf("%s: errors[%s] message is %d bytes long, want a bounded sentence", name, e.Key, len(e.Message))
		}
	}
	if cst.Status.State != v1alpha1.StateInvalid && len(cst.Status.Errors) == 0 && entry.check == nil {
		t.Errorf("%s: state %s with no errors[]: a hostile Secret must say what is wrong", name, cst.Status.State)
	}
	if entry.check != nil {
		entry.check(t, cst)
	}
}

// hostileZoo builds the Secrets. Sizes are the real ones where a Secret can
// hold them (under kube-apiserver's 1 MiB limit on a Secret's data).
func hostileZoo(t *testing.T, ns string) []zooEntry {
	t.Helper()
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	tls := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: meta(name), Type: corev1.SecretTypeTLS, Data: data}
	}
	c := newChain(t, "zoo.example.com", time.Time{}, time.Time{})
	leafPEM := c.leaf.PEM()
	keyPEM := certtest.Must(c.leaf.KeyPEM(certtest.PKCS8))

	garbage := make([]byte, 4096)
	_, _ = rand.Read(garbage)
	garbage[0] = 0x42 // neither a DER SEQUENCE, PEM nor white space
	// 1 MiB of random data is kube-apiserver's limit for the whole of a
	// Secret's data; keep a little room for the key names.
	random := make([]byte, 1<<20-64)
	_, _ = rand.Read(random)
	random[0] = 0x42

	var zoo []zooEntry
	add := func(e zooEntry) { zoo = append(zoo, e) }

	add(zooEntry{
		secret: tls("garbage-bytes", map[string][]byte{"tls.crt": append([]byte("not a certificate\x00\x01"), garbage...), "tls.key": garbage}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "not PEM", "tls.key": "not PEM"},
	})
	add(zooEntry{
		secret: tls("one-mib-random", map[string][]byte{"tls.crt": random, "tls.key": {}}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "not PEM", "tls.key": "empty"},
	})
	add(zooEntry{
		secret: tls("truncated-pem", map[string][]byte{"tls.crt": leafPEM[:len(leafPEM)/2], "tls.key": keyPEM}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "truncated"},
	})
	add(zooEntry{
		secret: tls("empty-values", map[string][]byte{"tls.crt": {}, "tls.key": []byte("  \n")}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "empty", "tls.key": "empty"},
	})
	add(zooEntry{
		secret: tls("binary-der", map[string][]byte{"tls.crt": c.leaf.DER, "tls.key": keyPEM}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "binary DER"},
	})
	add(zooEntry{
		secret: tls("der-garbage-in-pem", map[string][]byte{
			"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: garbage[:300]}),
			"tls.key": keyPEM,
		}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "not a valid X.509 certificate"},
	})
	// Keys named like certificates holding keys: in a TLS Secret, tls.crt
	// and tls.key swapped.
	add(zooEntry{
		secret: tls("swapped-crt-and-key", map[string][]byte{"tls.crt": keyPEM, "tls.key": leafPEM}),
		listed: true, invalid: true,
		wantErrors: map[string]string{"tls.crt": "private key", "tls.key": "private key"},
	})
	// ... and in an Opaque Secret: no CERTIFICATE block anywhere, so it does
	// not appear, however certificate-like its key names are.
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("opaque-keys-named-like-certificates"), Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"tls.crt": keyPEM, "ca.crt": keyPEM, "server.pem": keyPEM}},
	})
	// Wrong Secret types.
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("basic-auth"), Type: corev1.SecretTypeBasicAuth,
			Data: map[string][]byte{"username": []byte("admin"), "password": []byte("hunter2")}},
	})
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("docker-config"), Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"registry.example":{"auth":"YTpi"}}}`)}},
	})
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("opaque-binary"), Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"blob": garbage}},
	})
	// A value that is exactly one DER certificate is read (api.md, "DER"),
	// so the Secret is listed; the random blob beside it is not a keystore
	// and is passed over.
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("opaque-binary-beside-der"), Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"blob": garbage, "der.crt": c.leaf.DER}},
		listed: true,
		check: func(t *testing.T, cst *v1alpha1.CertificateStatus) {
			if len(cst.Status.Certificates) != 1 || cst.Status.Certificates[0].Key != "der.crt" {
				t.Errorf("opaque-binary-beside-der: certificates %+v, want the one DER certificate of der.crt", cst.Status.Certificates)
			}
		},
	})
	// A wrong type that does hold a certificate block is listed, with the
	// broken parts reported.
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("ssh-auth-holding-certificates"), Type: corev1.SecretTypeSSHAuth,
			Data: map[string][]byte{
				"ssh-privatekey": append(append([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n"), leafPEM...), keyPEM...),
			}},
		listed:     true,
		wantErrors: map[string]string{"ssh-privatekey": "PEM block"},
	})

	// 10 000 certificates in one PEM value. Even a tiny real certificate
	// (an Ed25519 CA named "z") is 392 bytes of PEM, so 10 000 of them would
	// be 3.9 MB, beyond a Secret's 1 MiB: the value holds 1 000 real ones
	// (one certificate repeated, as bundles often repeat roots) and then
	// 9 000 minimal CERTIFICATE blocks, 10 000 blocks in all, in 0.9 MiB.
	tiny := tinyEd25519CA(t)
	minimal := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}})
	many := append(bytes.Repeat(tiny, 1000), bytes.Repeat(minimal, 9000)...)
	if n := bytes.Count(many, []byte("-----BEGIN CERTIFICATE-----")); n != 10000 {
		t.Fatalf("built %d certificate blocks, want 10000", n)
	}
	t.Logf("10 000-certificate PEM: %d bytes (one real certificate is %d bytes of PEM)", len(many), len(tiny))
	add(zooEntry{
		secret: &corev1.Secret{ObjectMeta: meta("ten-thousand-certificates"), Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"bundle.pem": many}},
		listed:     true,
		wantErrors: map[string]string{"bundle.pem": "9000 certificates were not analysed: at most 1000"},
		check: func(t *testing.T, cst *v1alpha1.CertificateStatus) {
			if n := len(cst.Status.Certificates); n != 1000 || cst.Status.Summary.Certificates != 1000 {
				t.Errorf("ten-thousand-certificates: %d certificates (summary %d), want the bound of 1000", n, cst.Status.Summary.Certificates)
			}
		},
	})

	// A certificate with 5 000 SANs: a valid certificate, so it shows with
	// every name; what matters is that nothing breaks.
	sans := make([]string, 5000)
	for i := range sans {
		sans[i] = fmt.Sprintf("host-%04d.zoo.example.com", i)
	}
	wide := certtest.Must(c.intermediate.NewLeaf(certtest.Spec{CommonName: "sans.zoo.example.com", DNSNames: sans, KeyAlgorithm: certtest.ECDSA}))
	add(zooEntry{
		secret: tls("five-thousand-sans", map[string][]byte{
			"tls.crt": certtest.ChainPEM(wide, c.intermediate),
			"tls.key": certtest.Must(wide.KeyPEM(certtest.PKCS8)),
			"ca.crt":  c.root.PEM(),
		}),
		listed: true,
		check: func(t *testing.T, cst *v1alpha1.CertificateStatus) {
			leaf := leafOf(cst)
			if cst.Status.State != v1alpha1.StateValid || len(cst.Status.Certificates) != 3 || leaf == nil || len(leaf.DNSNames) != 5000 {
				t.Errorf("five-thousand-sans: state %s with %d certificates, want Valid with 3, the leaf with 5000 DNS names",
					cst.Status.State, len(cst.Status.Certificates))
			}
		},
	})

	// RSA-16384. Generating a real RSA-16384 key pair takes minutes in Go
	// (measured: not done after 2 minutes on this machine), so the
	// certificate carries a synthetic 16384-bit public modulus (parsing and
	// describing it costs the same), signed by an Ed25519 CA, and tls.key is
	// an RSA-16384 PKCS#1 private key of the same modulus whose other numbers
	// are made up: it has the real size and shape but does not validate.
	big16384, fakeKey := rsa16384(t)
	signer := tinyCA(t)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(16384), Subject: pkix.Name{CommonName: "rsa-16384.zoo.example.com"},
		DNSNames:  []string{"rsa-16384.zoo.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signer.cert, big16384, signer.key)
	if err != nil {
		t.Fatalf("create the RSA-16384 certificate: %v", err)
	}
	add(zooEntry{
		secret: tls("rsa-16384", map[string][]byte{
			"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			"tls.key": fakeKey,
			"ca.crt":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signer.cert.Raw}),
		}),
		listed:     true,
		wantErrors: map[string]string{"tls.key": "not a valid PKCS#1"},
		check: func(t *testing.T, cst *v1alpha1.CertificateStatus) {
			leaf := leafOf(cst)
			if leaf == nil || leaf.PublicKeySize != 16384 || leaf.PublicKeyAlgorithm != "RSA" {
				t.Errorf("rsa-16384: certificates %+v, want the leaf described as RSA 16384", cst.Status.Certificates)
			}
			// The key is there but unreadable: a TLS server could not load it.
			if cst.Status.State != v1alpha1.StateInvalid {
				t.Errorf("rsa-16384: state %s, want Invalid for an unreadable tls.key", cst.Status.State)
			}
			t.Logf("rsa-16384: state %s, privateKey %+v, chain %+v", cst.Status.State, cst.Status.PrivateKey, cst.Status.Chain)
		},
	})
	return zoo
}

// leafOf is the first certificate of tls.crt.
func leafOf(cst *v1alpha1.CertificateStatus) *v1alpha1.CertificateInfo {
	for i := range cst.Status.Certificates {
		if c := &cst.Status.Certificates[i]; c.Key == "tls.crt" && c.Index == 0 {
			return c
		}
	}
	return nil
}

// tinyEd25519CA is the smallest real certificate: a self-signed Ed25519 CA
// with a one-letter name and nothing else, valid for ten years.
func tinyEd25519CA(t *testing.T) []byte {
	t.Helper()
	ca := tinyCA(t)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

type signerCA struct {
	cert *x509.Certificate
	key  ed25519.PrivateKey
}

func tinyCA(t *testing.T) signerCA {
	t.Helper()
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "z"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		SubjectKeyId: []byte{1},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, public, private)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return signerCA{cert: cert, key: private}
}

// rsa16384 returns a 16384-bit RSA public key with a random odd modulus and
// a PKCS#1 private key PEM of that modulus with made-up private numbers.
func rsa16384(t *testing.T) (*rsa.PublicKey, []byte) {
	t.Helper()
	randomBits := func(bits int) *big.Int {
		buf := make([]byte, bits/8)
		_, _ = rand.Read(buf)
		buf[0] |= 0x80
		buf[len(buf)-1] |= 1
		return new(big.Int).SetBytes(buf)
	}
	n := randomBits(16384)
	p, q := randomBits(8192), randomBits(8192)
	key := struct {
		Version          int
		N, E, D, P, Q    *big.Int
		Dp, Dq, Qinv     *big.Int
		AdditionalPrimes []asn1.RawValue `asn1:"optional,omitempty"`
	}{N: n, E: big.NewInt(65537), D: randomBits(16384 - 8), P: p, Q: q, Dp: randomBits(8184), Dq: randomBits(8184), Qinv: randomBits(8184)}
	der, err := asn1.Marshal(key)
	if err != nil {
		t.Fatalf("marshal the RSA-16384 key: %v", err)
	}
	return &rsa.PublicKey{N: n, E: 65537}, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
}
