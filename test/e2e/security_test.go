package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

const cstPath = "/apis/certstatus.dev/v1alpha1"

// TestNoLeakage loads Secrets whose data keys, data values (text around PEM
// blocks, PEM headers, PEM block labels, private keys) and annotations
// (including a last-applied-configuration holding the data) carry unique
// markers, collects every response of get/list/watch in json, yaml and table
// through the aggregator and directly, the server's log at -v=10 and its
// /metrics, and fails if any marker shows up anywhere.
func TestNoLeakage(t *testing.T) {
	st := ownStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// With every /metrics family, so the scan covers the certificate series.
	// And with --events (granted), so the scan covers the Events it records.
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Kubectl(ctx, "apply", "-k", filepath.Join(root, "artifacts", "events")); err != nil {
		t.Fatalf("grant create on events: %v", err)
	}
	srv, err := st.StartServer(ctx, env.binary, "-v=10", "--x509-exporter-metrics", "--events")
	if err != nil {
		t.Fatalf("start certstatus with -v=10: %v", err)
	}
	kube := st.Client()
	ns := "leak"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	random := func(tag string) string {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return "mk" + tag + hex.EncodeToString(b)
	}
	var markers []string
	marker := func(tag string) string {
		m := random(tag)
		markers = append(markers, m)
		return m
	}

	c := newChain(t, "leak.example.com", time.Time{}, time.Time{})
	keyPEM := certtest.Must(c.leaf.KeyPEM(certtest.PKCS8))
	// The private key itself: its scalar as bytes, and a stretch of its PEM body.
	markers = append(markers, string(c.leaf.Key.(*ecdsa.PrivateKey).D.Bytes()[:20]))
	keyBody := strings.ReplaceAll(string(keyPEM), "\n", "")
	markers = append(markers, keyBody[60:100])

	leafWithHeader := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"X-Note": marker("pemheader")}, Bytes: c.leaf.DER})
	label := marker("pemlabel")
	tlsCrt := "# " + marker("text") + "\n" + string(leafWithHeader) + string(c.intermediate.PEM()) +
		"-----BEGIN " + label + "-----\nAAAA\n-----END " + label + "-----\n" + marker("trailer")
	tlsData := map[string][]byte{
		"tls.crt":                    []byte(tlsCrt),
		"tls.key":                    keyPEM,
		"ca.crt":                     c.root.PEM(),
		"extra-" + marker("keyname"): []byte(marker("value")),
	}
	lastApplied, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
		"metadata":   map[string]any{"name": "leaky-tls", "namespace": ns},
		"data":       tlsData,
		"stringData": map[string]string{"note": marker("lastapplied")},
	})
	if err != nil {
		t.Fatal(err)
	}
	createIn(t, kube, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky-tls", Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": string(lastApplied),
			"example.com/" + marker("annkey"):                  marker("annvalue"),
			"certstatus.dev/expiring-soon-threshold":           marker("threshold"),
		}},
		Type: corev1.SecretTypeTLS, Data: tlsData,
	})
	opaque := newChain(t, "opaque.leak.example.com", time.Time{}, time.Time{})
	createIn(t, kube, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky-opaque", Annotations: map[string]string{"note": marker("opaqueann")}},
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			"server.pem":                    append(certtest.Must(opaque.leaf.KeyPEM(certtest.SEC1)), certtest.ChainPEM(opaque.leaf, opaque.intermediate)...),
			"password-" + marker("keyname"): []byte(marker("password")),
		},
	})
	markers = append(markers, string(opaque.leaf.Key.(*ecdsa.PrivateKey).D.Bytes()[:20]))
	createIn(t, kube, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky-hidden"},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"token-" + marker("keyname"): []byte(marker("token"))},
	})

	admin := st.AdminKubeconfig()
	direct := directKubeconfig(t, srv, admin)
	routes := map[string]string{"aggregator": admin, "direct": direct}
	scanner := newLeakScanner(markers...)
	var mu sync.Mutex
	collect := func(what, out string) {
		mu.Lock()
		defer mu.Unlock()
		scanner.scan(what, []byte(out))
	}
	run := func(kubeconfig string, timeout time.Duration, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return st.KubectlAs(ctx, kubeconfig, args...)
	}

	// Wait until the server shows both listed Secrets, through both routes.
	for route, kubeconfig := range routes {
		eventually(t, 30*time.Second, func() error {
			out, _, err := run(kubeconfig, 30*time.Second, "get", "cst", "-n", ns, "-o", "name")
			if err != nil {
				return err
			}
			if !strings.Contains(out, "leaky-tls") || !strings.Contains(out, "leaky-opaque") {
				return fmt.Errorf("%s: listed %q, want leaky-tls and leaky-opaque", route, out)
			}
			return nil
		})
	}

	// Watches, open while Secrets change.
	var watches sync.WaitGroup
	watchOutputs := map[string]string{}
	for route, kubeconfig := range routes {
		for _, format := range []string{"json", "yaml", "table"} {
			args := []string{"get", "cst", "-n", ns, "-w", "--output-watch-events"}
			if format != "table" {
				args = append(args, "-o", format)
			}
			watches.Add(1)
			go func() {
				defer watches.Done()
				out, stderr, _ := run(kubeconfig, 7*time.Second, args...)
				collect(route+" kubectl watch "+format, out+stderr)
				mu.Lock()
				watchOutputs[route+" "+format] = out
				mu.Unlock()
			}()
		}
		for _, accept := range []string{"application/json", "application/json;as=Table;v=v1;g=meta.k8s.io"} {
			cfg := restConfigOf(t, kubeconfig)
			watches.Add(1)
			go func() {
				defer watches.Done()
				_, body, err := tryGet(cfg, cstPath+"/namespaces/"+ns+"/certificatestatuses?watch=1&timeoutSeconds=6", accept)
				if err != nil {
					t.Errorf("%s raw watch (%s): %v", route, accept, err)
				}
				collect(route+" raw watch "+accept, string(body))
				mu.Lock()
				watchOutputs[route+" raw "+accept] = string(body)
				mu.Unlock()
			}()
		}
	}
	time.Sleep(2500 * time.Millisecond)
	late := newChain(t, "late.leak.example.com", time.Time{}, time.Time{})
	lateSecret := late.tlsSecret(ns, "leaky-late", nil)
	lateSecret.Data["late-"+marker("keyname")] = []byte(marker("latevalue"))
	lateSecret.Annotations = map[string]string{"note": marker("lateann")}
	createIn(t, kube, lateSecret)
	secret, err := kube.CoreV1().Secrets(ns).Get(ctx, "leaky-opaque", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret.Data["server.pem"] = append(secret.Data["server.pem"], "\n# "+marker("update")+"\n"...)
	secret.Data["server.pem"] = append(secret.Data["server.pem"], late.root.PEM()...)
	if _, err := kube.CoreV1().Secrets(ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.CoreV1().Secrets(ns).Delete(ctx, "leaky-tls", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	watches.Wait()
	for what, out := range watchOutputs {
		if !strings.Contains(out, "leaky-late") {
			t.Errorf("%s watch did not see leaky-late being added (the scan would be vacuous):\n%s", what, out)
		}
	}
	createIn(t, kube, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky-tls", Annotations: map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": string(lastApplied),
	}}, Type: corev1.SecretTypeTLS, Data: tlsData})

	// Every get/list shape, through both routes.
	for route, kubeconfig := range routes {
		eventually(t, 15*time.Second, func() error {
			out, _, err := run(kubeconfig, 30*time.Second, "get", "cst", "-n", ns, "leaky-tls", "-o", "name")
			if err != nil {
				return err
			}
			if !strings.Contains(out, "leaky-tls") {
				return fmt.Errorf("%s: leaky-tls is not back", route)
			}
			return nil
		})
		for _, args := range [][]string{
			{"get", "cst", "-n", ns, "-o", "json"},
			{"get", "cst", "-n", ns, "-o", "yaml"},
			{"get", "cst", "-n", ns},
			{"get", "cst", "-n", ns, "-o", "wide"},
			{"get", "cst", "-A", "-o", "json"},
			{"get", "cst", "-n", ns, "leaky-tls", "-o", "json"},
			{"get", "cst", "-n", ns, "leaky-tls", "-o", "yaml"},
			{"get", "cst", "-n", ns, "leaky-tls", "-o", "wide"},
			{"get", "cst", "-n", ns, "leaky-opaque", "-o", "yaml"},
			{"get", "cst", "-n", ns, "leaky-hidden", "-o", "yaml"}, // 404
			{"describe", "cst", "-n", ns},
			{"get", "--raw", cstPath + "/namespaces/" + ns + "/certificatestatuses"},
			{"get", "--raw", cstPath + "/namespaces/" + ns + "/certificatestatuses/leaky-tls"},
		} {
			out, stderr, err := run(kubeconfig, 30*time.Second, args...)
			collect(route+" kubectl "+strings.Join(args, " "), out+stderr)
			if err != nil && !strings.Contains(strings.Join(args, " "), "leaky-hidden") {
				t.Errorf("%s kubectl %s: %v", route, strings.Join(args, " "), err)
			}
		}
		cfg := restConfigOf(t, kubeconfig)
		for _, accept := range []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/json;as=Table;v=v1;g=meta.k8s.io"} {
			for _, path := range []string{"/namespaces/" + ns + "/certificatestatuses", "/certificatestatuses", "/namespaces/" + ns + "/certificatestatuses/leaky-opaque"} {
				code, body, err := tryGet(cfg, cstPath+path, accept)
				if err != nil || code >= 500 {
					t.Errorf("%s GET %s (%s): %d %v", route, path, accept, code, err)
				}
				collect(fmt.Sprintf("%s GET %s (%s)", route, path, accept), string(body))
			}
		}
	}

	// The Events recorded for an expired Secret full of markers.
	expired := newChain(t, "expired.leak.example.com", time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)).tlsSecret(ns, "leaky-expired", nil)
	expired.Data["x-"+marker("eventkey")] = []byte(marker("eventvalue"))
	expired.Annotations = map[string]string{"note": marker("eventann"), "certstatus.dev/expiring-soon-threshold": marker("eventthreshold")}
	expired.Labels = map[string]string{"l": marker("eventlabel")}
	createIn(t, kube, expired)
	var eventsYAML string
	eventually(t, time.Minute, func() error {
		out, _, err := run(admin, 30*time.Second, "get", "events.events.k8s.io", "-n", ns, "-o", "yaml")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "name: leaky-expired") || !strings.Contains(out, "reason: Expired") {
			return fmt.Errorf("no Expired Event regarding leaky-expired yet")
		}
		eventsYAML = out
		return nil
	})
	collect("Events (events.k8s.io, yaml)", eventsYAML)
	described, _, err := run(admin, 30*time.Second, "describe", "cst", "-n", ns, "leaky-expired")
	if err != nil {
		t.Fatal(err)
	}
	collect("kubectl describe cst leaky-expired", described)

	// The server's own /metrics, and its log at -v=10.
	adminDirect := srv.DirectRESTConfig(st.RESTConfig())
	code, metrics := rawGet(t, adminDirect, "/metrics")
	if code != 200 || len(metrics) < 1000 {
		t.Errorf("/metrics: %d with %d bytes", code, len(metrics))
	}
	for _, series := range []string{
		`certstatus_secret_state{namespace="leak",secret="leaky-tls",state=`,
		`certstatus_secret_info{namespace="leak",secret="leaky-opaque",`,
		`x509_cert_not_after{secret_namespace="leak",secret_name="leaky-tls",secret_key="tls.crt",`,
	} {
		if !strings.Contains(string(metrics), series) {
			t.Errorf("/metrics has no %s...: the scan does not cover the certificate series", series)
		}
	}
	collect("/metrics", string(metrics))
	time.Sleep(time.Second) // let the last log lines land
	log, err := os.ReadFile(srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	collect("server log (-v=10)", string(log))

	// Positive control: the same scanner finds the markers in the Secret itself.
	control := newLeakScanner(markers...)
	secretYAML, _, err := run(admin, 30*time.Second, "get", "secret", "-n", ns, "leaky-tls", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	control.scan("the Secret", []byte(secretYAML))
	if len(control.found) < 5 {
		t.Errorf("the scanner finds only %d markers in the Secret itself: it is blind", len(control.found))
	}

	t.Logf("scanned %d outputs, %d bytes (server log %d bytes, /metrics %d bytes) for %d markers (%d forms each)",
		scanner.responses, scanner.bytes, len(log), len(metrics), len(markers), len(markerForms(markers[0])))
	for _, f := range scanner.found {
		t.Errorf("leak: %s", f)
	}
}

func createIn(t *testing.T, kube kubernetes.Interface, secret *corev1.Secret) {
	t.Helper()
	if _, err := kube.CoreV1().Secrets(secret.Namespace).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Secret %s/%s: %v", secret.Namespace, secret.Name, err)
	}
}

// TestAuthorization: authorization happens twice, in kube-apiserver and in
// the server's delegated SubjectAccessReview; a client certificate from an
// unknown CA is refused; namespaced grants and the aggregated view role work.
func TestAuthorization(t *testing.T) {
	nsA, nsB := newNamespace(t), newNamespace(t)
	c := newChain(t, "authz.example.com", time.Time{}, time.Time{})
	createSecret(t, c.tlsSecret(nsA, "web", nil))
	createSecret(t, c.tlsSecret(nsB, "web", nil))
	listA, listB := cstPath+"/namespaces/"+nsA+"/certificatestatuses", cstPath+"/namespaces/"+nsB+"/certificatestatuses"

	// Control: the admin gets through, directly and through the aggregator.
	adminDirect := env.server.DirectRESTConfig(env.stack.RESTConfig())
	eventually(t, 15*time.Second, func() error {
		if code, body := rawGet(t, adminDirect, listA); code != 200 || !strings.Contains(string(body), `"web"`) {
			return fmt.Errorf("admin direct list: %d %s", code, body)
		}
		return nil
	})

	t.Run("no grant", func(t *testing.T) {
		user := "nobody-" + nsA
		kubeconfig, err := env.stack.UserKubeconfig(user)
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"get", "cst", "-n", nsA}, {"get", "cst", "-n", nsA, "web"}, {"get", "cst", "-A"}} {
			if stderr := kubectlFails(t, kubeconfig, args...); !strings.Contains(stderr, "forbidden") {
				t.Errorf("aggregator, kubectl %s: %s, want forbidden", strings.Join(args, " "), stderr)
			}
		}
		direct := env.server.DirectRESTConfig(restConfigOf(t, kubeconfig))
		for _, path := range []string{listA, listA + "/web", listA + "?watch=1&timeoutSeconds=1", cstPath + "/certificatestatuses"} {
			code, body := rawGet(t, direct, path)
			if code != 403 || !strings.Contains(string(body), `"reason":"Forbidden"`) || !strings.Contains(string(body), user) {
				t.Errorf("direct GET %s as %s: %d %s, want 403 Forbidden from the server's delegated authorization", path, user, code, body)
			}
		}
	})

	t.Run("untrusted client certificate", func(t *testing.T) {
		// A certificate that claims to be a cluster admin, from a CA nobody trusts.
		rogue := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Rogue CA"}))
		client := certtest.Must(rogue.NewLeaf(certtest.Spec{
			Subject:     pkix.Name{CommonName: "system:admin", Organization: []string{"system:masters"}},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}))
		key := certtest.Must(client.KeyPEM(certtest.PKCS8))
		for name, cfg := range map[string]*rest.Config{
			"direct":     {Host: env.server.URL(), TLSClientConfig: rest.TLSClientConfig{CAData: env.server.CAPEM(), CertData: client.PEM(), KeyData: key}},
			"aggregator": {Host: env.stack.APIServerURL(), TLSClientConfig: rest.TLSClientConfig{CAFile: env.stack.ClusterCAFile(), CertData: client.PEM(), KeyData: key}},
		} {
			code, body, err := tryGet(cfg, listA, "")
			switch {
			case err != nil:
				t.Logf("%s: refused during the TLS handshake: %v", name, err)
			case code == 401:
				t.Logf("%s: 401 Unauthorized", name)
			default:
				t.Errorf("%s: %d %s, want 401 or a TLS failure", name, code, body)
			}
			if strings.Contains(string(body), `"web"`) {
				t.Errorf("%s: the list leaked to an untrusted certificate", name)
			}
		}
	})

	t.Run("role in one namespace", func(t *testing.T) {
		user := "reader-" + nsA
		grant(t, nsA, user, "Role", "cst-reader", []rbacv1.PolicyRule{{
			APIGroups: []string{"certstatus.dev"}, Resources: []string{"certificatestatuses"}, Verbs: []string{"get", "list", "watch"},
		}})
		kubeconfig, err := env.stack.UserKubeconfig(user)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 15*time.Second, func() error {
			out, _, err := env.stack.KubectlAs(context.Background(), kubeconfig, "get", "cst", "-n", nsA, "-o", "name")
			if err != nil || !strings.Contains(out, "web") {
				return fmt.Errorf("list in %s: %q %v", nsA, out, err)
			}
			return nil
		})
		for _, args := range [][]string{{"get", "cst", "-n", nsB}, {"get", "cst", "-A"}, {"get", "secrets", "-n", nsA}, {"get", "secret", "web", "-n", nsA}} {
			if stderr := kubectlFails(t, kubeconfig, args...); !strings.Contains(stderr, "forbidden") {
				t.Errorf("kubectl %s: %s, want forbidden", strings.Join(args, " "), stderr)
			}
		}
		direct := env.server.DirectRESTConfig(restConfigOf(t, kubeconfig))
		eventually(t, 20*time.Second, func() error { // denials are cached for about 10 s
			if code, body := rawGet(t, direct, listA); code != 200 || !strings.Contains(string(body), `"web"`) {
				return fmt.Errorf("direct list in %s: %d %s", nsA, code, body)
			}
			return nil
		})
		if code, body := rawGet(t, direct, listB); code != 403 {
			t.Errorf("direct list in %s: %d %s, want 403", nsB, code, body)
		}
	})

	t.Run("view", func(t *testing.T) {
		user := "viewer-" + nsA
		grant(t, nsA, user, "ClusterRole", "view", nil)
		kubeconfig, err := env.stack.UserKubeconfig(user)
		if err != nil {
			t.Fatal(err)
		}
		// kube-controller-manager folds artifacts/deploy's aggregated
		// ClusterRole into view.
		eventually(t, 60*time.Second, func() error {
			out, _, err := env.stack.KubectlAs(context.Background(), kubeconfig, "get", "cst", "-n", nsA, "-o", "name")
			if err != nil || !strings.Contains(out, "web") {
				return fmt.Errorf("list in %s as a viewer: %q %v", nsA, out, err)
			}
			return nil
		})
		for _, args := range [][]string{{"get", "cst", "-n", nsB}, {"get", "secrets", "-n", nsA}} {
			if stderr := kubectlFails(t, kubeconfig, args...); !strings.Contains(stderr, "forbidden") {
				t.Errorf("kubectl %s: %s, want forbidden", strings.Join(args, " "), stderr)
			}
		}
	})
}

// delegatingIdentity gives user the two bindings an aggregated server needs
// to delegate authentication and authorization (removed when the test
// ends), and returns a kubeconfig of user's.
func delegatingIdentity(t *testing.T, ctx context.Context, user string) string {
	t.Helper()
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user + ":auth-delegator"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:auth-delegator"}}
	if _, err := env.kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{})
	})
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user + ":auth-reader", Namespace: "kube-system"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "extension-apiserver-authentication-reader"}}
	if _, err := env.kube.RbacV1().RoleBindings("kube-system").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.kube.RbacV1().RoleBindings("kube-system").Delete(context.Background(), rb.Name, metav1.DeleteOptions{})
	})
	kubeconfig, err := env.stack.UserKubeconfig(user)
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// grant binds user in namespace ns to a Role made of rules (kind "Role") or
// to an existing ClusterRole (kind "ClusterRole", rules nil).
func grant(t *testing.T, ns, user, kind, name string, rules []rbacv1.PolicyRule) {
	t.Helper()
	ctx := context.Background()
	if kind == "Role" {
		if _, err := env.kube.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user + "-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if _, err := env.kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestServerLeastPrivilege: the server runs as its ServiceAccount with
// exactly the RBAC of artifacts/deploy, and that RBAC grants nothing more
// than reading Secrets and the other sources (ConfigMaps, ...) and
// delegating authentication and authorization.
func TestServerLeastPrivilege(t *testing.T) {
	const identity = "system:serviceaccount:" + stack.ServerNamespace + ":" + stack.ServerServiceAccount
	ctx := context.Background()

	// It runs with that identity (and the shared server works with it: the
	// other tests are the proof that it is enough).
	args := strings.Join(env.server.Args(), " ")
	for _, flag := range []string{"--kubeconfig=", "--authentication-kubeconfig=", "--authorization-kubeconfig="} {
		if strings.Count(args, flag) != 1 || !strings.Contains(args, flag+env.stack.ServerKubeconfig()) {
			t.Errorf("server arguments %q: want exactly one %s%s", args, flag, env.stack.ServerKubeconfig())
		}
	}
	who, _, err := env.stack.KubectlAs(ctx, env.stack.ServerKubeconfig(), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
	if err != nil || !strings.HasPrefix(who, identity+" ") {
		t.Fatalf("the server's kubeconfig is %q (%v), want %s", who, err, identity)
	}

	as := []string{"--as=" + identity, "--as-group=system:serviceaccounts", "--as-group=system:serviceaccounts:" + stack.ServerNamespace, "--as-group=system:authenticated"}
	canI := func(args ...string) bool {
		out, _, _ := env.stack.Kubectl(ctx, append(append([]string{"auth", "can-i"}, args...), as...)...)
		return strings.TrimSpace(out) == "yes"
	}
	for _, check := range []struct {
		args []string
		want bool
	}{
		{[]string{"list", "secrets", "-A"}, true},
		{[]string{"watch", "secrets", "-A"}, true},
		{[]string{"get", "secrets", "-n", "default"}, true},
		{[]string{"create", "tokenreviews.authentication.k8s.io"}, true},
		{[]string{"create", "subjectaccessreviews.authorization.k8s.io"}, true},
		{[]string{"get", "configmaps/extension-apiserver-authentication", "-n", "kube-system"}, true},
		{[]string{"create", "secrets", "-n", "default"}, false},
		{[]string{"update", "secrets", "-n", "default"}, false},
		{[]string{"delete", "secrets", "-n", "default"}, false},
		// Sources (artifacts/deploy/rbac-sources.yaml): ConfigMaps are read, never written.
		{[]string{"list", "configmaps", "-A"}, true},
		{[]string{"watch", "configmaps", "-A"}, true},
		{[]string{"get", "configmaps/kube-root-ca.crt", "-n", "kube-system"}, true},
		{[]string{"create", "configmaps", "-n", "default"}, false},
		{[]string{"update", "configmaps", "-n", "default"}, false},
		{[]string{"delete", "configmaps", "-n", "default"}, false},
		{[]string{"watch", "apiservices.apiregistration.k8s.io"}, true},
		{[]string{"watch", "validatingwebhookconfigurations.admissionregistration.k8s.io"}, true},
		{[]string{"watch", "mutatingwebhookconfigurations.admissionregistration.k8s.io"}, true},
		{[]string{"watch", "customresourcedefinitions.apiextensions.k8s.io"}, true},
		{[]string{"watch", "clustertrustbundles.certificates.k8s.io"}, true},
		{[]string{"list", "services", "-A"}, true},
		{[]string{"update", "validatingwebhookconfigurations.admissionregistration.k8s.io"}, false},
		{[]string{"delete", "apiservices.apiregistration.k8s.io"}, false},
		{[]string{"update", "customresourcedefinitions.apiextensions.k8s.io"}, false},
		{[]string{"list", "flowschemas.flowcontrol.apiserver.k8s.io"}, false},
		{[]string{"list", "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io"}, false},
		{[]string{"list", "namespaces"}, false},
		// usedBy (artifacts/deploy/rbac-used-by.yaml): reads only.
		{[]string{"list", "pods", "-A"}, true},
		{[]string{"watch", "ingresses.networking.k8s.io", "-A"}, true},
		{[]string{"watch", "replicasets.apps", "-A"}, true},
		{[]string{"watch", "jobs.batch", "-A"}, true},
		{[]string{"delete", "pods", "-n", "default"}, false},
		{[]string{"update", "ingresses.networking.k8s.io", "-n", "default"}, false},
		{[]string{"list", "deployments.apps", "-A"}, false},
		{[]string{"get", "pods", "--subresource=log", "-n", "default"}, false},
		{[]string{"create", "pods", "--subresource=exec", "-n", "default"}, false},
		{[]string{"create", "certificatesigningrequests.certificates.k8s.io"}, false},
		{[]string{"list", "certificatestatuses.certstatus.dev", "-A"}, false},
		{[]string{"impersonate", "users"}, false},
		{[]string{"*", "*"}, false},
	} {
		if got := canI(check.args...); got != check.want {
			t.Errorf("can %s %s: %v, want %v", identity, strings.Join(check.args, " "), got, check.want)
		}
	}

	// The registrations' ClusterRole grants Pods and Services by itself:
	// Trusted must not depend on usedBy's Pod kind (and its RBAC) being on.
	registrations, err := env.kube.RbacV1().ClusterRoles().Get(ctx, "certstatus-apiserver:registrations", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, resource := range []string{"pods", "services"} {
		granted := map[string]bool{}
		for _, rule := range registrations.Rules {
			if slices.Contains(rule.APIGroups, "") && slices.Contains(rule.Resources, resource) {
				for _, verb := range rule.Verbs {
					granted[verb] = true
				}
			}
		}
		if !granted["list"] || !granted["watch"] || len(granted) != 3 {
			t.Errorf("certstatus-apiserver:registrations grants %v on %s, want get, list, watch", granted, resource)
		}
	}

	// Exactly the bindings of artifacts/deploy/rbac.yaml name it, and the
	// Secret rule is read-only.
	subjectIsServer := func(subjects []rbacv1.Subject) bool {
		for _, s := range subjects {
			if (s.Kind == rbacv1.ServiceAccountKind && s.Namespace == stack.ServerNamespace && s.Name == stack.ServerServiceAccount) ||
				(s.Kind == rbacv1.UserKind && s.Name == identity) ||
				(s.Kind == rbacv1.GroupKind && s.Name == "system:serviceaccounts:"+stack.ServerNamespace) {
				return true
			}
		}
		return false
	}
	var bindings []string
	crbs, err := env.kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		if subjectIsServer(b.Subjects) {
			bindings = append(bindings, fmt.Sprintf("ClusterRoleBinding %s → %s %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name))
		}
	}
	rbs, err := env.kube.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rbs.Items {
		if subjectIsServer(b.Subjects) {
			bindings = append(bindings, fmt.Sprintf("RoleBinding %s/%s → %s %s", b.Namespace, b.Name, b.RoleRef.Kind, b.RoleRef.Name))
		}
	}
	want := []string{
		"ClusterRoleBinding certstatus-apiserver → ClusterRole certstatus-apiserver",
		"ClusterRoleBinding certstatus-apiserver:configmaps → ClusterRole certstatus-apiserver:configmaps",
		"ClusterRoleBinding certstatus-apiserver:registrations → ClusterRole certstatus-apiserver:registrations",
		"ClusterRoleBinding certstatus-apiserver:system:auth-delegator → ClusterRole system:auth-delegator",
		"ClusterRoleBinding certstatus-apiserver:used-by → ClusterRole certstatus-apiserver:used-by",
		"RoleBinding kube-system/certstatus-apiserver-auth-reader → Role extension-apiserver-authentication-reader",
	}
	sort.Strings(bindings)
	if strings.Join(bindings, "\n") != strings.Join(want, "\n") {
		t.Errorf("bindings naming the server:\n%s\nwant:\n%s", strings.Join(bindings, "\n"), strings.Join(want, "\n"))
	}
	role, err := env.kube.RbacV1().ClusterRoles().Get(ctx, "certstatus-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Secrets, and get on cert-manager's Certificates for their keystore
	// passwords (api.md, "Keystores"): nothing else, no write.
	var granted []string
	for _, rule := range role.Rules {
		if len(rule.ResourceNames) != 0 || len(rule.NonResourceURLs) != 0 {
			t.Errorf("ClusterRole certstatus-apiserver rule %+v names objects or URLs", rule)
		}
		granted = append(granted, fmt.Sprintf("%s %s/%s", strings.Join(rule.Verbs, ","), strings.Join(rule.APIGroups, ","), strings.Join(rule.Resources, ",")))
	}
	if got, want := strings.Join(granted, "; "), "get,list,watch /secrets; get cert-manager.io/certificates"; got != want {
		t.Errorf("ClusterRole certstatus-apiserver grants %q, want %q", got, want)
	}
	// usedBy's reads, including the Gateway kinds whose CRDs this cluster
	// lacks (kubectl auth can-i cannot name those).
	usedBy, err := env.kube.RbacV1().ClusterRoles().Get(ctx, "certstatus-apiserver:used-by", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, rule := range usedBy.Rules {
		if strings.Join(rule.Verbs, ",") != "get,list,watch" || len(rule.ResourceNames) != 0 || len(rule.NonResourceURLs) != 0 {
			t.Errorf("usedBy rule %+v is not a plain read", rule)
		}
		for _, group := range rule.APIGroups {
			for _, resource := range rule.Resources {
				rules = append(rules, resource+"."+group)
			}
		}
	}
	sort.Strings(rules)
	if want := "gateways.gateway.networking.k8s.io gateways.networking.istio.io ingresses.networking.k8s.io jobs.batch listenersets.gateway.networking.k8s.io pods. replicasets.apps"; strings.Join(rules, " ") != want {
		t.Errorf("usedBy reads %q, want %q", strings.Join(rules, " "), want)
	}
}

// TestNamespacesFlag: with --namespaces a,b the server watches Secrets only
// there, runs with nothing but namespaced Roles in a and b (plus the two
// delegation bindings), and answers for other namespaces with an empty list
// and 404s, not errors.
func TestNamespacesFlag(t *testing.T) {
	a, b, c := newNamespace(t), newNamespace(t), newNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ns := range []string{a, b, c} {
		ch := newChain(t, "web."+ns+".example.com", time.Time{}, time.Time{})
		createSecret(t, ch.tlsSecret(ns, "web", nil))
	}

	// An identity of its own with Roles in a and b only.
	user := "certstatus-scoped-" + a
	for _, ns := range []string{a, b} {
		grant(t, ns, user, "Role", "secret-reader", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}}})
	}
	kubeconfig := delegatingIdentity(t, ctx, user)
	for _, check := range []struct {
		args []string
		want string
	}{{[]string{"list", "secrets", "-A"}, "no"}, {[]string{"list", "secrets", "-n", c}, "no"}, {[]string{"watch", "secrets", "-n", a}, "yes"}} {
		out, _, _ := env.stack.KubectlAs(ctx, kubeconfig, append([]string{"auth", "can-i"}, check.args...)...)
		if strings.TrimSpace(out) != check.want {
			t.Fatalf("the scoped identity: can-i %s = %q, want %s", strings.Join(check.args, " "), out, check.want)
		}
	}

	// Later flags win: the server runs with the scoped identity.
	srv, err := env.stack.LaunchServer(ctx, env.binary, "--namespaces="+a+","+b, "-v=2",
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig)
	if err != nil {
		t.Fatalf("start certstatus with --namespaces and only namespaced Roles: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	direct := srv.DirectRESTConfig(env.stack.RESTConfig())

	items := func(path string) []string {
		t.Helper()
		code, body := rawGet(t, direct, path)
		if code != 200 {
			t.Fatalf("GET %s: %d %s, want 200", path, code, body)
		}
		var list struct {
			Items []metav1.PartialObjectMetadata `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		var names []string
		for _, item := range list.Items {
			names = append(names, item.Namespace+"/"+item.Name)
		}
		sort.Strings(names)
		return names
	}
	nsPath := func(ns string) string { return cstPath + "/namespaces/" + ns + "/certificatestatuses" }
	if got := items(nsPath(a)); strings.Join(got, ",") != a+"/web" {
		t.Errorf("list in %s: %v", a, got)
	}
	if got := items(nsPath(b)); strings.Join(got, ",") != b+"/web" {
		t.Errorf("list in %s: %v", b, got)
	}
	if got := items(nsPath(c)); len(got) != 0 {
		t.Errorf("list in %s (not watched): %v, want an empty list", c, got)
	}
	if got := items(cstPath + "/certificatestatuses"); strings.Join(got, ",") != a+"/web,"+b+"/web" {
		t.Errorf("list in all namespaces: %v, want only %s/web and %s/web", got, a, b)
	}
	if code, body := rawGet(t, direct, nsPath(c)+"/web"); code != 404 {
		t.Errorf("get in %s: %d %s, want 404", c, code, body)
	}
	if code, body := rawGet(t, direct, nsPath("kube-system")+"/anything"); code != 404 {
		t.Errorf("get in kube-system: %d %s, want 404", code, body)
	}

	// Changes in watched namespaces still arrive; those elsewhere do not.
	ch := newChain(t, "late.example.com", time.Time{}, time.Time{})
	createSecret(t, ch.tlsSecret(b, "late", nil))
	createSecret(t, ch.tlsSecret(c, "late", nil))
	eventually(t, 15*time.Second, func() error {
		if got := items(nsPath(b)); len(got) != 2 {
			return fmt.Errorf("list in %s: %v, want web and late", b, got)
		}
		return nil
	})
	for i := 0; i < 20; i++ {
		items(nsPath(c))
		if code, _ := rawGet(t, direct, nsPath(c)+"/late"); code != 404 {
			t.Fatalf("get %s/late: %d, want 404", c, code)
		}
	}
	time.Sleep(3 * time.Second) // room for any retry loop to show up in the log
	errs := errorLines(t, srv.LogPath())
	t.Logf("server log with --namespaces and namespaced Roles: %d error lines", len(errs))
	for _, line := range errs {
		t.Errorf("error in the log: %s", line)
	}
}
