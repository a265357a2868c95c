package secrets

import (
	"unique"

	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/certstatus/certstatus/pkg/intern"
)

// labelSets shares identical label maps between Secrets. Secrets made by
// one tool or chart tend to carry the same few label sets, and a small map
// with its strings costs several hundred bytes per Secret. A set stays
// shared only while some Secret still uses it.
type labelSets struct {
	table intern.Table[string, labelSet]
}

// labelSet is one shared, read-only label map.
type labelSet struct {
	labels map[string]string
}

func newLabelSets() *labelSets { return &labelSets{} }

// share returns the shared set equal to labels (nil for none). Callers keep
// the returned pointer for as long as they use its map, and never modify it.
func (t *labelSets) share(labels map[string]string) *labelSet {
	if len(labels) == 0 {
		return nil
	}
	// labels.Set's String is sorted and unambiguous for valid labels: keys
	// and values cannot hold '=' or ','.
	return t.table.Get(k8slabels.Set(labels).String(), func() *labelSet {
		set := &labelSet{labels: make(map[string]string, len(labels))}
		for k, v := range labels {
			set.labels[unique.Make(k).Value()] = unique.Make(v).Value()
		}
		return set
	})
}
