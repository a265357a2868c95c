package usedby

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// keep stores n objects as certstatus does (add: the kind's own store,
// feeding the index), owners' metadata through their transform and an
// informer store, then calls finish (nil: none; the decoration the
// index attaches as the cache's decorator), and returns the heap they keep per object. The
// decoded API objects are garbage once transformed, as in the informer.
func keep(n int, object func(i int) interface{}, add func(interface{}), finish func()) float64 {
	owners := toolscache.NewIndexer(toolscache.DeletionHandlingMetaNamespaceKeyFunc, toolscache.Indexers{})
	before := heapInUse()
	for i := 0; i < n; i++ {
		made := object(i)
		objects, ok := made.([]interface{})
		if !ok {
			objects = []interface{}{made}
		}
		for _, obj := range objects {
			if m, isOwner := obj.(*metav1.PartialObjectMetadata); isOwner {
				kept, _ := ownerTransform("ReplicaSet")(m)
				if err := owners.Add(kept); err != nil {
					panic(err)
				}
				continue
			}
			add(obj)
		}
	}
	if finish != nil {
		finish()
	}
	after := heapInUse()
	runtime.KeepAlive(owners)
	return float64(after-before) / float64(n)
}

// A rollout-sized workload: 10 000 Deployments of 3 Pods, each mounting its
// own TLS Secret (the 30 000 Pods for 10 000 Secrets). With every
// third Pod comes its ReplicaSet's metadata, which is kept because of the
// Pods and so counts in their figure.
func benchPodAndReplicaSet(i int) interface{} {
	pod := benchPod(i).(*corev1.Pod)
	if i%3 != 0 {
		return pod
	}
	owner := pod.OwnerReferences[0]
	return []interface{}{pod, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: pod.Namespace, Name: owner.Name,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: pod.Labels["app"], Controller: ptr.To(true)}},
	}}}
}

// benchPodAndReplicaSetWithoutSecret is benchPodAndReplicaSet whose Pods
// mount no Secret (only the ConfigMap): what a Pod that can serve no
// registration costs.
func benchPodAndReplicaSetWithoutSecret(i int) interface{} {
	made := benchPodAndReplicaSet(i)
	objects, ok := made.([]interface{})
	if !ok {
		objects = []interface{}{made}
	}
	pod := objects[0].(*corev1.Pod)
	pod.Spec.Volumes = pod.Spec.Volumes[1:]
	return made
}

func benchPod(i int) interface{} {
	deployment := fmt.Sprintf("web-%05d", i/3)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: fmt.Sprintf("team-%02d", (i/3)%50), Name: fmt.Sprintf("%s-5d8f7c9b4-%05d", deployment, i),
			Labels:          map[string]string{"app": deployment, "pod-template-hash": "5d8f7c9b4"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: deployment + "-5d8f7c9b4", Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "web", Image: "registry.example.com/web:1.2.3"}},
			Volumes: []corev1.Volume{
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: deployment + "-tls"}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "config"}}}},
			},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// benchIngress is hack/bench's Ingress: ing-NNNNN serving svc-NNNNN.example.com
// with Secret tls-NNNNN, names that share no bytes.
func benchIngress(i int) interface{} {
	host := fmt.Sprintf("svc-%05d.example.com", i)
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchIngressNamespace(i), Name: fmt.Sprintf("ing-%05d", i)},
		Spec: networkingv1.IngressSpec{
			TLS:   []networkingv1.IngressTLS{{SecretName: fmt.Sprintf("tls-%05d", i), Hosts: []string{host}}},
			Rules: []networkingv1.IngressRule{{Host: host}},
		},
	}
}

func benchIngressNamespace(i int) string { return fmt.Sprintf("bench-%02d", i%50) }

// benchAnalyses are the analyses of n Secrets (secret: the Secret i and the
// host its leaf covers). They exist without usedBy, so they are made before
// the heap is measured.
func benchAnalyses(n int, secret func(i int) (SecretRef, string)) (map[SecretRef]statuscache.Analysis, []statuscache.Analysis) {
	analyses := make(map[SecretRef]statuscache.Analysis, n)
	for i := 0; i < n; i++ {
		ref, host := secret(i)
		analyses[ref] = &fakeAnalysis{dnsNames: []string{host}}
	}
	return analyses, make([]statuscache.Analysis, 0, n)
}

// benchIngressSecret is the Secret benchIngress(i) serves, and its host.
func benchIngressSecret(i int) (SecretRef, string) {
	return SecretRef{Namespace: benchIngressNamespace(i), Name: fmt.Sprintf("tls-%05d", i)}, fmt.Sprintf("svc-%05d.example.com", i)
}

// benchPodSecret is the Secret the Pods of benchPod's Deployment i mount.
func benchPodSecret(i int) (SecretRef, string) {
	return SecretRef{Namespace: fmt.Sprintf("team-%02d", i%50), Name: fmt.Sprintf("web-%05d-tls", i)}, fmt.Sprintf("web-%05d.example.com", i)
}

// decorateAll attaches each Secret's users to its analysis as the index
// does as the cache's decorator, into kept (which keeps them alive).
func decorateAll(x *Index, analyses map[SecretRef]statuscache.Analysis, kept []statuscache.Analysis) []statuscache.Analysis {
	for secret, analysis := range analyses {
		kept = append(kept, benchDecorate(x, secret, analysis))
	}
	return kept
}

// BenchmarkKeptObjects reports the heap certstatus keeps per Pod (with a
// third of a ReplicaSet's metadata) and per Ingress: stores and index, for
// 30 000 Pods and 10 000 Ingresses; PodWithoutSecret is Pods that mount no
// Secret (they can serve no registration); PodDecorated and IngressDecorated add
// the usedBy the index attaches as the cache's decorator to each used Secret's analysis (not the
// analysis itself). The target is ≤ 300 B each; docs/benchmarks.md has the
// figures.
func BenchmarkKeptObjects(b *testing.B) {
	for _, kind := range []struct {
		name   string
		n      int
		object func(int) interface{}
		// keeper returns the add function, the finish function (nil:
		// none) and what must stay alive.
		keeper func(n int) (func(interface{}), func(), []interface{})
	}{
		{"Pod", 30000, benchPodAndReplicaSet, func(int) (func(interface{}), func(), []interface{}) {
			index := NewIndex(nil)
			feed := benchPodFeed(index)
			return func(obj interface{}) { _ = feed.Add(obj) }, nil, []interface{}{index, feed}
		}},
		{"PodWithoutSecret", 30000, benchPodAndReplicaSetWithoutSecret, func(int) (func(interface{}), func(), []interface{}) {
			index := NewIndex(nil)
			feed := benchPodFeed(index)
			return func(obj interface{}) { _ = feed.Add(obj) }, nil, []interface{}{index, feed}
		}},
		{"PodDecorated", 30000, benchPodAndReplicaSet, func(n int) (func(interface{}), func(), []interface{}) {
			index := NewIndex(nil)
			feed := benchPodFeed(index)
			analyses, decorated := benchAnalyses(n/3, benchPodSecret)
			alive := []interface{}{index, feed, analyses, &decorated}
			return func(obj interface{}) { _ = feed.Add(obj) }, func() { decorated = decorateAll(index, analyses, decorated) }, alive
		}},
		{"Ingress", 10000, benchIngress, func(int) (func(interface{}), func(), []interface{}) {
			index := NewIndex(nil)
			store := newServingStore(transformIngress, index.putServing)
			return func(obj interface{}) { _ = store.Add(obj) }, nil, []interface{}{index, store}
		}},
		{"IngressDecorated", 10000, benchIngress, func(n int) (func(interface{}), func(), []interface{}) {
			index := NewIndex(nil)
			store := newServingStore(transformIngress, index.putServing)
			analyses, decorated := benchAnalyses(n, benchIngressSecret)
			alive := []interface{}{index, store, analyses, &decorated}
			return func(obj interface{}) { _ = store.Add(obj) }, func() { decorated = decorateAll(index, analyses, decorated) }, alive
		}},
	} {
		b.Run(kind.name, func(b *testing.B) {
			var perObject float64
			for b.Loop() {
				add, finish, alive := kind.keeper(kind.n)
				perObject = keep(kind.n, kind.object, add, finish)
				runtime.KeepAlive(alive)
			}
			b.ReportMetric(perObject, "B/"+kind.name)
		})
	}
}

// benchPodFeed is the Pods' path as the server runs it with registrations
// served: the one Pod watch's store feeding the index, with a listener
// handed every Pod's view. The listener here keeps nothing: what the
// registrations keep of the Pods mounting a Secret is theirs
// (registrationsource's BenchmarkTrustedPods), and this measures that
// usedBy's own cost did not grow.
func benchPodFeed(index *Index) *podFeed {
	return newPodFeed("", newPodStore(index.putPod), discardPods{})
}

// discardPods is a PodListener that keeps nothing.
type discardPods struct{}

func (discardPods) PodChanged(string, string, *PodView) {}
func (discardPods) PodsListed(string, []*PodView)       {}
func (discardPods) PodsRefused(string)                  {}

// benchDecorate is what the index attaches as the cache's decorator to a Secret's analysis.
func benchDecorate(x *Index, secret SecretRef, analysis statuscache.Analysis) statuscache.Analysis {
	return Decorate(analysis, x.Users(secret))
}
