package apiserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	featuregatetesting "k8s.io/component-base/featuregate/testing"

	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
)

// serveList writes storage's list as the generic server's handler does,
// through compressReads and k8s.io/apiserver's response writer, and returns
// the response's Content-Encoding and body.
func serveList(t *testing.T, encoder runtime.Encoder, mediaType string, storage *certificatestatus.REST, acceptGzip bool) (encoding string, body []byte) {
	t.Helper()
	list, err := storage.List(genericapirequest.WithNamespace(context.Background(), ""), &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := serve(t, "list", acceptGzip, func(w http.ResponseWriter, req *http.Request) {
		responsewriters.SerializeObject(mediaType, encoder, w, req, http.StatusOK, list)
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %.200s", mediaType, rec.Code, rec.Body.Bytes())
	}
	return rec.Header().Get("Content-Encoding"), rec.Body.Bytes()
}

// serve sends a request for verb on certificatestatuses through
// compressReads to handler.
func serve(t *testing.T, verb string, acceptGzip bool, handler http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/apis/certstatus.dev/v1alpha1/certificatestatuses", nil)
	req = req.WithContext(genericapirequest.WithRequestInfo(req.Context(), &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: verb, APIPrefix: "apis", APIGroup: "certstatus.dev", APIVersion: "v1alpha1", Resource: "certificatestatuses",
	}))
	if acceptGzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	compressReads(handler).ServeHTTP(rec, req)
	return rec
}

// TestListsAreCompressed: a list the server writes through k8s.io/apiserver's
// response writer is gzipped for a client that accepts gzip once it passes
// 128 KiB, as kube-apiserver's own lists are, in every format written item
// by item; a small list and a client without gzip get it as it is.
func TestListsAreCompressed(t *testing.T) {
	storage := storageWith(t, 80)
	small := storageWith(t, 2)
	for name, c := range map[string]struct {
		encoder   runtime.Encoder
		mediaType string
	}{
		"json":     {servedEncoder(t, runtime.ContentTypeJSON), runtime.ContentTypeJSON},
		"pretty":   {servedPrettyJSON(t), runtime.ContentTypeJSON},
		"protobuf": {servedEncoder(t, runtime.ContentTypeProtobuf), runtime.ContentTypeProtobuf},
	} {
		t.Run(name, func(t *testing.T) {
			plainEncoding, plain := serveList(t, c.encoder, c.mediaType, storage, false)
			if plainEncoding != "" || len(plain) <= 128<<10 {
				t.Fatalf("without gzip: Content-Encoding %q, %d bytes (want none, over 128 KiB)", plainEncoding, len(plain))
			}
			encoding, body := serveList(t, c.encoder, c.mediaType, storage, true)
			if encoding != "gzip" {
				t.Fatalf("a list of %d bytes for a client accepting gzip: Content-Encoding %q", len(plain), encoding)
			}
			reader, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			inflated, err := io.ReadAll(reader)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(inflated, plain) {
				t.Fatalf("the gzipped list inflates to %d bytes, not the %d of the plain list", len(inflated), len(plain))
			}
			if len(body)*4 > len(plain) {
				t.Errorf("gzipped %d bytes to %d", len(plain), len(body))
			}
			if encoding, body := serveList(t, c.encoder, c.mediaType, small, true); encoding != "" || len(body) > 128<<10 {
				t.Errorf("a list of %d bytes was sent with Content-Encoding %q", len(body), encoding)
			}
		})
	}
}

// TestCompressionFollowsItsFeatureGate: --feature-gates=kube:APIResponseCompression=false
// turns compression off, as it does for kube-apiserver.
func TestCompressionFollowsItsFeatureGate(t *testing.T) {
	featuregatetesting.SetFeatureGateDuringTest(t, utilfeature.DefaultFeatureGate, features.APIResponseCompression, false)
	encoding, body := serveList(t, servedEncoder(t, runtime.ContentTypeJSON), runtime.ContentTypeJSON, storageWith(t, 80), true)
	if encoding != "" || len(body) <= 128<<10 {
		t.Errorf("with APIResponseCompression off: Content-Encoding %q, %d bytes", encoding, len(body))
	}
}

// TestWatchesAreNotHeld: a watch goes to the client as it is written, never
// held for compression, whatever the client accepts.
func TestWatchesAreNotHeld(t *testing.T) {
	event := []byte(`{"type":"ADDED","object":{}}` + "\n")
	var seenEncoding string
	var sentAtOnce bool
	rec := serve(t, "watch", true, func(w http.ResponseWriter, req *http.Request) {
		seenEncoding = req.Header.Get("Accept-Encoding")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(event)
		rec, unwrapped := w.(*httptest.ResponseRecorder)
		sentAtOnce = unwrapped && bytes.Equal(rec.Body.Bytes(), event)
	})
	if !sentAtOnce || seenEncoding != "gzip" || rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("watch: written at once %v, Accept-Encoding seen %q, Content-Encoding %q", sentAtOnce, seenEncoding, rec.Header().Get("Content-Encoding"))
	}
}

// TestLargeErrorsKeepTheirStatus: what decides compression is the body's
// size, whatever the status; the status is sent with the body.
func TestLargeErrorsKeepTheirStatus(t *testing.T) {
	for _, size := range []int{10, 200 << 10} {
		rec := serve(t, "get", true, func(w http.ResponseWriter, req *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(bytes.Repeat([]byte("x"), size))
		})
		body := rec.Body.Bytes()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			r, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(r); err != nil {
				t.Fatal(err)
			}
		} else if size > 128<<10 {
			t.Errorf("a body of %d bytes was not compressed", size)
		}
		if rec.Code != http.StatusNotFound || len(body) != size {
			t.Errorf("a %d-byte 404: status %d, %d bytes", size, rec.Code, len(body))
		}
	}
}
