package apiserver

import (
	"bytes"
	"context"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/registry/configmapcertificatestatus"
)

// strings the filler picks from: plain ASCII, what encoding/json escapes
// (HTML characters, control characters, U+2028, invalid UTF-8) and non-ASCII.
var fillStrings = []string{"a", "CN=web,O=Example", "x<y>&z", "quote\"back\\slash", "tab\tnew\nline\x01\x7f",
	"line\u2028sep\u2029", "bad\xffutf8", "Grüße, 世界", "DE:AD:BE:EF"}

// filler sets fields of a value reflectively: with full, every field is set
// (so a field the encoder does not know shows up as a difference); else each
// field is set or left zero at random.
type filler struct {
	rng  *rand.Rand
	full bool
	// strings replaces fillStrings when set.
	strings []string
}

func (f *filler) string() string {
	pool := f.strings
	if pool == nil {
		pool = fillStrings
	}
	return pool[f.rng.IntN(len(pool))]
}

func (f *filler) skip() bool { return !f.full && f.rng.IntN(3) == 0 }

func (f *filler) fill(v reflect.Value) {
	switch v.Interface().(type) {
	case metav1.Time:
		if !f.skip() {
			// Not UTC, with sub-second digits: the encoding drops both.
			v.Set(reflect.ValueOf(metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 6e8, time.FixedZone("X", 3600)).Add(time.Duration(f.rng.IntN(1e6)) * time.Hour))))
		}
		return
	case metav1.ObjectMeta, metav1.TypeMeta:
		// Filled by the caller: which metadata fields are set decides the path.
		return
	}
	switch v.Kind() {
	case reflect.String:
		if !f.skip() {
			v.SetString(f.string())
		}
	case reflect.Bool:
		v.SetBool(f.full || f.rng.IntN(2) == 0)
	case reflect.Int32, reflect.Int64:
		if !f.skip() {
			v.SetInt(f.rng.Int64N(5000) - 100)
			if v.Int() == 0 {
				v.SetInt(7)
			}
		}
	case reflect.Pointer:
		if !f.skip() {
			v.Set(reflect.New(v.Type().Elem()))
			f.fill(v.Elem())
		}
	case reflect.Slice:
		n := 2
		if !f.full {
			n = f.rng.IntN(3)
		}
		if n == 0 && f.rng.IntN(2) == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty, not nil: still omitted
			return
		}
		if n > 0 {
			v.Set(reflect.MakeSlice(v.Type(), n, n))
		}
		for i := range n {
			f.fill(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f.fill(v.Field(i))
		}
	default:
		panic("filler: unhandled kind " + v.Kind().String() + " in " + v.Type().String())
	}
}

func (f *filler) object(ownMeta bool) certstatus.CertificateStatus {
	var o certstatus.CertificateStatus
	f.fill(reflect.ValueOf(&o.Status).Elem())
	created := metav1.NewTime(time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC))
	o.ObjectMeta = metav1.ObjectMeta{
		Name: f.string(), Namespace: "ns", UID: "uid-1", ResourceVersion: "42",
		CreationTimestamp: created,
		Labels:            map[string]string{"z": "1", "a": "x<y", "m/k": "", "é": "v"},
	}
	if !f.full {
		if f.rng.IntN(3) == 0 {
			o.CreationTimestamp = metav1.Time{}
		}
		if f.rng.IntN(3) == 0 {
			o.Labels = nil
		}
		if f.rng.IntN(4) == 0 {
			o.Name, o.UID = "", ""
		}
	}
	if !ownMeta {
		o.Annotations = map[string]string{"b": "2", "a": "1"}
		o.Generation = 3
		o.Finalizers = []string{"f"}
	}
	return o
}

// delegateJSON is apimachinery's JSON serializer, which jsonCodec replaces.
func delegateJSON(t *testing.T) runtime.Serializer {
	for _, info := range Codecs.SupportedMediaTypes() {
		if info.MediaType == runtime.ContentTypeJSON {
			return info.Serializer
		}
	}
	t.Fatal("no JSON serializer")
	return nil
}

// servedJSON is the encoder the server writes JSON with.
func servedJSON(t *testing.T) runtime.Encoder {
	negotiated := apiGroupInfo().NegotiatedSerializer
	info, ok := runtime.SerializerInfoForMediaType(negotiated.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("JSON is not served")
	}
	encoder := negotiated.EncoderForVersion(info.Serializer, v1alpha1.SchemeGroupVersion)
	if _, ok := encoder.(jsonCodec); !ok {
		t.Fatalf("JSON is served by %T, not jsonCodec", encoder)
	}
	return encoder
}

// standardJSON is the generic server's own: conversion to v1alpha1, then encoding/json.
func standardJSON(t *testing.T) runtime.Encoder {
	return Codecs.EncoderForVersion(delegateJSON(t), v1alpha1.SchemeGroupVersion)
}

func encodeBoth(t *testing.T, obj runtime.Object) (got, want string) {
	t.Helper()
	var g, w bytes.Buffer
	if err := servedJSON(t).Encode(obj, &g); err != nil {
		t.Fatal(err)
	}
	if err := standardJSON(t).Encode(obj, &w); err != nil {
		t.Fatal(err)
	}
	return g.String(), w.String()
}

// TestJSONCodecMatchesServedJSON: internal objects and lists come out byte
// for byte as the conversion to v1alpha1 and encoding/json write them,
// whatever fields are set (internal-only ones are left out). If it fails
// after a field was added to the types, add it to jsonencoder.go.
func TestJSONCodecMatchesServedJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		f := &filler{rng: rng, full: i%10 == 0}
		object := f.object(i%7 != 3)
		got, want := encodeBoth(t, &object)
		if got != want {
			t.Fatalf("object %d (full=%v):\n got %s\nwant %s", i, f.full, got, want)
		}
	}
	lists := map[string]*certstatus.CertificateStatusList{
		"nil items":   {},
		"empty items": {Items: []certstatus.CertificateStatus{}},
	}
	f := &filler{rng: rng}
	many := &certstatus.CertificateStatusList{ListMeta: metav1.ListMeta{ResourceVersion: "9", Continue: "tok<en>"}}
	for range 400 { // more than one flush
		many.Items = append(many.Items, f.object(true))
	}
	lists["many"] = many
	lists["one foreign metadata"] = &certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{f.object(true), f.object(false)}}
	for name, list := range lists {
		if got, want := encodeBoth(t, list); got != want {
			t.Errorf("list %s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestJSONCodecServesLists: a list as the storage answers it, its statuses
// deferred, comes out as the generic server's encoder writes the same list
// with its statuses built, in JSON, YAML and as a table.
func TestJSONCodecServesLists(t *testing.T) {
	storage := storageWith(t, 40)
	list := func() *certificatestatus.List {
		object, err := storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		list := object.(*certificatestatus.List)
		if list.Items[0].Status.State != "" {
			t.Fatal("the storage built the statuses of an unfiltered list")
		}
		return list
	}
	var got, want bytes.Buffer
	if err := servedJSON(t).Encode(list(), &got); err != nil {
		t.Fatal(err)
	}
	if err := standardJSON(t).Encode(list().Built(), &want); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("served list differs:\n got %s\nwant %s", got.String(), want.String())
	}
	if !bytes.Contains(got.Bytes(), []byte(`"kind":"CertificateStatusList","apiVersion":"certstatus.dev/v1alpha1"`)) ||
		bytes.Count(got.Bytes(), []byte(`"sha256Fingerprint"`)) != 3*40 {
		t.Fatalf("unexpected list: %.300s", got.String())
	}

	// Lists written at the same time do not meet.
	var wg sync.WaitGroup
	outputs := make([]bytes.Buffer, 4)
	encoder := servedJSON(t)
	for i := range outputs {
		l := list()
		wg.Go(func() {
			if err := encoder.Encode(l, &outputs[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range outputs {
		if outputs[i].String() != want.String() {
			t.Errorf("concurrent list %d differs", i)
		}
	}

	// Every other encoder fills the statuses before it converts.
	negotiated := apiGroupInfo().NegotiatedSerializer
	info, ok := runtime.SerializerInfoForMediaType(negotiated.SupportedMediaTypes(), runtime.ContentTypeYAML)
	if !ok {
		t.Fatal("YAML is not served")
	}
	var yaml bytes.Buffer
	if err := negotiated.EncoderForVersion(info.Serializer, v1alpha1.SchemeGroupVersion).Encode(list(), &yaml); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(yaml.Bytes(), []byte("sha256Fingerprint:")); n != 3*40 {
		t.Errorf("YAML list has %d fingerprints, want %d", n, 3*40)
	}
	table, err := storage.ConvertToTable(context.Background(), list(), &metav1.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range table.Rows {
		if row.Cells[1] == "" {
			t.Fatalf("table row without a state: %v", row.Cells)
		}
	}
}

// TestJSONCodecWritesEveryKind: the ConfigMap and cluster kinds' objects, and
// the ConfigMap kind's storage lists, come out as the generic encoder writes
// them (their kind names, their own fields).
func TestJSONCodecWritesEveryKind(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	configMaps := &certstatus.ConfigMapCertificateStatusList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}, Items: []certstatus.ConfigMapCertificateStatus{}}
	for i := range 60 {
		f := &filler{rng: rng, full: i%10 == 0}
		o := f.object(i%7 != 3)
		cm := certstatus.ConfigMapCertificateStatus{ObjectMeta: o.ObjectMeta, Status: o.Status}
		cluster := certstatus.ClusterCertificateStatus{ObjectMeta: o.ObjectMeta, Status: o.Status}
		for _, object := range []runtime.Object{&cm, &cluster} {
			if got, want := encodeBoth(t, object); got != want {
				t.Fatalf("%T %d:\n got %s\nwant %s", object, i, got, want)
			}
		}
		configMaps.Items = append(configMaps.Items, cm)
	}
	for name, list := range map[string]*certstatus.ConfigMapCertificateStatusList{
		"nil items": {}, "empty items": {Items: []certstatus.ConfigMapCertificateStatus{}}, "many": configMaps,
	} {
		var got, want bytes.Buffer
		if err := servedJSON(t).Encode(configmapcertificatestatus.NewList(list), &got); err != nil {
			t.Fatal(err)
		}
		if err := standardJSON(t).Encode(list, &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("ConfigMap list %s:\n got %.400s\nwant %.400s", name, got.String(), want.String())
		}
	}
}
