package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// usedByWithin is how fast a change of a using object must reach watchers.
const usedByWithin = time.Second

// usedByOf renders usedBy compactly: "Ingress/ns/name[hosts|!uncovered]×pods".
func usedByOf(object *v1alpha1.CertificateStatus) []string {
	var out []string
	for _, u := range object.Status.UsedBy {
		s := u.Kind + "/" + u.Namespace + "/" + u.Name
		if len(u.Hosts) > 0 {
			s += "[" + strings.Join(u.Hosts, ",")
			if len(u.HostsNotCovered) > 0 {
				s += "|!" + strings.Join(u.HostsNotCovered, ",")
			}
			s += "]"
		}
		if u.Pods > 0 {
			s += fmt.Sprintf("×%d", u.Pods)
		}
		out = append(out, s)
	}
	return out
}

func hostsCoveredOf(object *v1alpha1.CertificateStatus) *metav1.Condition {
	for i := range object.Status.Conditions {
		if object.Status.Conditions[i].Type == v1alpha1.ConditionHostsCovered {
			return &object.Status.Conditions[i]
		}
	}
	return nil
}

// expectUsedBy waits for the next event of name and checks it is a MODIFIED
// with the given usedBy and HostsCovered status ("" for absent), arriving
// within usedByWithin of since.
func expectUsedBy(t *testing.T, w *watchRecorder, since time.Time, name string, usedBy []string, covered metav1.ConditionStatus) *v1alpha1.CertificateStatus {
	t.Helper()
	ev := w.expect(t, 10*time.Second, watch.Modified, name)
	if got := usedByOf(ev.Object); !reflect.DeepEqual(got, usedBy) {
		t.Fatalf("usedBy %q, want %q", got, usedBy)
	}
	c := hostsCoveredOf(ev.Object)
	switch {
	case covered == "" && c != nil:
		t.Fatalf("HostsCovered %+v, want none", c)
	case covered != "" && (c == nil || c.Status != covered):
		t.Fatalf("HostsCovered %+v, want %s", c, covered)
	}
	delay := ev.At.Sub(since)
	if delay > usedByWithin {
		t.Errorf("the watch saw the change after %v, want within %v", delay, usedByWithin)
	}
	t.Logf("%s: MODIFIED %v after the write", name, delay.Round(time.Millisecond))
	return ev.Object
}

func ingressFor(namespace, name, secret string, hosts ...string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: networkingv1.IngressSpec{
			TLS:   []networkingv1.IngressTLS{{SecretName: secret, Hosts: hosts}},
			Rules: []networkingv1.IngressRule{{Host: hosts[0]}},
		},
	}
}

// TestUsedByIngressesAndWorkloads: real Ingresses, Deployments, ReplicaSets
// and Pods (kube-apiserver stores Pods nobody runs; no controller makes
// ReplicaSets, so the test writes the owner references a controller would).
func TestUsedByIngressesAndWorkloads(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	host := "web." + ns + ".example.com"
	ch := newChain(t, host, time.Time{}, time.Time{}) // DNS names: host, www.host
	web := ch.tlsSecret(ns, "web", nil)
	web.Annotations = map[string]string{
		"cert-manager.io/certificate-name": "web-cert", "cert-manager.io/issuer-name": "letsencrypt",
		"cert-manager.io/issuer-kind": "ClusterIssuer", "cert-manager.io/issuer-group": "cert-manager.io",
	}
	createSecret(t, web)
	wildcard := certtest.Must(ch.intermediate.NewLeaf(certtest.Spec{CommonName: "*." + ns + ".example.com",
		DNSNames: []string{"*." + ns + ".example.com"}, KeyAlgorithm: certtest.ECDSA}))
	createSecret(t, chain{root: ch.root, intermediate: ch.intermediate, leaf: wildcard}.tlsSecret(ns, "wild", nil))
	list := waitListed(t, ns, "web", "wild")
	w := startWatch(t, ns, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	ingresses := env.kube.NetworkingV1().Ingresses(ns)

	// An Ingress serving a covered host: usedBy and HostsCovered True.
	since := time.Now()
	frontend, err := ingresses.Create(ctx, ingressFor(ns, "frontend", "web", host), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	object := expectUsedBy(t, w, since, "web", []string{"Ingress/" + ns + "/frontend[" + host + "]"}, metav1.ConditionTrue)
	if c := hostsCoveredOf(object); !c.LastTransitionTime.Time.Equal(frontend.CreationTimestamp.Time) {
		t.Errorf("HostsCovered dated %v, want the Ingress's creation %v", c.LastTransitionTime, frontend.CreationTimestamp)
	}

	// An uncovered host (kube-apiserver accepts only lower-case hosts without
	// a trailing dot in an Ingress; other spellings are unit-tested).
	api := "api." + ns + ".example.com"
	frontend.Spec.TLS[0].Hosts = []string{host, api}
	since = time.Now()
	if frontend, err = ingresses.Update(ctx, frontend, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	object = expectUsedBy(t, w, since, "web", []string{"Ingress/" + ns + "/frontend[" + host + "," + api + "|!" + api + "]"}, metav1.ConditionFalse)
	if c := hostsCoveredOf(object); c.Reason != "HostNotCovered" || !strings.Contains(c.Message, "Ingress "+ns+"/frontend serves "+api) {
		t.Errorf("HostsCovered %+v", c)
	}
	if object.Status.State != "Valid" {
		t.Errorf("state %s: a host mismatch must not change the state", object.Status.State)
	}

	// A write that changes nothing usedBy shows (a label) sends nothing.
	frontend.Labels = map[string]string{"touched": "yes"}
	if frontend, err = ingresses.Update(ctx, frontend, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	w.none(t, 1500*time.Millisecond)

	// The fix clears the condition.
	frontend.Spec.TLS[0].Hosts = []string{host, "www." + host}
	since = time.Now()
	if frontend, err = ingresses.Update(ctx, frontend, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectUsedBy(t, w, since, "web", []string{"Ingress/" + ns + "/frontend[" + host + ",www." + host + "]"}, metav1.ConditionTrue)

	// A wildcard covers one label, not two.
	since = time.Now()
	if _, err := ingresses.Create(ctx, ingressFor(ns, "wild", "wild", "a."+ns+".example.com", "a.b."+ns+".example.com"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectUsedBy(t, w, since, "wild", []string{"Ingress/" + ns + "/wild[a." + ns + ".example.com,a.b." + ns + ".example.com|!a.b." + ns + ".example.com]"}, metav1.ConditionFalse)

	// A Deployment's Pods, through a ReplicaSet, counted under the Deployment.
	replicaSet := createFrontendReplicaSet(t, ns)
	ingress := "Ingress/" + ns + "/frontend[" + host + ",www." + host + "]"
	for i, name := range []string{"frontend-7c9f-a", "frontend-7c9f-b"} {
		since = time.Now()
		createPod(t, ns, name, "web", controllerRef("apps/v1", "ReplicaSet", replicaSet.Name, replicaSet.UID))
		expectUsedBy(t, w, since, "web", []string{fmt.Sprintf("Deployment/%s/frontend×%d", ns, i+1), ingress}, metav1.ConditionTrue)
	}
	// A Pod without a controller is reported as itself.
	since = time.Now()
	createPod(t, ns, "debug", "web")
	expectUsedBy(t, w, since, "web", []string{"Deployment/" + ns + "/frontend×2", ingress, "Pod/" + ns + "/debug"}, metav1.ConditionTrue)

	// A deleted Pod stops counting.
	since = time.Now()
	if err := env.kube.CoreV1().Pods(ns).Delete(ctx, "frontend-7c9f-a", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	expectUsedBy(t, w, since, "web", []string{"Deployment/" + ns + "/frontend×1", ingress, "Pod/" + ns + "/debug"}, metav1.ConditionTrue)

	// get and list serve the same usedBy as the watch.
	got, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := usedByOf(got); !reflect.DeepEqual(u, []string{"Deployment/" + ns + "/frontend×1", ingress, "Pod/" + ns + "/debug"}) {
		t.Errorf("get: usedBy %q", u)
	}
	if cm := got.Status.CertManager; cm == nil || cm.Certificate != "web-cert" || cm.Issuer == nil ||
		*cm.Issuer != (v1alpha1.CertManagerIssuer{Name: "letsencrypt", Kind: "ClusterIssuer", Group: "cert-manager.io"}) {
		t.Errorf("certManager %+v", cm)
	}
	header, rows := table(t, kubectl(t, "get", "cst", "-n", ns, "-o", "wide"))
	if n := len(header); n < 2 || header[n-2] != "USED_BY" || header[n-1] != "CERTIFICATE" {
		t.Fatalf("wide header %q", header)
	}
	for name, want := range map[string][2]string{"web": {"Deployment/frontend +2", "web-cert"}, "wild": {"Ingress/wild", "<none>"}} {
		if row := rows[name]; row[len(row)-2] != want[0] || row[len(row)-1] != want[1] {
			t.Errorf("%s: USED BY %q, CERTIFICATE %q, want %q", name, row[len(row)-2], row[len(row)-1], want)
		}
	}

	// ingress-nginx's client CA annotation is a use without hosts.
	mtls := ingressFor(ns, "mtls", "web", host)
	mtls.Annotations = map[string]string{"nginx.ingress.kubernetes.io/auth-tls-secret": ns + "/wild"}
	if _, err := ingresses.Create(ctx, mtls, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		got, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).Get(ctx, "wild", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if u := usedByOf(got); !reflect.DeepEqual(u, []string{"Ingress/" + ns + "/mtls", "Ingress/" + ns + "/wild[a." + ns + ".example.com,a.b." + ns + ".example.com|!a.b." + ns + ".example.com]"}) {
			return fmt.Errorf("wild usedBy %q", u)
		}
		return nil
	})
	if err := ingresses.Delete(ctx, "mtls", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Two MODIFIED of web (mtls in, mtls out) and two of wild.
	for range 4 {
		w.next(t, 10*time.Second)
	}

	// The Ingress goes: so do its hosts and the condition.
	since = time.Now()
	if err := ingresses.Delete(ctx, "frontend", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectUsedBy(t, w, since, "web", []string{"Deployment/" + ns + "/frontend×1", "Pod/" + ns + "/debug"}, "")
}

func podTemplate(app, secret string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       podSpec(secret),
	}
}

func podSpec(secret string) corev1.PodSpec {
	return corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		Containers:                   []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}},
		Volumes: []corev1.Volume{
			{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}},
			{Name: "projected", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}},
			}}}},
		},
	}
}

func controllerRef(apiVersion, kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}
}

func createPod(t *testing.T, namespace, name, secret string, owners ...metav1.OwnerReference) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "frontend"}, OwnerReferences: owners},
		Spec:       podSpec(secret),
	}
	if _, err := env.kube.CoreV1().Pods(namespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Pod %s/%s: %v", namespace, name, err)
	}
}

// The releases whose CRDs the test installs, from the Go module proxy.
const (
	gatewayAPIModule = "sigs.k8s.io/gateway-api@v1.6.3"
	istioAPIModule   = "istio.io/api@v1.32.0"
)

// moduleDir downloads a module into the module cache (if needed) and returns its directory.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", module).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", module, err)
	}
	var downloaded struct{ Dir string }
	if err := json.Unmarshal(out, &downloaded); err != nil || downloaded.Dir == "" {
		t.Fatalf("go mod download %s: %s (%v)", module, out, err)
	}
	return downloaded.Dir
}

// gatewayCRDs are the standard channel's Gateway and ListenerSet CRDs and
// Istio's Gateway CRD (cut out of istio.io/api's file of all its CRDs).
func gatewayCRDs(t *testing.T) []string {
	t.Helper()
	var files []string
	dir := moduleDir(t, gatewayAPIModule)
	for _, name := range []string{"gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_listenersets.yaml"} {
		path := filepath.Join(dir, "config", "crd", "standard", name)
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	all, err := os.ReadFile(filepath.Join(moduleDir(t, istioAPIModule), "kubernetes", "customresourcedefinitions.gen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(all), "\n---\n") {
		if strings.Contains(doc, "\n  name: gateways.networking.istio.io\n") {
			path := filepath.Join(t.TempDir(), "istio-gateways.yaml")
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			return append(files, path)
		}
	}
	t.Fatalf("no gateways.networking.istio.io CRD in %s", istioAPIModule)
	return nil
}

// TestUsedByGatewayCRDsInstalledLater: the Gateway API CRDs and Istio's
// Gateway CRD are installed while the server runs; within a minute a
// Gateway and a ListenerSet in another namespace, and an Istio Gateway,
// show in the Secrets' usedBy, and when the CRDs are removed they leave it.
// No restart.
func TestUsedByGatewayCRDsInstalledLater(t *testing.T) {
	secrets, gateways := newNamespace(t), newNamespace(t)
	ctx := context.Background()
	host := "edge." + secrets + ".example.com"
	ch := newChain(t, host, time.Time{}, time.Time{})
	createSecret(t, ch.tlsSecret(secrets, "edge", nil))
	waitListed(t, secrets, "edge")

	crds := gatewayCRDs(t)
	args := []string{"apply", "--server-side"}
	for _, file := range crds {
		args = append(args, "-f", file)
	}
	kubectl(t, args...)
	t.Cleanup(func() {
		args := []string{"delete", "--ignore-not-found", "--wait=false"}
		for _, file := range crds {
			args = append(args, "-f", file)
		}
		_, _, _ = env.stack.Kubectl(context.Background(), args...)
	})
	kubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/gateways.gateway.networking.k8s.io",
		"crd/listenersets.gateway.networking.k8s.io", "crd/gateways.networking.istio.io")

	manifest := fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: %[1]s
spec:
  gatewayClassName: example
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: %[3]s
    tls:
      certificateRefs:
      - name: edge
        namespace: %[2]s
  - name: other
    port: 8443
    protocol: HTTPS
    hostname: other.%[2]s.example.com
    tls:
      certificateRefs:
      - name: edge
        namespace: %[2]s
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: extra
  namespace: %[1]s
spec:
  parentRef:
    name: edge
  listeners:
  - name: https-www
    port: 443
    protocol: HTTPS
    hostname: www.%[3]s
    tls:
      certificateRefs:
      - name: edge
        namespace: %[2]s
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: mesh-edge
  namespace: %[2]s
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["%[2]s/%[3]s", "*"]
    tls:
      mode: SIMPLE
      credentialName: edge
`, gateways, secrets, host)
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "apply", "-f", path)

	other := "other." + secrets + ".example.com"
	want := []string{
		"Gateway/" + gateways + "/edge[" + host + "," + other + "|!" + other + "]",
		"Gateway.networking.istio.io/" + secrets + "/mesh-edge[" + host + "]",
		"ListenerSet/" + gateways + "/extra[www." + host + "]",
	}
	// Discovery is re-checked every 30 s: allow two rounds and the informers' sync.
	eventually(t, 90*time.Second, func() error {
		object, err := env.certs.CertstatusV1alpha1().CertificateStatuses(secrets).Get(ctx, "edge", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := usedByOf(object); !reflect.DeepEqual(got, want) {
			return fmt.Errorf("usedBy %q, want %q", got, want)
		}
		if c := hostsCoveredOf(object); c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("HostsCovered %+v, want False", c)
		}
		return nil
	})

	// The CRDs go (and their objects with them): usedBy empties, no restart.
	delete := []string{"delete", "--wait=true", "--timeout=60s"}
	for _, file := range crds {
		delete = append(delete, "-f", file)
	}
	kubectl(t, delete...)
	eventually(t, 90*time.Second, func() error {
		object, err := env.certs.CertstatusV1alpha1().CertificateStatuses(secrets).Get(ctx, "edge", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := usedByOf(object); len(got) != 0 || hostsCoveredOf(object) != nil {
			return fmt.Errorf("usedBy %q after the CRDs were removed", got)
		}
		return nil
	})
}

// TestHostNotCoveredEvent: with --events, an Ingress serving a host the
// certificate does not cover gives one Warning HostNotCovered Event naming
// the Ingress and the host; the fix records nothing more.
func TestHostNotCoveredEvent(t *testing.T) {
	grantEvents(t, true)
	ns := newNamespace(t)
	launchEventsReplica(t, ns)
	host := "events." + ns + ".example.com"
	createSecret(t, newChain(t, host, time.Time{}, time.Time{}).tlsSecret(ns, "web", nil))
	ingresses := env.kube.NetworkingV1().Ingresses(ns)
	ctx := context.Background()
	ingress, err := ingresses.Create(ctx, ingressFor(ns, "shop", "web", host, "shop."+ns+".example.com"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitEvents(t, ns, 30*time.Second, map[string]int{"web/HostNotCovered": 1})
	events := checkEvents(t, ns, map[string]int{"web/HostNotCovered": 1})
	if e := events[0]; e.Type != corev1.EventTypeWarning || !strings.Contains(e.Note, "Ingress "+ns+"/shop serves shop."+ns+".example.com") ||
		!e.EventTime.Time.Equal(ingress.CreationTimestamp.Time) {
		t.Errorf("Event %s %q at %v, want a Warning naming the Ingress and host, at the Ingress's creation %v", e.Type, e.Note, e.EventTime, ingress.CreationTimestamp)
	}
	ingress.Spec.TLS[0].Hosts = []string{host}
	if _, err := ingresses.Update(ctx, ingress, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	checkEvents(t, ns, map[string]int{"web/HostNotCovered": 1})
}

// TestUsedByAtStartAndTurnedOff: a replica started after the Secret and its
// Ingress exist is ready from the Secrets alone and fills usedBy in; one
// started with --used-by= runs no usedBy informer and shows none.
func TestUsedByAtStartAndTurnedOff(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	host := "start." + ns + ".example.com"
	createSecret(t, newChain(t, host, time.Time{}, time.Time{}).tlsSecret(ns, "web", nil))
	if _, err := env.kube.NetworkingV1().Ingresses(ns).Create(ctx, ingressFor(ns, "frontend", "web", host), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	getVia := func(srv *stack.Server) (*v1alpha1.CertificateStatus, error) {
		client, err := versioned.NewForConfig(srv.DirectRESTConfig(env.stack.RESTConfig()))
		if err != nil {
			return nil, err
		}
		return client.CertstatusV1alpha1().CertificateStatuses(ns).Get(ctx, "web", metav1.GetOptions{})
	}

	on, err := env.stack.LaunchServer(ctx, env.binary, "--namespaces="+ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = on.Stop() })
	eventually(t, 10*time.Second, func() error {
		object, err := getVia(on)
		if err != nil {
			return err
		}
		if got := usedByOf(object); !reflect.DeepEqual(got, []string{"Ingress/" + ns + "/frontend[" + host + "]"}) {
			return fmt.Errorf("usedBy %q", got)
		}
		return nil
	})
	if n := metricSum(t, on, `certstatus_informer_synced{resource="ingresses"}`); n != 1 {
		t.Errorf("ingresses synced %v, want 1", n)
	}

	off, err := env.stack.LaunchServer(ctx, env.binary, "--namespaces="+ns, "--used-by=")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = off.Stop() })
	object, err := getVia(off)
	if err != nil {
		t.Fatal(err)
	}
	if got := usedByOf(object); len(got) != 0 || hostsCoveredOf(object) != nil {
		t.Errorf("--used-by=: usedBy %q, HostsCovered %+v", got, hostsCoveredOf(object))
	}
	for _, resource := range []string{"ingresses", "pods", "replicasets", "jobs"} {
		if n := metricSum(t, off, `certstatus_informer_synced{resource="`+resource+`"}`); n != 0 {
			t.Errorf("--used-by=: an informer of %s runs", resource)
		}
	}
	if n := metricSum(t, off, `certstatus_informer_synced{resource="secrets"}`); n != 1 {
		t.Errorf("--used-by=: secrets synced %v, want 1", n)
	}
}

// TestUsedByEnvironment: Pods that read a Secret into their environment
// (env secretKeyRef in a container, envFrom in an init container) use it,
// reported by their controller with a Pod count like a mount, and
// /metrics says certstatus_secret_used 1 for it and 0 for a Secret
// nothing uses.
func TestUsedByEnvironment(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	ch := newChain(t, "env."+ns+".example.com", time.Time{}, time.Time{})
	for _, name := range []string{"env-key", "env-from", "idle"} {
		createSecret(t, ch.tlsSecret(ns, name, nil))
	}
	list := waitListed(t, ns, "env-from", "env-key", "idle")
	w := startWatch(t, ns, metav1.ListOptions{ResourceVersion: list.ResourceVersion})

	replicaSet, err := env.kube.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-5d8f"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "worker"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "worker"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-5d8f-x", Labels: map[string]string{"app": "worker"},
			OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "ReplicaSet", replicaSet.Name, replicaSet.UID)}},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			InitContainers: []corev1.Container{{Name: "init", Image: "registry.example.com/init:1", EnvFrom: []corev1.EnvFromSource{
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env-from"}}}}}},
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1", Env: []corev1.EnvVar{
				{Name: "TLS_CERT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "env-key"}, Key: "tls.crt"}}}}}},
		},
	}
	if _, err := env.kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A ReplicaSet without a Deployment is reported as itself.
	seen := map[string]bool{}
	for range 2 {
		ev := w.next(t, 10*time.Second)
		seen[ev.Object.Name] = true
		want := []string{"ReplicaSet/" + ns + "/worker-5d8f×1"}
		if got := usedByOf(ev.Object); ev.Type != watch.Modified || ev.Object.Name == "idle" || !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s: usedBy %q, want %q", ev.Type, ev.Object.Name, got, want)
		}
		if delay := ev.At.Sub(since); delay > usedByWithin {
			t.Errorf("%s: the watch saw the change after %v, want within %v", ev.Object.Name, delay, usedByWithin)
		}
	}
	if !seen["env-key"] || !seen["env-from"] {
		t.Errorf("MODIFIED for %v, want env-key and env-from", seen)
	}

	direct := env.server.DirectRESTConfig(env.stack.RESTConfig())
	eventually(t, 30*time.Second, func() error {
		code, body, err := tryGet(direct, "/metrics", "")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET /metrics: %d %v", code, err)
		}
		for secret, used := range map[string]string{"env-key": "1", "env-from": "1", "idle": "0"} {
			if want := `certstatus_secret_used{namespace="` + ns + `",secret="` + secret + `"} ` + used + "\n"; !strings.Contains(string(body), want) {
				return fmt.Errorf("/metrics has no %q", want)
			}
		}
		return nil
	})
}

// createFrontendReplicaSet creates Deployment "frontend" (Pods labelled
// app=frontend, mounting Secret "web") and the ReplicaSet it controls, as
// the Deployment controller would (none runs here), and returns the
// ReplicaSet for Pods to name as their controller.
func createFrontendReplicaSet(t *testing.T, ns string) *appsv1.ReplicaSet {
	t.Helper()
	ctx := context.Background()
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}
	deployment, err := env.kube.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend"},
		Spec:       appsv1.DeploymentSpec{Selector: selector, Template: podTemplate("frontend", "web")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	replicaSet, err := env.kube.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend-7c9f", OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "Deployment", deployment.Name, deployment.UID)}},
		Spec:       appsv1.ReplicaSetSpec{Selector: selector, Template: podTemplate("frontend", "web")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return replicaSet
}
