package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// Issue #25 part 7: trust-manager writes JKS and PKCS#12 truststores into a
// ConfigMap's binaryData; the keystore readers serve them there too, through
// configmapcertificatestatuses. The files are written by keytool and openssl,
// not by the readers' own code.
func TestConfigMapKeystoresThroughKubectl(t *testing.T) {
	t.Parallel()
	keytool := keytoolBinary(t)
	openssl := certtest.OpenSSLBinary(t)
	namespace := newNamespace(t)
	c := newChain(t, "truststore.example.com", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	dir := t.TempDir()
	write, run := toolFiles(t, dir)
	read := func(path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	// trust-manager's JKS target: the roots under their own aliases, password "changeit".
	jks := filepath.Join(dir, "bundle.jks")
	run(keytool, "-importcert", "-noprompt", "-alias", "e2e-root", "-file", write("root.pem", c.root.PEM()), "-keystore", jks, "-storetype", "JKS", "-storepass", "changeit")
	run(keytool, "-importcert", "-noprompt", "-alias", "e2e-intermediate", "-file", write("intermediate.pem", c.intermediate.PEM()), "-keystore", jks, "-storetype", "JKS", "-storepass", "changeit")
	// Its PKCS#12 target: a truststore with the empty password.
	p12 := filepath.Join(dir, "bundle.p12")
	run(openssl, "pkcs12", "-export", "-nokeys", "-in", write("roots.pem", certtest.ChainPEM(c.root)), "-passout", "pass:", "-out", p12)

	bundle := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "trust-bundle"},
		Data:       map[string]string{"ca-certificates.crt": string(c.root.PEM())},
		BinaryData: map[string][]byte{"bundle.jks": read(jks), "bundle.p12": read(p12)},
	}
	createConfigMap(t, bundle)
	list := waitConfigMapStatuses(t, namespace, "trust-bundle")
	var status *v1alpha1.CertificateStatusStatus
	for i := range list.Items {
		if list.Items[i].Name == "trust-bundle" {
			status = &list.Items[i].Status
		}
	}
	if status.State != v1alpha1.StateValid || len(status.Errors) != 0 {
		t.Fatalf("trust-bundle: state %s, errors %v; want Valid and none", status.State, status.Errors)
	}
	if want := []string{"bundle.jks", "bundle.p12", "ca-certificates.crt"}; !slices.Equal(status.ConfigMapKeys, want) {
		t.Errorf("configMapKeys %v, want %v", status.ConfigMapKeys, want)
	}
	// Every certificate, with the alias keytool gave it, and the fields
	// openssl prints for the same file.
	fingerprint := func(pemData []byte) string {
		out := strings.TrimSpace(string(run(openssl, "x509", "-noout", "-fingerprint", "-sha256", "-in", write("fp.pem", pemData))))
		return out[strings.Index(out, "=")+1:]
	}
	want := map[string]string{ // key/alias → sha256 fingerprint
		"bundle.jks/e2e-root":         fingerprint(c.root.PEM()),
		"bundle.jks/e2e-intermediate": fingerprint(c.intermediate.PEM()),
		"bundle.p12/":                 fingerprint(c.root.PEM()),
		"ca-certificates.crt/":        fingerprint(c.root.PEM()),
	}
	got := map[string]string{}
	for _, cert := range status.Certificates {
		got[cert.Key+"/"+cert.Alias] = cert.SHA256Fingerprint
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("certificates by key/alias:\n got %v\nwant %v", got, want)
	}
	// kubectl shows the keys.
	out := kubectl(t, "get", "cmcst", "-n", namespace, "trust-bundle", "-o", "wide")
	if !strings.Contains(out, "bundle.jks") || !strings.Contains(out, "Valid") {
		t.Errorf("kubectl get cmcst -o wide:\n%s", out)
	}
	// No ConfigMap data leaves the server: the JKS file's bytes are not in the object.
	yaml := kubectl(t, "get", "cmcst", "-n", namespace, "trust-bundle", "-o", "yaml")
	if strings.Contains(yaml, "changeit") || strings.Contains(yaml, "MII") {
		t.Errorf("the object carries keystore data or a password:\n%s", yaml)
	}
}
