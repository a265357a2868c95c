package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// Keystores, DER and kubeconfigs through the real stack: written by openssl
// and keytool, read back with kubectl; random passwords appear in no output.
func TestKeystoresAndKubeconfigsThroughKubectl(t *testing.T) {
	t.Parallel()
	keytool := keytoolBinary(t)
	namespace := newNamespace(t)
	c := newChain(t, "keystore.example.com", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	dir := t.TempDir()
	write, run := toolFiles(t, dir)
	password := func() string {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return "pw-" + hex.EncodeToString(b)
	}
	openssl := certtest.OpenSSLBinary(t)
	p12 := func(name, pass string, legacy bool) []byte {
		out := filepath.Join(dir, name)
		args := []string{"pkcs12", "-export", "-in", write("leaf.pem", c.leaf.PEM()), "-inkey", write("key.pem", certtest.Must(c.leaf.KeyPEM(certtest.PKCS8))),
			"-certfile", write("chain.pem", certtest.ChainPEM(c.intermediate, c.root)), "-name", "web", "-passout", "pass:" + pass, "-out", out}
		if legacy {
			args = append(args, "-legacy")
		}
		run(openssl, args...)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	annotated, locked, trustPass, token := password(), password(), password(), password()
	truststore := filepath.Join(dir, "truststore.jks")
	run(keytool, "-importcert", "-noprompt", "-alias", "e2e-root", "-file", write("root.pem", c.root.PEM()), "-keystore", truststore, "-storetype", "JKS", "-storepass", trustPass)
	trustBytes, err := os.ReadFile(truststore)
	if err != nil {
		t.Fatal(err)
	}
	clusterCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "e2e-cluster-ca"}))
	admin := certtest.Must(clusterCA.NewLeaf(certtest.Spec{CommonName: "e2e-admin", NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour)}))
	b64 := base64.StdEncoding.EncodeToString
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: https://e2e.example.com:6443\n    certificate-authority-data: " + b64(clusterCA.PEM()) +
		"\nusers:\n- name: e2e-admin\n  user:\n    client-certificate-data: " + b64(admin.PEM()) + "\n    client-key-data: " + b64(certtest.Must(admin.KeyPEM(certtest.SEC1))) + "\n"
	tokenOnly := "clusters:\n- name: e2e\n  cluster:\n    certificate-authority-data: " + b64(clusterCA.PEM()) + "\nusers:\n- name: robot\n  user:\n    token: " + token + "\n"

	cm := c.tlsSecret(namespace, "cert-manager-style", nil)
	cm.Data["keystore.p12"] = p12("cm.p12", "", false)
	cm.Data["truststore.jks"] = trustBytes
	secrets := []*corev1.Secret{
		cm,
		{ObjectMeta: metav1.ObjectMeta{Name: "p12-annotated", Annotations: map[string]string{"certstatus.dev/keystore-password-key": "password"}},
			Data: map[string][]byte{"keystore.p12": p12("annotated.p12", annotated, true), "password": []byte(annotated)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "p12-changeit"}, Data: map[string][]byte{"app.pfx": p12("changeit.p12", "changeit", false)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "p12-locked"}, Data: map[string][]byte{"keystore.p12": p12("locked.p12", locked, false)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "der"}, Data: map[string][]byte{"server.der": c.leaf.DER}},
		{ObjectMeta: metav1.ObjectMeta{Name: "e2e-kubeconfig"}, Type: "cluster.x-k8s.io/secret", Data: map[string][]byte{"value": []byte(kubeconfig)}},
		{ObjectMeta: metav1.ObjectMeta{Name: "token-kubeconfig"}, Data: map[string][]byte{"kubeconfig": []byte(tokenOnly)}},
	}
	for _, secret := range secrets {
		secret.Namespace = namespace
		createSecret(t, secret)
	}
	var out string
	eventually(t, 10*time.Second, func() error {
		out = kubectl(t, "get", "cst", "-n", namespace)
		if strings.Count(out, "\n") != len(secrets)+1 {
			return fmt.Errorf("rows: %s", out)
		}
		return nil
	})
	_, rows := table(t, out)
	for name, want := range map[string][]string{ // state, common name, issuer
		"cert-manager-style": {"Valid", "keystore.example.com", "E2E Intermediate CA"},
		"p12-annotated":      {"Valid", "keystore.example.com", "E2E Intermediate CA"},
		"p12-changeit":       {"Valid", "keystore.example.com", "E2E Intermediate CA"},
		"p12-locked":         {"Unknown", "", ""},
		"der":                {"Valid", "keystore.example.com", "E2E Intermediate CA"},
		"e2e-kubeconfig":     {"Valid", "e2e-admin", "e2e-cluster-ca"},
		"token-kubeconfig":   {"Valid", "e2e-cluster-ca", "e2e-cluster-ca"},
	} {
		for i, cell := range want {
			if rows[name][i+1] != cell {
				t.Errorf("%s column %d = %q, want %q", name, i+1, rows[name][i+1], cell)
			}
		}
	}
	// The field selector knows Unknown.
	if _, unknown := table(t, kubectl(t, "get", "cst", "-n", namespace, "--field-selector", "status.state=Unknown")); len(unknown) != 1 || unknown["p12-locked"] == nil {
		t.Errorf("status.state=Unknown selects %v", unknown)
	}
	// So does /metrics: the state series that the CertificateUnknown rule reads.
	lockedSeries := fmt.Sprintf(`certstatus_secret_state{namespace=%q,secret="p12-locked",state=`, namespace)
	if unknown, invalid := metricSum(t, env.server, lockedSeries+`"Unknown"}`), metricSum(t, env.server, lockedSeries+`"Invalid"}`); unknown != 1 || invalid != 0 {
		t.Errorf("/metrics: p12-locked state Unknown %v, Invalid %v; want 1 and 0", unknown, invalid)
	}
	var list v1alpha1.CertificateStatusList
	yamlOut := kubectl(t, "get", "cst", "-n", namespace, "-o", "yaml")
	if err := json.Unmarshal([]byte(kubectl(t, "get", "cst", "-n", namespace, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	aliases := map[string][]string{}
	for _, item := range list.Items {
		for _, cert := range item.Status.Certificates {
			aliases[item.Name] = append(aliases[item.Name], cert.Key+":"+cert.Alias)
		}
		if item.Name == "p12-locked" {
			ready := item.Status.Conditions[0]
			if ready.Status != "Unknown" || ready.Reason != "KeystoreLocked" || len(item.Status.Errors) != 1 || !strings.Contains(item.Status.Errors[0].Message, "certstatus.dev/keystore-password-key") {
				t.Errorf("p12-locked: Ready %+v, errors %+v", ready, item.Status.Errors)
			}
		}
	}
	for name, want := range map[string]string{
		"p12-annotated":      "[keystore.p12:web keystore.p12: keystore.p12:]",
		"cert-manager-style": "[ca.crt: keystore.p12:web keystore.p12: keystore.p12: tls.crt: tls.crt: truststore.jks:e2e-root]",
		"e2e-kubeconfig":     "[value:clusters[e2e] value:users[e2e-admin]]",
		"token-kubeconfig":   "[kubeconfig:clusters[e2e]]",
	} {
		if got := "[" + strings.Join(aliases[name], " ") + "]"; got != want {
			t.Errorf("%s keys and aliases %s, want %s", name, got, want)
		}
	}
	// certstatus.dev/keystore-password-secret: only a labelled Secret is
	// read, and a change to it re-reads the keystore.
	fromSecret, later := password(), password()
	labelled := map[string]string{"certstatus.dev/keystore-password": "true"}
	passwordSecret := func(name string, labels map[string]string, value string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}, Data: map[string][]byte{"store": []byte(value)}}
	}
	keystoreNaming := func(name, reference, pass string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: map[string]string{"certstatus.dev/keystore-password-secret": reference}},
			Data: map[string][]byte{"keystore.p12": p12(name+".p12", pass, false)}}
	}
	createSecret(t, passwordSecret("pw-labelled", labelled, fromSecret))
	createSecret(t, passwordSecret("pw-plain", nil, fromSecret))
	createSecret(t, keystoreNaming("p12-from-secret", "pw-labelled/store", fromSecret))
	createSecret(t, keystoreNaming("p12-from-unlabelled", "pw-plain/store", fromSecret))
	createSecret(t, keystoreNaming("p12-password-later", "pw-later/store", later))
	stateOf := func(name string) string {
		return strings.TrimSpace(kubectl(t, "get", "cst", name, "-n", namespace, "-o", "jsonpath={.status.state}"))
	}
	expect := func(name, state string) {
		t.Helper()
		eventually(t, 15*time.Second, func() error {
			if got := stateOf(name); got != state {
				return fmt.Errorf("%s is %q, want %s; errors: %s", name, got, state, kubectl(t, "get", "cst", name, "-n", namespace, "-o", "jsonpath={.status.errors}"))
			}
			return nil
		})
	}
	expect("p12-from-secret", "Valid")
	expect("p12-from-unlabelled", "Unknown")
	if message := kubectl(t, "get", "cst", "p12-from-unlabelled", "-n", namespace, "-o", "jsonpath={.status.errors}"); !strings.Contains(message, "lacks the label certstatus.dev/keystore-password") {
		t.Errorf("p12-from-unlabelled errors: %s", message)
	}
	expect("p12-password-later", "Unknown")
	createSecret(t, passwordSecret("pw-later", labelled, later))
	expect("p12-password-later", "Valid")
	changed := passwordSecret("pw-labelled", labelled, "not-the-password")
	if _, err := env.kube.CoreV1().Secrets(namespace).Update(context.Background(), changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("p12-from-secret", "Unknown")
	yamlOut += kubectl(t, "get", "cst", "-n", namespace, "-o", "yaml")

	// cert-manager's Certificate names the keystore password (while its CRD
	// exists), for the Secret it writes only.
	crd := write("crd.yaml", []byte(certificateCRD))
	kubectl(t, "apply", "-f", crd)
	t.Cleanup(func() { _, _, _ = env.stack.Kubectl(context.Background(), "delete", "-f", crd) })
	kubectl(t, "wait", "--for=condition=Established", "crd/certificates.cert-manager.io", "--timeout=30s")
	fromCertManager := password()
	createSecret(t, passwordSecret("cm-password", nil, fromCertManager))
	certificate := write("certificate.yaml", []byte(`apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: java
  namespace: `+namespace+`
spec:
  secretName: cm-keystore
  keystores:
    pkcs12:
      create: true
      passwordSecretRef: {name: cm-password, key: store}
`))
	kubectl(t, "apply", "-f", certificate)
	for _, name := range []string{"cm-keystore", "cm-impostor"} {
		s := keystoreNaming(name, "", fromCertManager)
		s.Annotations = map[string]string{"cert-manager.io/certificate-name": "java"}
		createSecret(t, s)
	}
	expect("cm-keystore", "Valid")
	expect("cm-impostor", "Unknown") // not the Certificate's spec.secretName
	rotated := passwordSecret("cm-password", nil, "rotated-elsewhere")
	if _, err := env.kube.CoreV1().Secrets(namespace).Update(context.Background(), rotated, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("cm-keystore", "Unknown")
	yamlOut += kubectl(t, "get", "cst", "-n", namespace, "-o", "yaml")

	wide := kubectl(t, "get", "cst", "-n", namespace, "-o", "wide")
	logs, err := filepath.Glob(filepath.Join(env.stack.Dir(), "certstatus-*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no server log in %s (%v)", env.stack.Dir(), err)
	}
	var serverLog []byte
	for _, file := range logs {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		serverLog = append(serverLog, data...)
	}
	for _, secret := range []string{annotated, locked, trustPass, token, fromSecret, later, fromCertManager, "e2e.example.com:6443"} {
		for what, output := range map[string]string{"table": out, "wide": wide, "yaml": yamlOut, "server log (-v=2)": string(serverLog)} {
			if strings.Contains(output, secret) {
				t.Errorf("%s holds a password, token or server URL", what)
			}
		}
	}
}

// certificateCRD is enough of cert-manager's Certificate CRD for the server
// to read spec.secretName and spec.keystores.
const certificateCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
spec:
  group: cert-manager.io
  names: {kind: Certificate, listKind: CertificateList, plural: certificates, singular: certificate}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// keytool is the JDK's keystore tool: the reference writer of JKS files.
func keytoolBinary(t *testing.T) string {
	t.Helper()
	keytool, err := exec.LookPath("keytool")
	if err != nil {
		t.Fatalf("keytool is not installed, but this test stores JKS files that keytool writes: install a JDK (Debian: apt-get install default-jdk-headless) (%v)", err)
	}
	return keytool
}

// toolFiles are how a test hands files to openssl and keytool in dir:
// write stores data under name and returns its path; run runs a tool and
// returns its output, failing the test when it fails.
func toolFiles(t *testing.T, dir string) (write func(name string, data []byte) string, run func(name string, args ...string) []byte) {
	write = func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	run = func(name string, args ...string) []byte {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	return write, run
}
