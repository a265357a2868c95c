package registrationsource

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/registrations"
)

// fakeCRDs serves customresourcedefinitions as kube-apiserver does, in two
// phases: first one CRD (resourceVersion 5) whose watch then modifies its
// caBundle and ends with a 410 ERROR event; after that the CRD is gone
// (resourceVersion 8), so the relist must delete it.
type fakeCRDs struct {
	mu       sync.Mutex
	phase    int
	requests []string
}

func crdJSON(resourceVersion, caBundle string) map[string]any {
	return map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.com", "uid": "u1", "resourceVersion": resourceVersion},
		"spec": map[string]any{
			"versions": []any{map[string]any{"name": "v1", "schema": map[string]any{"openAPIV3Schema": map[string]any{"description": strings.Repeat("x", 64<<10)}}}},
			"conversion": map[string]any{"strategy": "Webhook", "webhook": map[string]any{"clientConfig": map[string]any{
				"caBundle": base64.StdEncoding.EncodeToString([]byte(caBundle)), "service": map[string]any{"namespace": "ns", "name": "convert"}}}}}}
}

func (f *fakeCRDs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	phase := f.phase
	f.requests = append(f.requests, r.URL.RawQuery)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	items, rv := []any{crdJSON("5", "bundle A")}, "5"
	if phase > 0 {
		items, rv = nil, "8"
	}
	query := r.URL.Query()
	if query.Get("watch") != "true" {
		_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinitionList", "metadata": map[string]any{"resourceVersion": rv}, "items": items})
		return
	}
	encoder := json.NewEncoder(w)
	send := func(typ string, object any) {
		_ = encoder.Encode(map[string]any{"type": typ, "object": object})
		w.(http.Flusher).Flush()
	}
	if query.Get("sendInitialEvents") == "true" {
		for _, item := range items {
			send("ADDED", item)
		}
		send("BOOKMARK", map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"resourceVersion": rv, "annotations": map[string]any{"k8s.io/initial-events-end": "true"}}})
	}
	if phase == 0 {
		send("MODIFIED", crdJSON("6", "bundle B"))
		f.mu.Lock()
		f.phase = 1
		f.mu.Unlock()
		send("ERROR", map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410, "message": "too old resource version: 6 (7)"})
		return
	}
	<-r.Context().Done()
}

// TestListWatchThroughTheReflector: the registrations' client decodes
// lists, watch events, the watch-list's bookmark and a 410 ERROR event as
// the reflector needs them, and the informer's handlers see the add, the
// caBundle change and the deletion found by the relist.
// It runs with client-go's watch-list (the default) and with list then watch.
func TestListWatchThroughTheReflector(t *testing.T) {
	for _, watchList := range []bool{true, false} {
		t.Run(fmt.Sprintf("watchList=%v", watchList), func(t *testing.T) {
			clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, watchList)
			testListWatch(t)
		})
	}
}

func testListWatch(t *testing.T) {
	fake := &fakeCRDs{}
	server := httptest.NewServer(fake)
	defer server.Close()
	client, err := newRESTClient(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	informer := toolscache.NewSharedIndexInformerWithOptions(listWatch(client, registrations.Resources[registrations.KindCustomResourceDefinition]), &registrations.Object{}, toolscache.SharedIndexInformerOptions{})
	if err := informer.SetTransform(registrations.Transform); err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 10)
	view := func(obj any) string {
		if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		r, ok := obj.(*registrations.Registration)
		if !ok {
			return fmt.Sprintf("%T", obj)
		}
		var bundles []string
		for _, b := range r.CABundles {
			bundles = append(bundles, b.Key+"="+string(b.PEM)+" service="+b.Service.Namespace+"/"+b.Service.Name)
		}
		return r.Kind + " " + r.Name + " rv " + r.ResourceVersion + " " + strings.Join(bundles, ",")
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { seen <- "add " + view(obj) },
		UpdateFunc: func(_, obj any) { seen <- "update " + view(obj) },
		DeleteFunc: func(obj any) { seen <- "delete " + view(obj) },
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go informer.RunWithContext(ctx)

	const crd = "CustomResourceDefinition widgets.example.com"
	const key = " spec.conversion.webhook.clientConfig.caBundle="
	for _, want := range []string{
		"add " + crd + " rv 5" + key + "bundle A service=ns/convert",
		"update " + crd + " rv 6" + key + "bundle B service=ns/convert",
		"delete " + crd + " rv 6" + key + "bundle B service=ns/convert",
	} {
		select {
		case got := <-seen:
			if got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		case <-time.After(30 * time.Second):
			fake.mu.Lock()
			defer fake.mu.Unlock()
			t.Fatalf("no %q; requests %q", want, fake.requests)
		}
	}
	fake.mu.Lock()
	t.Logf("requests: %q", fake.requests)
	fake.mu.Unlock()
	if !informer.HasSynced() || len(informer.GetStore().List()) != 0 {
		t.Errorf("synced %v, store %v", informer.HasSynced(), informer.GetStore().List())
	}
}

// TestRefusedReadIsForbidden: a 403 is a Forbidden error carrying
// kube-apiserver's message (the 503 of ccst quotes it), for list and watch.
func TestRefusedReadIsForbidden(t *testing.T) {
	const message = `customresourcedefinitions.apiextensions.k8s.io is forbidden: User "system:serviceaccount:x:y" cannot list resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope`
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403, "message": message})
	}))
	defer server.Close()
	client, err := newRESTClient(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	lw := listWatch(client, registrations.Resources[registrations.KindCustomResourceDefinition])
	_, listErr := lw.ListWithContext(context.Background(), metav1.ListOptions{})
	_, watchErr := lw.WatchWithContext(context.Background(), metav1.ListOptions{})
	for what, err := range map[string]error{"list": listErr, "watch": watchErr} {
		if !apierrors.IsForbidden(err) || err.Error() != message {
			t.Errorf("%s: %v, want Forbidden %q", what, err, message)
		}
	}
}
