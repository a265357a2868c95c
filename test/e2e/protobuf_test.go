package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	versionedscheme "github.com/certstatus/certstatus/generated/clientset/versioned/scheme"
	"github.com/certstatus/certstatus/generated/informers/externalversions"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

const (
	protobufList     = runtime.ContentTypeProtobuf
	protobufTable    = runtime.ContentTypeProtobuf + ";as=Table;g=meta.k8s.io;v=v1"
	protobufMetadata = runtime.ContentTypeProtobuf + ";as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
	protobufMetaOne  = runtime.ContentTypeProtobuf + ";as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
)

// contentTypes records the Content-Type of every certificatestatuses
// response a client receives (client-go's Accept header also accepts JSON, so
// only the response tells what was served).
type contentTypes struct {
	mu   sync.Mutex
	seen []string // "list <type>" or "watch <type>"
}

func (c *contentTypes) wrap(config *rest.Config) *rest.Config {
	config.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return watchRoundTripper(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err == nil && strings.Contains(req.URL.Path, "certificatestatuses") && resp.StatusCode == http.StatusOK {
				verb := "list"
				if req.URL.Query().Get("watch") == "true" {
					verb = "watch"
				}
				c.mu.Lock()
				c.seen = append(c.seen, verb+" "+resp.Header.Get("Content-Type"))
				c.mu.Unlock()
			}
			return resp, err
		})
	})
	return config
}

// protobufFactory is a typed informer factory with the generated clients'
// defaults (protobuf), recording the Content-Type of every answer.
func protobufFactory(t *testing.T, options ...externalversions.SharedInformerOption) (externalversions.SharedInformerFactory, *contentTypes) {
	t.Helper()
	seen := &contentTypes{}
	client := versioned.NewForConfigOrDie(seen.wrap(env.stack.RESTConfig()))
	return externalversions.NewSharedInformerFactoryWithOptions(client, 0, options...), seen
}

// startAndSync starts the factory's informers until the test ends and
// waits until informer has synced.
func startAndSync(t *testing.T, factory externalversions.SharedInformerFactory, informer toolscache.SharedIndexInformer) {
	t.Helper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); factory.Shutdown() })
	factory.Start(stop)
	if !toolscache.WaitForCacheSync(stop, informer.HasSynced) {
		t.Fatal("the informer did not sync")
	}
}

// check fails unless every response was protobuf, and returns how many
// watches were answered.
func (c *contentTypes) check(t *testing.T) (watches int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) == 0 {
		t.Error("no list or watch of a certstatus resource was answered")
	}
	for _, s := range c.seen {
		verb, contentType, _ := strings.Cut(s, " ")
		if !strings.HasPrefix(contentType, runtime.ContentTypeProtobuf) {
			t.Errorf("a %s was answered in %q, not protobuf (all: %v)", verb, contentType, c.seen)
		}
		if verb == "watch" {
			watches++
		}
	}
	return watches
}

// requestAs GETs path from the server cfg names, accepting only accept.
func requestAs(t *testing.T, cfg *rest.Config, path, accept string) (status int, contentType string, body []byte) {
	t.Helper()
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// TestProtobufIsServed: through the aggregator and directly, a client that
// accepts only protobuf gets protobuf and one that accepts only JSON gets
// JSON; the typed client (protobuf by default) decodes lists and watches to
// the same objects as a JSON client, field for field; a metadata-only
// request works in protobuf; a protobuf Table answers 406 as kube-apiserver
// does for its own Secrets, never 500.
func TestProtobufIsServed(t *testing.T) {
	t.Parallel()
	namespace := loadDemoSecrets(t)
	path := "/apis/certstatus.dev/v1alpha1/namespaces/" + namespace + "/certificatestatuses"
	decoder := versionedscheme.Codecs.UniversalDeserializer()
	servers := map[string]*rest.Config{
		"aggregator": env.stack.RESTConfig(),
		"direct":     env.server.DirectRESTConfig(env.stack.RESTConfig()),
	}

	for name, cfg := range servers {
		t.Run("only protobuf accepted/"+name, func(t *testing.T) {
			status, contentType, body := requestAs(t, cfg, path, protobufList)
			if status != http.StatusOK || contentType != runtime.ContentTypeProtobuf {
				t.Fatalf("list: %d %q %.200q", status, contentType, body)
			}
			list, err := runtime.Decode(decoder, body)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(list.(*v1alpha1.CertificateStatusList).Items); n != listedDemoSecrets {
				t.Errorf("protobuf list has %d items, want %d", n, listedDemoSecrets)
			}
			status, contentType, body = requestAs(t, cfg, path+"/valid-chain", protobufList)
			if status != http.StatusOK || contentType != runtime.ContentTypeProtobuf {
				t.Fatalf("get: %d %q %.200q", status, contentType, body)
			}
			object, err := runtime.Decode(decoder, body)
			if err != nil {
				t.Fatal(err)
			}
			if got := object.(*v1alpha1.CertificateStatus); got.Name != "valid-chain" || got.Status.State != v1alpha1.StateValid {
				t.Errorf("protobuf get: %s %s", got.Name, got.Status.State)
			}
		})
		t.Run("only JSON accepted/"+name, func(t *testing.T) {
			status, contentType, body := requestAs(t, cfg, path, runtime.ContentTypeJSON)
			if status != http.StatusOK || contentType != runtime.ContentTypeJSON || !strings.HasPrefix(string(body), "{") {
				t.Fatalf("list: %d %q %.200q", status, contentType, body)
			}
		})
		t.Run("metadata only/"+name, func(t *testing.T) {
			status, contentType, body := requestAs(t, cfg, path, protobufMetadata)
			if status != http.StatusOK || contentType != runtime.ContentTypeProtobuf {
				t.Fatalf("metadata list: %d %q %.200q", status, contentType, body)
			}
			scheme := runtime.NewScheme()
			metav1.AddMetaToScheme(scheme)
			decoded, err := runtime.Decode(serializer.NewCodecFactory(scheme).UniversalDeserializer(), body)
			if err != nil {
				t.Fatal(err)
			}
			list, ok := decoded.(*metav1.PartialObjectMetadataList)
			if !ok || len(list.Items) != listedDemoSecrets || list.Items[0].UID == "" || list.ResourceVersion == "" {
				t.Fatalf("metadata list: %T %+v", decoded, decoded)
			}
			status, _, body = requestAs(t, cfg, path+"/valid-chain", protobufMetaOne)
			if status != http.StatusOK {
				t.Fatalf("metadata get: %d %.200q", status, body)
			}
		})
		t.Run("406 for what protobuf cannot carry/"+name, func(t *testing.T) {
			for _, accept := range []string{protobufTable, protobufMetaOne} {
				status, _, body := requestAs(t, cfg, path, accept)
				if status != http.StatusNotAcceptable {
					t.Errorf("list as %s: %d %.200q, want 406", accept, status, body)
				}
			}
		})
	}
	t.Run("kube-apiserver answers the same for Secrets", func(t *testing.T) {
		secrets := "/api/v1/namespaces/" + namespace + "/secrets"
		for _, accept := range []string{protobufTable, protobufMetaOne} {
			if status, _, body := requestAs(t, env.stack.RESTConfig(), secrets, accept); status != http.StatusNotAcceptable {
				t.Errorf("kube-apiserver's Secrets as %s: %d %.200q; the 406 above is no longer what it does", accept, status, body)
			}
		}
	})

	t.Run("typed client: protobuf decodes as JSON", func(t *testing.T) {
		seen := &contentTypes{}
		inProtobuf := versioned.NewForConfigOrDie(seen.wrap(env.stack.RESTConfig())).CertstatusV1alpha1().CertificateStatuses(namespace)
		jsonConfig := env.stack.RESTConfig()
		jsonConfig.ContentType, jsonConfig.AcceptContentTypes = runtime.ContentTypeJSON, runtime.ContentTypeJSON
		inJSON := versioned.NewForConfigOrDie(jsonConfig).CertstatusV1alpha1().CertificateStatuses(namespace)
		ctx := context.Background()

		var fromProtobuf, fromJSON *v1alpha1.CertificateStatusList
		eventually(t, 20*time.Second, func() error {
			var err error
			if fromProtobuf, err = inProtobuf.List(ctx, metav1.ListOptions{}); err != nil {
				return err
			}
			if fromJSON, err = inJSON.List(ctx, metav1.ListOptions{}); err != nil {
				return err
			}
			if fromProtobuf.ResourceVersion != fromJSON.ResourceVersion {
				return fmt.Errorf("the lists are of resourceVersions %s and %s", fromProtobuf.ResourceVersion, fromJSON.ResourceVersion)
			}
			return nil
		})
		if len(fromProtobuf.Items) != listedDemoSecrets {
			t.Fatalf("protobuf list: %d items", len(fromProtobuf.Items))
		}
		if !equality.Semantic.DeepEqual(fromProtobuf, fromJSON) {
			t.Fatalf("the protobuf list differs from the JSON list:\n%s", diff.Diff(fromJSON, fromProtobuf))
		}

		options := metav1.ListOptions{ResourceVersion: fromJSON.ResourceVersion}
		watches := map[string]watch.Interface{}
		for format, client := range map[string]interface {
			Watch(context.Context, metav1.ListOptions) (watch.Interface, error)
		}{"protobuf": inProtobuf, "json": inJSON} {
			w, err := client.Watch(ctx, options)
			if err != nil {
				t.Fatalf("%s watch: %v", format, err)
			}
			t.Cleanup(w.Stop)
			watches[format] = w
		}
		c := newChain(t, "protobuf.example.com", time.Time{}, time.Time{})
		createSecret(t, c.tlsSecret(namespace, "added-while-watched", map[string]string{"format": "both"}))
		added := map[string]*v1alpha1.CertificateStatus{}
		for format, w := range watches {
			select {
			case ev := <-w.ResultChan():
				object, ok := ev.Object.(*v1alpha1.CertificateStatus)
				if ev.Type != watch.Added || !ok {
					t.Fatalf("%s watch: %s %T", format, ev.Type, ev.Object)
				}
				added[format] = object
			case <-time.After(30 * time.Second):
				t.Fatalf("%s watch: no event within 30s", format)
			}
		}
		if added["protobuf"].Name != "added-while-watched" || len(added["protobuf"].Status.Certificates) != 3 {
			t.Fatalf("protobuf watch event: %+v", added["protobuf"])
		}
		if !equality.Semantic.DeepEqual(added["protobuf"], added["json"]) {
			t.Fatalf("the protobuf watch event differs from the JSON one:\n%s", diff.Diff(added["json"], added["protobuf"]))
		}
		// A list is repeated while other tests' writes move the
		// resourceVersion between the two lists above.
		if watches := seen.check(t); watches != 1 || len(seen.seen) < 2 {
			t.Errorf("responses to the protobuf client: %v, want lists and one watch", seen.seen)
		}
	})
}

// TestProtobufInformerResumesAfterAPIServerRestart: an informer of the
// generated typed client syncs over protobuf (every response it got says so)
// and follows changes again after kube-apiserver restarts under its watch.
// It runs on a control plane of its own: the restart would break every other
// test's watches.
func TestProtobufInformerResumesAfterAPIServerRestart(t *testing.T) {
	st := ownStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := st.StartServer(ctx, env.binary, "-v=2"); err != nil {
		t.Fatalf("start certstatus: %v", err)
	}
	kube := st.Client()
	const ns = "protobuf-informer"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"s0", "s1"} {
		createIn(t, kube, tlsSecretIn(t, ns, name, time.Time{}))
	}

	seen := &contentTypes{}
	certs := versioned.NewForConfigOrDie(seen.wrap(st.RESTConfig()))
	lister, _ := startInformer(t, certs, ns)
	waitCacheMatches(t, certs, lister, ns, 2, true, 30*time.Second)
	before := seen.check(t)
	if before == 0 {
		t.Fatalf("the informer synced without a watch: %v", seen.seen)
	}

	if err := st.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	createIn(t, kube, tlsSecretIn(t, ns, "after-restart", time.Now().Add(-time.Hour)))
	waitCacheMatches(t, certs, lister, ns, 3, true, 90*time.Second)
	if got, err := lister.Get("after-restart"); err != nil || got.Status.State != v1alpha1.StateExpired {
		t.Fatalf("after-restart in the informer's cache: %v %v", got, err)
	}
	if after := seen.check(t); after <= before {
		t.Errorf("no new watch after the restart: %v", seen.seen)
	}
	seen.mu.Lock()
	t.Logf("responses to the informer and its checks: %d, e.g. %v", len(seen.seen), slices.Compact(slices.Clone(seen.seen)))
	seen.mu.Unlock()
}
