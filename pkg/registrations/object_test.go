package registrations

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/internal/benchcpu"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// benchCRDJSON is a CRD as kube-apiserver serves the bench figure's
// (hack/bench/configmaps.go): two versions, each with an openAPIV3Schema of
// about schemaBytes of JSON, a conversion webhook with caBundle, and the
// managedFields a create leaves (one entry per schema field).
func benchCRDJSON(i, schemaBytes int, caBundle []byte) map[string]any {
	const description = "A setting of the bench resource, described at the length generated API references describe theirs, so that the schema weighs what real ones do."
	fields, managed := map[string]any{}, map[string]any{}
	for n := 0; n*200 < schemaBytes; n++ {
		name := fmt.Sprintf("field%04d", n)
		fields[name] = map[string]any{"type": "string", "description": description}
		managed["f:"+name] = map[string]any{".": map[string]any{}, "f:description": map[string]any{}, "f:type": map[string]any{}}
	}
	schema := map[string]any{"type": "object", "properties": map[string]any{
		"spec": map[string]any{"type": "object", "properties": fields},
	}}
	plural := fmt.Sprintf("widget%02ds", i)
	version := func(name string, storage bool) map[string]any {
		return map[string]any{"name": name, "served": true, "storage": storage, "schema": map[string]any{"openAPIV3Schema": schema}}
	}
	return map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       KindCustomResourceDefinition,
		"metadata": map[string]any{
			"name": plural + ".bench.example.com", "uid": fmt.Sprintf("uid-%d", i), "resourceVersion": fmt.Sprint(1000 + i),
			"creationTimestamp": "2026-01-02T03:04:05Z",
			"labels":            map[string]any{"app.kubernetes.io/part-of": "certstatus-bench"},
			"managedFields": []any{map[string]any{"manager": "bench", "operation": "Update", "apiVersion": "apiextensions.k8s.io/v1", "fieldsType": "FieldsV1",
				"fieldsV1": map[string]any{"f:spec": map[string]any{"f:versions": map[string]any{}, "f:schema": map[string]any{"f:openAPIV3Schema": map[string]any{"f:properties": managed}}}}}},
		},
		"spec": map[string]any{
			"group":    "bench.example.com",
			"names":    map[string]any{"plural": plural, "kind": "Widget"},
			"scope":    "Namespaced",
			"versions": []any{version("v1", true), version("v2", false)},
			"conversion": map[string]any{"strategy": "Webhook", "webhook": map[string]any{
				"conversionReviewVersions": []any{"v1"},
				"clientConfig": map[string]any{
					"service":  map[string]any{"namespace": "bench", "name": "widget-conversion", "path": "/convert", "port": 443},
					"caBundle": base64.StdEncoding.EncodeToString(caBundle),
				},
			}},
		},
		"status": map[string]any{"storedVersions": []any{"v1"}},
	}
}

// benchCRDList is a list response of n bench CRDs.
func benchCRDList(t testing.TB, n, schemaBytes int) []byte {
	pem := newCA(t, "Conversion CA").PEM()
	items := make([]any, n)
	for i := range items {
		items[i] = benchCRDJSON(i, schemaBytes, pem)
	}
	data, err := json.Marshal(map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinitionList",
		"metadata": map[string]any{"resourceVersion": "4242"}, "items": items})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeListKeepsOnlyWhatRegistrationsRead(t *testing.T) {
	data := benchCRDList(t, 3, 4<<10)
	list := &ObjectList{}
	if err := DecodeList(data, list); err != nil {
		t.Fatal(err)
	}
	// The reflector's view: list resourceVersion and items as runtime.Objects.
	if accessor, err := meta.ListAccessor(list); err != nil || accessor.GetResourceVersion() != "4242" {
		t.Fatalf("list accessor %v, %v", accessor, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil || len(items) != 3 {
		t.Fatalf("extracted %d items, %v", len(items), err)
	}
	accessor, err := meta.Accessor(items[1])
	if err != nil || accessor.GetName() != "widget01s.bench.example.com" || accessor.GetResourceVersion() != "1001" || accessor.GetUID() != "uid-1" {
		t.Fatalf("item accessor %v, %v", accessor, err)
	}
	o := items[1].(*Object)
	if o.ManagedFields != nil || o.Annotations != nil || !reflect.DeepEqual(o.Metadata, objectMeta{}) {
		t.Errorf("kept more metadata than read: %+v, %+v", o.ObjectMeta, o.Metadata)
	}
	if o.CreationTimestamp.IsZero() || o.Labels["app.kubernetes.io/part-of"] != "certstatus-bench" {
		t.Errorf("metadata not kept: %+v", o.ObjectMeta)
	}
	r, err := FromObject(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.CABundles) != 1 || bundleView(r.CABundles[0]) != "spec.conversion.webhook.clientConfig.caBundle service=bench/widget-conversion" {
		t.Errorf("caBundles %+v", r.CABundles)
	}
	if !reflect.DeepEqual(o.DeepCopyObject(), o) || !reflect.DeepEqual(list.DeepCopyObject(), list) {
		t.Error("deep copy differs")
	}
}

func TestDecodeAnnotations(t *testing.T) {
	data := []byte(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"x","annotations":{
		"kubectl.kubernetes.io/last-applied-configuration":"` + strings.Repeat("x", 2*maxAnnotation) + `",
		"cert-manager.io/inject-ca-from":" ns/cert ",
		"Cert-Manager.io/inject-ca-from-secret":"ns/wrong-case",
		"k8s.io/initial-events-end":"true"}}}`)
	o := &Object{}
	if err := Decode(data, o); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{InjectCAFromAnnotation: " ns/cert ", metav1.InitialEventsAnnotationKey: "true"}
	if !reflect.DeepEqual(o.Annotations, want) {
		t.Errorf("annotations %v, want %v (annotation keys are case-sensitive)", o.Annotations, want)
	}
}

// TestDecodeToleratesFieldsOfAnotherType: a mistyped field is absent, the
// rest is decoded.
func TestDecodeToleratesFieldsOfAnotherType(t *testing.T) {
	pem := newCA(t, "Hook CA").PEM()
	data := []byte(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"m"},"webhooks":[
		{"name":"a.example.com","failurePolicy":7,"clientConfig":{"caBundle":"` + b64(pem) + `","service":{"namespace":"ns","name":"hook"}}},
		{"name":"b.example.com","clientConfig":{"caBundle":["not","a","string"],"url":"https://b.example.com"}}]}`)
	o := &Object{}
	if err := Decode(data, o); err != nil {
		t.Fatal(err)
	}
	r, err := FromObject(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.CABundles) != 1 || bundleView(r.CABundles[0]) != "webhooks[a.example.com].clientConfig.caBundle service=ns/hook webhook=a.example.com/Fail" {
		t.Errorf("caBundles %+v", r.CABundles)
	}
	if err := Decode([]byte(`{"kind":`), o); err == nil {
		t.Error("truncated JSON decoded")
	}
}

// TestCodecDecodesStatus: a watch's ERROR event and an error response are
// a metav1.Status, which the reflector turns into an error (410 relists).
func TestCodecDecodesStatus(t *testing.T) {
	data := []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (42)","reason":"Expired","code":410}`)
	obj, _, err := Codec{}.Decode(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := apierrors.FromObject(obj); !apierrors.IsResourceExpired(err) {
		t.Errorf("decoded %T: %v, want a 410 Expired", obj, err)
	}
	obj, _, err = Codec{}.Decode([]byte(`{"kind":"APIService","apiVersion":"apiregistration.k8s.io/v1","metadata":{"name":"v1.x","resourceVersion":"9"}}`), nil, nil)
	if o, ok := obj.(*Object); err != nil || !ok || o.Name != "v1.x" || o.ResourceVersion != "9" {
		t.Errorf("decoded %#v, %v", obj, err)
	}
	if _, _, err := (Codec{}).Decode(data, nil, &unstructured.Unstructured{}); err == nil {
		t.Error("decoded into an unexpected type")
	}
}

// BenchmarkDecodeCRDList decodes a list of 50 CRDs of about 410 KiB of
// JSON each (issue #26 part 5's figure), as the dynamic client did
// (unstructured: every schema node a map) and as the registrations'
// client does (Object: the schema is scanned, never built). cpu-ns/op is
// the process's CPU time per list (GC included), steadier than ns/op on a
// loaded machine.
func BenchmarkDecodeCRDList(b *testing.B) {
	data := benchCRDList(b, 50, 204<<10)
	b.Logf("list of 50 CRDs: %d KiB (%d KiB each)", len(data)>>10, len(data)>>10/50)
	b.Run("unstructured", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer benchcpu.Measure(b)()
		for b.Loop() {
			obj, err := runtime.Decode(unstructured.UnstructuredJSONScheme, data)
			if err != nil {
				b.Fatal(err)
			}
			if n := len(obj.(*unstructured.UnstructuredList).Items); n != 50 {
				b.Fatalf("%d items", n)
			}
		}
	})
	b.Run("slim", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer benchcpu.Measure(b)()
		for b.Loop() {
			list := &ObjectList{}
			if _, _, err := (Codec{}).Decode(data, nil, list); err != nil {
				b.Fatal(err)
			}
			for i := range list.Items {
				if _, err := Transform(&list.Items[i]); err != nil {
					b.Fatal(err)
				}
			}
			if len(list.Items) != 50 {
				b.Fatalf("%d items", len(list.Items))
			}
		}
	})
}
