package registrationsource

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryfake "k8s.io/client-go/discovery/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/registrations"
	"github.com/certstatus/certstatus/pkg/usedby"
)

func view(namespace, name string, phase corev1.PodPhase, labels map[string]string, secrets ...string) *usedby.PodView {
	return &usedby.PodView{Namespace: namespace, Name: name, Phase: phase, Labels: labels, Secrets: secrets}
}

// signalled tells whether the record signalled a change since the last call.
func signalled(p *Pods) bool {
	select {
	case <-p.changed:
		return true
	default:
		return false
	}
}

// describe is the namespace's recorded Pods, sorted, as "name phase secrets labels".
func describe(p *Pods, namespace string) []string {
	var out []string
	for _, pod := range p.Pods(namespace) {
		out = append(out, pod.Name+" "+string(pod.Phase)+" "+strings.Join(pod.Secrets, ",")+" "+labelString(pod.Labels))
	}
	slices.Sort(out)
	return out
}

func labelString(labels map[string]string) string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		s += k + "=" + labels[k] + ";"
	}
	return s
}

// The record follows adds, updates, deletes and (re)lists per namespace,
// and signals only what Trusted could see change.
func TestPodsRecord(t *testing.T) {
	p := NewPods(nil)
	hook := map[string]string{"app": "hook"}
	p.PodsListed("", []*usedby.PodView{
		view("a", "hook-1", corev1.PodRunning, hook, "hook-tls"),
		view("b", "web-1", corev1.PodPending, map[string]string{"app": "web"}, "web-tls", "client-tls"),
	})
	if !signalled(p) {
		t.Error("the first list did not signal")
	}
	if got, want := describe(p, "a"), []string{"hook-1 Running hook-tls app=hook;"}; !slices.Equal(got, want) {
		t.Fatalf("namespace a: %q, want %q", got, want)
	}
	if got := describe(p, "b"); len(got) != 1 {
		t.Fatalf("namespace b: %q", got)
	}

	// The same Pod again (a status-only update usedBy's transform dropped)
	// changes nothing Trusted reads: no signal.
	p.PodChanged("a", "hook-1", view("a", "hook-1", corev1.PodRunning, map[string]string{"app": "hook"}, "hook-tls"))
	if signalled(p) {
		t.Error("an update changing nothing signalled")
	}
	// Labels, phase and Secrets do.
	for _, v := range []*usedby.PodView{
		view("a", "hook-1", corev1.PodRunning, map[string]string{"app": "hook", "v": "2"}, "hook-tls"),
		view("a", "hook-1", corev1.PodPending, map[string]string{"app": "hook", "v": "2"}, "hook-tls"),
		view("a", "hook-1", corev1.PodPending, map[string]string{"app": "hook", "v": "2"}, "new-tls"),
	} {
		p.PodChanged("a", "hook-1", v)
		if !signalled(p) {
			t.Errorf("%+v did not signal", v)
		}
	}
	// A Pod that no longer mounts a Secret (or finished, or was deleted) is forgotten.
	p.PodChanged("a", "hook-1", nil)
	if !signalled(p) || len(describe(p, "a")) != 0 {
		t.Errorf("a forgotten Pod: signalled? recorded %q", describe(p, "a"))
	}
	p.PodChanged("a", "never-seen", nil)
	if signalled(p) {
		t.Error("forgetting a Pod never recorded signalled")
	}

	// A relist of all namespaces replaces everything: web-1 is gone.
	p.PodsListed("", []*usedby.PodView{view("c", "api-1", corev1.PodRunning, nil, "api-tls")})
	if !signalled(p) || len(describe(p, "b")) != 0 || len(describe(p, "c")) != 1 || p.len() != 1 {
		t.Errorf("after the relist: b %q, c %q", describe(p, "b"), describe(p, "c"))
	}
}

// With --namespaces each namespace is listed by its own reflector: a
// relist replaces only its namespace, and the record settles once every
// watched namespace was listed. A namespace not watched is said to be so.
func TestPodsPerNamespace(t *testing.T) {
	p := NewPods([]string{"a", "b"})
	if !p.Watched("a") || p.Watched("c") {
		t.Errorf("watched a %v, c %v", p.Watched("a"), p.Watched("c"))
	}
	p.PodsListed("a", []*usedby.PodView{view("a", "hook-1", corev1.PodRunning, nil, "hook-tls")})
	select {
	case <-p.settled:
		t.Fatal("settled before namespace b was listed")
	default:
	}
	p.PodsListed("b", []*usedby.PodView{view("b", "web-1", corev1.PodRunning, nil, "web-tls")})
	select {
	case <-p.settled:
	default:
		t.Fatal("not settled with both namespaces listed")
	}
	p.PodsListed("b", nil)
	if len(describe(p, "a")) != 1 || len(describe(p, "b")) != 0 {
		t.Errorf("b's relist: a %q, b %q", describe(p, "a"), describe(p, "b"))
	}
}

// A refused Pod read settles the record at once: the registrations start,
// with Trusted Unknown where Pods decide.
func TestPodsRefusedSettles(t *testing.T) {
	p := NewPods(nil)
	p.PodsRefused("")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.waitSettled(ctx)
	if ctx.Err() != nil {
		t.Fatal("a refused read did not settle the record")
	}
}

// Pods of one workload share one label map.
func TestPodsShareLabels(t *testing.T) {
	p := NewPods(nil)
	for _, name := range []string{"hook-1", "hook-2"} {
		p.PodChanged("a", name, view("a", name, corev1.PodRunning, map[string]string{"app": "hook"}, "hook-tls"))
	}
	p.mu.Lock()
	one, two := p.byNamespace["a"]["hook-1"].labels, p.byNamespace["a"]["hook-2"].labels
	p.mu.Unlock()
	if one == nil || one != two {
		t.Errorf("label sets %p and %p, want one shared", one, two)
	}
}

// countingClientset counts the Pod lists and watches a fake clientset serves.
func podRequests(client *kubefake.Clientset) (lists, watches int) {
	for _, action := range client.Actions() {
		if action.GetResource().Resource != "pods" {
			continue
		}
		switch action.GetVerb() {
		case "list":
			lists++
		case "watch":
			watches++
		}
	}
	return lists, watches
}

// The one Pod list and watch feed both usedBy (the Secret's users) and
// Trusted (the record of Pods mounting Secrets); with usedBy's Pod kind
// off they still feed Trusted, and usedBy counts no Pod.
func TestOnePodWatchFeedsUsedByAndTrusted(t *testing.T) {
	pod := func(name string, labels map[string]string, volumes ...corev1.Volume) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "hooks", Name: name, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "hook-5d8f", Controller: ptr.To(true)}}},
			Spec:   corev1.PodSpec{Volumes: volumes, Containers: []corev1.Container{{Name: "hook", Image: "hook"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		}
	}
	secretVolume := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}
	}
	hookTLS := usedby.SecretRef{Namespace: "hooks", Name: "hook-tls"}
	for _, tc := range []struct {
		name  string
		kinds usedby.Kinds
	}{
		{"usedBy counts Pods", usedby.Kinds{Ingress: true, Pod: true}},
		{"usedBy's Pod kind off", usedby.Kinds{Ingress: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kube := kubefake.NewClientset(
				pod("hook-5d8f-1", map[string]string{"app": "hook"}, secretVolume("hook-tls")),
				pod("config-only", map[string]string{"app": "hook"}),
			)
			metadataScheme := runtime.NewScheme()
			metadataScheme.AddKnownTypeWithName(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSetList"}, &metav1.PartialObjectMetadataList{})
			metadataScheme.AddKnownTypeWithName(schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "JobList"}, &metav1.PartialObjectMetadataList{})
			clients := usedby.Clients{Kube: kube, Metadata: metadatafake.NewSimpleMetadataClient(metadataScheme),
				Discovery: &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{}}}
			index := usedby.NewIndex(nil)
			trusted := NewPods(nil)
			sources, err := usedby.NewSources(clients, tc.kinds, nil, index, trusted, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sources.Run(ctx)
			settle, stop := context.WithTimeout(ctx, 10*time.Second)
			defer stop()
			trusted.waitSettled(settle)
			if settle.Err() != nil {
				t.Fatal("the Pods were never listed to Trusted")
			}
			// Only the Pod that mounts a Secret is recorded, with what Trusted reads.
			if got, want := describe(trusted, "hooks"), []string{"hook-5d8f-1 Running hook-tls app=hook;"}; !slices.Equal(got, want) {
				t.Errorf("Trusted's Pods %q, want %q", got, want)
			}
			deadline := time.Now().Add(10 * time.Second)
			for tc.kinds.Pod && !sources.PodsSynced() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			users := index.Users(hookTLS)
			if counted := users != nil; counted != tc.kinds.Pod {
				t.Errorf("usedBy counted the Pod: %v, want %v", counted, tc.kinds.Pod)
			}

			// A live change reaches Trusted through the same watch.
			if _, err := kube.CoreV1().Pods("hooks").Create(ctx, pod("hook-5d8f-2", map[string]string{"app": "hook"}, secretVolume("hook-tls")), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			for len(describe(trusted, "hooks")) != 2 {
				if time.Now().After(deadline) {
					t.Fatalf("the new Pod never reached Trusted: %q", describe(trusted, "hooks"))
				}
				time.Sleep(10 * time.Millisecond)
			}
			if lists, watches := podRequests(kube); lists != 1 || watches != 1 {
				t.Errorf("Pods listed %d and watched %d times, want once each", lists, watches)
			}
		})
	}
}

// The Cluster Trusted decides with reads the record.
func TestClusterReadsThePods(t *testing.T) {
	pods := NewPods([]string{"hooks"})
	pods.PodChanged("hooks", "hook-1", view("hooks", "hook-1", corev1.PodRunning, map[string]string{"app": "hook"}, "hook-tls"))
	c := &cluster{pods: pods}
	var cluster registrations.Cluster = c
	got := cluster.Pods("hooks")
	if len(got) != 1 || got[0].Name != "hook-1" || got[0].Labels["app"] != "hook" || !slices.Equal(got[0].Secrets, []string{"hook-tls"}) {
		t.Errorf("Pods %+v", got)
	}
	if !cluster.Watched("hooks") || cluster.Watched("elsewhere") {
		t.Error("Watched does not follow --namespaces")
	}
}

// forbiddenCounter counts refused reads, as pkg/metrics does.
type forbiddenCounter struct{ pods atomic.Int32 }

func (c *forbiddenCounter) ForbiddenRead(resource string) {
	if resource == "pods" {
		c.pods.Add(1)
	}
}

// A refused Pod read, with usedBy's Pod kind off, settles Trusted's record
// (the registrations start; Trusted is Unknown where Pods decide) and is
// counted, by the one Pod watch.
func TestRefusedPodReadSettlesTrusted(t *testing.T) {
	kube := kubefake.NewClientset()
	kube.PrependReactor("list", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", nil)
	})
	trusted := NewPods(nil)
	counter := &forbiddenCounter{}
	sources, err := usedby.NewSources(usedby.Clients{Kube: kube}, usedby.Kinds{}, nil, nil, trusted, counter)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sources.Run(ctx)
	settle, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	trusted.waitSettled(settle)
	if settle.Err() != nil {
		t.Fatal("a refused Pod read did not settle Trusted's record")
	}
	if n := counter.pods.Load(); n != 1 {
		t.Errorf("counted %d refused Pod reads, want 1", n)
	}
	if resources := sources.Resources(); len(resources) != 0 {
		t.Errorf("usedBy reports informers %v with every kind off", resources)
	}
}
