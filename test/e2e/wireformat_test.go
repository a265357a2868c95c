package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	cborserializer "k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/test/stack"
)

// CBOR is an alpha wire format in Kubernetes 1.37: the server offers it only
// with its feature gate on, and then answers exactly what it answers in JSON.
func TestCBORIsServedOnlyWithItsFeatureGate(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	path := "/apis/certstatus.dev/v1alpha1/namespaces/" + namespace + "/certificatestatuses"

	if status, _, body := getAs(t, env.server, path, runtime.ContentTypeCBOR); status != http.StatusNotAcceptable {
		t.Errorf("CBOR from a server without the gate: %d %s, want 406", status, body)
	}

	ctx := context.Background()
	gated, err := env.stack.LaunchServer(ctx, env.binary, "--feature-gates=kube:CBORServingAndStorage=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gated.Stop() })

	status, contentType, body := getAs(t, gated, path, runtime.ContentTypeCBOR)
	if status != http.StatusOK || contentType != runtime.ContentTypeCBOR {
		t.Fatalf("CBOR with the gate: %d %q %.200s", status, contentType, body)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	decoded, _, err := cborserializer.NewSerializer(scheme, scheme).Decode(body, nil, &v1alpha1.CertificateStatusList{})
	if err != nil {
		t.Fatalf("decode the CBOR list: %v", err)
	}
	inCBOR := decoded.(*v1alpha1.CertificateStatusList)

	var inJSON v1alpha1.CertificateStatusList
	status, _, body = getAs(t, gated, path, runtime.ContentTypeJSON)
	if status != http.StatusOK {
		t.Fatalf("JSON from the same server: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &inJSON); err != nil {
		t.Fatal(err)
	}
	if got, want := summaries(inCBOR), summaries(&inJSON); !slices.Equal(got, want) || len(got) != listedDemoSecrets {
		t.Errorf("CBOR list:\n%v\nJSON list:\n%v", got, want)
	}
}

// getAs GETs path from a server directly, accepting only the given media type.
func getAs(t *testing.T, srv *stack.Server, path, mediaType string) (status int, contentType string, body []byte) {
	t.Helper()
	client, err := rest.HTTPClientFor(srv.DirectRESTConfig(env.stack.RESTConfig()))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", mediaType)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// summaries names each object with what it says: name, state, fingerprints.
func summaries(list *v1alpha1.CertificateStatusList) []string {
	var out []string
	for _, item := range list.Items {
		line := item.Name + " " + string(item.Status.State) + " " + item.ResourceVersion
		for _, cert := range item.Status.Certificates {
			line += " " + cert.SHA256Fingerprint
		}
		out = append(out, line)
	}
	return out
}

// curl (and wget, and browsers) get indented JSON: kube-apiserver picks the
// pretty serializer by User-Agent. Through the aggregator, a list comes out
// as the compact list indented as json.Indent does, the same objects.
func TestCurlGetsTheListIndented(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	path := "/apis/certstatus.dev/v1alpha1/namespaces/" + namespace + "/certificatestatuses"
	client, err := rest.HTTPClientFor(env.stack.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	get := func(userAgent string) []byte {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, env.stack.APIServerURL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set("Accept", "*/*")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != runtime.ContentTypeJSON {
			t.Fatalf("GET as %s: %d %q %v %.200s", userAgent, resp.StatusCode, resp.Header.Get("Content-Type"), err, body)
		}
		return body
	}
	eventually(t, 30*time.Second, func() error {
		pretty, compact := get("curl/7.88.1"), get("certstatus-e2e")
		var indented bytes.Buffer
		if err := json.Indent(&indented, bytes.TrimSpace(compact), "", "  "); err != nil {
			return err
		}
		if !bytes.Equal(pretty, indented.Bytes()) {
			return fmt.Errorf("curl's list is not the compact list indented (a change between the two GETs?):\n%.400s\n---\n%.400s", pretty, indented.Bytes())
		}
		var list v1alpha1.CertificateStatusList
		if err := json.Unmarshal(pretty, &list); err != nil {
			return err
		}
		if len(list.Items) != listedDemoSecrets || !bytes.Contains(pretty, []byte("\n  \"items\": [\n    {\n")) {
			return fmt.Errorf("curl's list has %d objects, want %d: %.300s", len(list.Items), listedDemoSecrets, pretty)
		}
		return nil
	})
}

// Lists over 128 KiB come gzipped through the aggregator to a client that
// accepts gzip (client-go and kubectl do), as kube-apiserver's own lists do,
// in JSON, protobuf and as kubectl's Table; they inflate to the list an
// uncompressed client gets. A small answer goes as it is, and a server
// started with --feature-gates=kube:APIResponseCompression=false (what
// docs/operations.md offers) compresses nothing.
func TestLargeListsAreGzipped(t *testing.T) {
	t.Parallel()
	namespace := newNamespace(t)
	issued := newChain(t, "gzip.example.com", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	// A Table of 300 rows passes 128 KiB, and their protobuf list ≈ 600 KB
	// is marshalled into memory mapped outside the heap (pkg/offheap).
	const secrets = 300
	for i := range secrets {
		createSecret(t, issued.tlsSecret(namespace, fmt.Sprintf("tls-%03d", i), nil))
	}
	path := "/apis/certstatus.dev/v1alpha1/namespaces/" + namespace + "/certificatestatuses"
	aggregator, err := rest.HTTPClientFor(env.stack.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	get := func(client *http.Client, url, mediaType string, gzipped bool) (encoding string, body []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", mediaType)
		if gzipped {
			// Asked explicitly, so Go's transport leaves the body as sent.
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as %s: %d %v %.200s", url, mediaType, resp.StatusCode, err, body)
		}
		return resp.Header.Get("Content-Encoding"), body
	}
	listURL := env.stack.APIServerURL() + path
	table := "application/json;as=Table;v=v1;g=meta.k8s.io"
	for _, mediaType := range []string{runtime.ContentTypeJSON, runtime.ContentTypeProtobuf, table} {
		eventually(t, 30*time.Second, func() error {
			encoding, plain := get(aggregator, listURL, mediaType, false)
			if n := bytes.Count(plain, []byte("gzip.example.com")); encoding != "" || n < secrets {
				return fmt.Errorf("%s without gzip: Content-Encoding %q, %d bytes, %d mentions of the leaf", mediaType, encoding, len(plain), n)
			}
			encoding, body := get(aggregator, listURL, mediaType, true)
			if encoding != "gzip" {
				return fmt.Errorf("%s list of %d bytes: Content-Encoding %q, want gzip", mediaType, len(plain), encoding)
			}
			reader, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return err
			}
			inflated, err := io.ReadAll(reader)
			if err != nil {
				return err
			}
			if !bytes.Equal(inflated, plain) {
				return fmt.Errorf("%s: the gzipped list inflates to %d bytes, not the %d of the plain list", mediaType, len(inflated), len(plain))
			}
			t.Logf("%s: %d bytes, %d gzipped", mediaType, len(plain), len(body))
			return nil
		})
	}

	if encoding, body := get(aggregator, listURL+"/tls-000", runtime.ContentTypeJSON, true); encoding != "" || !bytes.Contains(body, []byte("gzip.example.com")) {
		t.Errorf("one status of %d bytes, asked with gzip: Content-Encoding %q", len(body), encoding)
	}

	plainServer, err := env.stack.LaunchServer(context.Background(), env.binary, "--feature-gates=kube:APIResponseCompression=false")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plainServer.Stop() })
	direct, err := rest.HTTPClientFor(plainServer.DirectRESTConfig(env.stack.RESTConfig()))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		encoding, body := get(direct, plainServer.URL()+path, runtime.ContentTypeJSON, true)
		if n := bytes.Count(body, []byte("gzip.example.com")); encoding != "" || n < secrets {
			return fmt.Errorf("with APIResponseCompression off, a list asked with gzip: Content-Encoding %q, %d bytes, %d mentions of the leaf", encoding, len(body), n)
		}
		return nil
	})
}
