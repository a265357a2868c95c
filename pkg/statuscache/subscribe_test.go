package statuscache

import (
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// A subscriber gets the same stream as watchers: additions, Secret changes,
// clock changes (with the state before and after) and deletions, and nothing
// for a write that leaves the object as it was.
func TestSubscribersGetSecretAndClockChanges(t *testing.T) {
	c, clk := newTestCache(t, DefaultOptions())
	var mu sync.Mutex
	var got []string
	c.Subscribe(func(ch Change) {
		mu.Lock()
		defer mu.Unlock()
		from := certstatus.State("-")
		if ch.Previous != nil {
			from = ch.Previous.Status.State
		}
		got = append(got, string(ch.Type)+" "+ch.Object.Name+" "+string(from)+">"+string(ch.Object.Status.State))
	})
	analysis := fakeAnalysis{expiringSoonAt: start.Add(time.Hour), notAfter: start.Add(2 * time.Hour)}
	c.Upsert(item("a", "web", nil, analysis))
	c.Upsert(item("a", "web", nil, analysis)) // same object: no change
	w := runClockAndWatch(t, c)
	for range 2 {
		waitForTimers(t, clk)
		clk.Step(time.Hour)
		if ev := next(t, w); ev.Type != watch.Modified {
			t.Fatalf("watch got %s, want MODIFIED", ev.Type)
		}
	}
	c.Delete("a", "web")

	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"ADDED web ->Valid",
		"MODIFIED web Valid>ExpiringSoon",
		"MODIFIED web ExpiringSoon>Expired",
		"DELETED web Expired>Expired",
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: got %q, want %q", i, got[i], want[i])
		}
	}
}
