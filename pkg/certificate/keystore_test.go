package certificate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// randomPassword is a password no output may contain.
func randomPassword(t testing.TB) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "pw-" + hex.EncodeToString(b)
}

// pkcs12File writes leaf (with its key, as alias) and chain into a PKCS#12
// file with openssl; legacy selects RC2/3DES with a SHA-1 MAC (openssl 3's
// -legacy), else openssl 3's default AES-256/PBKDF2 with a SHA-256 MAC.
func pkcs12File(t testing.TB, leaf *certtest.Certificate, chain []*certtest.Certificate, alias, password string, legacy bool) []byte {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	args := []string{"pkcs12", "-export", "-in", write("leaf.pem", leaf.PEM()), "-inkey", write("key.pem", keyPEM(t, leaf, certtest.PKCS8)),
		"-name", alias, "-passout", "pass:" + password, "-out", filepath.Join(dir, "out.p12")}
	if len(chain) > 0 {
		args = append(args, "-certfile", write("chain.pem", certtest.ChainPEM(chain...)))
	}
	if legacy {
		args = append(args, "-legacy")
	}
	certtest.OpenSSL(t, args...)
	data, err := os.ReadFile(filepath.Join(dir, "out.p12"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// opensslCert is one certificate as openssl prints it.
type opensslCert struct {
	alias, subject, issuer, serial, fingerprint string
	notBefore, notAfter                         time.Time
}

// opensslPKCS12Certs is what `openssl pkcs12 -info -nokeys` prints of the
// file's certificates, in bag order, each described by `openssl x509`.
func opensslPKCS12Certs(t testing.TB, p12 []byte, password string, legacy bool) []opensslCert {
	t.Helper()
	args := []string{"pkcs12", "-info", "-nokeys", "-in", writeTemp(t, "in.p12", p12), "-passin", "pass:" + password}
	if legacy {
		args = append(args, "-legacy")
	}
	out := certtest.OpenSSL(t, args...)
	var certs []opensslCert
	alias := ""
	rest := []byte(out)
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "friendlyName: "); ok {
			alias = name
		}
		if strings.HasPrefix(line, "-----BEGIN CERTIFICATE-----") {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			certs = append(certs, opensslX509(t, pem.EncodeToMemory(block), alias))
			alias = ""
		}
	}
	return certs
}

// opensslX509 describes a PEM certificate as `openssl x509` prints it.
func opensslX509(t testing.TB, certPEM []byte, alias string) opensslCert {
	t.Helper()
	out := certtest.OpenSSL(t, "x509", "-noout", "-subject", "-issuer", "-serial", "-fingerprint", "-sha256", "-startdate", "-enddate",
		"-nameopt", "RFC2253,-esc_msb", "-in", writeTemp(t, "cert.pem", certPEM))
	c := opensslCert{alias: alias}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, _ := strings.Cut(line, "=")
		switch name {
		case "subject":
			c.subject = value
		case "issuer":
			c.issuer = value
		case "serial":
			c.serial = value
		case "sha256 Fingerprint", "SHA256 Fingerprint":
			c.fingerprint = value
		case "notBefore", "notAfter":
			at, err := time.Parse("Jan _2 15:04:05 2006 MST", value)
			if err != nil {
				t.Fatalf("openssl date %q: %v", value, err)
			}
			at = at.UTC()
			if name == "notBefore" {
				c.notBefore = at
			} else {
				c.notAfter = at
			}
		}
	}
	return c
}

// compareWithOpenSSL checks every field openssl prints of each
// certificate of key against the status, in order.
func compareWithOpenSSL(t *testing.T, status certstatus.CertificateStatusStatus, key string, want []opensslCert) {
	t.Helper()
	var got []certstatus.CertificateInfo
	for _, c := range status.Certificates {
		if c.Key == key {
			got = append(got, c)
		}
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%s: %d certificates in the status, openssl prints %d", key, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		view := opensslCert{alias: g.Alias, subject: g.Subject, issuer: g.Issuer, serial: g.SerialNumber,
			fingerprint: g.SHA256Fingerprint, notBefore: g.NotBefore.UTC(), notAfter: g.NotAfter.UTC()}
		if view != w {
			t.Errorf("%s certificate %d:\n got %+v\nwant %+v (openssl)", key, i, view, w)
		}
		if g.Index != int32(i) {
			t.Errorf("%s certificate %d has index %d", key, i, g.Index)
		}
	}
}

// assertNoPassword fails when password appears anywhere in the status.
func assertNoPassword(t *testing.T, status certstatus.CertificateStatusStatus, password string) {
	t.Helper()
	out, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), password) {
		t.Fatalf("the password appears in the status: %s", out)
	}
}

func errorsOf(status certstatus.CertificateStatusStatus, key string) string {
	for _, e := range status.Errors {
		if e.Key == key {
			return e.Message
		}
	}
	return ""
}

// Both PKCS#12 generations, opened with each password source, read as
// openssl reads them: every certificate, in bag order, with its alias.
func TestPKCS12AsOpenSSLReadsIt(t *testing.T) {
	p := newPKI(t)
	annotated := randomPassword(t)
	for _, legacy := range []bool{true, false} {
		for _, tc := range []struct {
			name, password string
			annotate       bool
		}{
			{"empty password", "", false},
			{"changeit", "changeit", false},
			{"annotation-given password", annotated, true},
		} {
			name := fmt.Sprintf("legacy=%v/%s", legacy, tc.name)
			t.Run(name, func(t *testing.T) {
				p12 := pkcs12File(t, p.leaf, []*certtest.Certificate{p.intermediate, p.root}, "web", tc.password, legacy)
				in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": p12}}
				if tc.annotate {
					in.Data["password"] = []byte(tc.password + "\n")
					in.Annotations = map[string]string{certstatus.KeystorePasswordKeyAnnotation: "password"}
				}
				status := statusAt(t, in, epoch)
				compareWithOpenSSL(t, status, "keystore.p12", opensslPKCS12Certs(t, p12, tc.password, legacy))
				if status.State != certstatus.StateValid || len(status.Errors) != 0 {
					t.Errorf("state %s, errors %+v; want Valid without errors", status.State, status.Errors)
				}
				roles := []certstatus.CertificateRole{}
				for _, c := range status.Certificates {
					roles = append(roles, c.Role)
				}
				if fmt.Sprint(roles) != "[Leaf Intermediate Root]" {
					t.Errorf("roles %v, want the key's entry as the primary chain", roles)
				}
				if status.PrivateKey == nil || !status.PrivateKey.Present || !status.PrivateKey.MatchesCertificate || status.PrivateKey.Type != "ECDSA" {
					t.Errorf("private key %+v, want the entry's ECDSA key matching its leaf", status.PrivateKey)
				}
				if status.Chain.Verified != certstatus.ChainVerified {
					t.Errorf("chain %+v", status.Chain)
				}
				if tc.annotate {
					assertNoPassword(t, status, tc.password)
				}
			})
		}
	}
}

// A PKCS#12 whose password certstatus does not have is Unknown, never
// Invalid, and says which annotation to set; a wrong annotated password
// does not leak.
func TestLockedPKCS12IsUnknown(t *testing.T) {
	p := newPKI(t)
	secret, wrong := randomPassword(t), randomPassword(t)
	for _, legacy := range []bool{true, false} {
		p12 := pkcs12File(t, p.leaf, nil, "web", secret, legacy)
		in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": p12, "password": []byte(wrong)},
			Annotations: map[string]string{certstatus.KeystorePasswordKeyAnnotation: "password"}}
		status := statusAt(t, in, epoch)
		ready := condition(t, status, certstatus.ConditionReady)
		if status.State != certstatus.StateUnknown || ready.Status != "Unknown" || ready.Reason != certstatus.ReasonKeystoreLocked {
			t.Errorf("legacy=%v: state %s, Ready %+v; want Unknown, Unknown, KeystoreLocked", legacy, status.State, ready)
		}
		if message := errorsOf(status, "keystore.p12"); !strings.Contains(message, certstatus.KeystorePasswordKeyAnnotation) {
			t.Errorf("legacy=%v: errors %+v do not name the annotation", legacy, status.Errors)
		}
		assertNoPassword(t, status, secret)
		assertNoPassword(t, status, wrong)
		if facts := analyze(t, in).FactsAt(epoch); facts.State != certstatus.StateUnknown {
			t.Errorf("metrics see state %s", facts.State)
		}
	}
}

// keytoolStore writes a JKS or JCEKS keystore with keytool: the leaf's key
// entry (imported from a PKCS#12 that openssl wrote) and a trusted root.
func keytoolStore(t testing.TB, p testPKI, storeType, password string) []byte {
	t.Helper()
	dir := t.TempDir()
	p12 := filepath.Join(dir, "in.p12")
	if err := os.WriteFile(p12, pkcs12File(t, p.leaf, []*certtest.Certificate{p.intermediate}, "web", "source-pass", false), 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "out."+strings.ToLower(storeType))
	certtest.Keytool(t, "-importkeystore", "-noprompt", "-srckeystore", p12, "-srcstoretype", "PKCS12", "-srcstorepass", "source-pass",
		"-destkeystore", store, "-deststoretype", storeType, "-deststorepass", password, "-destkeypass", password)
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, p.root.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	certtest.Keytool(t, "-importcert", "-noprompt", "-alias", "root", "-file", root, "-keystore", store, "-storetype", storeType, "-storepass", password)
	data, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// JKS and JCEKS written by keytool: certificates in clear are read with
// or without the password; only the integrity check needs it.
func TestJKSAndJCEKSFromKeytool(t *testing.T) {
	p := newPKI(t)
	password := randomPassword(t)
	want := []opensslCert{opensslX509(t, p.leaf.PEM(), "web"), opensslX509(t, p.intermediate.PEM(), "web"), opensslX509(t, p.root.PEM(), "root")}
	for _, storeType := range []string{"JKS", "JCEKS"} {
		store := keytoolStore(t, p, storeType, password)
		// keytool lists entries in its own order; the file keeps insertion order, which is what is read.
		for _, known := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/password known=%v", storeType, known), func(t *testing.T) {
				in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.jks": store}}
				if known {
					in.Data["pw"] = []byte(password)
					in.Annotations = map[string]string{certstatus.KeystorePasswordKeyAnnotation: "pw"}
				}
				status := statusAt(t, in, epoch)
				compareWithOpenSSL(t, status, "keystore.jks", orderLike(t, status, want))
				if status.State != certstatus.StateValid {
					t.Errorf("state %s (%+v), want Valid", status.State, status.Conditions)
				}
				message := errorsOf(status, "keystore.jks")
				// JDK 12+ protects JCEKS keys with 200 000 iterations: refused, and said so.
				jceksRefused := storeType == "JCEKS" && known
				if known && !jceksRefused && message != "" {
					t.Errorf("errors %q with the right password", message)
				}
				if jceksRefused && !strings.Contains(message, "200000 key-derivation iterations") {
					t.Errorf("errors %q, want the JCEKS key's iterations refused", message)
				}
				if !known && !strings.Contains(message, "integrity was not checked") {
					t.Errorf("errors %+v, want integrity not checked", status.Errors)
				}
				if known && !jceksRefused && (status.PrivateKey == nil || !status.PrivateKey.MatchesCertificate) {
					t.Errorf("private key %+v, want the entry's key matching its leaf", status.PrivateKey)
				}
				if status.Chain.Verified != certstatus.ChainVerified && status.Chain.Verified != certstatus.ChainUnverified {
					t.Errorf("chain %+v", status.Chain)
				}
				assertNoPassword(t, status, password)
			})
		}
	}
}

// orderLike puts want in the status's order by alias (trusted entry and key
// entry order is the file's), failing when an alias is missing.
func orderLike(t *testing.T, status certstatus.CertificateStatusStatus, want []opensslCert) []opensslCert {
	t.Helper()
	var out []opensslCert
	used := map[int]bool{}
	for _, c := range status.Certificates {
		for i, w := range want {
			if !used[i] && w.fingerprint == c.SHA256Fingerprint {
				out = append(out, w)
				used[i] = true
				break
			}
		}
	}
	if len(out) != len(want) {
		t.Fatalf("status holds %d of the %d certificates keytool stored", len(out), len(want))
	}
	return out
}

// cert-manager's layout: tls.crt stays the primary chain, the keystores
// beside it are extra keys with their aliases.
func TestCertManagerKeystoresBesideTLS(t *testing.T) {
	p := newPKI(t)
	in := p.validTLS(t)
	in.Data["keystore.p12"] = pkcs12File(t, p.leaf, []*certtest.Certificate{p.intermediate}, "certificate", "", false)
	in.Data["truststore.jks"] = keytoolTrustStore(t, p.root)
	status := statusAt(t, in, epoch)
	if status.State != certstatus.StateValid || len(status.Errors) != 1 || errorsOf(status, "truststore.jks") == "" {
		t.Fatalf("state %s, errors %+v; want Valid and only the truststore's unchecked integrity", status.State, status.Errors)
	}
	var got []string
	for _, c := range status.Certificates {
		got = append(got, fmt.Sprintf("%s[%d] %s %s", c.Key, c.Index, c.Alias, c.Role))
	}
	want := "[ca.crt[0]  CA keystore.p12[0] certificate Leaf keystore.p12[1]  CA tls.crt[0]  Leaf tls.crt[1]  Intermediate truststore.jks[0] ca CA]"
	if fmt.Sprint(got) != want {
		t.Errorf("certificates\n got %v\nwant %s", got, want)
	}
	compareWithOpenSSL(t, status, "keystore.p12", opensslPKCS12Certs(t, in.Data["keystore.p12"], "", false))
}

// keytoolTrustStore is a JKS truststore with one trusted certificate, alias
// "ca", protected by a password certstatus does not have.
func keytoolTrustStore(t testing.TB, ca *certtest.Certificate) []byte {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "truststore.jks")
	certtest.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", file, "-keystore", store, "-storetype", "JKS", "-storepass", randomPassword(t))
	data, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A value that is exactly one DER certificate is read under any key.
func TestDERCertificate(t *testing.T) {
	p := newPKI(t)
	status := statusAt(t, Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"server.der": p.leaf.DER, "anything": p.root.DER}}, epoch)
	compareWithOpenSSL(t, status, "server.der", []opensslCert{opensslX509(t, p.leaf.PEM(), "")})
	compareWithOpenSSL(t, status, "anything", []opensslCert{opensslX509(t, p.root.PEM(), "")})
	if status.Certificates[1].Role != certstatus.RoleLeaf || status.Certificates[0].Role != certstatus.RoleCA {
		t.Errorf("roles %+v", status.Certificates)
	}
	if _, listed := Analyze(Input{Type: "Opaque", Data: map[string][]byte{"x.der": []byte("not der")}}, DefaultOptions()); !listed {
		t.Error("a .der value that is not DER is not listed with its error")
	}
	if _, listed := Analyze(Input{Type: "Opaque", Data: map[string][]byte{"blob": append([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, 0)}}, DefaultOptions()); listed {
		t.Error("binary data that is not a certificate is listed")
	}
}

// kubeconfigYAML is a kubeconfig with a CA and one user, optionally a token user.
func kubeconfigYAML(ca *certtest.Certificate, user *certtest.Certificate, userKey []byte, token string) []byte {
	b64 := func(data []byte) string { return base64.StdEncoding.EncodeToString(data) }
	out := "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: " + b64(ca.PEM()) + "\n"
	out += "users:\n"
	if token != "" {
		out += "- name: robot\n  user:\n    token: " + token + "\n"
	}
	if user != nil {
		out += "- name: prod-admin\n  user:\n    client-certificate-data: " + b64(user.PEM()) + "\n    client-key-data: " + b64(userKey) + "\n"
	}
	return []byte(out + "contexts: []\ncurrent-context: \"\"\n")
}

// Cluster API's <cluster>-kubeconfig Secret: the admin's client
// certificate is the primary chain, verified by the cluster CA.
func TestClusterAPIKubeconfig(t *testing.T) {
	ca := newRootCA("kubernetes")
	admin := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "kubernetes-admin", NotBefore: epoch.Add(-day), NotAfter: epoch.Add(day / 4)}))
	token := randomPassword(t)
	in := Input{Type: "cluster.x-k8s.io/secret", CreatedAt: changedAt,
		Data: map[string][]byte{"value": kubeconfigYAML(ca, admin, keyPEM(t, admin, certtest.SEC1), token)}}
	status := statusAt(t, in, epoch)
	compareWithOpenSSL(t, status, "value", []opensslCert{opensslX509(t, ca.PEM(), "clusters[prod]"), opensslX509(t, admin.PEM(), "users[prod-admin]")})
	if status.State != certstatus.StateExpiringSoon || status.Certificates[1].Role != certstatus.RoleLeaf || status.Certificates[0].Role != certstatus.RoleCA {
		t.Errorf("state %s, certificates %+v; want the admin's certificate as the expiring leaf", status.State, status.Certificates)
	}
	if status.PrivateKey == nil || !status.PrivateKey.MatchesCertificate || status.Chain.Verified != certstatus.ChainVerified {
		t.Errorf("private key %+v, chain %+v", status.PrivateKey, status.Chain)
	}
	assertNoPassword(t, status, token)
	assertNoPassword(t, status, "10.0.0.1")

	// JSON is YAML too.
	jsonConfig := []byte(`{"clusters":[{"name":"c","cluster":{"certificate-authority-data":"` + base64.StdEncoding.EncodeToString(ca.PEM()) + `"}}]}`)
	if got := statusAt(t, Input{Type: "Opaque", Data: map[string][]byte{"admin.conf": jsonConfig}}, epoch); len(got.Certificates) != 1 || got.Certificates[0].Alias != "clusters[c]" {
		t.Errorf("JSON kubeconfig: %+v", got.Certificates)
	}
	// No other key is parsed as YAML.
	if _, listed := Analyze(Input{Type: "Opaque", Data: map[string][]byte{"release": kubeconfigYAML(ca, admin, nil, "")}}, DefaultOptions()); listed {
		t.Error("a kubeconfig under a key api.md does not name was read")
	}
}

// A kubeconfig whose user has only a token is a bundle of its CAs; the
// token is kept nowhere.
func TestKubeconfigWithTokenUserOnly(t *testing.T) {
	ca := newRootCA("kubernetes")
	token := randomPassword(t)
	status := statusAt(t, Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"kubeconfig": kubeconfigYAML(ca, nil, nil, token)}}, epoch)
	if len(status.Certificates) != 1 || status.Certificates[0].Role != certstatus.RoleCA || status.State != certstatus.StateValid || status.PrivateKey != nil {
		t.Errorf("state %s, certificates %+v, key %+v; want a Valid bundle of the cluster CA", status.State, status.Certificates, status.PrivateKey)
	}
	assertNoPassword(t, status, token)
}

// A PKCS#12 written by keytool (Java's defaults: PBES2 and a SHA-256 MAC,
// a trusted-certificate entry with Java's attribute) reads as openssl reads it.
func TestPKCS12FromKeytool(t *testing.T) {
	p := newPKI(t)
	password := randomPassword(t)
	store := keytoolStore(t, p, "PKCS12", password)
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": store, "pw": []byte(password)},
		Annotations: map[string]string{certstatus.KeystorePasswordKeyAnnotation: "pw"}}
	status := statusAt(t, in, epoch)
	compareWithOpenSSL(t, status, "keystore.p12", opensslPKCS12Certs(t, store, password, false))
	if status.State != certstatus.StateValid || len(status.Errors) != 0 || status.PrivateKey == nil || !status.PrivateKey.MatchesCertificate {
		t.Errorf("state %s, errors %+v, key %+v; want Valid with the entry's matching key", status.State, status.Errors, status.PrivateKey)
	}
	assertNoPassword(t, status, password)
}

// certstatus.dev/keystore-password-secret: the server's lookup gives the
// password (after the key annotation's, before the defaults); its errors
// are shown under the annotation, and neither password leaks.
func TestPasswordFromAnotherSecret(t *testing.T) {
	p := newPKI(t)
	password, wrong := randomPassword(t), randomPassword(t)
	p12 := pkcs12File(t, p.leaf, nil, "web", password, false)
	var asked []string
	in := Input{Type: "Opaque", CreatedAt: changedAt,
		Data: map[string][]byte{"keystore.p12": p12, "own": []byte(wrong)},
		Annotations: map[string]string{
			certstatus.KeystorePasswordKeyAnnotation:    "own",
			certstatus.KeystorePasswordSecretAnnotation: "java-passwords/store",
		},
		PasswordFromSecret: func(secret, key string) ([]byte, error) {
			asked = append(asked, secret+"/"+key)
			return []byte(password + "\n"), nil
		},
	}
	status := statusAt(t, in, epoch)
	if status.State != certstatus.StateValid || len(status.Errors) != 0 || fmt.Sprint(asked) != "[java-passwords/store]" {
		t.Errorf("state %s, errors %+v, asked %v; want Valid, opened with the other Secret's password", status.State, status.Errors, asked)
	}
	assertNoPassword(t, status, password)
	assertNoPassword(t, status, wrong)
	if got := keystorePasswordsFor(in, &problemLog{}); fmt.Sprint(len(got)) != "4" || got[0] != wrong || got[1] != password || got[2] != "" || got[3] != "changeit" {
		t.Errorf("%d candidates, want the key annotation's, the Secret's, empty, changeit", len(got))
	}

	in.PasswordFromSecret = func(secret, key string) ([]byte, error) {
		return nil, fmt.Errorf("the password Secret %s is not read: it lacks the label", secret)
	}
	status = statusAt(t, in, epoch)
	if status.State != certstatus.StateUnknown || !strings.Contains(errorsOf(status, "metadata.annotations["+certstatus.KeystorePasswordSecretAnnotation+"]"), "lacks the label") {
		t.Errorf("state %s, errors %+v; want Unknown and the lookup's error", status.State, status.Errors)
	}
	in.Annotations[certstatus.KeystorePasswordSecretAnnotation] = "no-slash"
	if status = statusAt(t, in, epoch); !strings.Contains(errorsOf(status, "metadata.annotations["+certstatus.KeystorePasswordSecretAnnotation+"]"), "<secret>/<key>") {
		t.Errorf("errors %+v; want the malformed reference named", status.Errors)
	}
}
