package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/hack/demo"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// listedDemoSecrets is how many of the demo Secrets are listed (all but no-certificate).
const listedDemoSecrets = 12

// loadExamples creates the `make run` demo Secrets in a new namespace.
func loadDemoSecrets(t *testing.T) string {
	t.Helper()
	namespace := newNamespace(t)
	for _, secret := range demo.Secrets(namespace, time.Now()) {
		createSecret(t, secret)
	}
	// The informer delivers within milliseconds; wait until all listed ones show.
	eventually(t, 10*time.Second, func() error {
		list, err := env.certs.CertstatusV1alpha1().CertificateStatuses(namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != listedDemoSecrets {
			return fmt.Errorf("%d CertificateStatuses in %s, want %d", len(list.Items), namespace, listedDemoSecrets)
		}
		return nil
	})
	return namespace
}

// table parses kubectl's table output into rows keyed by the first column.
func table(t *testing.T, out string) (header []string, rows map[string][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header = strings.Fields(strings.NewReplacer("COMMON NAME", "COMMON_NAME", "DNS NAMES", "DNS_NAMES",
		"NOT AFTER", "NOT_AFTER", "KEY PAIR", "KEY_PAIR", "USED BY", "USED_BY").Replace(lines[0]))
	// Cells may hold spaces ("3 (1 expired)"), so cut at the header's column starts.
	starts := columnStarts(lines[0])
	rows = map[string][]string{}
	for _, line := range lines[1:] {
		var cells []string
		for i, start := range starts {
			end := len(line)
			if i+1 < len(starts) && starts[i+1] < len(line) {
				end = starts[i+1]
			}
			if start >= len(line) {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, strings.TrimSpace(line[start:end]))
		}
		rows[cells[0]] = cells
	}
	return header, rows
}

func columnStarts(header string) []int {
	var starts []int
	for i := 0; i < len(header); i++ {
		if header[i] != ' ' && (i == 0 || (header[i-1] == ' ' && i >= 2 && header[i-2] == ' ')) {
			starts = append(starts, i)
		}
	}
	return starts
}

func TestAPIResourcesListsTheReadOnlyResource(t *testing.T) {
	t.Parallel()
	out := kubectl(t, "api-resources", "--api-group=certstatus.dev", "-o", "wide", "--no-headers")
	fields := strings.Fields(out)
	want := []string{"certificatestatuses", "certstatus,cst", "certstatus.dev/v1alpha1", "true", "CertificateStatus", "get,list,watch"}
	if len(fields) < len(want) {
		t.Fatalf("api-resources: %q", out)
	}
	for i := range want {
		if fields[i] != want[i] {
			t.Errorf("api-resources column %d = %q, want %q (line %q)", i, fields[i], want[i], out)
		}
	}
}

func TestGetShowsEveryExampleWithItsState(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	header, rows := table(t, kubectl(t, "get", "cst", "-n", namespace))
	if got := strings.Join(header, " "); got != "NAME STATE COMMON_NAME ISSUER EXPIRES AGE" {
		t.Errorf("default columns: %s", got)
	}
	want := map[string][]string{ // name: state, common name, issuer
		"valid-chain":   {"Valid", "web.example.com", "Example Intermediate CA"},
		"expiring-soon": {"ExpiringSoon", "expiring.example.com", "Example Intermediate CA"},
		"expired":       {"Expired", "expired.example.com", "Example Intermediate CA"},
		"not-yet-valid": {"NotYetValid", "future.example.com", "Example Intermediate CA"},
		"key-mismatch":  {"Invalid", "mismatch.example.com", "Example Intermediate CA"},
		"broken-chain":  {"Invalid", "orphan.example.com", "Example Intermediate CA"},
		"mutual-tls":    {"Valid", "mtls.example.com", "Example Intermediate CA"},
		"garbage":       {"Invalid", "", ""},
		"ca-bundle":     {"Valid", "Example Root CA", "Example Root CA"},
		// A keystore, a locked one and a kubeconfig (#25).
		"java-keystore":       {"Valid", "java.example.com", "Example Intermediate CA"},
		"locked-keystore":     {"Unknown", "", ""},
		"workload-kubeconfig": {"Valid", "kubernetes-admin", "workload-ca"},
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for name, cells := range want {
		row, ok := rows[name]
		if !ok {
			t.Errorf("no row for %s", name)
			continue
		}
		for i, cell := range cells {
			if row[i+1] != cell {
				t.Errorf("%s column %s = %q, want %q", name, header[i+1], row[i+1], cell)
			}
		}
	}
	if expires := rows["expired"][4]; !strings.HasSuffix(expires, " ago") {
		t.Errorf("expired EXPIRES = %q, want a duration ago", expires)
	}
	if _, ok := rows["no-certificate"]; ok {
		t.Error("a Secret without certificates is listed")
	}

	wideHeader, wide := table(t, kubectl(t, "get", "cst", "-n", namespace, "-o", "wide"))
	if got := strings.Join(wideHeader, " "); got != "NAME STATE COMMON_NAME ISSUER EXPIRES AGE DNS_NAMES NOT_AFTER KEY KEY_PAIR CHAIN CA CERTS TYPE USED_BY CERTIFICATE" {
		t.Errorf("wide columns: %s", got)
	}
	for name, cells := range map[string][]string{ // KEY, KEY PAIR, CHAIN, CA, CERTS, TYPE, USED BY, CERTIFICATE
		"valid-chain":  {"RSA-2048", "Match", "Verified", "false", "3", "kubernetes.io/tls", "<none>", "<none>"},
		"key-mismatch": {"ECDSA-P256", "Mismatch", "Verified", "false", "3", "kubernetes.io/tls", "<none>", "<none>"},
		"broken-chain": {"ECDSA-P256", "Match", "Broken", "false", "3", "kubernetes.io/tls", "<none>", "<none>"},
		"mutual-tls":   {"ECDSA-P256", "Match", "Unknown", "false", "3", "Opaque", "<none>", "<none>"},
		"ca-bundle":    {"ECDSA-P256", "Absent", "Unknown", "true", "4 (1 expired)", "Opaque", "<none>", "<none>"},
	} {
		row := wide[name]
		for i, cell := range cells {
			if row[8+i] != cell {
				t.Errorf("%s wide column %s = %q, want %q", name, wideHeader[8+i], row[8+i], cell)
			}
		}
	}
	if dns := wide["valid-chain"][6]; dns != "web.example.com,www.web.example.com" {
		t.Errorf("valid-chain DNS NAMES = %q", dns)
	}
	if _, err := time.Parse(time.RFC3339, wide["valid-chain"][7]); err != nil {
		t.Errorf("NOT AFTER is not RFC 3339: %v", err)
	}
}

func TestYAMLMatchesWhatOpenSSLSays(t *testing.T) {
	t.Parallel()
	openssl := certtest.OpenSSLBinary(t)
	namespace := loadDemoSecrets(t)
	var status v1alpha1.CertificateStatus
	if err := json.Unmarshal([]byte(kubectl(t, "get", "cst", "valid-chain", "-n", namespace, "-o", "json")), &status); err != nil {
		t.Fatal(err)
	}
	yaml := kubectl(t, "get", "cst", "valid-chain", "-n", namespace, "-o", "yaml")
	secret, err := env.kube.CoreV1().Secrets(namespace).Get(context.Background(), "valid-chain", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]string{}
	for _, key := range []string{"ca.crt", "tls.crt"} {
		byKey[key] = splitPEM(string(secret.Data[key]))
	}
	if len(status.Status.Certificates) != 3 {
		t.Fatalf("%d certificates, want 3", len(status.Status.Certificates))
	}
	dir := t.TempDir()
	for _, cert := range status.Status.Certificates {
		file := filepath.Join(dir, "cert.pem")
		if err := os.WriteFile(file, []byte(byKey[cert.Key][cert.Index]), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "x509", "-in", file, "-noout", "-subject", "-issuer", "-serial",
			"-fingerprint", "-sha256", "-nameopt", "RFC2253,-esc_msb").Output()
		if err != nil {
			t.Fatalf("openssl: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := map[string]string{}
		for _, line := range lines {
			k, v, _ := strings.Cut(line, "=")
			want[strings.ToLower(k)] = v
		}
		want["subject key id"], want["authority key id"] = certtest.OpenSSLKeyIDs(t, file)
		fields := map[string]string{
			"subject": cert.Subject, "issuer": cert.Issuer, "serial": cert.SerialNumber,
			"sha256 fingerprint": cert.SHA256Fingerprint, "subject key id": cert.SubjectKeyID,
		}
		if cert.AuthorityKeyID != "" || want["authority key id"] != "" {
			fields["authority key id"] = cert.AuthorityKeyID
		}
		for field, got := range fields {
			if got != want[field] {
				t.Errorf("%s[%d] %s = %q, openssl says %q", cert.Key, cert.Index, field, got, want[field])
			}
			if !strings.Contains(yaml, got) {
				t.Errorf("-o yaml does not show %s %q", field, got)
			}
		}
	}
	if strings.Contains(yaml, "PRIVATE KEY") || strings.Contains(yaml, "tls.key:") {
		t.Error("-o yaml shows key material")
	}
}

func splitPEM(bundle string) []string {
	var blocks []string
	for _, part := range strings.SplitAfter(bundle, "-----END CERTIFICATE-----") {
		if i := strings.Index(part, "-----BEGIN CERTIFICATE-----"); i >= 0 {
			blocks = append(blocks, part[i:]+"\n")
		}
	}
	return blocks
}

func TestExplainDocumentsTheFields(t *testing.T) {
	t.Parallel()
	// kube-apiserver fetches and merges an APIService's OpenAPI on its own
	// schedule, after the APIService is Available: right after the server
	// registered (this test run alone), explain may not know the resource yet.
	eventually(t, 60*time.Second, func() error {
		out, stderr, err := env.stack.Kubectl(context.Background(), "explain", "certificatestatus.status.certificates")
		if err != nil {
			return fmt.Errorf("kubectl explain: %v: %s", err, stderr)
		}
		for _, want := range []string{"KIND:       CertificateStatus", "sha256Fingerprint", "SHA-256 digest",
			"subject", "RFC 2253", "notAfter", "alias", "users[name]"} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("kubectl explain lacks %q:\n%s", want, out)
			}
		}
		// The states, Unknown included (#25).
		out, stderr, err = env.stack.Kubectl(context.Background(), "explain", "certificatestatus.status.state")
		if err != nil {
			return fmt.Errorf("kubectl explain: %v: %s", err, stderr)
		}
		if !strings.Contains(out, "Unknown when a locked keystore") {
			return fmt.Errorf("kubectl explain status.state lacks Unknown:\n%s", out)
		}
		// The webhooks of a registration a Secret serves (#26), documented
		// without the protobuf numbering notes meant for developers.
		out, stderr, err = env.stack.Kubectl(context.Background(), "explain", "certificatestatus.status.usedBy", "--recursive")
		if err != nil {
			return fmt.Errorf("kubectl explain: %v: %s", err, stderr)
		}
		for _, want := range []string{"webhooks\t<[]Webhook>", "failurePolicy\t<string>"} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("kubectl explain status.usedBy lacks %q:\n%s", want, out)
			}
		}
		out, stderr, err = env.stack.Kubectl(context.Background(), "explain", "certificatestatus.status.usedBy.kind")
		if err != nil {
			return fmt.Errorf("kubectl explain: %v: %s", err, stderr)
		}
		if !strings.Contains(out, "ValidatingWebhookConfiguration") {
			return fmt.Errorf("kubectl explain status.usedBy.kind lacks the registration kinds:\n%s", out)
		}
		out, stderr, err = env.stack.Kubectl(context.Background(), "explain", "certificatestatus.status.certificates.alias")
		if err != nil {
			return fmt.Errorf("kubectl explain: %v: %s", err, stderr)
		}
		if strings.Contains(out, "protobuf") || !strings.Contains(out, "friendlyName") {
			return fmt.Errorf("kubectl explain status.certificates.alias:\n%s", out)
		}
		return nil
	})
}

func TestSelectorsSortingAndChunking(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	names := func(args ...string) []string {
		out := kubectl(t, append([]string{"get", "cst", "-n", namespace, "-o", "name"}, args...)...)
		return strings.Fields(strings.ReplaceAll(out, "certificatestatus.certstatus.dev/", ""))
	}
	sorted := func(s []string) []string { s = append([]string(nil), s...); sort.Strings(s); return s }

	if got := names("--field-selector", "status.state=Expired"); strings.Join(got, ",") != "expired" {
		t.Errorf("state=Expired: %v", got)
	}
	if got := sorted(names("--field-selector", "status.state=Invalid,status.secretType=kubernetes.io/tls")); strings.Join(got, ",") != "broken-chain,garbage,key-mismatch" {
		t.Errorf("state=Invalid: %v", got)
	}
	if got := names("--field-selector", "metadata.name=ca-bundle"); strings.Join(got, ",") != "ca-bundle" {
		t.Errorf("metadata.name: %v", got)
	}
	if got := sorted(names("-l", "tier=frontend")); len(got) == 0 {
		t.Error("label selector tier=frontend selected nothing")
	} else {
		for _, name := range got {
			status, err := env.certs.CertstatusV1alpha1().CertificateStatuses(namespace).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil || status.Labels["tier"] != "frontend" {
				t.Errorf("%s selected by tier=frontend has labels %v (%v)", name, status.Labels, err)
			}
		}
	}
	stderr := kubectlFails(t, "", "get", "cst", "-n", namespace, "--field-selector", "status.chain.verified=True")
	for _, want := range []string{"BadRequest", "metadata.name, metadata.namespace, status.state, status.secretType"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("unsupported field selector: %q lacks %q", stderr, want)
		}
	}

	// --sort-by .status.notAfter: objects without notAfter (garbage) sort first, then by time.
	bySort := names("--sort-by", ".status.notAfter")
	var previous time.Time
	for _, name := range bySort {
		status, err := env.certs.CertstatusV1alpha1().CertificateStatuses(namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if status.Status.NotAfter == nil {
			continue
		}
		if status.Status.NotAfter.Time.Before(previous) {
			t.Errorf("--sort-by notAfter: %s (%v) after one expiring %v", name, status.Status.NotAfter, previous)
		}
		previous = status.Status.NotAfter.Time
	}

	all := sorted(names())
	chunked := sorted(names("--chunk-size=2"))
	if strings.Join(all, ",") != strings.Join(chunked, ",") || len(all) != listedDemoSecrets {
		t.Errorf("--chunk-size=2 gave %v, unchunked %v", chunked, all)
	}
}

func TestSecretChangesShowInTheNextGet(t *testing.T) {
	t.Parallel()
	namespace := newNamespace(t)
	ctx := context.Background()
	now := time.Now()
	first := newChain(t, "life.example.com", now.Add(-time.Hour), now.Add(30*24*time.Hour))
	createSecret(t, first.tlsSecret(namespace, "life", nil))
	clients := env.certs.CertstatusV1alpha1().CertificateStatuses(namespace)
	var before *v1alpha1.CertificateStatus
	eventually(t, 5*time.Second, func() (err error) {
		before, err = clients.Get(ctx, "life", metav1.GetOptions{})
		return err
	})

	renewed := newChain(t, "life.example.com", now.Add(-time.Hour), now.Add(90*24*time.Hour))
	if _, err := env.kube.CoreV1().Secrets(namespace).Update(ctx, renewed.tlsSecret(namespace, "life", nil), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		after, err := clients.Get(ctx, "life", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !after.Status.NotAfter.After(before.Status.NotAfter.Time) || after.ResourceVersion == before.ResourceVersion {
			return fmt.Errorf("renewal not seen: notAfter %v rv %s", after.Status.NotAfter, after.ResourceVersion)
		}
		return nil
	})

	if err := env.kube.CoreV1().Secrets(namespace).Delete(ctx, "life", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if _, err := clients.Get(ctx, "life", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("get after delete: %v, want NotFound", err)
		}
		return nil
	})

	createSecret(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "plain"},
		Data:       map[string][]byte{"password": []byte("hunter2")},
	})
	time.Sleep(500 * time.Millisecond)
	if _, err := clients.Get(ctx, "plain", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get of a Secret without certificates: %v, want NotFound", err)
	}
	if stderr := kubectlFails(t, "", "get", "cst", "plain", "-n", namespace); !strings.Contains(stderr, "NotFound") {
		t.Errorf("kubectl get of a Secret without certificates: %q", stderr)
	}
}

func TestWritesAreMethodNotAllowed(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	manifest := filepath.Join(t.TempDir(), "cst.yaml")
	if err := os.WriteFile(manifest, []byte("apiVersion: certstatus.dev/v1alpha1\nkind: CertificateStatus\nmetadata:\n  name: forged\n  namespace: "+namespace+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"delete", "cst", "valid-chain", "-n", namespace},
		{"create", "-f", manifest},
		{"label", "cst", "valid-chain", "-n", namespace, "x=y"},
		{"delete", "cst", "--all", "-n", namespace},
	} {
		stderr := kubectlFails(t, "", args...)
		if !strings.Contains(stderr, "MethodNotAllowed") || !strings.Contains(stderr, "read-only: it is computed from Secrets") {
			t.Errorf("kubectl %s: %q, want 405 saying the resource is read-only", strings.Join(args, " "), stderr)
		}
	}
	if _, err := env.certs.CertstatusV1alpha1().CertificateStatuses(namespace).Get(context.Background(), "valid-chain", metav1.GetOptions{}); err != nil {
		t.Errorf("valid-chain is gone after refused writes: %v", err)
	}
}

// A write to a resource the group does not serve is 404 NotFound, as
// kube-apiserver answers it, not the 405 of the resources it does serve:
// a 405 would say that the resource exists.
func TestUnservedResourcesAreNotFound(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	body := filepath.Join(t.TempDir(), "foo.json")
	if err := os.WriteFile(body, []byte(`{"apiVersion":"certstatus.dev/v1alpha1","kind":"Foo","metadata":{"name":"x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/apis/certstatus.dev/v1alpha1/foos",
		"/apis/certstatus.dev/v1alpha1/namespaces/" + namespace + "/foos",
		"/apis/certstatus.dev/v1alpha1/namespaces/" + namespace + "/certificatestatuses/valid-chain/status",
	} {
		stderr := kubectlFails(t, "", "create", "--raw", path, "-f", body)
		if !strings.Contains(stderr, "NotFound") || strings.Contains(stderr, "MethodNotAllowed") {
			t.Errorf("POST %s: %q, want 404 NotFound", path, stderr)
		}
	}
	// The served resource still says why a write is refused.
	stderr := kubectlFails(t, "", "create", "--raw", "/apis/certstatus.dev/v1alpha1/namespaces/"+namespace+"/certificatestatuses", "-f", body)
	if !strings.Contains(stderr, "MethodNotAllowed") || !strings.Contains(stderr, "read-only") {
		t.Errorf("POST certificatestatuses: %q, want 405 read-only", stderr)
	}
}

func TestKubectlWaitForReady(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	kubectl(t, "wait", "--for=condition=Ready", "cst/valid-chain", "-n", namespace, "--timeout=20s")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, stderr, err := env.stack.Kubectl(ctx, "wait", "--for=condition=Ready", "cst/expired", "-n", namespace, "--timeout=2s")
	if err == nil || !strings.Contains(stderr, "timed out") {
		t.Errorf("wait for an expired certificate to be Ready: err %v, stderr %q; want a time-out", err, stderr)
	}
}

func TestDeployManifestsAreAcceptedByKubeAPIServer(t *testing.T) {
	t.Parallel()
	// A cluster of its own: the shared one already has the harness's APIService
	// (with a caBundle), which a merge with the manifests' would not be.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fresh, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fresh.Stop() }()
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// A server-side dry run creates nothing, so the namespace must exist for
	// the namespaced objects to be checked.
	if _, stderr, err := fresh.Kubectl(ctx, "create", "namespace", "certstatus"); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, stderr)
	}
	out, stderr, err := fresh.Kubectl(ctx, "apply", "-k", filepath.Join(root, "artifacts", "deploy"), "--dry-run=server")
	if err != nil {
		t.Fatalf("kubectl apply -k artifacts/deploy --dry-run=server: %v\n%s", err, stderr)
	}
	for _, want := range []string{"apiservice.apiregistration.k8s.io/v1alpha1.certstatus.dev created (server dry run)",
		"deployment.apps/certstatus-apiserver created (server dry run)", "namespace/certstatus configured (server dry run)",
		"clusterrole.rbac.authorization.k8s.io/certstatus-apiserver created (server dry run)"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply -k --dry-run=server output lacks %q:\n%s", want, out)
		}
	}
}

func TestTypedClientExampleListsAndWatches(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	binary := filepath.Join(t.TempDir(), "typed-client")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = filepath.Join(root, "examples", "typed-client")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/typed-client (its own module): %v\n%s", err, out)
	}
	out, err := exec.Command(binary, "--kubeconfig", env.stack.AdminKubeconfig(), "--namespace", namespace, "--watch-for", "3s").CombinedOutput()
	if err != nil {
		t.Fatalf("typed-client: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{namespace + "/valid-chain Valid", namespace + "/expired Expired", fmt.Sprintf("synced %d", listedDemoSecrets), "ADDED " + namespace + "/ca-bundle Valid"} {
		if !strings.Contains(text, want) {
			t.Errorf("typed-client output lacks %q:\n%s", want, text)
		}
	}
}

func TestHealthEndpointsAndOpenAPI(t *testing.T) {
	t.Parallel()
	client, err := rest.HTTPClientFor(env.server.DirectRESTConfig(env.stack.RESTConfig()))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get(env.server.URL() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	if ready := get("/readyz?verbose"); !strings.Contains(ready, "[+]certstatus-secrets-synced ok") {
		t.Errorf("/readyz does not report the Secret cache:\n%s", ready)
	}
	// The loopback certificate certstatus makes itself (an ECDSA key, not
	// k8s.io/apiserver's RSA one) keeps the generic server's expiry check.
	if live := get("/livez?verbose"); !strings.Contains(live, "[+]loopback-serving-certificate ok") {
		t.Errorf("/livez does not check the loopback certificate:\n%s", live)
	}
	get("/healthz")
	if v2 := get("/openapi/v2"); !strings.Contains(v2, "dev.certstatus.v1alpha1.CertificateStatus") {
		t.Error("/openapi/v2 lacks the CertificateStatus definition")
	}
	if v3 := get("/openapi/v3/apis/certstatus.dev/v1alpha1"); !strings.Contains(v3, `"x-kubernetes-group-version-kind"`) {
		t.Error("/openapi/v3 lacks x-kubernetes-group-version-kind")
	}
}

// TestSelfSignedServingCertificate: without --tls-cert-file (the shipped
// kustomize Deployment), the server makes a P-256 serving certificate in
// --cert-dir, serves it, and serves the same one after a restart.
func TestSelfSignedServingCertificate(t *testing.T) {
	t.Parallel()
	certDir := t.TempDir()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	listener.Close()
	var args []string
	for _, arg := range env.server.Args() {
		if !strings.HasPrefix(arg, "--tls-") && !strings.HasPrefix(arg, "--secure-port=") {
			args = append(args, arg)
		}
	}
	args = append(args, "--secure-port="+strconv.Itoa(port), "--cert-dir="+certDir)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// The certificate is self-signed: what it is, is what the test checks.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	// served starts the server, returns the certificate /livez answers
	// with, and stops the server (by its PID).
	served := func() *x509.Certificate {
		t.Helper()
		cmd := exec.Command(env.binary, args...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}()
		var cert *x509.Certificate
		eventually(t, 60*time.Second, func() error {
			resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(port) + "/livez")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("/livez: %s", resp.Status)
			}
			cert = resp.TLS.PeerCertificates[0]
			return nil
		})
		return cert
	}
	first := served()
	if _, ok := first.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("serving key %T, want ECDSA", first.PublicKey)
	}
	if err := first.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	written, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
	if err != nil {
		t.Fatalf("no certificate in --cert-dir: %v", err)
	}
	if block, _ := pem.Decode(written); block == nil || !bytes.Equal(block.Bytes, first.Raw) {
		t.Error("the served certificate is not the one written to --cert-dir")
	}
	if again := served(); !again.Equal(first) {
		t.Error("a restart made a new serving certificate instead of using the one in --cert-dir")
	}
}
