package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/certstatus/certstatus/test/stack"
)

var apiServicesResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// The selfSigned serving certificate renews without an outage: the chart
// signs a new serving pair with the CA it kept, so the APIService's caBundle
// does not change, and the server reloads the new files by itself.
//
// Through the real stack: the chart's own templates render the CA, the
// serving pair and the APIService against the real kube-apiserver (`helm
// template --dry-run=server`, so `lookup` reads the Secrets back). A real
// certstatus server serves the rendered pair from files, as the pod does from
// its Secret volume, and the APIService trusts the rendered caBundle (there is
// no kube-proxy, so the stack's ExternalName Service stands in for the
// chart's). The serving Secret is deleted and the chart rendered again, its
// new pair replaces the files as the kubelet replaces a Secret volume's, and
// `kubectl get cst` through the aggregator and the APIService's Available
// condition are watched the whole time. Then kube-apiserver restarts, so the
// aggregator connects afresh and verifies the renewed certificate too (a
// pair from a new CA passes the first part on kept connections and fails
// this one).
func TestServingCertRenewalKeepsAPIServiceAvailable(t *testing.T) {
	ctx := context.Background()
	binary := serverBinary(t)
	namespace := stack.ServerNamespace
	ensureNamespaces(t, namespace)
	const leafName, caName = "certstatus-apiserver-serving-cert", "certstatus-apiserver-serving-ca"
	dnsName := stack.ServerServiceName + "." + namespace + ".svc"

	first := renderServing(t, namespace)
	if first.caBundle == nil || !bytes.Equal(first.caBundle, first.secrets[caName]["tls.crt"]) {
		t.Fatalf("the rendered APIService's caBundle is not the CA Secret's certificate")
	}
	kubectl(t, first.secretsYAML, "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = kubectlCommand("", "delete", "apiservice", stack.APIServiceName, "--ignore-not-found")
		_, _ = kubectlCommand("", "-n", namespace, "delete", "service", stack.ServerServiceName, "--ignore-not-found")
		_, _ = kubectlCommand("", "-n", namespace, "delete", "secret", leafName, caName, "--ignore-not-found")
		// What LaunchServer applied, so a later helm install finds no stranger's objects.
		for _, name := range []string{"serviceaccount.yaml", "rbac.yaml", "rbac-used-by.yaml", "aggregated-clusterroles.yaml"} {
			_, _ = kubectlCommand("", "delete", "--ignore-not-found", "-f", filepath.Join(env.root, "artifacts", "deploy", name))
		}
	})
	leaf := first.secrets[leafName]
	verifyServing(t, leaf["tls.crt"], first.caBundle, dnsName)

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	replaceFiles(t, leaf, certFile, keyFile)
	srv, err := env.stack.LaunchServerWithPair(ctx, binary, stack.ServingPair{CertFile: certFile, KeyFile: keyFile, CAPEM: first.caBundle, ServerName: dnsName}, "--used-by=")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	if err := env.stack.RegisterAPIServiceWithCA(ctx, srv.Port(), first.caBundle); err != nil {
		t.Fatal(err)
	}
	if served := servedCertificate(t, srv.Port(), first.caBundle, dnsName); !bytes.Equal(served, pemBlock(t, leaf["tls.crt"])) {
		t.Fatalf("the server does not serve the chart's serving certificate")
	}

	watcher := watchAvailability(t)
	watcher.waitAnswered(t, time.Time{}, 3) // the watch runs before the renewal begins

	// Renew: the documented way, delete the serving Secret and render again.
	kubectl(t, "", "-n", namespace, "delete", "secret", leafName)
	second := renderServing(t, namespace)
	if !bytes.Equal(second.caBundle, first.caBundle) {
		t.Fatalf("renewal changed the APIService's caBundle")
	}
	if !bytes.Equal(second.secrets[caName]["tls.key"], first.secrets[caName]["tls.key"]) {
		t.Fatalf("renewal generated a new CA; want the kept one")
	}
	renewed := second.secrets[leafName]
	if bytes.Equal(renewed["tls.crt"], leaf["tls.crt"]) || bytes.Equal(renewed["tls.key"], leaf["tls.key"]) {
		t.Fatalf("the second rendering kept the deleted serving pair; want a new certificate and key")
	}
	verifyServing(t, renewed["tls.crt"], first.caBundle, dnsName)
	kubectl(t, second.secretsYAML, "apply", "-f", "-")
	replaceFiles(t, renewed, certFile, keyFile)

	switched := time.Now()
	deadline := switched.Add(90 * time.Second) // the server also rereads the files every minute
	for !bytes.Equal(servedCertificate(t, srv.Port(), first.caBundle, dnsName), pemBlock(t, renewed["tls.crt"])) {
		if time.Now().After(deadline) {
			t.Fatalf("the server still serves the old certificate 90 s after its files were replaced")
		}
		time.Sleep(100 * time.Millisecond)
	}
	reloaded := time.Since(switched)
	watcher.waitAnswered(t, time.Now(), 3) // and after the new certificate is served
	got := watcher.stop()
	t.Logf("new certificate served %v after the files changed; %d kubectl get cst through the aggregator, %d after the switch, %d failures",
		reloaded.Round(time.Millisecond), got.requests, got.afterSwitch(switched), len(got.failures))
	for _, failure := range got.failures {
		t.Errorf("during renewal: %s", failure)
	}

	// kube-apiserver keeps its connections to the server open, so the
	// requests above may all have used a connection made before the switch.
	// A restarted kube-apiserver connects afresh, as every kube-apiserver does
	// in time: it must verify the renewed certificate against the same caBundle.
	if err := env.stack.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	var out string
	deadline = time.Now().Add(30 * time.Second)
	for out, err = kubectlCommand("", "get", "cst", "-n", namespace, "--request-timeout=5s"); err != nil; out, err = kubectlCommand("", "get", "cst", "-n", namespace, "--request-timeout=5s") {
		if time.Now().After(deadline) {
			t.Fatalf("after a kube-apiserver restart, kubectl get cst still fails through the aggregator: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the availability controller's first check of its own
	obj, err := dynamic.NewForConfigOrDie(env.stack.RESTConfig()).Resource(apiServicesResource).Get(ctx, stack.APIServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := apiServiceAvailable(obj); !ok {
		t.Errorf("after a kube-apiserver restart the APIService is not Available: %s", why)
	}
	if !strings.Contains(out, leafName) {
		t.Errorf("kubectl get cst -n %s does not list the serving Secret %s:\n%s", namespace, leafName, out)
	}
}

// rendering is what the chart's apiservice.yaml renders: the Secrets (as YAML
// to apply, and their data by name) and the APIService's caBundle.
type rendering struct {
	secretsYAML string
	secrets     map[string]map[string][]byte
	caBundle    []byte
}

// renderServing renders the serving pair, its CA and the APIService with
// lookups against the real kube-apiserver (release certstatus).
func renderServing(t *testing.T, namespace string) rendering {
	t.Helper()
	manifest := render(t, "certstatus", namespace, "--dry-run=server", "--show-only", "templates/apiservice.yaml")
	r := rendering{secrets: map[string]map[string][]byte{}}
	for _, obj := range decodeAll(t, manifest) {
		switch obj.GetKind() {
		case "Secret":
			data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
			decoded := map[string][]byte{}
			for key, value := range data {
				b, err := base64.StdEncoding.DecodeString(value)
				if err != nil {
					t.Fatalf("Secret %s key %s: %v", obj.GetName(), key, err)
				}
				decoded[key] = b
			}
			r.secrets[obj.GetName()] = decoded
			y, err := obj.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			r.secretsYAML += string(y) + "\n"
		case "APIService":
			encoded, _, _ := unstructured.NestedString(obj.Object, "spec", "caBundle")
			b, err := base64.StdEncoding.DecodeString(encoded)
			if err != nil {
				t.Fatalf("caBundle: %v", err)
			}
			r.caBundle = b
		}
	}
	if len(r.secrets) != 2 || r.caBundle == nil {
		t.Fatalf("want two Secrets and an APIService, rendered:\n%s", manifest)
	}
	return r
}

// replaceFiles writes the pair as the kubelet updates a Secret volume: new
// files renamed over the old ones, never a half-written file.
func replaceFiles(t *testing.T, secret map[string][]byte, certFile, keyFile string) {
	t.Helper()
	for file, data := range map[string][]byte{keyFile: secret["tls.key"], certFile: secret["tls.crt"]} {
		if err := os.WriteFile(file+".new", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".new", file); err != nil {
			t.Fatal(err)
		}
	}
}

// servedCertificate connects to the server directly, verifying it as the
// aggregator does (the caBundle, the Service's DNS name), and returns the
// DER of the certificate it serves.
func servedCertificate(t *testing.T, port int, caBundle []byte, dnsName string) []byte {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caBundle)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		&tls.Config{RootCAs: roots, ServerName: dnsName, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS to the server as the aggregator verifies it: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
}

func pemBlock(t *testing.T, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM block")
	}
	return block.Bytes
}

// availability is what watchAvailability saw.
type availability struct {
	requests int
	answered []time.Time // when each successful request finished
	failures []string
}

func (a availability) afterSwitch(switched time.Time) int {
	n := 0
	for _, at := range a.answered {
		if at.After(switched) {
			n++
		}
	}
	return n
}

type availabilityWatcher struct {
	snapshot func() availability
	stop     func() availability
}

// waitAnswered waits until n requests have been answered after since.
func (w availabilityWatcher) waitAnswered(t *testing.T, since time.Time, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for w.snapshot().afterSwitch(since) < n {
		if time.Now().After(deadline) {
			got := w.snapshot()
			t.Fatalf("kubectl get cst answered %d times after %s in 2 minutes (%d requests); failures: %v",
				got.afterSwitch(since), since.Format("15:04:05.000"), got.requests, got.failures)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watchAvailability runs `kubectl get cst` through the aggregator and reads
// the APIService's Available condition, one after the other, until stop.
func watchAvailability(t *testing.T) availabilityWatcher {
	t.Helper()
	apiServices := dynamic.NewForConfigOrDie(env.stack.RESTConfig()).Resource(apiServicesResource)
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu     sync.Mutex
		result availability
		done   = make(chan struct{})
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		result.failures = append(result.failures, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
	}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			out, err := kubectlCommandContext(ctx, "get", "cst", "-n", stack.ServerNamespace, "--request-timeout=5s")
			if ctx.Err() != nil {
				return
			}
			mu.Lock()
			result.requests++
			mu.Unlock()
			if err != nil {
				fail("kubectl get cst: %v: %s", err, out)
			} else {
				mu.Lock()
				result.answered = append(result.answered, time.Now())
				mu.Unlock()
			}
			obj, err := apiServices.Get(ctx, stack.APIServiceName, metav1.GetOptions{})
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				fail("get APIService: %v", err)
				continue
			}
			if ok, why := apiServiceAvailable(obj); !ok {
				fail("APIService not Available: %s", why)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	snapshot := func() availability {
		mu.Lock()
		defer mu.Unlock()
		return availability{requests: result.requests, answered: slices.Clone(result.answered), failures: slices.Clone(result.failures)}
	}
	return availabilityWatcher{snapshot: snapshot, stop: func() availability {
		cancel()
		<-done
		return snapshot()
	}}
}

func apiServiceAvailable(obj *unstructured.Unstructured) (bool, string) {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		cond, _ := c.(map[string]any)
		if cond["type"] == "Available" {
			return cond["status"] == "True", fmt.Sprintf("%v: %v", cond["reason"], cond["message"])
		}
	}
	return false, "no Available condition"
}

// serverBinary is $CERTSTATUS_SERVER (make e2e sets it), or a fresh build.
func serverBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("CERTSTATUS_SERVER"); path != "" {
		return path
	}
	out := filepath.Join(env.root, "_output", "bin", "certstatus-apiserver")
	build := exec.Command("go", "build", "-o", out, "./cmd/certstatus-apiserver")
	build.Dir = env.root
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build certstatus-apiserver: %v\n%s", err, output)
	}
	return out
}
