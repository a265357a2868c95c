package certificate

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
	"weak"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// configMap is a ConfigMap created at changedAt.
func configMap(data map[string]string, binaryData map[string][]byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "trust", CreationTimestamp: metav1.NewTime(changedAt)},
		Data:       data, BinaryData: binaryData,
	}
}

// analyzeConfigMap analyses cm, failing when it is not listed.
func analyzeConfigMap(t testing.TB, cm *corev1.ConfigMap) *Analysis {
	t.Helper()
	if !ConfigMapMayHoldCertificates(cm) {
		t.Fatal("the pre-check skips a ConfigMap that holds certificates")
	}
	a, listed := Analyze(InputFromConfigMap(cm), DefaultOptions())
	if !listed {
		t.Fatal("ConfigMap not listed")
	}
	return a
}

// keytoolTrustStoreOf is a truststore written by keytool, one trusted
// entry per certificate (aliases ca-0, ca-1, ...), as trust-manager writes them.
func keytoolTrustStoreOf(t testing.TB, storeType, password string, certs ...*certtest.Certificate) []byte {
	t.Helper()
	dir := t.TempDir()
	store := filepath.Join(dir, "truststore")
	for i, c := range certs {
		file := filepath.Join(dir, fmt.Sprintf("ca-%d.pem", i))
		if err := os.WriteFile(file, c.PEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		certtest.Keytool(t, "-importcert", "-noprompt", "-alias", fmt.Sprintf("ca-%d", i), "-file", file, "-keystore", store, "-storetype", storeType, "-storepass", password)
	}
	data, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// keytoolConvert is store (a JKS) converted by keytool to storeType.
func keytoolConvert(t testing.TB, store []byte, storeType, password string) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jks"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, store, 0o600); err != nil {
		t.Fatal(err)
	}
	certtest.Keytool(t, "-importkeystore", "-noprompt", "-srckeystore", in, "-srcstoretype", "JKS", "-srcstorepass", password,
		"-destkeystore", out, "-deststoretype", storeType, "-deststorepass", password)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// opensslTrustStore is a PKCS#12 of certificates only, written by openssl
// (AES-256 and a SHA-256 MAC), with no friendlyName.
func opensslTrustStore(t testing.TB, password string, certs ...*certtest.Certificate) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "certs.pem"), filepath.Join(dir, "out.p12")
	if err := os.WriteFile(in, certtest.ChainPEM(certs...), 0o600); err != nil {
		t.Fatal(err)
	}
	certtest.OpenSSL(t, "pkcs12", "-export", "-nokeys", "-in", in, "-passout", "pass:"+password, "-out", out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// trust-manager's target ConfigMap: the same bundle as PEM in data and as
// JKS and PKCS#12 truststores in binaryData (password changeit), beside a
// key that holds no certificate. Every certificate is read as openssl
// reads it, the ConfigMap is a Valid bundle, and configMapKeys are the
// three keys with certificates.
func TestTrustManagerConfigMap(t *testing.T) {
	p := newPKI(t)
	roots := []*certtest.Certificate{p.root, p.otherRoot, p.clientCA}
	jks := keytoolTrustStoreOf(t, "JKS", "changeit", roots...)
	keytoolP12 := keytoolConvert(t, jks, "PKCS12", "changeit")
	opensslP12 := opensslTrustStore(t, "changeit", roots...)
	cm := configMap(
		map[string]string{"trust-bundle.pem": string(certtest.ChainPEM(roots...)), "README": "not-a-certificate-marker"},
		map[string][]byte{"trust-bundle.jks": jks, "trust-bundle.p12": keytoolP12, "openssl.p12": opensslP12})
	a := analyzeConfigMap(t, cm)
	status := a.StatusAt(epoch)

	if want := []string{"openssl.p12", "trust-bundle.jks", "trust-bundle.p12", "trust-bundle.pem"}; !slices.Equal(a.ConfigMapKeys(), want) {
		t.Errorf("configMapKeys %v, want %v", a.ConfigMapKeys(), want)
	}
	var pemWant, aliasWant []opensslCert
	for i, root := range roots {
		pemWant = append(pemWant, opensslX509(t, root.PEM(), ""))
		aliasWant = append(aliasWant, opensslX509(t, root.PEM(), fmt.Sprintf("ca-%d", i)))
	}
	compareWithOpenSSL(t, status, "trust-bundle.pem", pemWant)
	compareWithOpenSSL(t, status, "trust-bundle.jks", orderLike(t, filterKey(status, "trust-bundle.jks"), aliasWant))
	compareWithOpenSSL(t, status, "trust-bundle.p12", opensslPKCS12Certs(t, keytoolP12, "changeit", false))
	compareWithOpenSSL(t, status, "openssl.p12", opensslPKCS12Certs(t, opensslP12, "changeit", false))
	if status.State != certstatus.StateValid || len(status.Errors) != 0 || status.SecretType != "" {
		t.Errorf("state %s, errors %+v, type %q; want a Valid bundle without errors or type", status.State, status.Errors, status.SecretType)
	}
	if status.Chain.Verified != certstatus.ChainUnverified || status.PrivateKey != nil {
		t.Errorf("chain %+v, key %+v; want a bundle's", status.Chain, status.PrivateKey)
	}
	for _, c := range status.Certificates {
		if c.Role != certstatus.RoleCA {
			t.Errorf("%s[%d] has role %s, want CA (a bundle member)", c.Key, c.Index, c.Role)
		}
	}
	assertNoPassword(t, status, "not-a-certificate-marker")
	assertNoPassword(t, status, "README")
}

// filterKey is status with only the certificates of key.
func filterKey(status certstatus.CertificateStatusStatus, key string) certstatus.CertificateStatusStatus {
	var out certstatus.CertificateStatusStatus
	for _, c := range status.Certificates {
		if c.Key == key {
			out.Certificates = append(out.Certificates, c)
		}
	}
	return out
}

// A truststore under a password that is neither empty nor changeit: JKS
// certificates are still read (in clear), a PKCS#12's stay locked, and
// the messages do not send anyone to put a password in a ConfigMap key.
func TestConfigMapKeystorePasswords(t *testing.T) {
	p := newPKI(t)
	password := randomPassword(t)
	jks := keytoolTrustStoreOf(t, "JKS", password, p.root)
	status := analyzeConfigMap(t, configMap(nil, map[string][]byte{"truststore.jks": jks})).StatusAt(epoch)
	compareWithOpenSSL(t, status, "truststore.jks", []opensslCert{opensslX509(t, p.root.PEM(), "ca-0")})
	if message := errorsOf(status, "truststore.jks"); message != configMapJKSUnchecked || status.State != certstatus.StateValid {
		t.Errorf("state %s, errors %q; want Valid and %q", status.State, message, configMapJKSUnchecked)
	}

	a := analyzeConfigMap(t, configMap(nil, map[string][]byte{"truststore.p12": opensslTrustStore(t, password, p.root)}))
	status = a.StatusAt(epoch)
	ready := condition(t, status, "Ready")
	if status.State != certstatus.StateUnknown || ready.Reason != certstatus.ReasonKeystoreLocked || !strings.Contains(ready.Message, "ConfigMap") {
		t.Errorf("state %s, Ready %+v; want Unknown, KeystoreLocked, naming the ConfigMap", status.State, ready)
	}
	if message := errorsOf(status, "truststore.p12"); message != configMapLockedMessage {
		t.Errorf("errors %q, want %q", message, configMapLockedMessage)
	}
	if !slices.Equal(a.ConfigMapKeys(), []string{"truststore.p12"}) {
		t.Errorf("configMapKeys %v: a locked keystore's key is read as holding certificates", a.ConfigMapKeys())
	}
	assertNoPassword(t, status, password)
}

// A data value is text: PEM, or a kubeconfig under the names api.md
// gives (kube-public/cluster-info); never DER or a keystore, even under
// such a name. binaryData is read like a Secret's values.
func TestConfigMapDataIsText(t *testing.T) {
	p := newPKI(t)
	ca := newRootCA("kubernetes")
	jks := keytoolTrustStoreOf(t, "JKS", "changeit", p.root)

	status := analyzeConfigMap(t, configMap(map[string]string{"kubeconfig": string(kubeconfigYAML(ca, nil, nil, ""))}, nil)).StatusAt(epoch)
	compareWithOpenSSL(t, status, "kubeconfig", []opensslCert{opensslX509(t, ca.PEM(), "clusters[prod]")})
	if status.State != certstatus.StateValid {
		t.Errorf("cluster-info: state %s, want a Valid bundle", status.State)
	}

	for _, cm := range []*corev1.ConfigMap{
		configMap(map[string]string{"truststore.jks": string(jks)}, nil),
		configMap(map[string]string{"ca.der": string(p.root.DER)}, nil),
		configMap(map[string]string{"release": string(kubeconfigYAML(ca, nil, nil, ""))}, nil),
	} {
		if _, listed := Analyze(InputFromConfigMap(cm), DefaultOptions()); listed {
			t.Errorf("data %v is read as certificates", slices.Collect(func(yield func(string) bool) {
				for k := range cm.Data {
					yield(k)
				}
			}))
		}
	}

	status = analyzeConfigMap(t, configMap(nil, map[string][]byte{"ca.der": p.root.DER, "anything": p.intermediate.DER, "bundle": certtest.ChainPEM(p.otherRoot)})).StatusAt(epoch)
	compareWithOpenSSL(t, status, "ca.der", []opensslCert{opensslX509(t, p.root.PEM(), "")})
	compareWithOpenSSL(t, status, "anything", []opensslCert{opensslX509(t, p.intermediate.PEM(), "")})
	compareWithOpenSSL(t, status, "bundle", []opensslCert{opensslX509(t, p.otherRoot.PEM(), "")})
}

// A ConfigMap has no type, so the rules of "other types" choose the
// primary chain: the first key holding a non-CA certificate, anchored by a
// single-certificate ca.crt. Messages name a ConfigMap, not a Secret.
func TestConfigMapWithLeaf(t *testing.T) {
	p := newPKI(t)
	status := analyzeConfigMap(t, configMap(map[string]string{
		"server.pem": string(certtest.ChainPEM(p.leaf, p.intermediate)),
		"ca.crt":     string(p.root.PEM()),
	}, nil)).StatusAt(epoch)
	compareWithOpenSSL(t, status, "server.pem", []opensslCert{opensslX509(t, p.leaf.PEM(), ""), opensslX509(t, p.intermediate.PEM(), "")})
	if status.State != certstatus.StateValid || status.Chain.Verified != certstatus.ChainVerified || status.Certificates[1].Role != certstatus.RoleLeaf {
		t.Errorf("state %s, chain %+v, certificates %+v; want the leaf's chain verified", status.State, status.Chain, status.Certificates)
	}

	status = analyzeConfigMap(t, configMap(map[string]string{"server.pem": string(p.leaf.PEM())}, nil)).StatusAt(epoch)
	if !strings.Contains(status.Chain.Message, "not in the ConfigMap") {
		t.Errorf("chain message %q does not name the ConfigMap", status.Chain.Message)
	}
}

// A ConfigMap without certificates is not listed, and the pre-check says so
// without reading further; the annotations read are the threshold and
// alerts ones only.
func TestConfigMapWithoutCertificates(t *testing.T) {
	random := make([]byte, 4096)
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 0x31 // not a DER SEQUENCE, not a keystore
	for _, cm := range []*corev1.ConfigMap{
		configMap(nil, nil),
		configMap(map[string]string{"app.properties": "a=b\n", "key": "-----BEGIN PUBLIC KEY-----"}, nil),
		configMap(nil, map[string][]byte{"blob": random}),
	} {
		if ConfigMapMayHoldCertificates(cm) {
			t.Errorf("pre-check passes %v / %d binary keys", cm.Data, len(cm.BinaryData))
		}
		if _, listed := Analyze(InputFromConfigMap(cm), DefaultOptions()); listed {
			t.Errorf("listed: %v", cm.Data)
		}
	}
}

// Only the annotations the analysis reads are copied from a ConfigMap.
func TestInputFromConfigMapAnnotations(t *testing.T) {
	cm := configMap(map[string]string{"ca.crt": "x"}, nil)
	cm.Annotations = map[string]string{
		certstatus.ExpiringSoonThresholdAnnotation: "168h",
		certstatus.AlertsAnnotation:                "off",
		certstatus.KeystorePasswordKeyAnnotation:   "ca.crt",
		"kubectl.kubernetes.io/last-applied":       "{}",
	}
	in := InputFromConfigMap(cm)
	if len(in.Annotations) != 2 || in.Annotations[certstatus.ExpiringSoonThresholdAnnotation] != "168h" || in.Annotations[certstatus.AlertsAnnotation] != "off" {
		t.Errorf("annotations %v", in.Annotations)
	}
}

// The analysis keeps nothing of the ConfigMap's values: once analysed,
// every value buffer (PEM text, DER certificates, JKS and PKCS#12
// truststores) can be collected while the Analysis lives. The CAs are new
// to this process, so the parse caches meet them first here.
func TestConfigMapAnalysisKeepsNoData(t *testing.T) {
	a, buffers := analyzeAndWatchValues(t)
	for range 5 {
		runtime.GC()
	}
	for name, buffer := range buffers {
		if buffer.Value() != nil {
			t.Errorf("the %s value is still reachable after its ConfigMap was analysed and dropped", name)
		}
	}
	if len(a.StatusAt(epoch).Certificates) != 5 {
		t.Errorf("the analysis lost its certificates")
	}
}

// analyzeAndWatchValues analyses a fresh ConfigMap and returns its analysis
// and weak pointers to its value buffers, keeping nothing else.
func analyzeAndWatchValues(t *testing.T) (*Analysis, map[string]weak.Pointer[byte]) {
	cas := []*certtest.Certificate{newRootCA("Kept Nowhere CA 1"), newRootCA("Kept Nowhere CA 2"), newRootCA("Kept Nowhere CA 3"), newRootCA("Kept Nowhere CA 4")}
	jks := keytoolTrustStoreOf(t, "JKS", "changeit", cas[0])
	p12 := opensslTrustStore(t, "changeit", cas[1])
	der := slices.Clone(cas[2].DER)
	pemText := strings.Clone(string(cas[3].PEM()))
	leaf := slices.Clone(certtest.Must(cas[3].NewLeaf(certtest.Spec{CommonName: "kept.nowhere.example", NotBefore: epoch.Add(-day), NotAfter: epoch.Add(90 * day)})).DER)
	cm := configMap(map[string]string{"ca.pem": pemText}, map[string][]byte{"truststore.jks": jks, "truststore.p12": p12, "root.der": der, "leaf.der": leaf})
	buffers := map[string]weak.Pointer[byte]{
		"JKS": weak.Make(&jks[0]), "PKCS#12": weak.Make(&p12[0]), "DER": weak.Make(&der[0]), "leaf DER": weak.Make(&leaf[0]), "PEM": weak.Make(unsafe.StringData(pemText)),
	}
	return analyzeConfigMap(t, cm), buffers
}

// Hostile input, each bounded and without panic; no value appears in
// the status or its messages.

// 1 MiB of PEM garbage: CERTIFICATE blocks of random base64, text between
// them, and a last block with no END line. Its cost is
// BenchmarkConfigMapPEMGarbage's.
func TestConfigMapPEMGarbage(t *testing.T) {
	text, bodies := pemGarbage()
	a := analyzeConfigMap(t, configMap(map[string]string{"bundle.pem": text}, nil))
	status := a.StatusAt(epoch)
	message := errorsOf(status, "bundle.pem")
	if status.State != certstatus.StateInvalid || len(status.Errors) != 1 || !strings.Contains(message, "is not a valid X.509 certificate") || !strings.Contains(message, "more problems like these") {
		t.Errorf("state %s, errors %+v; want Invalid with one bounded entry for bundle.pem", status.State, status.Errors)
	}
	assertNoData(t, status, append(bodies, "garbage-between-blocks", "unterminated-garbage")...)
}

// Random bytes in binaryData: under a free key they are not certificates
// (not listed), under a keystore's name they are a malformed keystore.
func TestConfigMapRandomBinaryData(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{3}))
	for _, first := range []byte{0x30, 0xfe, 0x00} {
		random := make([]byte, 64<<10)
		for i := range random {
			random[i] = byte(rng.Uint32())
		}
		random[0] = first // a DER SEQUENCE, JKS's magic's first byte, nothing
		if _, listed := Analyze(InputFromConfigMap(configMap(nil, map[string][]byte{"blob": random})), DefaultOptions()); listed {
			t.Errorf("random bytes starting %#x are listed", first)
		}
		for _, key := range []string{"truststore.jks", "truststore.p12", "ca.der"} {
			status := analyzeConfigMap(t, configMap(nil, map[string][]byte{key: random})).StatusAt(epoch)
			if status.State != certstatus.StateInvalid || errorsOf(status, key) == "" || len(status.Certificates) != 0 {
				t.Errorf("%s of random bytes: state %s, errors %+v; want Invalid with an entry", key, status.State, status.Errors)
			}
			assertNoData(t, status, base64.StdEncoding.EncodeToString(random[:24]), string(random[8:24]))
		}
	}
}

// A JKS claiming 2^31 entries in binaryData costs what its bytes are.
func TestConfigMapKeystoreClaimingBillionsOfEntries(t *testing.T) {
	cm := configMap(nil, map[string][]byte{"truststore.jks": jksClaimingBillionsOfEntries()})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	status := analyzeConfigMap(t, cm).StatusAt(epoch)
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 1<<20 {
		t.Errorf("reading a 100-byte keystore allocated %d bytes", allocated)
	}
	if message := errorsOf(status, "truststore.jks"); !strings.Contains(message, "ends in the middle of an entry") || status.State != certstatus.StateInvalid {
		t.Errorf("state %s, errors %+v; want Invalid with the truncation reported", status.State, status.Errors)
	}
}

// 100 keys of bundles (12 roots each): every key is read in key order up to
// the 1000-certificate bound, each later key's entry says how many were not.
func TestConfigMapHundredBundleKeys(t *testing.T) {
	var roots []*certtest.Certificate
	for i := range 12 {
		roots = append(roots, newRootCA(fmt.Sprintf("Root %d", i)))
	}
	bundle := string(certtest.ChainPEM(roots...))
	data := map[string]string{}
	for i := range 100 {
		data[fmt.Sprintf("bundle-%03d.pem", i)] = bundle
	}
	a := analyzeConfigMap(t, configMap(data, nil))
	status := a.StatusAt(epoch)
	if len(a.ConfigMapKeys()) != 100 || a.ConfigMapKeys()[0] != "bundle-000.pem" || !slices.IsSorted(a.ConfigMapKeys()) {
		t.Errorf("configMapKeys %v", a.ConfigMapKeys())
	}
	if len(status.Certificates) != 1000 || status.State != certstatus.StateValid {
		t.Errorf("%d certificates, state %s; want the first 1000 in a Valid bundle", len(status.Certificates), status.State)
	}
	// 1000 = 83 keys of 12 and 4 of the 84th.
	if message := errorsOf(status, "bundle-083.pem"); !strings.Contains(message, "8 certificates were not analysed") {
		t.Errorf("bundle-083.pem: %q", message)
	}
	if message := errorsOf(status, "bundle-099.pem"); !strings.Contains(message, "12 certificates were not analysed") {
		t.Errorf("bundle-099.pem: %q", message)
	}
}

// assertNoData fails when a value appears in the status (messages included).
func assertNoData(t *testing.T, status certstatus.CertificateStatusStatus, values ...string) {
	t.Helper()
	out, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range values {
		if strings.Contains(string(out), value) {
			t.Fatalf("ConfigMap data %q appears in the status", value)
		}
	}
}

// pemGarbage is 1 MiB of CERTIFICATE blocks of random bytes with text
// between them and a last block without END, and the start of each
// block's base64, which no output may contain.
func pemGarbage() (string, []string) {
	rng := rand.New(rand.NewChaCha8([32]byte{2}))
	var text strings.Builder
	var bodies []string
	for text.Len() < 1<<20 {
		raw := make([]byte, 600)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		body := base64.StdEncoding.EncodeToString(raw)
		bodies = append(bodies, body[:32])
		text.WriteString("garbage-between-blocks\n")
		text.WriteString(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: raw})))
	}
	text.WriteString("-----BEGIN CERTIFICATE-----\nunterminated-garbage")
	return text.String(), bodies
}

// BenchmarkConfigMapPEMGarbage is the cost of 1 MiB of PEM garbage in a
// ConfigMap: bounded by the 1000-certificate bound and the linear scan.
func BenchmarkConfigMapPEMGarbage(b *testing.B) {
	text, _ := pemGarbage()
	cm := configMap(map[string]string{"bundle.pem": text}, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, listed := Analyze(InputFromConfigMap(cm), DefaultOptions()); !listed {
			b.Fatal("not listed")
		}
	}
}
