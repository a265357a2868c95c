package usedby

import (
	"sync"
	"sync/atomic"

	toolscache "k8s.io/client-go/tools/cache"
)

// podStore is the Pods' reflector store, and their only copy: a shared
// informer would keep each kept Pod in its own store under a
// "namespace/name" key string, a second copy of names the kept Pod already
// holds (≈ 120 B of map slot and key per Pod). Here the map is keyed by the
// kept Pod's own (interned) namespace and its own name string, and holds
// the kept fields by value, not a pointer to a separate object. Each change
// goes straight to the index with the previous version.
type podStore struct {
	put func(old, current *keptPod)

	mu   sync.Mutex
	pods map[string]map[string]podFields
	// synced is set by the first Replace: the initial list is in.
	synced atomic.Bool
}

// podFields is what the store keeps of a Pod beside its key.
type podFields struct {
	ownerKind, ownerName string
	secrets              secretNames
}

var _ toolscache.ReflectorStore = &podStore{}

func newPodStore(put func(old, current *keptPod)) *podStore {
	return &podStore{put: put, pods: map[string]map[string]podFields{}}
}

// Transformer lets the reflector's temporary store of a streaming list keep
// kept Pods rather than whole ones.
func (s *podStore) Transformer() toolscache.TransformFunc { return transformPod }

func keptOf(obj interface{}) (*keptPod, bool) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	kept, _ := transformPod(obj)
	p, ok := kept.(*keptPod)
	return p, ok
}

func (f podFields) pod(namespace, name string) *keptPod {
	return &keptPod{compactMeta: compactMeta{namespace: namespace, name: name}, ownerKind: f.ownerKind, ownerName: f.ownerName, secrets: f.secrets}
}

// swap stores p (nil: deletes namespace/name) and returns the previous version.
func (s *podStore) swap(namespace, name string, p *keptPod) *keptPod {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := s.pods[namespace]
	var old *keptPod
	if f, ok := names[name]; ok {
		old = f.pod(namespace, name)
	}
	switch {
	case p != nil:
		if names == nil {
			names = map[string]podFields{}
			s.pods[namespace] = names
		}
		names[p.name] = podFields{ownerKind: p.ownerKind, ownerName: p.ownerName, secrets: p.secrets}
	case old != nil:
		delete(names, name)
		if len(names) == 0 {
			delete(s.pods, namespace)
		}
	}
	return old
}

func (s *podStore) Add(obj interface{}) error { return s.Update(obj) }

func (s *podStore) Update(obj interface{}) error {
	if p, ok := keptOf(obj); ok {
		s.put(s.swap(p.namespace, p.name, p), p)
	}
	return nil
}

func (s *podStore) Delete(obj interface{}) error {
	if p, ok := keptOf(obj); ok {
		if old := s.swap(p.namespace, p.name, nil); old != nil {
			s.put(old, nil)
		}
	}
	return nil
}

// Replace is a (re)list: every listed Pod is added or updated, and every
// Pod not listed is deleted.
func (s *podStore) Replace(list []interface{}, _ string) error {
	listed := map[string]map[string]bool{}
	for _, obj := range list {
		p, ok := keptOf(obj)
		if !ok {
			continue
		}
		if listed[p.namespace] == nil {
			listed[p.namespace] = map[string]bool{}
		}
		listed[p.namespace][p.name] = true
		s.put(s.swap(p.namespace, p.name, p), p)
	}
	var gone []*keptPod
	s.mu.Lock()
	for namespace, names := range s.pods {
		for name, f := range names {
			if !listed[namespace][name] {
				gone = append(gone, f.pod(namespace, name))
			}
		}
	}
	s.mu.Unlock()
	for _, p := range gone {
		s.swap(p.namespace, p.name, nil)
		s.put(p, nil)
	}
	s.synced.Store(true)
	return nil
}

func (s *podStore) Resync() error { return nil }

// len is how many Pods are kept (tests).
func (s *podStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nestedLen(s.pods)
}
