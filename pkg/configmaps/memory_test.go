package configmaps

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/certificate"
)

// countingSink counts and keeps nothing, so that what the heap keeps is
// the store's and the reflector's own.
type countingSink struct{ upserts, deletes atomic.Int64 }

func (c *countingSink) Upsert(*metav1.ObjectMeta, *certificate.Analysis) { c.upserts.Add(1) }
func (c *countingSink) Delete(string, string)                            { c.deletes.Add(1) }

// fakeConfigMaps is a ListWatch over n ConfigMaps in 100 namespaces, every
// tenth a bundle (kube-root-ca.crt's shape), the rest configuration. Each
// list builds its ConfigMaps anew, as decoding a response does, so they
// are garbage once the store has seen them. watching is closed when the
// reflector watches, that is once its list has returned.
type fakeConfigMaps struct {
	*toolscache.ListWatch
	watching chan struct{}
	// watcher sends the watch's events.
	watcher *watch.FakeWatcher
}

func (fakeConfigMaps) IsWatchListSemanticsUnSupported() bool { return true }

func newFakeConfigMaps(n int) *fakeConfigMaps {
	f := &fakeConfigMaps{watching: make(chan struct{}), watcher: watch.NewFake()}
	f.ListWatch = &toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (apiruntime.Object, error) {
			list := &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: make([]corev1.ConfigMap, n)}
			for i := range list.Items {
				namespace, rv := fmt.Sprintf("team-%02d", i%100), fmt.Sprint(i+2)
				if i%10 == 0 {
					list.Items[i] = *bundleConfigMap(namespace, fmt.Sprintf("kube-root-ca-%06d", i), rv)
				} else {
					list.Items[i] = *plainConfigMap(namespace, fmt.Sprintf("app-config-%06d", i), rv)
				}
			}
			return list, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			close(f.watching)
			return f.watcher, nil
		},
	}
	return f
}

// liveHeap is the live heap after full collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// reflectorHeap runs a real client-go Reflector over n fake ConfigMaps into
// a Store until the list is in, and returns the live heap it added and
// what the sink was told.
func reflectorHeap(tb testing.TB, n int) (grown float64, sink *countingSink) {
	sink = &countingSink{}
	store := NewStore(certificate.DefaultOptions(), sink)
	lw := newFakeConfigMaps(n)
	reflector := toolscache.NewReflectorWithOptions(lw, &corev1.ConfigMap{}, store, toolscache.ReflectorOptions{Name: "configmaps-memory"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := liveHeap()
	done := make(chan struct{})
	go func() {
		defer close(done)
		reflector.RunWithContext(ctx)
	}()
	<-lw.watching
	after := liveHeap()
	if !store.HasSynced() {
		tb.Fatal("the reflector watches before its list is in the store")
	}
	runtime.KeepAlive(store)
	cancel()
	<-done
	return float64(after) - float64(before), sink
}

// The figure: 100 000 ConfigMaps through a real reflector, 10 %
// bundles. heap-B/plain-configmap is all the heap the reflector and store
// keep, divided by the ConfigMaps without certificates: an upper bound,
// since it includes the names of the 10 000 bundles the store remembers.
// Target: ≤ 64 B.
func BenchmarkReflectorHeapPerConfigMap(b *testing.B) {
	const n, bundles = 100_000, 10_000
	var total float64
	runs := 0
	for b.Loop() {
		grown, sink := reflectorHeap(b, n)
		if got := sink.upserts.Load(); got != bundles {
			b.Fatalf("%d upserts, want %d", got, bundles)
		}
		total += grown
		runs++
	}
	b.ReportMetric(total/float64(runs)/(n-bundles), "heap-B/plain-configmap")
	b.ReportMetric(total/float64(runs), "heap-B")
}

// The same with a smaller list, as a test: the reflector's residue and the
// store's names of bundles stay under the 64 B per plain ConfigMap.
func TestReflectorKeepsNothingOfPlainConfigMaps(t *testing.T) {
	const n, bundles = 20_000, 2_000
	grown, sink := reflectorHeap(t, n)
	if got := sink.upserts.Load(); got != bundles {
		t.Fatalf("%d upserts, want %d", got, bundles)
	}
	perPlain := grown / (n - bundles)
	t.Logf("%.1f B of heap per ConfigMap without certificates", perPlain)
	if perPlain > 64 {
		t.Errorf("%.0f B of heap per ConfigMap without certificates, want ≤ 64", perPlain)
	}
}
