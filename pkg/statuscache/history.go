package statuscache

import (
	"k8s.io/apimachinery/pkg/watch"
)

// record is one change of one object as the history remembers it: entries,
// not built objects, so remembering costs little. change builds it into the
// Change a watcher delivers.
type record struct {
	Type watch.EventType
	RV   ResourceVersion
	// current is the entry after the change; for Deleted, the last one.
	current *entry
	// previous is the entry before the change; nil for Added. Watchers with
	// a selector need it to tell entering, staying and leaving apart.
	previous *entry
}

// change builds the objects of a remembered change, for a watcher that
// replays it.
func (c *CacheOf[T, P]) change(r *record) *ChangeOf[T, P] {
	var previous P
	if r.previous != nil {
		previous = c.object(r.previous, r.previous.rv)
	}
	return &ChangeOf[T, P]{Type: r.Type, rv: r.RV, Object: c.object(r.current, r.RV), Previous: previous}
}

// history is a ring of the most recent records, in resourceVersion order.
type history struct {
	records []*record
	start   int // index of the oldest record
	size    int
}

func newHistory(capacity int) *history {
	if capacity < 1 {
		capacity = 1
	}
	return &history{records: make([]*record, capacity)}
}

func (h *history) add(r *record) {
	if h.size < len(h.records) {
		h.records[(h.start+h.size)%len(h.records)] = r
		h.size++
		return
	}
	h.records[h.start] = r
	h.start = (h.start + 1) % len(h.records)
}

// oldest is the resourceVersion of the oldest remembered change.
func (h *history) oldest() (ResourceVersion, bool) {
	if h.size == 0 {
		return 0, false
	}
	return h.records[h.start].RV, true
}

// since returns the remembered changes after rv, oldest first.
func (h *history) since(rv ResourceVersion) []*record {
	var out []*record
	for i := 0; i < h.size; i++ {
		r := h.records[(h.start+i)%len(h.records)]
		if r.RV > rv {
			out = append(out, r)
		}
	}
	return out
}
