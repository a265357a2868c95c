package usedby

import (
	"context"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryfake "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
)

// fakeClients are the clients Sources uses, fake.
type fakeClients struct {
	kube      *kubefake.Clientset
	metadata  *metadatafake.FakeMetadataClient
	dynamic   *dynamicfake.FakeDynamicClient
	discovery *discoveryfake.FakeDiscovery
}

func newFakeClients(t *testing.T, objects ...runtime.Object) fakeClients {
	t.Helper()
	metadataScheme := runtime.NewScheme()
	for _, gvk := range []schema.GroupVersionKind{appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), {Group: "batch", Version: "v1", Kind: "Job"}} {
		metadataScheme.AddKnownTypeWithName(gvk, &metav1.PartialObjectMetadata{})
		metadataScheme.AddKnownTypeWithName(gvk.GroupVersion().WithKind(gvk.Kind+"List"), &metav1.PartialObjectMetadataList{})
	}
	var kubeObjects, metadataObjects []runtime.Object
	for _, obj := range objects {
		if _, ok := obj.(*metav1.PartialObjectMetadata); ok {
			metadataObjects = append(metadataObjects, obj)
		} else {
			kubeObjects = append(kubeObjects, obj)
		}
	}
	dynamicScheme := runtime.NewScheme()
	return fakeClients{
		kube:     kubefake.NewClientset(kubeObjects...),
		metadata: metadatafake.NewSimpleMetadataClient(metadataScheme, metadataObjects...),
		dynamic: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(dynamicScheme, map[schema.GroupVersionResource]string{
			gatewaysResource:     "GatewayList",
			listenerSetsResource: "ListenerSetList",
		}),
		discovery: &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{}},
	}
}

func (c fakeClients) clients() Clients {
	return Clients{Kube: c.kube, Metadata: c.metadata, Dynamic: c.dynamic, Discovery: c.discovery}
}

func (c fakeClients) sources(t *testing.T, kinds Kinds, index *Index) *Sources {
	t.Helper()
	s, err := NewSources(c.clients(), kinds, nil, index, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually polls UsedBy until it equals want.
func eventually(t *testing.T, x *Index, secret SecretRef, want []User) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := usedBy(x, secret)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("users of %v = %+v\nwant %+v", secret, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSourcesIngressesAndWorkloads(t *testing.T) {
	controller := true
	owned := func(kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: &controller}}
	}
	secretVolume := []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "web-tls"}}}}
	clients := newFakeClients(t,
		&networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend", CreationTimestamp: metav1.NewTime(created)},
			Spec:       networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{SecretName: "web-tls", Hosts: []string{"web.example.com"}}}},
		},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend-abc-1", OwnerReferences: owned("ReplicaSet", "frontend-abc")},
			Spec: corev1.PodSpec{Volumes: secretVolume}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend-abc-2", OwnerReferences: owned("ReplicaSet", "frontend-abc")},
			Spec: corev1.PodSpec{Volumes: secretVolume}},
		&metav1.PartialObjectMetadata{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend-abc", OwnerReferences: owned("Deployment", "frontend")},
		},
	)
	index := NewIndex(nil)
	s := clients.sources(t, Kinds{Ingress: true, Pod: true}, index)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.Run(ctx)
	webTLS := SecretRef{"web", "web-tls"}
	eventually(t, index, webTLS, []User{
		{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 2},
		{Kind: KindIngress, Namespace: "web", Name: "frontend", Hosts: []string{"web.example.com"}, Created: created},
	})
	if got := s.Resources(); !reflect.DeepEqual(got, []string{"ingresses", "jobs", "pods", "replicasets"}) {
		t.Errorf("resources %v", got)
	}

	// A deleted Pod and a Pod that finished stop counting.
	pods := clients.kube.CoreV1().Pods("web")
	if err := pods.Delete(ctx, "frontend-abc-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	finished := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend-abc-2", OwnerReferences: owned("ReplicaSet", "frontend-abc")},
		Spec: corev1.PodSpec{Volumes: secretVolume}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	if _, err := pods.Update(ctx, finished, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, index, webTLS, []User{{Kind: KindIngress, Namespace: "web", Name: "frontend", Hosts: []string{"web.example.com"}, Created: created}})
}

// RBAC that refuses Pods or Ingresses leaves the other kind working, and
// never syncs the refused one, which is noted (logged once, counted).
func TestSourcesForbidden(t *testing.T) {
	for refused, other := range map[string]string{"pods": "ingresses", "ingresses": "pods"} {
		t.Run(refused, func(t *testing.T) {
			clients := newFakeClients(t, &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend", CreationTimestamp: metav1.NewTime(created)},
				Spec:       networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{SecretName: "web-tls"}}},
			})
			clients.kube.PrependReactor("list", refused, func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: refused}, "", nil)
			})
			index := NewIndex(nil)
			s := clients.sources(t, Kinds{Ingress: true, Pod: true}, index)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s.Run(ctx)
			if refused == "pods" {
				eventually(t, index, SecretRef{"web", "web-tls"}, []User{{Kind: KindIngress, Namespace: "web", Name: "frontend", Created: created}})
			}
			deadline := time.Now().Add(5 * time.Second)
			for !s.Synced()[other] && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if synced := s.Synced(); !synced[other] || synced[refused] {
				t.Errorf("synced %v, want %s only", synced, other)
			}
			s.mu.Lock()
			logged := s.logged[refused]
			s.mu.Unlock()
			if !logged {
				t.Errorf("the forbidden %s were not noted", refused)
			}
			if users := usedBy(index, SecretRef{"web", "web-tls"}); refused == "ingresses" && len(users) != 0 {
				t.Errorf("users %v from refused Ingresses", users)
			}
		})
	}
}

// Gateways are watched only while discovery shows their CRD.
func TestSourcesFollowGatewayCRDs(t *testing.T) {
	clients := newFakeClients(t)
	index := NewIndex(nil)
	s := clients.sources(t, Kinds{Gateway: true}, index)
	s.DiscoveryInterval = time.Hour // discover is called by the test
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.discover(ctx)
	if got := s.Resources(); len(got) != 0 {
		t.Fatalf("watching %v without CRDs", got)
	}

	gateway := unstructuredObject(t, "gateway.networking.k8s.io/v1", "Gateway", "infra", "edge", map[string]interface{}{
		"listeners": []interface{}{map[string]interface{}{"name": "https", "hostname": "web.example.com",
			"tls": map[string]interface{}{"certificateRefs": []interface{}{map[string]interface{}{"name": "web-tls", "namespace": "web"}}}}},
	})
	if _, err := clients.dynamic.Resource(gatewaysResource).Namespace("infra").Create(ctx, gateway, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The CRDs appear.
	clients.discovery.Resources = []*metav1.APIResourceList{{GroupVersion: "gateway.networking.k8s.io/v1", APIResources: []metav1.APIResource{
		{Name: "gateways", Namespaced: true, Kind: "Gateway"}, {Name: "listenersets", Namespaced: true, Kind: "ListenerSet"},
	}}}
	s.discover(ctx)
	if got := s.Resources(); !reflect.DeepEqual(got, []string{"gateways.gateway.networking.k8s.io", "listenersets.gateway.networking.k8s.io"}) {
		t.Fatalf("watching %v", got)
	}
	webTLS := SecretRef{"web", "web-tls"}
	eventually(t, index, webTLS, []User{{Kind: KindGateway, Namespace: "infra", Name: "edge", Hosts: []string{"web.example.com"}, Created: created}})

	// A discovery error changes nothing.
	clients.discovery.PrependReactor("get", "group", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("flaky")
	})
	s.discover(ctx)
	if got := s.Resources(); len(got) != 2 {
		t.Fatalf("a discovery error stopped %v", got)
	}
	clients.discovery.ReactionChain = clients.discovery.ReactionChain[1:]

	// The CRDs go: their objects are forgotten.
	clients.discovery.Resources = nil
	s.discover(ctx)
	if got := s.Resources(); len(got) != 0 {
		t.Fatalf("still watching %v", got)
	}
	if got := usedBy(index, webTLS); got != nil {
		t.Errorf("UsedBy after the CRDs went = %+v", got)
	}
}

func TestParseKinds(t *testing.T) {
	kinds, err := ParseKinds([]string{"Ingress", " pod", "GATEWAY"})
	if err != nil || kinds != (Kinds{Ingress: true, Gateway: true, Pod: true}) {
		t.Errorf("ParseKinds = %+v, %v", kinds, err)
	}
	if kinds, err := ParseKinds([]string{""}); err != nil || kinds.Any() {
		t.Errorf("empty: %+v, %v", kinds, err)
	}
	if _, err := ParseKinds([]string{"Ingress", "Service"}); err == nil {
		t.Error("Service accepted")
	}
}
