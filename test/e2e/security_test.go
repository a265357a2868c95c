package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
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
	srv, err := st.StartServer(ctx, env.binary, "-v=10")
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

	// The server's own /metrics, and its log at -v=10.
	adminDirect := srv.DirectRESTConfig(st.RESTConfig())
	code, metrics := rawGet(t, adminDirect, "/metrics")
	if code != 200 || len(metrics) < 1000 {
		t.Errorf("/metrics: %d with %d bytes", code, len(metrics))
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
