package apiserver

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	goruntime "runtime"

	"github.com/klauspost/compress/gzip"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	featuregatetesting "k8s.io/component-base/featuregate/testing"
	"k8s.io/utils/clock"

	versionedscheme "github.com/certstatus/certstatus/generated/clientset/versioned/scheme"
	"github.com/certstatus/certstatus/internal/benchcpu"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// The list benchmarks compare, in one process, the CPU and memory certstatus
// spends answering a list of N CertificateStatuses with what kube-apiserver
// spends encoding the v1 SecretList of the same Secrets, with the same
// apimachinery codecs each server uses (streaming collection encoding on,
// as NewDefaultAPIGroupInfo sets it). N defaults to 2000;
// CERTSTATUS_BENCH_SECRETS overrides it.
//
//	go test ./pkg/apiserver -run '^$' -bench 'List' -benchmem -count 5

// listFixture is N Secrets of one mix, as kube-apiserver holds them, and the
// certstatus storage that serves them.
type listFixture struct {
	secrets []corev1.Secret
	storage *certificatestatus.REST
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[certtest.Mix]*listFixture{}
)

func benchSecrets(b *testing.B) int {
	if s := os.Getenv("CERTSTATUS_BENCH_SECRETS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("CERTSTATUS_BENCH_SECRETS: %v", err)
		}
		return n
	}
	return 2000
}

// fixture generates the mix once per process (-count runs reuse it).
func fixture(b *testing.B, mix certtest.Mix) *listFixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[mix]; f != nil {
		return f
	}
	now := time.Now()
	generated, err := certtest.GenerateMix(mix, benchSecrets(b), now)
	if err != nil {
		b.Fatal(err)
	}
	cache := statuscache.New(clock.RealClock{}, statuscache.DefaultOptions())
	synced := sourcesync.New("secrets", nil)
	synced.MarkSynced()
	f := &listFixture{secrets: make([]corev1.Secret, len(generated)), storage: certificatestatus.NewREST(cache, synced)}
	for i, g := range generated {
		f.secrets[i] = storedSecret(g, i, now)
		secret := &f.secrets[i]
		analysis, listed := certificate.Analyze(certificate.InputFromSecret(secret), certificate.DefaultOptions())
		if !listed {
			b.Fatalf("%s is not listed", secret.Name)
		}
		cache.Upsert(statuscache.Item{Meta: &secret.ObjectMeta, SecretType: string(secret.Type), Analysis: analysis})
	}
	fixtures[mix] = f
	return f
}

// storedSecret is a generated Secret with the metadata kube-apiserver adds
// when a client creates it (uid, resourceVersion, creationTimestamp and the
// managedFields entry of the create), so its encoding is what a list returns.
func storedSecret(g certtest.MixSecret, i int, now time.Time) corev1.Secret {
	labels := map[string]string{"app.kubernetes.io/part-of": "certstatus-bench", "bench/kind": g.Kind, "bench/state": g.State}
	created := metav1.NewTime(now.Add(-time.Hour).Truncate(time.Second))
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:              g.Name,
			Namespace:         fmt.Sprintf("bench-%02d", i%50),
			UID:               types.UID(fmt.Sprintf("5f0c7b3e-0000-4000-8000-%012d", i)),
			ResourceVersion:   strconv.Itoa(1000 + i),
			CreationTimestamp: created,
			Labels:            labels,
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: "bench", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &created,
				FieldsType: "FieldsV1",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:data":{".":{},"f:ca.crt":{},"f:tls.crt":{},"f:tls.key":{}},` +
					`"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/part-of":{},"f:bench/kind":{},"f:bench/state":{}}},"f:type":{}}`)},
			}},
		},
		Type: corev1.SecretTypeTLS,
		Data: g.Data,
	}
}

// certstatusEncoder is the encoder the server's list handler uses for
// mediaType; "encoding/json" and "generic/protobuf" are the generic server's
// own encoders (statuses built, conversion to v1alpha1, then apimachinery's
// streaming collection encoders), which jsonCodec and protobufCodec replace,
// for comparison.
func certstatusEncoder(b *testing.B, mediaType string) runtime.Encoder {
	negotiated := apiGroupInfo().NegotiatedSerializer
	reflective := mediaType == "encoding/json" || mediaType == "generic/protobuf" || mediaType == "generic/pretty" || mediaType == "generic/cbor"
	pretty := mediaType == "pretty" || mediaType == "generic/pretty"
	switch mediaType {
	case "encoding/json", "pretty", "generic/pretty":
		mediaType = runtime.ContentTypeJSON
	case "generic/protobuf":
		mediaType = runtime.ContentTypeProtobuf
	case "generic/cbor":
		mediaType = runtime.ContentTypeCBOR
	}
	if mediaType == runtime.ContentTypeCBOR {
		// Alpha in Kubernetes 1.37: served only with its gate on.
		featuregatetesting.SetFeatureGateDuringTest(b, utilfeature.DefaultFeatureGate, features.CBORServingAndStorage, true)
		negotiated = apiGroupInfo().NegotiatedSerializer
	}
	info, ok := runtime.SerializerInfoForMediaType(negotiated.SupportedMediaTypes(), mediaType)
	if !ok {
		b.Fatalf("certstatus does not serve %s", mediaType)
	}
	serializer := info.Serializer
	if pretty {
		serializer = info.PrettySerializer
	}
	if marked, ok := serializer.(prettyJSON); ok && reflective {
		serializer = marked.Serializer
	}
	if plain, ok := serializer.(plainJSON); ok && reflective {
		serializer = plain.Serializer
	}
	if marked, ok := serializer.(protobufMarked); ok && reflective {
		serializer = marked.Serializer
	}
	if marked, ok := serializer.(cborMarked); ok && reflective {
		serializer = marked.Serializer
	}
	return negotiated.EncoderForVersion(serializer, v1alpha1.SchemeGroupVersion)
}

// secretEncoder is what kube-apiserver encodes v1 Secrets with: the built-in
// types' scheme and the same streaming collection encoders.
func secretEncoder(b *testing.B, mediaType string) runtime.Encoder {
	codecs := serializer.NewCodecFactory(clientgoscheme.Scheme,
		serializer.WithStreamingCollectionEncodingToJSON(), serializer.WithStreamingCollectionEncodingToProtobuf())
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), mediaType)
	if !ok {
		b.Fatalf("no serializer for %s", mediaType)
	}
	return codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion)
}

// countingWriter stands in for the response: it only counts.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = &countingWriter{}

// firstWriteHeap measures the heap live when an encoder first writes: what
// it built before writing anything (a whole list converted, or nothing).
type firstWriteHeap struct {
	before, held int64
	written      bool
}

func (w *firstWriteHeap) Write(p []byte) (int, error) {
	if !w.written {
		w.written = true
		w.held = liveHeap() - w.before
	}
	return len(p), nil
}

// BenchmarkList is what certstatus does per list request: the storage's List
// (building every object, or with its status deferred only its metadata)
// and, but for "build", the encoding: JSON, protobuf and pretty JSON (curl's)
// as served (jsonCodec, protobufCodec, prettyJSONCodec) and, for comparison,
// as the generic server's own encoders write them (see certstatusEncoder). held-B/item is the heap live when the
// encoder first writes, measured once before the timed loop: protobuf's
// whole-list buffer is mapped outside the heap (package offheap), so it is
// not counted there.
func BenchmarkList(b *testing.B) {
	ctx := genericapirequest.WithNamespace(context.Background(), "")
	for _, mix := range certtest.Mixes {
		for _, mediaType := range []string{"build", runtime.ContentTypeJSON, "encoding/json", runtime.ContentTypeProtobuf, "generic/protobuf", "pretty", "generic/pretty", runtime.ContentTypeCBOR, "generic/cbor"} {
			b.Run(fmt.Sprintf("mix=%s/%s", mix, mediaType), func(b *testing.B) {
				f := fixture(b, mix)
				var encoder runtime.Encoder
				var held firstWriteHeap
				if mediaType != "build" {
					encoder = certstatusEncoder(b, mediaType)
					held.before = liveHeap()
					list, err := f.storage.List(ctx, &metainternalversion.ListOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if err := encoder.Encode(list, &held); err != nil {
						b.Fatal(err)
					}
				}
				var out countingWriter
				b.ReportAllocs()
				start := benchcpu.Used(b)
				for b.Loop() {
					list, err := f.storage.List(ctx, &metainternalversion.ListOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if encoder != nil {
						if err := encoder.Encode(list, &out); err != nil {
							b.Fatal(err)
						}
					}
				}
				benchcpu.Report(b, start)
				b.ReportMetric(float64(out.n)/float64(b.N)/float64(len(f.secrets)), "B/item")
				if encoder != nil {
					b.ReportMetric(float64(held.held)/float64(len(f.secrets)), "held-B/item")
				}
			})
		}
	}
}

// BenchmarkListGzip is the compression of a served list at level 1, by
// compress/gzip (what k8s.io/apiserver's response writer uses) and by
// klauspost/compress (what compressReads uses), written 32 KiB at a time as
// the encoders write. out-B/item is the compressed size.
func BenchmarkListGzip(b *testing.B) {
	ctx := genericapirequest.WithNamespace(context.Background(), "")
	writers := map[string]func(io.Writer) io.WriteCloser{
		"compress-gzip": func(w io.Writer) io.WriteCloser {
			gw, _ := stdgzip.NewWriterLevel(w, stdgzip.BestSpeed)
			return gw
		},
		"klauspost": func(w io.Writer) io.WriteCloser {
			gw, _ := gzip.NewWriterLevel(w, gzipLevel)
			return gw
		},
	}
	for _, mix := range certtest.Mixes {
		for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
			for _, name := range []string{"compress-gzip", "klauspost"} {
				b.Run(fmt.Sprintf("mix=%s/%s/%s", mix, mediaType, name), func(b *testing.B) {
					f := fixture(b, mix)
					list, err := f.storage.List(ctx, &metainternalversion.ListOptions{})
					if err != nil {
						b.Fatal(err)
					}
					var body bytes.Buffer
					if err := certstatusEncoder(b, mediaType).Encode(list, &body); err != nil {
						b.Fatal(err)
					}
					var out countingWriter
					b.SetBytes(int64(body.Len()))
					start := benchcpu.Used(b)
					for b.Loop() {
						gw := writers[name](&out)
						for p := body.Bytes(); len(p) > 0; {
							n := min(len(p), 32<<10)
							if _, err := gw.Write(p[:n]); err != nil {
								b.Fatal(err)
							}
							p = p[n:]
						}
						if err := gw.Close(); err != nil {
							b.Fatal(err)
						}
					}
					benchcpu.Report(b, start)
					b.ReportMetric(float64(out.n)/float64(b.N)/float64(len(f.secrets)), "out-B/item")
				})
			}
		}
	}
}

// BenchmarkServedList is a list as a client that accepts gzip is answered:
// built, encoded and compressed through compressReads and k8s.io/apiserver's
// response writer, to a response that discards what it is sent. ns/op is
// the time to the last byte; cpu-ns/op counts every goroutine.
func BenchmarkServedList(b *testing.B) {
	ctx := genericapirequest.WithNamespace(context.Background(), "")
	for _, mix := range certtest.Mixes {
		for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
			b.Run(fmt.Sprintf("mix=%s/%s", mix, mediaType), func(b *testing.B) {
				f := fixture(b, mix)
				encoder := certstatusEncoder(b, mediaType)
				handler := compressReads(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					list, err := f.storage.List(ctx, &metainternalversion.ListOptions{})
					if err != nil {
						b.Fatal(err)
					}
					responsewriters.SerializeObject(mediaType, encoder, w, req, http.StatusOK, list)
				}))
				req := httptest.NewRequest(http.MethodGet, "/apis/certstatus.dev/v1alpha1/certificatestatuses", nil)
				req = req.WithContext(genericapirequest.WithRequestInfo(req.Context(), &genericapirequest.RequestInfo{
					IsResourceRequest: true, Verb: "list", APIGroup: "certstatus.dev", APIVersion: "v1alpha1", Resource: "certificatestatuses",
				}))
				req.Header.Set("Accept-Encoding", "gzip")
				out := &discardResponse{}
				start := benchcpu.Used(b)
				for b.Loop() {
					out.header = http.Header{}
					handler.ServeHTTP(out, req)
				}
				benchcpu.Report(b, start)
				if out.Header().Get("Content-Encoding") != "gzip" {
					b.Fatalf("the list was not gzipped")
				}
				b.ReportMetric(float64(out.n)/float64(b.N)/float64(len(f.secrets)), "gzip-B/item")
			})
		}
	}
}

// discardResponse is an http.ResponseWriter that counts what it is sent.
type discardResponse struct {
	header http.Header
	n      int64
}

func (d *discardResponse) Header() http.Header { return d.header }
func (d *discardResponse) WriteHeader(int)     {}
func (d *discardResponse) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return len(p), nil
}

// BenchmarkSecretList is kube-apiserver's part of `kubectl get secrets -A
// -o json` and of client-go's default (protobuf) Secret list: the list its
// watch cache builds (each Secret copied into the list's items) encoded as v1.
func BenchmarkSecretList(b *testing.B) {
	for _, mix := range certtest.Mixes {
		for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf} {
			b.Run(fmt.Sprintf("mix=%s/%s", mix, mediaType), func(b *testing.B) {
				f := fixture(b, mix)
				encoder := secretEncoder(b, mediaType)
				var out countingWriter
				b.ReportAllocs()
				start := benchcpu.Used(b)
				for b.Loop() {
					list := &corev1.SecretList{Items: make([]corev1.Secret, len(f.secrets))}
					list.ResourceVersion = "12345"
					copy(list.Items, f.secrets)
					if err := encoder.Encode(list, &out); err != nil {
						b.Fatal(err)
					}
				}
				benchcpu.Report(b, start)
				b.ReportMetric(float64(out.n)/float64(b.N)/float64(len(f.secrets)), "B/item")
			})
		}
	}
}

// BenchmarkClientDecode is the client's side of the list rows: decoding the
// response of N objects into typed objects, as the generated client
// (protobuf, its default since issue #27; or JSON) and client-go (protobuf,
// its default for Secrets; or JSON) do.
func BenchmarkClientDecode(b *testing.B) {
	ctx := genericapirequest.WithNamespace(context.Background(), "")
	for _, mix := range certtest.Mixes {
		f := fixture(b, mix)
		list, err := f.storage.List(ctx, &metainternalversion.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var cst, cstProtobuf bytes.Buffer
		if err := certstatusEncoder(b, runtime.ContentTypeJSON).Encode(list, &cst); err != nil {
			b.Fatal(err)
		}
		if err := certstatusEncoder(b, runtime.ContentTypeProtobuf).Encode(list, &cstProtobuf); err != nil {
			b.Fatal(err)
		}
		secrets := &corev1.SecretList{Items: f.secrets}
		for _, c := range []struct {
			name    string
			data    func() []byte
			decoder runtime.Decoder
		}{
			{"certificatestatuses/json", cst.Bytes, versionedscheme.Codecs.UniversalDeserializer()},
			{"certificatestatuses/protobuf", cstProtobuf.Bytes, versionedscheme.Codecs.UniversalDeserializer()},
			{"secrets/json", encoded(b, secretEncoder(b, runtime.ContentTypeJSON), secrets), clientgoscheme.Codecs.UniversalDeserializer()},
			{"secrets/protobuf", encoded(b, secretEncoder(b, runtime.ContentTypeProtobuf), secrets), clientgoscheme.Codecs.UniversalDeserializer()},
		} {
			b.Run(fmt.Sprintf("mix=%s/%s", mix, c.name), func(b *testing.B) {
				data := c.data()
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				start := benchcpu.Used(b)
				for b.Loop() {
					if _, err := runtime.Decode(c.decoder, data); err != nil {
						b.Fatal(err)
					}
				}
				benchcpu.Report(b, start)
			})
		}
	}
}

func encoded(b *testing.B, encoder runtime.Encoder, obj runtime.Object) func() []byte {
	return func() []byte {
		var out bytes.Buffer
		if err := encoder.Encode(obj, &out); err != nil {
			b.Fatal(err)
		}
		return out.Bytes()
	}
}

// BenchmarkTableList is certstatus's part of `kubectl get cst -A`: the
// storage's List, its Table, each row's object cut to metadata (what the
// generic handler does for includeObject=Metadata, kubectl's default) and
// the Table's JSON, written with meta.k8s.io's codecs as the handler does.
// held-B/item is the heap a Table keeps until it is written, measured once
// before the timed loop.
func BenchmarkTableList(b *testing.B) {
	ctx := genericapirequest.WithNamespace(context.Background(), "")
	info, _ := runtime.SerializerInfoForMediaType(metainternalversionscheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	encoder := metainternalversionscheme.Codecs.EncoderForVersion(info.Serializer, metav1.SchemeGroupVersion)
	for _, mix := range certtest.Mixes {
		b.Run("mix="+string(mix), func(b *testing.B) {
			f := fixture(b, mix)
			before := liveHeap()
			table := tableOf(ctx, b, f)
			held := liveHeap() - before
			goruntime.KeepAlive(table)
			table = nil
			var out countingWriter
			b.ReportAllocs()
			start := benchcpu.Used(b)
			for b.Loop() {
				if err := encoder.Encode(tableOf(ctx, b, f), &out); err != nil {
					b.Fatal(err)
				}
			}
			benchcpu.Report(b, start)
			b.ReportMetric(float64(held)/float64(len(f.secrets)), "held-B/item")
			b.ReportMetric(float64(out.n)/float64(b.N)/float64(len(f.secrets)), "B/item")
		})
	}
}

// tableOf is the Table of every object as the generic handler hands it to
// the encoder when rows carry metadata only.
func tableOf(ctx context.Context, b *testing.B, f *listFixture) *metav1.Table {
	list, err := f.storage.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	table, err := f.storage.ConvertToTable(ctx, list, &metav1.TableOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range table.Rows {
		m, err := meta.Accessor(table.Rows[i].Object.Object)
		if err != nil {
			b.Fatal(err)
		}
		partial := meta.AsPartialObjectMetadata(m)
		partial.GetObjectKind().SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
		table.Rows[i].Object.Object = partial
	}
	return table
}

// liveHeap is the heap in use after a collection (two: cleanups of weak
// tables run after the first).
func liveHeap() int64 {
	goruntime.GC()
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
