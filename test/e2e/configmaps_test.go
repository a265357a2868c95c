package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/generated/informers/externalversions"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// configMap is a ConfigMap with data.
func configMap(namespace, name string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}, Data: data}
}

func createConfigMap(t *testing.T, cm *corev1.ConfigMap) *corev1.ConfigMap {
	t.Helper()
	created, err := env.kube.CoreV1().ConfigMaps(cm.Namespace).Create(context.Background(), cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create ConfigMap %s/%s: %v", cm.Namespace, cm.Name, err)
	}
	return created
}

// waitConfigMapStatuses waits until exactly names (and kube-root-ca.crt, if
// published) are listed in namespace.
func waitConfigMapStatuses(t *testing.T, namespace string, names ...string) *v1alpha1.ConfigMapCertificateStatusList {
	t.Helper()
	var list *v1alpha1.ConfigMapCertificateStatusList
	eventually(t, 30*time.Second, func() error {
		var err error
		list, err = env.certs.CertstatusV1alpha1().ConfigMapCertificateStatuses(namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		var got []string
		for _, item := range list.Items {
			// kube-controller-manager's root CA publisher may put one in
			// every namespace; it is a bundle like any other.
			if item.Name != "kube-root-ca.crt" {
				got = append(got, item.Name)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(names))
		if !slices.Equal(got, want) {
			return fmt.Errorf("configmapcertificatestatuses in %s: %v, want %v", namespace, got, want)
		}
		return nil
	})
	return list
}

// pemGarbage is at most size bytes of PEM blocks whose bodies are no
// certificate, with headers that make the ConfigMap a candidate.
func pemGarbage(size int) string {
	var b strings.Builder
	line := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", 2)[:64] + "\n"
	block := "-----BEGIN CERTIFICATE-----\n" + strings.Repeat(line, 200) + "-----END CERTIFICATE-----\n"
	for b.Len()+len(block) <= size {
		b.WriteString(block)
	}
	return b.String()
}

// TestConfigMapStatuses: configmapcertificatestatuses through kubectl, the
// typed client and a protobuf informer: discovery, tables, selectors,
// explain, wait, 405 and 404, metrics, and a ConfigMap of 1 MiB (the most
// kube-apiserver accepts) of PEM garbage
// that breaks nothing.
func TestConfigMapStatuses(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Bundle Root", KeyAlgorithm: certtest.ECDSA}))
	other := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Other Root", KeyAlgorithm: certtest.ECDSA}))
	expired := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Expired Root", KeyAlgorithm: certtest.ECDSA,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}))
	createConfigMap(t, configMap(ns, "trust-bundle", map[string]string{"team": "a"}, map[string]string{
		"ca.crt": string(certtest.ChainPEM(root, other)), "bundle.pem": string(root.PEM()), "settings": "not a certificate"}))
	createConfigMap(t, configMap(ns, "old-bundle", map[string]string{"team": "b"}, map[string]string{"ca.crt": string(expired.PEM())}))
	createConfigMap(t, configMap(ns, "settings", nil, map[string]string{"app.yaml": "replicas: 3\n"}))
	createConfigMap(t, configMap(ns, "garbage", nil, map[string]string{"ca.crt": pemGarbage(1<<20 - 1024)}))

	list := waitConfigMapStatuses(t, ns, "garbage", "old-bundle", "trust-bundle")
	byName := map[string]*v1alpha1.ConfigMapCertificateStatus{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	bundle := byName["trust-bundle"]
	if bundle.Status.State != v1alpha1.StateValid || bundle.Status.Summary.Certificates != 3 ||
		!slices.Equal(bundle.Status.ConfigMapKeys, []string{"bundle.pem", "ca.crt"}) || bundle.Status.SecretType != "" ||
		bundle.Labels["team"] != "a" || bundle.UID == "" {
		t.Errorf("trust-bundle: %+v", bundle)
	}
	if byName["old-bundle"].Status.State != v1alpha1.StateExpired {
		t.Errorf("old-bundle is %s, want Expired", byName["old-bundle"].Status.State)
	}
	if state := byName["garbage"].Status.State; state != v1alpha1.StateInvalid {
		t.Errorf("garbage is %s, want Invalid", state)
	}
	raw, err := json.Marshal(byName["garbage"])
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 64<<10 || bytes.Contains(raw, []byte("QUJDREVG")) {
		t.Errorf("the garbage ConfigMap's object is %d bytes or quotes its data", len(raw))
	}

	t.Run("kubectl get wide selectors sort", func(t *testing.T) {
		header, rows := table(t, kubectl(t, "get", "cmcst", "-n", ns))
		if want := []string{"NAME", "STATE", "COMMON_NAME", "ISSUER", "EXPIRES", "AGE"}; !slices.Equal(header, want) {
			t.Errorf("columns %v, want %v", header, want)
		}
		if row := rows["trust-bundle"]; row == nil || row[1] != "Valid" || row[2] != "E2E Bundle Root" || row[3] != "E2E Bundle Root" {
			t.Errorf("trust-bundle row %v", row)
		}
		if row := rows["old-bundle"]; row == nil || row[1] != "Expired" || !strings.HasSuffix(row[4], "ago") {
			t.Errorf("old-bundle row %v", row)
		}
		header, rows = table(t, kubectl(t, "get", "configmapcertificatestatuses", "-n", ns, "-o", "wide"))
		if want := []string{"NAME", "STATE", "COMMON_NAME", "ISSUER", "EXPIRES", "AGE", "KEYS", "CERTS", "NOT_AFTER", "USED_BY"}; !slices.Equal(header, want) {
			t.Errorf("wide columns %v, want %v", header, want)
		}
		if row := rows["trust-bundle"]; row == nil || row[6] != "bundle.pem,ca.crt" || row[7] != "3" || row[9] != "<none>" {
			t.Errorf("wide trust-bundle row %v", row)
		}
		names := strings.Fields(kubectl(t, "get", "cmcst", "-n", ns, "--field-selector", "status.state=Expired", "-o", "name"))
		if !slices.Equal(names, []string{"configmapcertificatestatus.certstatus.dev/old-bundle"}) {
			t.Errorf("field selector status.state=Expired: %v", names)
		}
		names = strings.Fields(kubectl(t, "get", "cmcst", "-n", ns, "-l", "team=a", "-o", "name"))
		if !slices.Equal(names, []string{"configmapcertificatestatus.certstatus.dev/trust-bundle"}) {
			t.Errorf("label selector team=a: %v", names)
		}
		stderr := kubectlFails(t, "", "get", "cmcst", "-n", ns, "--field-selector", "status.secretType=x")
		if !strings.Contains(stderr, "status.state") {
			t.Errorf("an unsupported field selector: %q, want 400 listing the supported ones", stderr)
		}
		sorted := strings.Fields(kubectl(t, "get", "cmcst", "-n", ns, "--sort-by", ".metadata.name", "--chunk-size", "1", "-o", "name"))
		if len(sorted) != len(list.Items) || !slices.IsSorted(sorted) {
			t.Errorf("sorted in chunks of 1: %v", sorted)
		}
	})

	t.Run("discovery explain wait 405 404", func(t *testing.T) {
		var found bool
		for _, line := range strings.Split(kubectl(t, "api-resources", "--api-group=certstatus.dev", "-o", "wide", "--no-headers"), "\n") {
			fields := strings.Fields(line)
			if len(fields) > 0 && fields[0] == "configmapcertificatestatuses" {
				found = true
				if want := []string{"configmapcertificatestatuses", "cmcst", "certstatus.dev/v1alpha1", "true", "ConfigMapCertificateStatus", "get,list,watch"}; !slices.Equal(fields[:min(len(fields), 6)], want) {
					t.Errorf("api-resources: %q, want %v", line, want)
				}
			}
		}
		if !found {
			t.Error("api-resources does not list configmapcertificatestatuses")
		}
		explained := kubectl(t, "explain", "configmapcertificatestatus.status")
		for _, want := range []string{"configMapKeys", "certificates", "state"} {
			if !strings.Contains(explained, want) {
				t.Errorf("kubectl explain configmapcertificatestatus.status lacks %q", want)
			}
		}
		kubectl(t, "wait", "--for=condition=Ready", "cmcst/trust-bundle", "-n", ns, "--timeout=20s")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, stderr, err := env.stack.Kubectl(ctx, "wait", "--for=condition=Ready", "cmcst/old-bundle", "-n", ns, "--timeout=2s"); err == nil || !strings.Contains(stderr, "timed out") {
			t.Errorf("wait for an expired bundle to be Ready: %v %q, want a time-out", err, stderr)
		}
		for _, args := range [][]string{{"delete", "cmcst", "trust-bundle", "-n", ns}, {"label", "cmcst", "trust-bundle", "-n", ns, "x=y"}} {
			stderr := kubectlFails(t, "", args...)
			if !strings.Contains(stderr, "MethodNotAllowed") || !strings.Contains(stderr, "computed from ConfigMaps") {
				t.Errorf("kubectl %s: %q, want 405 saying it is computed from ConfigMaps", strings.Join(args, " "), stderr)
			}
		}
		body := filepath.Join(t.TempDir(), "x.json")
		if err := os.WriteFile(body, []byte(`{"apiVersion":"certstatus.dev/v1alpha1","kind":"Foo","metadata":{"name":"x"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		stderr := kubectlFails(t, "", "create", "--raw", cstPath+"/namespaces/"+ns+"/configmapcertificatestatuses/trust-bundle/status", "-f", body)
		if !strings.Contains(stderr, "NotFound") {
			t.Errorf("POST to an unserved subresource: %q, want 404", stderr)
		}
	})

	t.Run("typed client and a protobuf informer", func(t *testing.T) {
		factory, seen := protobufFactory(t, externalversions.WithNamespace(ns))
		informer := factory.Certstatus().V1alpha1().ConfigMapCertificateStatuses()
		lister := informer.Lister()
		startAndSync(t, factory, informer.Informer())
		eventually(t, 10*time.Second, func() error {
			got, err := lister.ConfigMapCertificateStatuses(ns).Get("trust-bundle")
			if err != nil {
				return err
			}
			if got.Status.State != v1alpha1.StateValid || len(got.Status.Certificates) != 3 {
				return fmt.Errorf("informer's trust-bundle: %s, %d certificates", got.Status.State, len(got.Status.Certificates))
			}
			return nil
		})
		seen.check(t)
		got, err := env.certs.CertstatusV1alpha1().ConfigMapCertificateStatuses(ns).Get(ctx, "old-bundle", metav1.GetOptions{})
		if err != nil || got.Status.State != v1alpha1.StateExpired {
			t.Errorf("typed get old-bundle: %v %v", got, err)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		code, body, err := tryGet(env.server.DirectRESTConfig(env.stack.RESTConfig()), "/metrics", "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /metrics: %d %v", code, err)
		}
		text := string(body)
		for _, want := range []string{
			fmt.Sprintf(`certstatus_configmap_state{namespace=%q,configmap="trust-bundle",state="Valid"} 1`, ns),
			fmt.Sprintf(`certstatus_configmap_state{namespace=%q,configmap="old-bundle",state="Expired"} 1`, ns),
			fmt.Sprintf(`certstatus_configmap_certificates{namespace=%q,configmap="trust-bundle",state="Valid"} 3`, ns),
			fmt.Sprintf(`certstatus_configmap_state{namespace=%q,configmap="garbage",state="Invalid"} 1`, ns),
			`certstatus_informer_synced{resource="configmaps"} 1`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(text, "QUJDREVG") {
			t.Error("/metrics quotes ConfigMap data")
		}
	})
}

// TestConfigMapClockTransition: with no ConfigMap write, the clock alone
// moves a bundle to ExpiringSoon, and watchers get MODIFIED.
func TestConfigMapClockTransition(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now().Truncate(time.Second)
	notAfter := now.Add(20 * time.Second)
	expiringSoonAt := notAfter.Add(-8 * time.Second)
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Clock Root", KeyAlgorithm: certtest.ECDSA, NotBefore: now.Add(-time.Hour), NotAfter: notAfter}))
	w, err := env.certs.CertstatusV1alpha1().ConfigMapCertificateStatuses(ns).Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cm := configMap(ns, "clock", nil, map[string]string{"ca.crt": string(ca.PEM())})
	cm.Annotations = map[string]string{thresholdAnnotation: "8s"}
	created := createConfigMap(t, cm)

	next := func(timeout time.Duration) (watch.EventType, *v1alpha1.ConfigMapCertificateStatus) {
		t.Helper()
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					t.Fatal("the watch closed")
				}
				object, _ := ev.Object.(*v1alpha1.ConfigMapCertificateStatus)
				if object == nil {
					t.Fatalf("unexpected event %s %v", ev.Type, ev.Object)
				}
				if object.Name != "clock" {
					continue // kube-root-ca.crt
				}
				return ev.Type, object
			case <-time.After(timeout):
				t.Fatalf("no event within %s", timeout)
			}
		}
	}
	eventType, added := next(15 * time.Second)
	if eventType != watch.Added || added.Status.State != v1alpha1.StateValid ||
		added.Status.ExpiringSoonAt == nil || !added.Status.ExpiringSoonAt.Time.Equal(expiringSoonAt) {
		t.Fatalf("first event %s %+v, want ADDED Valid expiring soon at %s", eventType, added.Status, expiringSoonAt)
	}
	eventType, soon := next(20 * time.Second)
	if eventType != watch.Modified || soon.Status.State != v1alpha1.StateExpiringSoon || soon.ResourceVersion == added.ResourceVersion {
		t.Fatalf("second event %s %s rv %s, want MODIFIED ExpiringSoon with a new resourceVersion", eventType, soon.Status.State, soon.ResourceVersion)
	}
	if late := time.Since(expiringSoonAt); late > 3*time.Second {
		t.Errorf("ExpiringSoon arrived %s after expiringSoonAt", late)
	}
	got, err := env.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), "clock", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != created.ResourceVersion {
		t.Errorf("the ConfigMap was written (resourceVersion %s → %s): the transition must come from the clock alone", created.ResourceVersion, got.ResourceVersion)
	}
}

// TestSecretsServedWhileConfigMapReadsForbidden: a server that may read
// Secrets but not ConfigMaps becomes ready as fast as ever, serves
// certificatestatuses, and answers configmapcertificatestatuses with 503
// naming the permission at once.
func TestSecretsServedWhileConfigMapReadsForbidden(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createSecret(t, newChain(t, "web."+ns+".example.com", time.Time{}, time.Time{}).tlsSecret(ns, "web", nil))
	user := "certstatus-no-configmaps-" + ns
	kubeconfig := delegatingIdentity(t, ctx, user)
	grant(t, ns, user, "Role", "read-secrets", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}}})
	started := time.Now()
	srv, err := env.stack.LaunchServer(ctx, env.binary, "--namespaces="+ns, "--used-by=", "-v=2",
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	if took := time.Since(started); took > 20*time.Second {
		t.Errorf("ready after %s: forbidden ConfigMaps must not delay readiness", took)
	}
	direct := srv.DirectRESTConfig(env.stack.RESTConfig())
	code, body, err := tryGet(direct, cstPath+"/namespaces/"+ns+"/certificatestatuses/web", "")
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), `"state":"Valid"`) {
		t.Errorf("GET the Secret's status: %d %v %.300s", code, err, body)
	}
	for _, path := range []string{
		cstPath + "/namespaces/" + ns + "/configmapcertificatestatuses",
		cstPath + "/namespaces/" + ns + "/configmapcertificatestatuses/kube-root-ca.crt",
		cstPath + "/configmapcertificatestatuses?watch=true",
	} {
		started := time.Now()
		code, header, body, err := getWithHeaders(direct, path)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "grant get, list and watch on configmaps") || !strings.Contains(string(body), user) {
			t.Errorf("GET %s: %d %.300s, want 503 naming the permission", path, code, body)
		}
		if header.Get("Retry-After") != "" {
			t.Errorf("GET %s: Retry-After %q", path, header.Get("Retry-After"))
		}
		if took := time.Since(started); took > 10*time.Second {
			t.Errorf("GET %s took %s, want at once", path, took)
		}
	}
	code, body, err = tryGet(direct, "/metrics", "")
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), `certstatus_forbidden_reads_total{resource="configmaps"}`) {
		t.Errorf("/metrics: %d %v, want the configmaps refusal counted", code, err)
	}
}

// TestSourcesFlagTurnsConfigMapsOff: with --sources=secrets the group does
// not serve configmapcertificatestatuses at all: discovery lacks it and a
// request for it is 404.
func TestSourcesFlagTurnsConfigMapsOff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := env.stack.LaunchServer(ctx, env.binary, "--sources=secrets", "--used-by=", "--namespaces=default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	direct := srv.DirectRESTConfig(env.stack.RESTConfig())
	code, body, err := tryGet(direct, cstPath, "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("discovery: %d %v", code, err)
	}
	var resources metav1.APIResourceList
	if err := json.Unmarshal(body, &resources); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range resources.APIResources {
		names = append(names, r.Name)
	}
	if !slices.Contains(names, "certificatestatuses") || slices.Contains(names, "configmapcertificatestatuses") {
		t.Errorf("discovery with --sources=secrets lists %v", names)
	}
	if code, _, _ := tryGet(direct, cstPath+"/configmapcertificatestatuses", ""); code != http.StatusNotFound {
		t.Errorf("list configmapcertificatestatuses: %d, want 404", code)
	}
	log, err := os.ReadFile(srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(log, []byte("ConfigMap cache synced")) {
		t.Error("the ConfigMap source ran although --sources left it out")
	}
}

// TestConfigMapUsedBy: Pods of a Deployment (through its ReplicaSet; no
// kubelet runs, so the test writes the owner references the controllers
// would) mounting a bundle by a configMap volume and by a projected source
// are its usedBy, counted under the Deployment, from the same Pod watch as
// the Secrets'; the service-account volume's kube-root-ca.crt is no use;
// /metrics says certstatus_configmap_used 1 and 0 accordingly; a deleted
// Pod stops counting.
func TestConfigMapUsedBy(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E UsedBy Root", KeyAlgorithm: certtest.ECDSA}))
	for _, name := range []string{"trust-bundle", "idle-bundle", "kube-root-ca.crt"} {
		createConfigMap(t, configMap(ns, name, nil, map[string]string{"ca.crt": string(root.PEM())}))
	}
	list := waitConfigMapStatuses(t, ns, "idle-bundle", "trust-bundle")
	w, err := env.certs.CertstatusV1alpha1().ConfigMapCertificateStatuses(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// next is the next MODIFIED of trust-bundle: no other bundle may change.
	next := func() []v1alpha1.UsedBy {
		t.Helper()
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					t.Fatal("the watch ended")
				}
				object, isStatus := ev.Object.(*v1alpha1.ConfigMapCertificateStatus)
				if !isStatus {
					t.Fatalf("event %s %T", ev.Type, ev.Object)
				}
				if ev.Type == watch.Bookmark || ev.Type == watch.Added {
					continue
				}
				if ev.Type != watch.Modified || object.Name != "trust-bundle" {
					t.Fatalf("%s %s, want MODIFIED trust-bundle (usedBy %+v)", ev.Type, object.Name, object.Status.UsedBy)
				}
				return object.Status.UsedBy
			case <-time.After(10 * time.Second):
				t.Fatal("no MODIFIED of trust-bundle within 10s")
			}
		}
	}

	replicaSet := createFrontendReplicaSet(t, ns)
	// The ServiceAccount admission plugin is off in this cluster: the
	// volume it would add is written as it would write it.
	serviceAccount := corev1.Volume{Name: "kube-api-access-x2k9q", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		},
	}}}
	bundleVolumes := []corev1.Volume{
		{Name: "bundle", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "trust-bundle"}}}},
		{Name: "bundle", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "trust-bundle"}}}}}}},
	}
	for i, name := range []string{"frontend-7c9f-a", "frontend-7c9f-b"} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "frontend"},
				OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "ReplicaSet", replicaSet.Name, replicaSet.UID)}},
			Spec: corev1.PodSpec{
				ServiceAccountName:           "default",
				AutomountServiceAccountToken: ptr.To(false),
				Containers:                   []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}},
				Volumes:                      []corev1.Volume{bundleVolumes[i], serviceAccount},
			},
		}
		if _, err := env.kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		want := []v1alpha1.UsedBy{{Kind: "Deployment", Namespace: ns, Name: "frontend", Pods: int32(i + 1)}}
		if got := next(); !reflect.DeepEqual(got, want) {
			t.Fatalf("after Pod %s: usedBy %+v, want %+v", name, got, want)
		}
	}
	row := func(name string) []string {
		_, rows := table(t, kubectl(t, "get", "cmcst", "-n", ns, "-o", "wide"))
		return rows[name]
	}
	if r := row("trust-bundle"); r == nil || r[9] != "Deployment/frontend" {
		t.Errorf("wide trust-bundle row %v, want USED_BY Deployment/frontend", r)
	}
	if r := row("kube-root-ca.crt"); r == nil || r[9] != "<none>" {
		t.Errorf("wide kube-root-ca.crt row %v, want USED_BY <none>", r)
	}

	direct := env.server.DirectRESTConfig(env.stack.RESTConfig())
	eventually(t, 30*time.Second, func() error {
		code, body, err := tryGet(direct, "/metrics", "")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET /metrics: %d %v", code, err)
		}
		for name, used := range map[string]string{"trust-bundle": "1", "idle-bundle": "0", "kube-root-ca.crt": "0"} {
			if want := `certstatus_configmap_used{namespace="` + ns + `",configmap="` + name + `"} ` + used + "\n"; !strings.Contains(string(body), want) {
				return fmt.Errorf("/metrics has no %q", want)
			}
		}
		return nil
	})

	// A deleted Pod stops counting.
	if err := env.kube.CoreV1().Pods(ns).Delete(ctx, "frontend-7c9f-a", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	if got, want := next(), []v1alpha1.UsedBy{{Kind: "Deployment", Namespace: ns, Name: "frontend", Pods: 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the delete: usedBy %+v, want %+v", got, want)
	}
}
