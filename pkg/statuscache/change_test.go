package statuscache

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// A live event goes to every watcher as one object whose encoding is
// computed once per encoder, and a watcher that asks for the object gets
// its own copy.
func TestALiveEventIsEncodedOncePerEncoderForAllWatchers(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "web", nil, longLived("v1")))
	rv := c.ResourceVersion()
	var watches []watch.Interface
	for range 3 {
		w, err := c.Watch(WatchOptions{ResourceVersion: rv})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		watches = append(watches, w)
	}
	c.Upsert(item("a", "web", nil, longLived("v2")))

	encodes := map[runtime.Identifier]int{}
	encoder := func(id runtime.Identifier) func(runtime.Object, io.Writer) error {
		return func(obj runtime.Object, w io.Writer) error {
			encodes[id]++
			_, err := io.WriteString(w, string(id)+":"+obj.(*certstatus.CertificateStatus).Status.Chain.Message)
			return err
		}
	}
	var first runtime.Object
	for i, w := range watches {
		ev := next(t, w)
		cacheable, ok := ev.Object.(runtime.CacheableObject)
		if !ok {
			t.Fatalf("watcher %d: event object is %T, want a runtime.CacheableObject", i, ev.Object)
		}
		if first == nil {
			first = ev.Object
		} else if ev.Object != first {
			t.Errorf("watcher %d got a different object than watcher 0", i)
		}
		for _, id := range []runtime.Identifier{"json", "yaml"} {
			var out bytes.Buffer
			if err := cacheable.CacheEncode(id, encoder(id), &out); err != nil {
				t.Fatal(err)
			}
			if want := string(id) + ":v2"; out.String() != want {
				t.Errorf("watcher %d, %s: wrote %q, want %q", i, id, out.String(), want)
			}
		}
		copied := cacheable.GetObject().(*certstatus.CertificateStatus)
		copied.Status.Chain.Message = "changed by a caller"
	}
	if encodes["json"] != 1 || encodes["yaml"] != 1 {
		t.Errorf("encodings computed %v, want each once", encodes)
	}
	if got := objectOf(t, watch.Event{Object: first}).Status.Chain.Message; got != "v2" {
		t.Errorf("the shared object was changed through GetObject: %q", got)
	}
}

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
