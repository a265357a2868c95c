package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/watchtest"
	"github.com/certstatus/certstatus/test/stack"
)

// unusedGroup is the API group every test webhook's rules name: nothing
// serves it, so the webhooks are never called.
const unusedGroup = "e2e-unused.certstatus.dev"

// testWebhook is one webhook as every test registers it: failurePolicy
// Ignore, sideEffects None, a one-second timeout, rules on unusedGroup.
func testWebhook(name string, service *admissionregistrationv1.ServiceReference, caBundle []byte) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:                    name,
		ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: service, CABundle: caBundle},
		Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{unusedGroup}, APIVersions: []string{"v1"}, Resources: []string{"things"}}}},
		FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          ptr.To(int32(1)),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// createWebhookConfiguration registers webhooks and deletes them when the test ends.
func createWebhookConfiguration(t *testing.T, name string, webhooks ...admissionregistrationv1.ValidatingWebhook) {
	t.Helper()
	configuration := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}, Webhooks: webhooks}
	if _, err := env.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), configuration, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ValidatingWebhookConfiguration %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = env.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// webhookBackend is a Service selecting app=<name>, and a Pod (Pending: the
// stack runs no kubelet, and Pending Pods count) mounting secret.
func webhookBackend(t *testing.T, namespace, name, secret string) *admissionregistrationv1.ServiceReference {
	t.Helper()
	ctx := context.Background()
	service := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 443}}},
	}
	if _, err := env.kube.CoreV1().Services(namespace).Create(ctx, service, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Service: %v", err)
	}
	if secret != "" {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name + "-0", Labels: map[string]string{"app": name}}, Spec: podSpec(secret)}
		if _, err := env.kube.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create Pod: %v", err)
		}
	}
	return &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: name, Path: ptr.To("/validate")}
}

// servingSecret is a TLS Secret whose leaf, issued by ca, covers the Service's name.
func servingSecret(namespace, name, service string, ca *certtest.Certificate) (*corev1.Secret, *certtest.Certificate) {
	host := service + "." + namespace + ".svc"
	// 30 days, the CA 90: the trusted path ends with the leaf.
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: host, DNSNames: []string{host}, KeyAlgorithm: certtest.ECDSA,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour)}))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": certtest.ChainPEM(leaf), "tls.key": certtest.Must(leaf.KeyPEM(certtest.PKCS8))},
	}, leaf
}

func trustedOf(o *v1alpha1.ClusterCertificateStatus) *metav1.Condition {
	return meta.FindStatusCondition(o.Status.Conditions, "Trusted")
}

// waitTrusted waits until the object exists with Trusted in the given status.
func waitTrusted(t *testing.T, name string, status metav1.ConditionStatus) *v1alpha1.ClusterCertificateStatus {
	t.Helper()
	var object *v1alpha1.ClusterCertificateStatus
	eventually(t, 30*time.Second, func() error {
		var err error
		object, err = env.certs.CertstatusV1alpha1().ClusterCertificateStatuses().Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if c := trustedOf(object); c == nil || c.Status != status {
			return fmt.Errorf("%s: Trusted is %+v, want %s", name, c, status)
		}
		return nil
	})
	return object
}

// The case: a webhook whose caBundle is the old CA while its Pods
// mount a Secret from a new one is False (state Invalid), and turns True
// when the caBundle is fixed, with one MODIFIED and no restart. The serving
// Secret's usedBy names the webhook configuration.
func TestWebhookCABundleMismatchThenFixed(t *testing.T) {
	ns := newNamespace(t)
	oldCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Old Webhook CA", KeyAlgorithm: certtest.ECDSA}))
	newCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E New Webhook CA", KeyAlgorithm: certtest.ECDSA}))
	secret, leaf := servingSecret(ns, "hook-tls", "hook", newCA)
	createSecret(t, secret)
	service := webhookBackend(t, ns, "hook", "hook-tls")
	configuration := "e2e-mismatch-" + ns
	name := "validatingwebhookconfiguration." + configuration
	createWebhookConfiguration(t, configuration, testWebhook("check.e2e.certstatus.dev", service, oldCA.PEM()))

	object := waitTrusted(t, name, metav1.ConditionFalse)
	trusted := trustedOf(object)
	if object.Status.State != v1alpha1.StateInvalid || trusted.Reason != "CABundleMismatch" ||
		!strings.Contains(trusted.Message, ns+"/hook-tls") || !strings.Contains(trusted.Message, "E2E New Webhook CA") {
		t.Fatalf("mismatch: state %s, Trusted %+v", object.Status.State, trusted)
	}
	if ready := meta.FindStatusCondition(object.Status.Conditions, "Ready"); ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != "CABundleMismatch" {
		t.Fatalf("Ready = %+v, want False CABundleMismatch", ready)
	}
	if object.Status.Source == nil || object.Status.Source.Kind != "ValidatingWebhookConfiguration" || object.Status.Source.Name != configuration ||
		object.Status.Source.APIVersion != "admissionregistration.k8s.io/v1" {
		t.Fatalf("source = %+v", object.Status.Source)
	}
	if len(object.Status.Certificates) != 1 || object.Status.Certificates[0].Key != "webhooks[check.e2e.certstatus.dev].clientConfig.caBundle" {
		t.Fatalf("certificates = %+v", object.Status.Certificates)
	}

	// /metrics says so, labelled with the registration's kind and name.
	trustedSeries := func(status string) string {
		return fmt.Sprintf(`certstatus_registration_trusted{kind="ValidatingWebhookConfiguration",name=%q,status=%q} 1`, configuration, status)
	}
	waitMetrics(t, trustedSeries("false"),
		fmt.Sprintf(`certstatus_registration_state{kind="ValidatingWebhookConfiguration",name=%q,state="Invalid"} 1`, configuration))

	// The serving Secret's usedBy names the configuration with its webhook.
	eventually(t, 30*time.Second, func() error {
		cst, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).Get(context.Background(), "hook-tls", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, u := range cst.Status.UsedBy {
			if u.Kind == "ValidatingWebhookConfiguration" && u.Name == configuration && u.Namespace == "" &&
				len(u.Webhooks) == 1 && u.Webhooks[0].Name == "check.e2e.certstatus.dev" && u.Webhooks[0].FailurePolicy == "Ignore" {
				return nil
			}
		}
		return fmt.Errorf("usedBy = %+v", cst.Status.UsedBy)
	})

	w, err := env.certs.CertstatusV1alpha1().ClusterCertificateStatuses().Watch(context.Background(), metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: object.ResourceVersion,
	})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	t.Cleanup(w.Stop)

	setCABundle(t, configuration, newCA.PEM())
	fixed := receiveModified(t, w)
	if c := trustedOf(fixed); c == nil || c.Status != metav1.ConditionTrue || c.Reason != "CABundleTrusted" || fixed.Status.State != v1alpha1.StateValid {
		t.Fatalf("after the fix: state %s, Trusted %+v", fixed.Status.State, c)
	}
	// The dates follow the trusted path: the serving leaf's notAfter, not the CA's.
	if notAfter := leaf.Certificate.NotAfter; fixed.Status.NotAfter == nil || !fixed.Status.NotAfter.Time.Equal(notAfter) {
		t.Fatalf("notAfter %v, want the serving leaf's %v", fixed.Status.NotAfter, notAfter)
	}
	if ev, err := watchtest.Receive(w.ResultChan(), 3*time.Second); err == nil {
		t.Fatalf("a second event after the fix: %s %v", ev.Type, ev.Object)
	}
	kubectl(t, "wait", "--for=condition=Trusted", "ccst/"+name, "--timeout=30s")
	waitMetrics(t, trustedSeries("true"))
}

// receiveModified waits for the watch's next event, which must be a
// MODIFIED ClusterCertificateStatus.
func receiveModified(t *testing.T, w watch.Interface) *v1alpha1.ClusterCertificateStatus {
	t.Helper()
	ev, err := watchtest.Receive(w.ResultChan(), 30*time.Second)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	object, ok := ev.Object.(*v1alpha1.ClusterCertificateStatus)
	if ev.Type != watch.Modified || !ok {
		t.Fatalf("event %s %T, want MODIFIED", ev.Type, ev.Object)
	}
	return object
}

// setCABundle replaces the first webhook's caBundle of a configuration.
func setCABundle(t *testing.T, configuration string, caBundle []byte) {
	t.Helper()
	ctx := context.Background()
	current, err := env.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, configuration, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	current.Webhooks[0].ClientConfig.CABundle = caBundle
	if _, err := env.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Update(ctx, current, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("set the caBundle of %s: %v", configuration, err)
	}
}

// waitMetrics waits until the server's /metrics holds every line of want.
func waitMetrics(t *testing.T, want ...string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		code, body, err := tryGet(env.server.DirectRESTConfig(env.stack.RESTConfig()), "/metrics", "")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET /metrics: %d %v", code, err)
		}
		for _, line := range want {
			if !strings.Contains(string(body), line+"\n") {
				return fmt.Errorf("/metrics has no %s", line)
			}
		}
		return nil
	})
}

// The resource through kubectl: table and wide table, the field selector
// on status.source.kind, explain, and certstatus's own APIService.
func TestClusterCertificateStatusesWithKubectl(t *testing.T) {
	out := kubectl(t, "get", "ccst")
	for _, column := range []string{"NAME", "KIND", "STATE", "TRUSTED", "EXPIRES", "AGE"} {
		if !strings.Contains(out, column) {
			t.Fatalf("kubectl get ccst lacks %s:\n%s", column, out)
		}
	}
	own := "apiservice." + stack.APIServiceName
	if !strings.Contains(out, own) {
		t.Fatalf("kubectl get ccst lacks certstatus's own APIService %s:\n%s", own, out)
	}
	wide := kubectl(t, "get", "ccst", own, "-o", "wide")
	for _, column := range []string{"COMMON NAME", "ISSUER", "NOT AFTER", "CERTS", "REASON", "REGISTRATION"} {
		if !strings.Contains(wide, column) {
			t.Fatalf("kubectl get ccst -o wide lacks %s:\n%s", column, wide)
		}
	}
	// Its Service is an ExternalName without selector: no serving Secret can be found.
	if !strings.Contains(wide, "ServingSecretUnknown") || !strings.Contains(wide, "Unknown") {
		t.Fatalf("the stack's APIService should be Trusted Unknown:\n%s", wide)
	}
	selected := kubectl(t, "get", "ccst", "--field-selector", "status.source.kind=APIService", "-o", "name")
	for _, line := range strings.Fields(selected) {
		if !strings.HasPrefix(line, "clustercertificatestatus.certstatus.dev/apiservice.") {
			t.Fatalf("the field selector let through %s:\n%s", line, selected)
		}
	}
	if !strings.Contains(selected, own) {
		t.Fatalf("the field selector dropped %s:\n%s", own, selected)
	}
	if stderr := kubectlFails(t, "", "get", "ccst", "--field-selector", "metadata.namespace=default"); !strings.Contains(stderr, "status.source.kind") {
		t.Fatalf("an unsupported field selector should name the supported ones: %s", stderr)
	}
	explain := kubectl(t, "explain", "ccst.status.source")
	if !strings.Contains(explain, "ClusterCertificateStatus") || !strings.Contains(explain, "kind") {
		t.Fatalf("kubectl explain ccst.status.source:\n%s", explain)
	}
	var found bool
	for _, line := range strings.Split(kubectl(t, "api-resources", "--api-group=certstatus.dev", "-o", "wide", "--no-headers"), "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == "clustercertificatestatuses" {
			found = true
			if want := []string{"clustercertificatestatuses", "ccst", "certstatus.dev/v1alpha1", "false", "ClusterCertificateStatus", "get,list,watch"}; !slices.Equal(fields[:min(len(fields), 6)], want) {
				t.Errorf("api-resources: %q, want %v", line, want)
			}
		}
	}
	if !found {
		t.Error("api-resources does not list clustercertificatestatuses")
	}
	if stderr := kubectlFails(t, "", "delete", "ccst", own); !strings.Contains(stderr, "MethodNotAllowed") {
		t.Errorf("kubectl delete ccst: %q, want 405", stderr)
	}

	// A typed informer and its lister, over protobuf.
	factory, seen := protobufFactory(t)
	informer := factory.Certstatus().V1alpha1().ClusterCertificateStatuses()
	lister := informer.Lister()
	startAndSync(t, factory, informer.Informer())
	if got, err := lister.Get(own); err != nil || got.Status.Source == nil || got.Status.Source.Kind != "APIService" {
		t.Errorf("the lister's %s: %+v %v", own, got, err)
	}
	seen.check(t)
}

// Hostile registrations break nothing: a caBundle that is not PEM, 100
// webhooks in one configuration, a Service without Pods, a serving Secret
// deleted.
func TestHostileRegistrations(t *testing.T) {
	ns := newNamespace(t)
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Hostile CA", KeyAlgorithm: certtest.ECDSA}))
	manySecret, _ := servingSecret(ns, "many-tls", "many", ca)
	createSecret(t, manySecret)
	many := webhookBackend(t, ns, "many", "many-tls")
	lonely := webhookBackend(t, ns, "lonely", "")

	// Garbage beside a certificate is an errors[] entry; garbage alone is no object.
	createWebhookConfiguration(t, "e2e-garbage-"+ns,
		testWebhook("garbage.e2e.certstatus.dev", lonely, []byte("this is not PEM")),
		testWebhook("fine.e2e.certstatus.dev", lonely, ca.PEM()))
	createWebhookConfiguration(t, "e2e-only-garbage-"+ns, testWebhook("garbage.e2e.certstatus.dev", lonely, []byte("this is not PEM either")))
	// A CERTIFICATE block that cannot be read is a certificate gone wrong: Invalid, as in a Secret.
	createWebhookConfiguration(t, "e2e-broken-"+ns, testWebhook("broken.e2e.certstatus.dev", lonely, []byte("-----BEGIN CERTIFICATE-----\nnope\n")))
	// 100 webhooks of one Service.
	webhooks := make([]admissionregistrationv1.ValidatingWebhook, 100)
	for i := range webhooks {
		webhooks[i] = testWebhook(fmt.Sprintf("w%03d.e2e.certstatus.dev", i), many, ca.PEM())
	}
	createWebhookConfiguration(t, "e2e-many-"+ns, webhooks...)

	garbage := waitTrusted(t, "validatingwebhookconfiguration.e2e-garbage-"+ns, metav1.ConditionUnknown)
	if len(garbage.Status.Errors) == 0 || len(garbage.Status.Certificates) != 1 {
		t.Fatalf("garbage caBundle: errors %+v, certificates %d", garbage.Status.Errors, len(garbage.Status.Certificates))
	}
	if c := trustedOf(garbage); c.Reason != "ServingSecretUnknown" || !strings.Contains(c.Message, "No running or pending Pod") {
		t.Fatalf("a Service without Pods: Trusted %+v", c)
	}

	manyName := "validatingwebhookconfiguration.e2e-many-" + ns
	object := waitTrusted(t, manyName, metav1.ConditionTrue)
	if len(object.Status.Certificates) != 100 {
		t.Fatalf("100 webhooks: %d certificates", len(object.Status.Certificates))
	}
	eventually(t, 30*time.Second, func() error {
		cst, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).Get(context.Background(), "many-tls", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, u := range cst.Status.UsedBy {
			if u.Kind == "ValidatingWebhookConfiguration" && len(u.Webhooks) == 100 {
				return nil
			}
		}
		return fmt.Errorf("usedBy has no configuration with 100 webhooks: %d users", len(cst.Status.UsedBy))
	})
	if broken := waitTrusted(t, "validatingwebhookconfiguration.e2e-broken-"+ns, metav1.ConditionUnknown); broken.Status.State != v1alpha1.StateInvalid || len(broken.Status.Errors) == 0 {
		t.Fatalf("a broken CERTIFICATE block: state %s, errors %+v", broken.Status.State, broken.Status.Errors)
	}
	if _, err := env.certs.CertstatusV1alpha1().ClusterCertificateStatuses().Get(context.Background(), "validatingwebhookconfiguration.e2e-only-garbage-"+ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a caBundle of garbage only: %v, want NotFound", err)
	}

	// The serving Secret deleted: Unknown, and everything still lists.
	if err := env.kube.CoreV1().Secrets(ns).Delete(context.Background(), "many-tls", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	object = waitTrusted(t, manyName, metav1.ConditionUnknown)
	if c := trustedOf(object); !strings.Contains(c.Message, "mount no TLS Secret") {
		t.Fatalf("serving Secret deleted: Trusted %+v", c)
	}
	list, err := env.certs.CertstatusV1alpha1().ClusterCertificateStatuses().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(list.Items) < 3 {
		t.Fatalf("list after the hostile registrations: %v (%d items)", err, len(list.Items))
	}
	// No caBundle bytes leave the server: neither the garbage nor the PEM
	// (or its base64) of a certificate.
	out := kubectl(t, "get", "ccst", "-o", "yaml")
	for _, leaked := range []string{"this is not PEM", "BEGIN CERTIFICATE", base64.StdEncoding.EncodeToString(ca.PEM())[:40], base64.StdEncoding.EncodeToString(ca.Certificate.Raw)[:40]} {
		if strings.Contains(out, leaked) {
			t.Errorf("kubectl get ccst -o yaml holds %q", leaked)
		}
	}
}

// cert-manager's cainjector annotations name the serving Secret before any
// Pod is looked at: inject-ca-from-secret names it, inject-ca-from names
// the Certificate whose Secret (cert-manager.io/certificate-name) it is.
// Neither webhook's Service has Pods, so only the annotations can decide.
func TestInjectCAAnnotationsNameTheServingSecret(t *testing.T) {
	ns := newNamespace(t)
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Injected CA", KeyAlgorithm: certtest.ECDSA}))
	other := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Not Injected CA", KeyAlgorithm: certtest.ECDSA}))
	bySecret, _ := servingSecret(ns, "by-secret-tls", "by-secret", ca)
	createSecret(t, bySecret)
	byCertificate, _ := servingSecret(ns, "by-certificate-tls", "by-certificate", other)
	byCertificate.Annotations = map[string]string{"cert-manager.io/certificate-name": "webhook-cert"}
	createSecret(t, byCertificate)

	ctx := context.Background()
	for name, annotation := range map[string][2]string{
		"by-secret":      {"cert-manager.io/inject-ca-from-secret", ns + "/by-secret-tls"},
		"by-certificate": {"cert-manager.io/inject-ca-from", ns + "/webhook-cert"},
	} {
		configuration := &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-" + name + "-" + ns, Annotations: map[string]string{annotation[0]: annotation[1]}},
			// Both caBundles are ca's: the one by Certificate does not trust its Secret.
			Webhooks: []admissionregistrationv1.ValidatingWebhook{testWebhook(name+".e2e.certstatus.dev", webhookBackend(t, ns, name, ""), ca.PEM())},
		}
		if _, err := env.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, configuration, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = env.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), configuration.Name, metav1.DeleteOptions{})
		})
	}
	trusted := waitTrusted(t, "validatingwebhookconfiguration.e2e-by-secret-"+ns, metav1.ConditionTrue)
	if c := trustedOf(trusted); !strings.Contains(c.Message, ns+"/by-secret-tls") {
		t.Errorf("inject-ca-from-secret: Trusted %+v, want it to name %s/by-secret-tls", c, ns)
	}
	mismatch := waitTrusted(t, "validatingwebhookconfiguration.e2e-by-certificate-"+ns, metav1.ConditionFalse)
	if c := trustedOf(mismatch); c.Reason != "CABundleMismatch" || !strings.Contains(c.Message, ns+"/by-certificate-tls") {
		t.Errorf("inject-ca-from: Trusted %+v, want CABundleMismatch naming %s/by-certificate-tls", c, ns)
	}
}

// conversionCRD is a CRD whose conversion webhook calls service with
// caBundle, and whose two versions carry a schema of about schemaBytes of
// JSON each (which certstatus must skip, never build).
func conversionCRD(group string, service *admissionregistrationv1.ServiceReference, caBundle []byte, schemaBytes int) *unstructured.Unstructured {
	fields := map[string]any{}
	for i := 0; i*200 < schemaBytes; i++ {
		fields[fmt.Sprintf("field%04d", i)] = map[string]any{"type": "string", "description": strings.Repeat("A described setting. ", 8)}
	}
	schema := map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "properties": map[string]any{
		"spec": map[string]any{"type": "object", "properties": fields}}}}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "widgets." + group, "labels": map[string]any{"app": "widgets"}},
		"spec": map[string]any{
			"group": group,
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"scope": "Namespaced",
			"versions": []any{
				map[string]any{"name": "v1", "served": true, "storage": true, "schema": schema},
				map[string]any{"name": "v2", "served": true, "storage": false, "schema": schema},
			},
			"conversion": map[string]any{"strategy": "Webhook", "webhook": map[string]any{
				"conversionReviewVersions": []any{"v1"},
				"clientConfig": map[string]any{
					"service":  map[string]any{"namespace": service.Namespace, "name": service.Name, "path": "/convert"},
					"caBundle": base64.StdEncoding.EncodeToString(caBundle),
				},
			}},
		},
	}}
}

// A CRD's conversion webhook is a registration: its caBundle appears in
// ccst (read without its schema), Trusted against the Secret its Service's
// Pods serve, and a caBundle change is one MODIFIED.
func TestCRDConversionCABundleThenFixed(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	oldCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Old Conversion CA", KeyAlgorithm: certtest.ECDSA}))
	newCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E New Conversion CA", KeyAlgorithm: certtest.ECDSA}))
	secret, _ := servingSecret(ns, "convert-tls", "convert", newCA)
	createSecret(t, secret)
	service := webhookBackend(t, ns, "convert", "convert-tls")

	crds := dynamic.NewForConfigOrDie(env.stack.RESTConfig()).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	crd := conversionCRD(ns+"."+unusedGroup, service, oldCA.PEM(), 100<<10)
	if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	name := "customresourcedefinition." + crd.GetName()

	object := waitTrusted(t, name, metav1.ConditionFalse)
	if c := trustedOf(object); object.Status.State != v1alpha1.StateInvalid || c.Reason != "CABundleMismatch" || !strings.Contains(c.Message, ns+"/convert-tls") {
		t.Fatalf("mismatch: state %s, Trusted %+v", object.Status.State, c)
	}
	if object.Status.Source == nil || object.Status.Source.Kind != "CustomResourceDefinition" || object.Status.Source.Name != crd.GetName() ||
		object.Status.Source.APIVersion != "apiextensions.k8s.io/v1" || object.Labels["app"] != "widgets" {
		t.Fatalf("source %+v, labels %v", object.Status.Source, object.Labels)
	}
	if len(object.Status.Certificates) != 1 || object.Status.Certificates[0].Key != "spec.conversion.webhook.clientConfig.caBundle" {
		t.Fatalf("certificates = %+v", object.Status.Certificates)
	}

	w, err := env.certs.CertstatusV1alpha1().ClusterCertificateStatuses().Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: object.ResourceVersion,
	})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	t.Cleanup(w.Stop)
	// A merge patch: the CRD's controllers update its status meanwhile.
	patch := fmt.Sprintf(`{"spec":{"conversion":{"webhook":{"clientConfig":{"caBundle":%q}}}}}`, base64.StdEncoding.EncodeToString(newCA.PEM()))
	if _, err := crds.Patch(ctx, crd.GetName(), types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("fix the caBundle: %v", err)
	}
	fixed := receiveModified(t, w)
	if c := trustedOf(fixed); c == nil || c.Status != metav1.ConditionTrue || fixed.Status.State != v1alpha1.StateValid {
		t.Fatalf("after the fix: state %s, Trusted %+v", fixed.Status.State, c)
	}
	if ev, err := watchtest.Receive(w.ResultChan(), 3*time.Second); err == nil {
		t.Fatalf("a second event after the fix: %s %v", ev.Type, ev.Object)
	}

	// Deleting the CRD deletes its object.
	if err := crds.Delete(ctx, crd.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ev, err := watchtest.Receive(w.ResultChan(), 30*time.Second)
	if err != nil || ev.Type != watch.Deleted {
		t.Fatalf("after deleting the CRD: %v %v, want DELETED", ev.Type, err)
	}
}
