package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
)

// servedPrettyJSON is the encoder the server writes JSON with for curl,
// browsers and ?pretty=1.
func servedPrettyJSON(t *testing.T) runtime.Encoder {
	t.Helper()
	negotiated := apiGroupInfo().NegotiatedSerializer
	info, ok := runtime.SerializerInfoForMediaType(negotiated.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok || info.PrettySerializer == nil {
		t.Fatal("pretty JSON is not served")
	}
	encoder := negotiated.EncoderForVersion(info.PrettySerializer, v1alpha1.SchemeGroupVersion)
	if _, ok := encoder.(prettyJSONCodec); !ok {
		t.Fatalf("pretty JSON is served by %T, not prettyJSONCodec", encoder)
	}
	return encoder
}

// standardPrettyJSON is the generic server's pretty serializer for v1alpha1.
func standardPrettyJSON(t *testing.T) runtime.Encoder {
	t.Helper()
	for _, info := range Codecs.SupportedMediaTypes() {
		if info.MediaType == runtime.ContentTypeJSON {
			return Codecs.EncoderForVersion(info.PrettySerializer, v1alpha1.SchemeGroupVersion)
		}
	}
	t.Fatal("no JSON serializer")
	return nil
}

// TestPrettyJSONCodecMatchesGeneric: objects, lists (also a storage list
// with its statuses deferred) and what jsonCodec hands on (foreign
// metadata) come out byte for byte as the generic pretty serializer writes
// them, strings with escaped quotes and punctuation included.
func TestPrettyJSONCodecMatchesGeneric(t *testing.T) {
	served, standard := servedPrettyJSON(t), standardPrettyJSON(t)
	check := func(name string, obj, built runtime.Object) {
		t.Helper()
		var got, want bytes.Buffer
		if err := served.Encode(obj, &got); err != nil {
			t.Fatal(err)
		}
		if err := standard.Encode(built, &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%s:\n got %s\nwant %s", name, got.String(), want.String())
		}
		if !json.Valid(got.Bytes()) || !bytes.Contains(got.Bytes(), []byte("\n  ")) {
			t.Fatalf("%s: not indented JSON: %.200s", name, got.String())
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 100 {
		f := &filler{rng: rng, full: i%10 == 0}
		object := f.object(i%7 != 3)
		object.Annotations = map[string]string{`a"b`: `{"x": [1, 2], "y": "\\"}`, "empty": ""}
		check("object", &object, &object)
	}
	f := &filler{rng: rng}
	many := &certstatus.CertificateStatusList{ListMeta: metav1.ListMeta{ResourceVersion: "9"}}
	for range 400 { // more than one flush
		many.Items = append(many.Items, f.object(true))
	}
	check("list", many, many)
	check("empty list", &certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{}}, &certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{}})
	foreign := &certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{f.object(true), f.object(false)}}
	check("list with foreign metadata", foreign, foreign)

	object, err := storageWith(t, 40).List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored := object.(*certificatestatus.List)
	check("storage list", stored, stored.Built())
}
