package registrationsource

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/certstatus/certstatus/pkg/usedby"
)

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchPodView is the view usedBy's Pod transform makes of usedby's
// benchmark Pods (BenchmarkKeptObjects): Deployments of 3 Pods in 50
// namespaces, each Pod mounting its Deployment's TLS Secret. Its labels
// and Secret names are fresh, as each decoded Pod's are.
func benchPodView(i int) *usedby.PodView {
	deployment := fmt.Sprintf("web-%05d", i/3)
	return &usedby.PodView{
		Namespace: fmt.Sprintf("team-%02d", (i/3)%50), Name: fmt.Sprintf("%s-5d8f7c9b4-%05d", deployment, i),
		Phase:   corev1.PodRunning,
		Labels:  map[string]string{"app": deployment, "pod-template-hash": "5d8f7c9b4"},
		Secrets: []string{fmt.Sprintf("%s-tls", deployment)},
	}
}

// BenchmarkTrustedPods reports the heap Trusted keeps per Pod that mounts a
// Secret (the only Pods it records), fed as usedBy's Pod watch feeds it:
// 30 000 Pods, first listed, then each updated once (a status change). A
// Pod that mounts no Secret costs it nothing: it is never recorded.
func BenchmarkTrustedPods(b *testing.B) {
	const n = 30000
	var perPod float64
	for b.Loop() {
		pods := NewPods(nil)
		before := heapInUse()
		views := make([]*usedby.PodView, n)
		for i := range views {
			views[i] = benchPodView(i)
		}
		pods.PodsListed("", views)
		views = nil
		for i := 0; i < n; i++ {
			pods.PodChanged(benchPodView(i).Namespace, benchPodView(i).Name, benchPodView(i))
			signalled(pods)
		}
		perPod = float64(heapInUse()-before) / n
		runtime.KeepAlive(pods)
		if pods.len() != n {
			b.Fatalf("%d Pods recorded, want %d", pods.len(), n)
		}
	}
	b.ReportMetric(perPod, "B/Pod")
}
