package statuscache

import (
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// event is one change of one object.
type event struct {
	Type watch.EventType
	// Object is the object after the change (for Deleted, the last state with
	// the deletion's resourceVersion).
	Object *certstatus.CertificateStatus
	// Previous is the object before the change; nil for Added. Watchers with
	// a selector need it to tell entering, staying and leaving apart.
	Previous *certstatus.CertificateStatus
	RV       ResourceVersion
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
