// Package configmaps turns the ConfigMaps of a reflector into analyses of
// the ConfigMaps that hold certificates, keeping nothing of the others.
package configmaps

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/pkg/certificate"
)

// Sink receives the ConfigMaps that hold certificates.
type Sink interface {
	// Upsert: a ConfigMap holding certificates was added or changed. meta
	// holds its name, namespace (interned), uid, resourceVersion, labels
	// and creationTimestamp only; neither meta nor analysis is modified
	// afterwards.
	Upsert(meta *metav1.ObjectMeta, analysis *certificate.Analysis)
	// Delete: a ConfigMap that was upserted was deleted, or no longer holds
	// certificates. It is called for upserted ConfigMaps only.
	Delete(namespace, name string)
}

// Store is a reflector's store of ConfigMaps (toolscache.ReflectorStore).
// It analyses each ConfigMap as it arrives and hands those holding
// certificates to the sink. An informer's store would keep every ConfigMap
// under a key string; this one remembers only the names of the ConfigMaps
// it upserted, which it needs to tell the sink what a relist no longer
// lists: a ConfigMap without certificates costs nothing once passed (most
// ConfigMaps are configuration, not certificates).
type Store struct {
	options certificate.Options
	sink    Sink

	mu sync.Mutex
	// upserted are the names of the ConfigMaps in the sink, by interned namespace.
	upserted map[string]map[string]struct{}
	// synced is set by the first Replace: the initial list is in.
	synced atomic.Bool
}

var (
	_ toolscache.ReflectorStore    = &Store{}
	_ toolscache.TransformingStore = &Store{}
)

// NewStore is a store that analyses with options and tells sink.
func NewStore(options certificate.Options, sink Sink) *Store {
	return &Store{options: options, sink: sink, upserted: map[string]map[string]struct{}{}}
}

// HasSynced reports whether the first list has been handed to the sink.
func (s *Store) HasSynced() bool { return s.synced.Load() }

// analysed is a ConfigMap reduced to what the sink is given (analysis nil:
// it holds no certificate). It is an object so that a streaming list's
// temporary store can hold it instead of the ConfigMap.
type analysed struct {
	metav1.ObjectMeta
	analysis *certificate.Analysis
}

func (a *analysed) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (a *analysed) DeepCopyObject() runtime.Object   { return a } // immutable

// Transformer analyses ConfigMaps as a streaming list delivers them, so
// that the reflector's temporary store holds analyses, not ConfigMaps.
func (s *Store) Transformer() toolscache.TransformFunc {
	return func(obj interface{}) (interface{}, error) {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			return s.analyse(cm), nil
		}
		return obj, nil
	}
}

// analyse reduces a ConfigMap: a cheap test first, so that a ConfigMap
// without certificates costs no allocation beyond its name pair.
func (s *Store) analyse(cm *corev1.ConfigMap) *analysed {
	kept := &analysed{ObjectMeta: metav1.ObjectMeta{Namespace: cm.Namespace, Name: cm.Name}}
	if !certificate.ConfigMapMayHoldCertificates(cm) {
		return kept
	}
	started := time.Now()
	analysis, listed := certificate.Analyze(certificate.InputFromConfigMap(cm), s.options)
	if elapsed := time.Since(started); elapsed > 100*time.Millisecond {
		klog.InfoS("Slow ConfigMap analysis", "configMap", klog.KObj(cm), "duration", elapsed)
	}
	if !listed {
		return kept
	}
	kept.ObjectMeta = metav1.ObjectMeta{
		Name:              cm.Name,
		Namespace:         unique.Make(cm.Namespace).Value(),
		UID:               cm.UID,
		ResourceVersion:   cm.ResourceVersion,
		CreationTimestamp: cm.CreationTimestamp,
		Labels:            cm.Labels,
	}
	kept.analysis = analysis
	return kept
}

// Add and Update hand the ConfigMap to the sink, or take it out of the sink
// when it no longer holds certificates.
func (s *Store) Add(obj interface{}) error { return s.Update(obj) }

func (s *Store) Update(obj interface{}) error {
	if cm, ok := obj.(*corev1.ConfigMap); ok && !certificate.ConfigMapMayHoldCertificates(cm) {
		s.absent(cm.Namespace, cm.Name) // without allocating
		return nil
	}
	kept, err := s.keep(obj)
	if err != nil {
		return err
	}
	if kept.analysis == nil {
		s.absent(kept.Namespace, kept.Name)
		return nil
	}
	s.present(kept)
	return nil
}

// Delete takes a deleted ConfigMap out of the sink, if it was there.
func (s *Store) Delete(obj interface{}) error {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		s.absent(o.Namespace, o.Name)
	case *analysed:
		s.absent(o.Namespace, o.Name)
	default:
		return fmt.Errorf("configmaps: unexpected %T", obj)
	}
	return nil
}

// Replace is a (re)list: each listed ConfigMap is handed over as by
// Update, and every upserted ConfigMap the list lacks (or that lost its
// certificates) is deleted from the sink.
func (s *Store) Replace(list []interface{}, _ string) error {
	listed := map[string]map[string]struct{}{}
	for _, obj := range list {
		if cm, ok := obj.(*corev1.ConfigMap); ok && !certificate.ConfigMapMayHoldCertificates(cm) {
			continue
		}
		kept, err := s.keep(obj)
		if err != nil {
			return err
		}
		if kept.analysis != nil {
			s.present(kept)
			add(listed, kept.Namespace, kept.Name)
		}
	}
	var gone [][2]string
	s.mu.Lock()
	for namespace, names := range s.upserted {
		for name := range names {
			if _, ok := listed[namespace][name]; !ok {
				gone = append(gone, [2]string{namespace, name})
			}
		}
	}
	s.mu.Unlock()
	for _, key := range gone {
		s.absent(key[0], key[1])
	}
	s.synced.Store(true)
	return nil
}

// Resync has nothing to do: the sink already has every analysis.
func (s *Store) Resync() error { return nil }

// keep is obj analysed: a ConfigMap, or one the Transformer analysed.
func (s *Store) keep(obj interface{}) (*analysed, error) {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		return s.analyse(o), nil
	case *analysed:
		return o, nil
	}
	return nil, fmt.Errorf("configmaps: unexpected %T", obj)
}

// present upserts kept and remembers its name.
func (s *Store) present(kept *analysed) {
	s.mu.Lock()
	add(s.upserted, kept.Namespace, kept.Name)
	s.mu.Unlock()
	s.sink.Upsert(&kept.ObjectMeta, kept.analysis)
}

// absent deletes namespace/name from the sink if it was upserted.
func (s *Store) absent(namespace, name string) {
	s.mu.Lock()
	names, ok := s.upserted[namespace]
	_, was := names[name]
	if was {
		delete(names, name)
		if len(names) == 0 {
			delete(s.upserted, namespace)
		}
	}
	s.mu.Unlock()
	if ok && was {
		s.sink.Delete(namespace, name)
	}
}

// add puts namespace/name into a set of names by namespace.
func add(set map[string]map[string]struct{}, namespace, name string) {
	names := set[namespace]
	if names == nil {
		names = map[string]struct{}{}
		set[namespace] = names
	}
	names[name] = struct{}{}
}

// len is how many ConfigMaps are in the sink (tests).
func (s *Store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, names := range s.upserted {
		n += len(names)
	}
	return n
}
