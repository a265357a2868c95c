package usedby

import (
	"sync"
	"sync/atomic"

	toolscache "k8s.io/client-go/tools/cache"
)

// objectStore is a reflector's store that is the only copy of one kind's
// kept objects (K, a pointer type; nil is none). A shared informer would
// keep each object in its own store under a "namespace/name" key string, a
// second copy of names the kept object already holds, in a map slot of its
// own (≈ 90 B per object). Here the map is keyed by the kept object's own
// (interned) namespace and its own name string, and holds S: what split
// keeps of the object beside its key, by value (Pods: their fields, no
// separate object), or the kept object itself (Ingresses: the index points
// at it too). Each change goes straight to put with the previous version.
type objectStore[K comparable, S any] struct {
	transform toolscache.TransformFunc
	split     func(K) (namespace, name string, stored S)
	join      func(namespace, name string, stored S) K
	put       func(old, current K)

	mu      sync.Mutex
	objects map[string]map[string]S
	// synced is set by the first Replace: the initial list is in.
	synced atomic.Bool
}

func newObjectStore[K comparable, S any](transform toolscache.TransformFunc, split func(K) (string, string, S), join func(string, string, S) K, put func(old, current K)) *objectStore[K, S] {
	return &objectStore[K, S]{transform: transform, split: split, join: join, put: put, objects: map[string]map[string]S{}}
}

// podFields is what the store keeps of a Pod beside its key.
type podFields struct {
	ownerKind, ownerName string
	mounts               nameList
}

// newPodStore is the Pods' store: their fields by value.
func newPodStore(put func(old, current *keptPod)) *objectStore[*keptPod, podFields] {
	return newObjectStore(transformPod,
		func(p *keptPod) (string, string, podFields) {
			return p.GetNamespace(), p.name, podFields{ownerKind: p.ownerKind, ownerName: p.ownerName, mounts: p.mounts}
		},
		func(namespace, name string, f podFields) *keptPod {
			return &keptPod{compactMeta: newCompactMeta(namespace, name), ownerKind: f.ownerKind, ownerName: f.ownerName, mounts: f.mounts}
		},
		put)
}

// newServingStore is the store of a serving kind (Ingresses): the kept
// object itself, which the index also points at.
func newServingStore(transform toolscache.TransformFunc, put func(old, current *servingObject)) *objectStore[*servingObject, *servingObject] {
	return newObjectStore(transform,
		func(o *servingObject) (string, string, *servingObject) { return o.GetNamespace(), o.name, o },
		func(_, _ string, o *servingObject) *servingObject { return o },
		put)
}

var _ toolscache.ReflectorStore = &objectStore[*keptPod, podFields]{}

// Transformer lets the reflector's temporary store of a streaming list keep
// kept objects rather than whole ones.
func (s *objectStore[K, S]) Transformer() toolscache.TransformFunc { return s.transform }

func (s *objectStore[K, S]) keptOf(obj interface{}) (K, bool) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	kept, _ := s.transform(obj)
	k, ok := kept.(K)
	var none K
	return k, ok && k != none
}

// swap stores k (none: deletes namespace/name) and returns the previous
// version (none if there was none).
func (s *objectStore[K, S]) swap(namespace, name string, k K) K {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := s.objects[namespace]
	var none, old K
	if stored, ok := names[name]; ok {
		old = s.join(namespace, name, stored)
	}
	switch {
	case k != none:
		if names == nil {
			names = map[string]S{}
			s.objects[namespace] = names
		}
		_, name, stored := s.split(k)
		names[name] = stored
	case old != none:
		delete(names, name)
		if len(names) == 0 {
			delete(s.objects, namespace)
		}
	}
	return old
}

func (s *objectStore[K, S]) Add(obj interface{}) error { return s.Update(obj) }

func (s *objectStore[K, S]) Update(obj interface{}) error {
	if k, ok := s.keptOf(obj); ok {
		namespace, name, _ := s.split(k)
		s.put(s.swap(namespace, name, k), k)
	}
	return nil
}

func (s *objectStore[K, S]) Delete(obj interface{}) error {
	var none K
	if k, ok := s.keptOf(obj); ok {
		namespace, name, _ := s.split(k)
		if old := s.swap(namespace, name, none); old != none {
			s.put(old, none)
		}
	}
	return nil
}

// Replace is a (re)list: every listed object is added or updated, and
// every object not listed is deleted.
func (s *objectStore[K, S]) Replace(list []interface{}, _ string) error {
	var none K
	listed := map[string]map[string]bool{}
	for _, obj := range list {
		k, ok := s.keptOf(obj)
		if !ok {
			continue
		}
		namespace, name, _ := s.split(k)
		if listed[namespace] == nil {
			listed[namespace] = map[string]bool{}
		}
		listed[namespace][name] = true
		s.put(s.swap(namespace, name, k), k)
	}
	var gone []K
	s.mu.Lock()
	for namespace, names := range s.objects {
		for name, stored := range names {
			if !listed[namespace][name] {
				gone = append(gone, s.join(namespace, name, stored))
			}
		}
	}
	s.mu.Unlock()
	for _, k := range gone {
		namespace, name, _ := s.split(k)
		s.swap(namespace, name, none)
		s.put(k, none)
	}
	s.synced.Store(true)
	return nil
}

func (s *objectStore[K, S]) Resync() error { return nil }

// len is how many objects are kept (tests).
func (s *objectStore[K, S]) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nestedLen(s.objects)
}
