package registrations

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
)

func object(apiVersion, kind, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	for k, v := range fields {
		u.Object[k] = v
	}
	u.SetName(name)
	u.SetUID(types.UID("uid-" + name))
	u.SetLabels(map[string]string{"app": name})
	u.SetAnnotations(map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", InjectCAFromSecretAnnotation: "ns/hook-tls"})
	return u
}

func b64(pem []byte) string { return base64.StdEncoding.EncodeToString(pem) }

// decoded is u as the registrations' informers decode it from the API's JSON.
func decoded(t *testing.T, u *unstructured.Unstructured) *Object {
	t.Helper()
	data, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	o := &Object{}
	if err := Decode(data, o); err != nil {
		t.Fatal(err)
	}
	return o
}

func transform(t *testing.T, u *unstructured.Unstructured) *Registration {
	t.Helper()
	obj, err := Transform(decoded(t, u))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := obj.(*Registration)
	if !ok {
		t.Fatalf("Transform returned %T", obj)
	}
	if r.Annotations != nil || r.ManagedFields != nil {
		t.Errorf("kept annotations %v", r.Annotations)
	}
	if r.UID != types.UID("uid-"+r.Name) || r.Labels["app"] != r.Name {
		t.Errorf("metadata %+v not kept", r.ObjectMeta)
	}
	return r
}

// bundleView is the part of a CABundle the tests compare.
func bundleView(b CABundle) string {
	view := b.Key
	if b.Service != nil {
		view += " service=" + b.Service.Namespace + "/" + b.Service.Name
	}
	if b.URL {
		view += " url"
	}
	if b.Webhook != nil {
		view += " webhook=" + b.Webhook.Name + "/" + b.Webhook.FailurePolicy
	}
	return view
}

func TestTransformEveryKind(t *testing.T) {
	ca := newCA(t, "Registration CA")
	pem := ca.PEM()
	cases := []struct {
		u    *unstructured.Unstructured
		name string
		want []string
	}{
		{object("apiregistration.k8s.io/v1", KindAPIService, "v1beta1.metrics.k8s.io", map[string]any{"spec": map[string]any{
			"caBundle": b64(pem), "service": map[string]any{"namespace": "kube-system", "name": "metrics-server", "port": int64(443)}}}),
			"apiservice.v1beta1.metrics.k8s.io", []string{"spec.caBundle service=kube-system/metrics-server"}},
		{object("admissionregistration.k8s.io/v1", KindValidatingWebhookConfiguration, "cert-manager-webhook", map[string]any{"webhooks": []any{
			map[string]any{"name": "a.example.com", "failurePolicy": "Ignore", "clientConfig": map[string]any{"caBundle": b64(pem), "service": map[string]any{"namespace": "ns", "name": "hook"}}},
			map[string]any{"name": "b.example.com", "clientConfig": map[string]any{"caBundle": b64(pem), "url": "https://hook.example.com"}},
			map[string]any{"name": "c.example.com", "clientConfig": map[string]any{"service": map[string]any{"namespace": "ns", "name": "hook"}}},
		}}), "validatingwebhookconfiguration.cert-manager-webhook", []string{
			"webhooks[a.example.com].clientConfig.caBundle service=ns/hook webhook=a.example.com/Ignore",
			"webhooks[b.example.com].clientConfig.caBundle url webhook=b.example.com/Fail",
		}},
		{object("admissionregistration.k8s.io/v1", KindMutatingWebhookConfiguration, "m", map[string]any{"webhooks": []any{
			map[string]any{"name": "m.example.com", "clientConfig": map[string]any{"caBundle": b64(pem), "service": map[string]any{"namespace": "ns", "name": "hook"}}},
		}}), "mutatingwebhookconfiguration.m", []string{"webhooks[m.example.com].clientConfig.caBundle service=ns/hook webhook=m.example.com/Fail"}},
		{object("apiextensions.k8s.io/v1", KindCustomResourceDefinition, "widgets.example.com", map[string]any{"spec": map[string]any{
			"versions": []any{map[string]any{"name": "v1", "schema": map[string]any{"openAPIV3Schema": map[string]any{"description": strings.Repeat("x", 1<<20)}}}},
			"conversion": map[string]any{"strategy": "Webhook", "webhook": map[string]any{"clientConfig": map[string]any{
				"caBundle": b64(pem), "service": map[string]any{"namespace": "ns", "name": "convert"}}}}}}),
			"customresourcedefinition.widgets.example.com", []string{"spec.conversion.webhook.clientConfig.caBundle service=ns/convert"}},
		{object("certificates.k8s.io/v1beta1", KindClusterTrustBundle, "example.com:signer:1", map[string]any{"spec": map[string]any{"trustBundle": string(pem)}}),
			"clustertrustbundle.example.com:signer:1", []string{"spec.trustBundle"}},
	}
	for _, c := range cases {
		t.Run(c.u.GetKind(), func(t *testing.T) {
			r := transform(t, c.u)
			if r.ObjectName() != c.name {
				t.Errorf("name %q, want %q", r.ObjectName(), c.name)
			}
			var got []string
			for _, b := range r.CABundles {
				got = append(got, bundleView(b))
				if string(b.PEM) != string(pem) {
					t.Errorf("%s: caBundle not decoded", b.Key)
				}
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("caBundles\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if r.InjectCAFromSecret != "ns/hook-tls" {
				t.Errorf("inject-ca-from-secret %q", r.InjectCAFromSecret)
			}
			if _, listed := certificate.Analyze(r.AnalysisInput(), certificate.DefaultOptions()); !listed {
				t.Error("not listed")
			}
		})
	}
}

func TestTransformPassesTombstonesAndRefusesOtherKinds(t *testing.T) {
	u := object("apiregistration.k8s.io/v1", KindAPIService, "v1.example.com", map[string]any{})
	obj, err := Transform(cache.DeletedFinalStateUnknown{Key: "v1.example.com", Obj: decoded(t, u)})
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); err != nil || !ok {
		t.Fatalf("tombstone became %T, %v", obj, err)
	} else if r, ok := tombstone.Obj.(*Registration); !ok || r.Name != "v1.example.com" {
		t.Errorf("tombstone holds %T", tombstone.Obj)
	}
	if _, err := Transform(decoded(t, object("v1", "ConfigMap", "x", nil))); err == nil {
		t.Error("a ConfigMap was transformed")
	}
}

func TestObjectName(t *testing.T) {
	if got := ObjectName("APIService", "v1.example.com"); got != "apiservice.v1.example.com" {
		t.Errorf("got %q", got)
	}
	fits := strings.Repeat("a", 253-len("apiservice."))
	if got := ObjectName("APIService", fits); got != "apiservice."+fits {
		t.Errorf("a 253-character name changed: %q", got)
	}
	long1 := strings.Repeat("a", 300) + "1"
	long2 := strings.Repeat("a", 300) + "2"
	n1, n2 := ObjectName(KindValidatingWebhookConfiguration, long1), ObjectName(KindValidatingWebhookConfiguration, long2)
	if len(n1) != 253 || len(n2) != 253 || n1 == n2 {
		t.Fatalf("long names %q (%d) and %q (%d): want 253 characters each, distinct", n1, len(n1), n2, len(n2))
	}
	full := "validatingwebhookconfiguration." + long1
	if !strings.HasPrefix(n1, full[:236]+"-") {
		t.Errorf("%q does not keep the first 236 characters", n1)
	}
}

// TestHundredWebhooks: one object with 100 field-path keys.
func TestHundredWebhooks(t *testing.T) {
	pem := newCA(t, "Hook CA").PEM()
	var webhooks []any
	for i := range 100 {
		webhooks = append(webhooks, map[string]any{"name": fmt.Sprintf("w%03d.example.com", i), "clientConfig": map[string]any{
			"caBundle": b64(pem), "service": map[string]any{"namespace": "ns", "name": "hook"}}})
	}
	r := transform(t, object("admissionregistration.k8s.io/v1", KindValidatingWebhookConfiguration, "many", map[string]any{"webhooks": webhooks}))
	if len(r.CABundles) != 100 || &r.CABundles[0].PEM[0] != &r.CABundles[99].PEM[0] {
		t.Fatalf("%d caBundles (want 100, sharing one value)", len(r.CABundles))
	}
	a, listed := certificate.Analyze(r.AnalysisInput(), certificate.DefaultOptions())
	if !listed {
		t.Fatal("not listed")
	}
	status := a.StatusAt(epoch)
	keys := map[string]bool{}
	for _, c := range status.Certificates {
		keys[c.Key] = true
	}
	if len(status.Certificates) != 100 || len(keys) != 100 || !keys["webhooks[w042.example.com].clientConfig.caBundle"] {
		t.Errorf("%d certificates under %d keys, want 100 under 100 field paths", len(status.Certificates), len(keys))
	}
}

func TestCABundleThatIsNotPEM(t *testing.T) {
	pem := newCA(t, "Hook CA").PEM()
	r := transform(t, object("admissionregistration.k8s.io/v1", KindMutatingWebhookConfiguration, "broken", map[string]any{"webhooks": []any{
		map[string]any{"name": "good.example.com", "clientConfig": map[string]any{"caBundle": b64(pem), "service": map[string]any{"namespace": "ns", "name": "hook"}}},
		map[string]any{"name": "bad.example.com", "clientConfig": map[string]any{"caBundle": b64([]byte{0x30, 0x82, 0x01}), "service": map[string]any{"namespace": "ns", "name": "hook"}}},
	}}))
	a, listed := certificate.Analyze(r.AnalysisInput(), certificate.DefaultOptions())
	if !listed {
		t.Fatal("not listed")
	}
	status := a.StatusAt(epoch)
	if len(status.Errors) != 1 || status.Errors[0].Key != "webhooks[bad.example.com].clientConfig.caBundle" || !strings.Contains(status.Errors[0].Message, "DER") {
		t.Errorf("errors %+v, want one for the bad webhook's caBundle", status.Errors)
	}
	if status.State != certstatus.StateValid {
		t.Errorf("state %s, want the good caBundle's Valid", status.State)
	}
	only := transform(t, object("apiregistration.k8s.io/v1", KindAPIService, "v1.bad", map[string]any{"spec": map[string]any{"caBundle": b64([]byte("garbage"))}}))
	if _, listed := certificate.Analyze(only.AnalysisInput(), certificate.DefaultOptions()); listed {
		t.Error("a registration whose only caBundle holds no certificate is listed")
	}
}
