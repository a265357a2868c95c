package apiserver

import (
	"bytes"
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/utils/clock"

	versionedscheme "github.com/certstatus/certstatus/generated/clientset/versioned/scheme"
	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
	"github.com/certstatus/certstatus/pkg/registry/configmapcertificatestatus"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// servedEncoder is the encoder the server writes mediaType with.
func servedEncoder(t *testing.T, mediaType string) runtime.Encoder {
	t.Helper()
	negotiated := apiGroupInfo().NegotiatedSerializer
	info, ok := runtime.SerializerInfoForMediaType(negotiated.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("%s is not served", mediaType)
	}
	return negotiated.EncoderForVersion(info.Serializer, v1alpha1.SchemeGroupVersion)
}

// asClient encodes obj as the server does in mediaType and decodes it as the
// generated clientset does.
func asClient(t *testing.T, obj runtime.Object, mediaType string) (runtime.Object, []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := servedEncoder(t, mediaType).Encode(obj, &out); err != nil {
		t.Fatalf("encode %s: %v", mediaType, err)
	}
	decoded, err := runtime.Decode(versionedscheme.Codecs.UniversalDeserializer(), out.Bytes())
	if err != nil {
		t.Fatalf("decode %s: %v", mediaType, err)
	}
	return decoded, out.Bytes()
}

// validUTF8 are fillStrings without invalid UTF-8: JSON replaces it with
// U+FFFD and protobuf keeps the bytes, for every Kubernetes type alike. The
// analysis writes no invalid UTF-8 into a status.
var validUTF8 = []string{"a", "CN=web,O=Example", "x<y>&z", "quote\"back\\slash", "tab\tnew\nline\x01\x7f",
	"line\u2028sep\u2029", "Grüße, 世界", "DE:AD:BE:EF"}

// TestProtobufMatchesJSON: every field a client decodes from protobuf is the
// one it decodes from JSON, for objects with every field set and at random.
// A field added to the types without its protobuf tag fails here.
func TestProtobufMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		f := &filler{rng: rng, full: i%10 == 0, strings: validUTF8}
		object := f.object(i%7 != 3)
		// A pointer to the zero time is null in JSON (nil when decoded) and
		// an empty timestamp in protobuf, for every Kubernetes type alike;
		// the analysis never sets one.
		for _, at := range []**metav1.Time{&object.Status.NotBefore, &object.Status.NotAfter, &object.Status.ExpiringSoonAt} {
			if *at != nil && (*at).IsZero() {
				*at = nil
			}
		}
		// The three kinds share the status type: each carries the same one.
		for _, sent := range []runtime.Object{
			&object,
			&certstatus.ConfigMapCertificateStatus{ObjectMeta: object.ObjectMeta, Status: object.Status},
			&certstatus.ClusterCertificateStatus{ObjectMeta: object.ObjectMeta, Status: object.Status},
		} {
			fromJSON, _ := asClient(t, sent, runtime.ContentTypeJSON)
			fromProtobuf, raw := asClient(t, sent, runtime.ContentTypeProtobuf)
			if !bytes.HasPrefix(raw, []byte("k8s\x00")) {
				t.Fatalf("not protobuf: %q", raw[:min(len(raw), 20)])
			}
			if !equality.Semantic.DeepEqual(fromJSON, fromProtobuf) {
				t.Fatalf("%T %d (full=%v) differs between JSON and protobuf:\n%s", sent, i, f.full, diff.Diff(fromJSON, fromProtobuf))
			}
			if i%10 == 0 && reflect.ValueOf(fromProtobuf).Elem().FieldByName("Status").IsZero() {
				t.Fatalf("%T %d decoded without its status", fromProtobuf, i)
			}
		}
	}
}

// storageWith is the storage serving n Secrets of the ECDSA mix.
func storageWith(t *testing.T, n int) *certificatestatus.REST {
	t.Helper()
	cache := statuscache.New(clock.RealClock{}, statuscache.DefaultOptions())
	synced := sourcesync.New("secrets", nil)
	synced.MarkSynced()
	now := time.Now()
	generated, err := certtest.GenerateMix(certtest.MixECDSA, n, now)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range generated {
		secret := storedSecret(g, i, now)
		analysis, listed := certificate.Analyze(certificate.InputFromSecret(&secret), certificate.DefaultOptions())
		if !listed {
			t.Fatalf("%s not listed", secret.Name)
		}
		cache.Upsert(statuscache.Item{Meta: &secret.ObjectMeta, SecretType: string(secret.Type), Analysis: analysis})
	}
	return certificatestatus.NewREST(cache, synced)
}

// TestProtobufServesLists: a list as the storage answers it, its statuses
// deferred, decodes from protobuf to what it decodes from JSON, with every
// status built.
func TestProtobufServesLists(t *testing.T) {
	storage := storageWith(t, 30)
	list := func() *certificatestatus.List {
		object, err := storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return object.(*certificatestatus.List)
	}
	fromJSON, _ := asClient(t, list(), runtime.ContentTypeJSON)
	fromProtobuf, _ := asClient(t, list(), runtime.ContentTypeProtobuf)
	if !equality.Semantic.DeepEqual(fromJSON, fromProtobuf) {
		t.Fatalf("list differs between JSON and protobuf:\n%s", diff.Diff(fromJSON, fromProtobuf))
	}
	decoded := fromProtobuf.(*v1alpha1.CertificateStatusList)
	if len(decoded.Items) != 30 || decoded.ResourceVersion == "" {
		t.Fatalf("decoded %d items, resourceVersion %q", len(decoded.Items), decoded.ResourceVersion)
	}
	for _, item := range decoded.Items {
		if item.Status.State == "" || len(item.Status.Certificates) != 3 || item.Name == "" {
			t.Fatalf("item %s: state %q, %d certificates", item.Name, item.Status.State, len(item.Status.Certificates))
		}
	}
}

// TestEveryEncoderWritesStatuses: a storage list, its statuses deferred,
// comes out with every status in each media type the group serves (and its
// pretty form), and so does a deep copy of it (what the audit log encodes).
// An encoder outside listEncoding fails on such a list rather than writing
// it without statuses.
func TestEveryEncoderWritesStatuses(t *testing.T) {
	storage := storageWith(t, 12)
	list := func() *certificatestatus.List {
		object, err := storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return object.(*certificatestatus.List)
	}
	negotiated := apiGroupInfo().NegotiatedSerializer
	check := func(name string, encoder runtime.Encoder, obj runtime.Object) {
		t.Helper()
		var out bytes.Buffer
		if err := encoder.Encode(obj, &out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		decoded, err := runtime.Decode(versionedscheme.Codecs.UniversalDeserializer(), out.Bytes())
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		items := decoded.(*v1alpha1.CertificateStatusList).Items
		if len(items) != 12 {
			t.Fatalf("%s: %d items", name, len(items))
		}
		for _, item := range items {
			if item.Status.State == "" || len(item.Status.Certificates) != 3 {
				t.Fatalf("%s: %s without its status", name, item.Name)
			}
		}
	}
	served := 0
	for _, info := range negotiated.SupportedMediaTypes() {
		check(info.MediaType, negotiated.EncoderForVersion(info.Serializer, v1alpha1.SchemeGroupVersion), list())
		if info.PrettySerializer != nil {
			check(info.MediaType+" (pretty)", negotiated.EncoderForVersion(info.PrettySerializer, v1alpha1.SchemeGroupVersion), list())
		}
		served++
	}
	if served < 3 {
		t.Errorf("only %d media types served", served)
	}
	check("deep copy", servedJSON(t), list().DeepCopyObject())

	var out bytes.Buffer
	if err := standardJSON(t).Encode(list(), &out); err == nil {
		t.Errorf("the generic encoder wrote a list it cannot build the statuses of: %.200s", out.String())
	}
}

// TestProtobufCodecMatchesGeneric: protobufCodec writes a list byte for byte
// as the generic server's encoder writes the same list with its statuses
// built (conversion, then apimachinery's protobuf serializer), for storage
// lists and for objects with every field set, at random, and empty lists.
func TestProtobufCodecMatchesGeneric(t *testing.T) {
	served := servedEncoder(t, runtime.ContentTypeProtobuf)
	codec, ok := served.(protobufCodec)
	if !ok {
		t.Fatalf("protobuf is served by %T, not protobufCodec", served)
	}
	matchesGeneric(t, codec, codec.standard)
}

// matchesGeneric checks that codec writes, byte for byte, what standard (the
// generic server's encoder of the same format) writes for the same lists:
// storage lists, a first page, an empty list, and lists of objects with
// every field set at random, of two kinds.
func matchesGeneric(t *testing.T, codec, standard runtime.Encoder) {
	t.Helper()
	compare := func(name string, list computed.StatusList) {
		t.Helper()
		var got, want bytes.Buffer
		if err := codec.Encode(list, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := standard.Encode(list, &want); err != nil {
			t.Fatalf("%s: generic: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%s: %d bytes, the generic encoder writes %d:\n got %q\nwant %q", name, got.Len(), want.Len(), got.Bytes()[:min(got.Len(), 300)], want.Bytes()[:min(want.Len(), 300)])
		}
	}
	storage := storageWith(t, 25)
	object, err := storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	compare("storage list", object.(*certificatestatus.List))
	object, err = storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	compare("first page", object.(*certificatestatus.List))
	compare("empty", certificatestatus.NewList(&certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{}}))

	rng := rand.New(rand.NewPCG(5, 6))
	var filled certstatus.CertificateStatusList
	filled.ResourceVersion, filled.Continue = "9", "token"
	var configMaps certstatus.ConfigMapCertificateStatusList
	for i := range 60 {
		f := &filler{rng: rng, full: i%10 == 0}
		filled.Items = append(filled.Items, f.object(i%7 != 3))
		item := filled.Items[i]
		configMaps.Items = append(configMaps.Items, certstatus.ConfigMapCertificateStatus{ObjectMeta: item.ObjectMeta, Status: item.Status})
	}
	compare("every field", certificatestatus.NewList(&filled))
	compare("every field of ConfigMaps", configmapcertificatestatus.NewList(&configMaps))
}

// A list whose first item is much smaller than the rest outgrows the size
// the encoder reserves from that first item: the buffer grows mid-list, from
// the heap into mapped memory and from one mapping to a larger one
// (pkg/offheap), and the bytes are still the generic encoder's.
func TestProtobufCodecGrowsPastItsEstimate(t *testing.T) {
	served := servedEncoder(t, runtime.ContentTypeProtobuf)
	codec := served.(protobufCodec)
	rng := rand.New(rand.NewPCG(7, 8))
	list := certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{{
		ObjectMeta: metav1.ObjectMeta{Name: "first", Namespace: "ns", ResourceVersion: "1"},
	}}}
	for range 800 {
		list.Items = append(list.Items, (&filler{rng: rng, full: true}).object(true))
	}
	var got, want bytes.Buffer
	if err := codec.Encode(certificatestatus.NewList(&list), &got); err != nil {
		t.Fatal(err)
	}
	if err := codec.standard.Encode(certificatestatus.NewList(&list), &want); err != nil {
		t.Fatal(err)
	}
	if got.Len() < 1<<20 {
		t.Fatalf("the list is %d bytes: too small to be mapped twice", got.Len())
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("%d bytes, the generic encoder writes %d", got.Len(), want.Len())
	}
}
