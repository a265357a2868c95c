package registrationsource

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	restclientwatch "k8s.io/client-go/rest/watch"

	"github.com/certstatus/certstatus/internal/benchcpu"
	"github.com/certstatus/certstatus/pkg/registrations"
)

func TestEventDecoder(t *testing.T) {
	stream := `{"type":"ADDED","object":{"kind":"APIService","apiVersion":"apiregistration.k8s.io/v1","metadata":{"name":"v1.a","resourceVersion":"3"},"spec":{"caBundle":"` + base64.StdEncoding.EncodeToString([]byte("pem")) + `"}}}
{"object":{"kind":"APIService","apiVersion":"apiregistration.k8s.io/v1","metadata":{"name":"v1.b","resourceVersion":"4"}},"type":"MODIFIED","extra":[1,2]}
{"type":"BOOKMARK","object":{"kind":"APIService","apiVersion":"apiregistration.k8s.io/v1","metadata":{"resourceVersion":"5","annotations":{"k8s.io/initial-events-end":"true"}}}}
{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410,"message":"too old"}}
`
	d := newEventDecoder(io.NopCloser(strings.NewReader(stream)))
	var got []string
	for {
		eventType, object, err := d.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		switch o := object.(type) {
		case *registrations.Object:
			got = append(got, fmt.Sprintf("%s %s rv %s %v caBundle %q", eventType, o.Name, o.ResourceVersion, o.Annotations, o.Spec.CABundle))
		default:
			got = append(got, fmt.Sprintf("%s %v", eventType, apierrors.IsResourceExpired(apierrors.FromObject(object))))
		}
	}
	want := []string{
		`ADDED v1.a rv 3 map[] caBundle "cGVt"`,
		`MODIFIED v1.b rv 4 map[] caBundle ""`,
		`BOOKMARK  rv 5 map[k8s.io/initial-events-end:true] caBundle ""`,
		`ERROR true`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []string{`{"type":"SURPRISE","object":{}}`, `{"type":"ADDED"}`, `["ADDED"]`, `{"type":"ADDED","object":{"kind":`} {
		if _, _, err := newEventDecoder(io.NopCloser(strings.NewReader(bad))).Decode(); err == nil || err == io.EOF {
			t.Errorf("%s: %v, want an error", bad, err)
		}
	}
}

// BenchmarkWatchCRDEvents decodes the watch-list of 50 CRDs of ≈ 444 KiB
// (50 ADDED events), as client-go's watch decoder with the registrations'
// codec would (frame, envelope, copied object decoded again) and as
// eventDecoder does (one pass). cpu-ns/op is the process's CPU per stream.
func BenchmarkWatchCRDEvents(b *testing.B) {
	var stream bytes.Buffer
	for i := range 50 {
		// kube-apiserver writes the type first (metav1.WatchEvent's order).
		event, err := json.Marshal(struct {
			Type   string         `json:"type"`
			Object map[string]any `json:"object"`
		}{"ADDED", benchCRD(i)})
		if err != nil {
			b.Fatal(err)
		}
		stream.Write(event)
		stream.WriteByte('\n')
	}
	data := stream.Bytes()
	b.Logf("stream of 50 CRD events: %d KiB", len(data)>>10)
	count := func(b *testing.B, d watch.Decoder) {
		n := 0
		for {
			_, object, err := d.Decode()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if o := object.(*registrations.Object); o.Spec.Conversion == nil {
				b.Fatal("no conversion decoded")
			}
			n++
		}
		if n != 50 {
			b.Fatalf("%d events", n)
		}
	}
	b.Run("client-go", func(b *testing.B) {
		info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.WithoutConversion().SupportedMediaTypes(), runtime.ContentTypeJSON)
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer benchcpu.Measure(b)()
		for b.Loop() {
			frames := info.StreamSerializer.Framer.NewFrameReader(io.NopCloser(bytes.NewReader(data)))
			count(b, restclientwatch.NewDecoder(streamingDecoder(frames, info.StreamSerializer.Serializer), registrations.Codec{}))
		}
	})
	b.Run("eventDecoder", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		defer benchcpu.Measure(b)()
		for b.Loop() {
			count(b, newEventDecoder(io.NopCloser(bytes.NewReader(data))))
		}
	})
}

func streamingDecoder(frames io.ReadCloser, serializer runtime.Decoder) streaming.Decoder {
	return streaming.NewDecoder(frames, serializer)
}

// benchCRD is the bench figure's CRD as served (as pkg/registrations'
// BenchmarkDecodeCRDList has it): two versions of a ≈ 204 KiB schema, a
// conversion webhook, the managedFields a create leaves.
func benchCRD(i int) map[string]any {
	const description = "A setting of the bench resource, described at the length generated API references describe theirs, so that the schema weighs what real ones do."
	fields, managed := map[string]any{}, map[string]any{}
	for n := 0; n*200 < 204<<10; n++ {
		name := fmt.Sprintf("field%04d", n)
		fields[name] = map[string]any{"type": "string", "description": description}
		managed["f:"+name] = map[string]any{".": map[string]any{}, "f:description": map[string]any{}, "f:type": map[string]any{}}
	}
	schema := map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "properties": map[string]any{"spec": map[string]any{"type": "object", "properties": fields}}}}
	return map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": fmt.Sprintf("widget%02ds.bench.example.com", i), "uid": fmt.Sprint(i), "resourceVersion": fmt.Sprint(100 + i),
			"managedFields": []any{map[string]any{"manager": "bench", "operation": "Update", "fieldsType": "FieldsV1",
				"fieldsV1": map[string]any{"f:spec": map[string]any{"f:versions": map[string]any{}, "f:schema": map[string]any{"f:openAPIV3Schema": map[string]any{"f:properties": managed}}}}}}},
		"spec": map[string]any{
			"versions": []any{map[string]any{"name": "v1", "schema": schema}, map[string]any{"name": "v2", "schema": schema}},
			"conversion": map[string]any{"strategy": "Webhook", "webhook": map[string]any{"clientConfig": map[string]any{
				"caBundle": base64.StdEncoding.EncodeToString([]byte("pem")), "service": map[string]any{"namespace": "bench", "name": "convert"}}}},
		},
	}
}
