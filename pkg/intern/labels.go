package intern

import (
	"unique"

	k8slabels "k8s.io/apimachinery/pkg/labels"
)

// LabelSets shares identical label maps between the objects that carry
// them: Secrets made by one tool or chart, the Pods of one workload. A small
// map with its strings costs several hundred bytes per object. A set stays
// shared only while some object still uses it. The zero value is ready.
type LabelSets struct {
	table Table[string, LabelSet]
}

// LabelSet is one shared, read-only label map.
type LabelSet struct {
	Labels map[string]string
}

// Share returns the shared set equal to labels (nil for none). Callers keep
// the returned pointer for as long as they use its map, and never modify it.
func (t *LabelSets) Share(labels map[string]string) *LabelSet {
	if len(labels) == 0 {
		return nil
	}
	// labels.Set's String is sorted and unambiguous for valid labels: keys
	// and values cannot hold '=' or ','.
	return t.table.Get(k8slabels.Set(labels).String(), func() *LabelSet {
		set := &LabelSet{Labels: make(map[string]string, len(labels))}
		for k, v := range labels {
			set.Labels[unique.Make(k).Value()] = unique.Make(v).Value()
		}
		return set
	})
}

// Map is the set's labels (nil for a nil set).
func (s *LabelSet) Map() map[string]string {
	if s == nil {
		return nil
	}
	return s.Labels
}
