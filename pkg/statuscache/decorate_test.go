package statuscache

import (
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// noteDecorator appends a per-key note to the chain message, as usedBy adds
// users: what another source knows of the object.
type noteDecorator struct {
	mu    sync.Mutex
	notes map[Key]string
	calls int
}

func (d *noteDecorator) set(key Key, note string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notes[key] = note
}

func (d *noteDecorator) Decorate(key Key, base Analysis) Analysis {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	return noted{Analysis: base, note: d.notes[key]}
}

type noted struct {
	Analysis
	note string
}

func (n noted) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	status := n.Analysis.StatusAt(now)
	status.Chain.Message += "+" + n.note
	return status
}

func (n noted) Unwrap() Analysis { return n.Analysis }

// The decorator applies as items enter; a key signalled through Rebuilds is
// decorated afresh (from its base analysis, not wrapped twice) and
// published as MODIFIED when the object changed, nothing when it did not;
// keys signalled before the cache exists are rebuilt when it does.
func TestRebuildsDecorateSignalledKeysAfresh(t *testing.T) {
	clk := clocktesting.NewFakeClock(start)
	decorator := &noteDecorator{notes: map[Key]string{}}
	rebuilds := NewRebuilds()
	rebuilds.Add(Key{Namespace: "a", Name: "before-the-cache"})
	c := NewDecorated(clk, DefaultOptions(), decorator, rebuilds)
	web := Key{Namespace: "a", Name: "web"}
	decorator.set(web, "one")
	c.Upsert(item("a", "web", nil, longLived("v1")))
	if object, _ := c.Get("a", "web"); object.Status.Chain.Message != "v1+one" {
		t.Fatalf("message %q, want the decorated v1+one", object.Status.Chain.Message)
	}

	ctx, cancel := contextWithCancel()
	defer cancel()
	go c.Run(ctx)
	w, err := c.Watch(WatchOptions{SendInitialEvents: ptr.To(false)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	decorator.set(web, "two")
	rebuilds.Add(web, Key{Namespace: "a", Name: "not-listed"})
	ev := next(t, w)
	if ev.Type != watch.Modified || objectOf(t, ev).Status.Chain.Message != "v1+two" {
		t.Fatalf("event %s %q, want MODIFIED v1+two", ev.Type, objectOf(t, ev).Status.Chain.Message)
	}
	// Signalled with nothing changed: decorated again, but no event.
	decorator.mu.Lock()
	calls := decorator.calls
	decorator.mu.Unlock()
	rebuilds.Add(web)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		decorator.mu.Lock()
		rebuilt := decorator.calls > calls
		decorator.mu.Unlock()
		if rebuilt {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the signalled key was never rebuilt")
		}
	}
	expectNothing(t, w)
	if item, _ := c.Item("a", "web"); item.Analysis.(noted).Analysis.(fakeAnalysis).tag != "v1" {
		t.Errorf("the rebuilt item wraps %T, want the base analysis", item.Analysis.(noted).Analysis)
	}
}
