package secrets

import (
	"runtime"
	"sort"
	"strings"
	"sync"
	"unique"
	"weak"
)

// labelSets shares identical label maps between Secrets. Secrets made by
// one tool or chart tend to carry the same few label sets, and a small map
// with its strings costs several hundred bytes per Secret. A set stays in
// the table only while some Secret still uses it (weak pointers), so the
// table never holds memory of its own beyond the live sets.
type labelSets struct {
	mu   sync.Mutex
	sets map[string]weak.Pointer[labelSet]
}

// labelSet is one shared, read-only label map.
type labelSet struct {
	labels map[string]string
}

func newLabelSets() *labelSets {
	return &labelSets{sets: map[string]weak.Pointer[labelSet]{}}
}

// share returns the shared set equal to labels (nil for none). Callers keep
// the returned pointer for as long as they use its map, and never modify it.
func (t *labelSets) share(labels map[string]string) *labelSet {
	if len(labels) == 0 {
		return nil
	}
	key := canonical(labels)
	t.mu.Lock()
	defer t.mu.Unlock()
	if set := t.sets[key].Value(); set != nil {
		return set
	}
	set := &labelSet{labels: make(map[string]string, len(labels))}
	for k, v := range labels {
		set.labels[unique.Make(k).Value()] = unique.Make(v).Value()
	}
	t.sets[key] = weak.Make(set)
	runtime.AddCleanup(set, t.forget, key)
	return set
}

// forget drops a set no Secret uses any more, unless the key was reused since.
func (t *labelSets) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sets[key].Value() == nil {
		delete(t.sets, key)
	}
}

// canonical is an unambiguous rendering of a label map: keys sorted, each
// pair's parts separated by a byte that is not valid in label keys or values.
func canonical(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}
