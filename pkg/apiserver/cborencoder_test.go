package apiserver

import (
	"bytes"
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	cborserializer "k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/apimachinery/pkg/util/diff"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	featuregatetesting "k8s.io/component-base/featuregate/testing"

	versionedscheme "github.com/certstatus/certstatus/generated/clientset/versioned/scheme"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

// TestCBORCodecMatchesGeneric: with CBOR served (its alpha gate on),
// cborCodec writes a list byte for byte as the generic server's CBOR
// encoder writes the same list with its statuses built.
func TestCBORCodecMatchesGeneric(t *testing.T) {
	featuregatetesting.SetFeatureGateDuringTest(t, utilfeature.DefaultFeatureGate, features.CBORServingAndStorage, true)
	served := servedEncoder(t, runtime.ContentTypeCBOR)
	codec, ok := served.(cborCodec)
	if !ok {
		t.Fatalf("CBOR is served by %T, not cborCodec", served)
	}
	matchesGeneric(t, codec, codec.standard)

	// And a client decodes it to what it decodes from JSON.
	storage := storageWith(t, 20)
	list := func() runtime.Object {
		object, err := storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return object
	}
	fromJSON, _ := asClient(t, list(), runtime.ContentTypeJSON)
	var out bytes.Buffer
	if err := codec.Encode(list(), &out); err != nil {
		t.Fatal(err)
	}
	fromCBOR, _, err := cborserializer.NewSerializer(versionedscheme.Scheme, versionedscheme.Scheme).Decode(out.Bytes(), nil, &v1alpha1.CertificateStatusList{})
	if err != nil {
		t.Fatal(err)
	}
	if items := fromCBOR.(*v1alpha1.CertificateStatusList).Items; len(items) != 20 || items[0].Status.State == "" {
		t.Fatalf("decoded %d items from CBOR", len(items))
	}
	if !equality.Semantic.DeepEqual(fromJSON, fromCBOR) {
		t.Fatalf("list differs between JSON and CBOR:\n%s", diff.Diff(fromJSON, fromCBOR))
	}
}

// TestCBORHeads: the head of an array or map for every width of its length.
func TestCBORHeads(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want []byte
	}{
		{0, []byte{0x80}},
		{23, []byte{0x97}},
		{24, []byte{0x98, 24}},
		{255, []byte{0x98, 0xff}},
		{256, []byte{0x99, 0x01, 0x00}},
		{70000, []byte{0x9a, 0x00, 0x01, 0x11, 0x70}},
		{1 << 32, []byte{0x9b, 0, 0, 0, 1, 0, 0, 0, 0}},
	} {
		if got := cborHead(cborArray, c.n); string(got) != string(c.want) {
			t.Errorf("array of %d: % x, want % x", c.n, got, c.want)
		}
	}
	if got := cborHead(cborMap, 4); string(got) != "\xa4" {
		t.Errorf("map of 4: % x", got)
	}
}
