package usedby

import (
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// PodView is one Pod as the one Pod watch hands it to a PodListener: a
// transient view that the Pod transform makes beside what usedBy keeps, and
// that usedBy's store never keeps. Only a Pod that is not finished and
// mounts at least one Secret (a secret volume or a projected source) has
// one: any other Pod can serve no API registration's TLS Secret.
type PodView struct {
	Namespace, Name string
	Phase           corev1.PodPhase
	// Labels are the decoded Pod's own map: a listener that keeps them
	// shares them (intern.LabelSets) rather than keeping this map.
	Labels map[string]string
	// Secrets are the Secrets it mounts, each once, in declared order (not
	// those read into the environment: a served certificate is a file).
	Secrets []string
}

// PodListener hears the Pods that can serve an API registration, from the
// same Pod watch (one reflector per watched namespace) that usedBy counts
// Pods from. Calls come from the reflectors' goroutines, one per watched
// namespace; a listener only records and signals, never waits on a cache.
type PodListener interface {
	// PodChanged: a Pod was added, updated or deleted; view is the Pod now,
	// nil when it is gone, finished or mounts no Secret.
	PodChanged(namespace, name string, view *PodView)
	// PodsListed: a (re)list of namespace ("" for all namespaces, when
	// every namespace is watched): views are every listed Pod that has
	// one; any other Pod of namespace the listener knows is gone. The
	// first call for a namespace is its initial list.
	PodsListed(namespace string, views []*PodView)
	// PodsRefused: RBAC refused listing or watching namespace's Pods; the
	// list is tried again every 30 s (and PodsListed follows once allowed).
	PodsRefused(namespace string)
}

// podFeed is the Pods' reflector store. It transforms each Pod once, hands
// what usedBy keeps to store (nil when usedBy does not count Pods: then
// nothing is kept here at all) and the transient view to listener (nil:
// none). It is a TransformingStore, so a streaming list's temporary store
// holds transformed Pods, views included, until Replace.
type podFeed struct {
	namespace string
	transform toolscache.TransformFunc
	store     *objectStore[*keptPod, podFields]
	listener  PodListener
	synced    atomic.Bool
}

var _ toolscache.TransformingStore = &podFeed{}

// newPodFeed feeds store and listener (either may be nil, not both) from
// the Pods of namespace ("" for all).
func newPodFeed(namespace string, store *objectStore[*keptPod, podFields], listener PodListener) *podFeed {
	return &podFeed{namespace: namespace, transform: podTransform(listener != nil), store: store, listener: listener}
}

func (f *podFeed) Transformer() toolscache.TransformFunc { return f.transform }

func (f *podFeed) kept(obj interface{}) (*keptPod, bool) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	kept, _ := f.transform(obj)
	p, ok := kept.(*keptPod)
	return p, ok && p != nil
}

func (f *podFeed) Add(obj interface{}) error { return f.Update(obj) }

func (f *podFeed) Update(obj interface{}) error {
	p, ok := f.kept(obj)
	if !ok {
		return nil
	}
	if f.store != nil {
		_ = f.store.Update(p)
	}
	if f.listener != nil {
		f.listener.PodChanged(p.GetNamespace(), p.name, p.view)
	}
	return nil
}

func (f *podFeed) Delete(obj interface{}) error {
	p, ok := f.kept(obj)
	if !ok {
		return nil
	}
	if f.store != nil {
		_ = f.store.Delete(p)
	}
	if f.listener != nil {
		f.listener.PodChanged(p.GetNamespace(), p.name, nil)
	}
	return nil
}

// Replace is a (re)list: the store adds, updates and deletes as its own
// Replace does, and the listener gets the views of the whole list.
func (f *podFeed) Replace(list []interface{}, resourceVersion string) error {
	kept := make([]interface{}, 0, len(list))
	var views []*PodView
	for _, obj := range list {
		p, ok := f.kept(obj)
		if !ok {
			continue
		}
		kept = append(kept, p)
		if p.view != nil {
			views = append(views, p.view)
		}
	}
	if f.store != nil {
		_ = f.store.Replace(kept, resourceVersion)
	}
	if f.listener != nil {
		f.listener.PodsListed(f.namespace, views)
	}
	f.synced.Store(true)
	return nil
}

func (f *podFeed) Resync() error { return nil }
