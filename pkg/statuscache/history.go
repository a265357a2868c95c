package statuscache

import (
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// event is one change of one object, as the history remembers it: entries,
// not built objects, so remembering costs little.
type event struct {
	Type watch.EventType
	RV   ResourceVersion
	// current is the entry after the change; for Deleted, the last one.
	current *entry
	// previous is the entry before the change; nil for Added. Watchers with
	// a selector need it to tell entering, staying and leaving apart.
	previous *entry
}

// build turns a remembered event into one a watcher can deliver.
func (ev *event) build() *change {
	var previous *certstatus.CertificateStatus
	if ev.previous != nil {
		previous = ev.previous.object(ev.previous.rv)
	}
	return &change{Type: ev.Type, RV: ev.RV, Object: ev.current.object(ev.RV), Previous: previous}
}

// history is a ring of the most recent events, in resourceVersion order.
type history struct {
	events []*event
	start  int // index of the oldest event
	size   int
}

func newHistory(capacity int) *history {
	if capacity < 1 {
		capacity = 1
	}
	return &history{events: make([]*event, capacity)}
}

func (h *history) add(ev *event) {
	if h.size < len(h.events) {
		h.events[(h.start+h.size)%len(h.events)] = ev
		h.size++
		return
	}
	h.events[h.start] = ev
	h.start = (h.start + 1) % len(h.events)
}

// oldest is the resourceVersion of the oldest remembered event.
func (h *history) oldest() (ResourceVersion, bool) {
	if h.size == 0 {
		return 0, false
	}
	return h.events[h.start].RV, true
}

// since returns the remembered events after rv, oldest first.
func (h *history) since(rv ResourceVersion) []*event {
	var out []*event
	for i := 0; i < h.size; i++ {
		ev := h.events[(h.start+i)%len(h.events)]
		if ev.RV > rv {
			out = append(out, ev)
		}
	}
	return out
}
