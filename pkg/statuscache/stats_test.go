package statuscache

import (
	"sort"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

func TestStatsAndItemsFollowTheSecrets(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("b", "web", nil, longLived("1")))
	c.Upsert(item("a", "api", nil, fakeAnalysis{expiringSoonAt: start.Add(time.Hour), notAfter: start.Add(2 * time.Hour)}))
	c.Upsert(item("a", "api", nil, longLived("renewed")))
	w, err := c.Watch(WatchOptions{ResourceVersion: c.ResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	stats := c.Stats()
	// Two live objects, three events, one watcher; the renewal left a stale
	// transition in the clock queue next to the two live ones.
	if stats.Objects != 2 || stats.History != 3 || stats.Watchers != 1 || stats.ClockQueue != 3 || stats.WatchersClosedBehind != 0 {
		t.Errorf("stats %+v", stats)
	}
	items := c.Items()
	if len(items) != 2 || items[0].Meta.Name != "api" || items[1].Meta.Name != "web" {
		t.Fatalf("items %+v, want a/api then b/web", items)
	}
	if items[0].Analysis.(fakeAnalysis).tag != "renewed" {
		t.Errorf("items hold %+v, want the latest analysis", items[0].Analysis)
	}
	c.Delete("b", "web")
	if got := len(c.Items()); got != 1 {
		t.Errorf("%d items after a delete, want 1", got)
	}
}

// A change that keeps the next transition's instant (a label, usedBy)
// queues nothing new: a rollout's MODIFIED events must not grow the queue.
func TestChangesWithTheSameNextTransitionQueueOneTransition(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	for i := range 5000 {
		c.Upsert(item("a", "web", map[string]string{"change": strconv.Itoa(i)}, longLived("1")))
	}
	if got := c.Stats().ClockQueue; got != 1 {
		t.Errorf("clock queue %d after 5000 label changes, want 1", got)
	}
}

// Renewals leave stale transitions behind; the queue is rebuilt before they
// outnumber the objects by much, and the current transition still fires.
func TestStaleTransitionsAreDroppedAndTheCurrentOneStillFires(t *testing.T) {
	c, clk := newTestCache(t, DefaultOptions())
	var last fakeAnalysis
	for i := range 5000 {
		last = fakeAnalysis{expiringSoonAt: start.Add(time.Hour + time.Duration(5000-i)*time.Second), notAfter: start.Add(100 * time.Hour), tag: strconv.Itoa(i)}
		c.Upsert(item("a", "web", nil, last))
	}
	if got, bound := c.Stats().ClockQueue, 2+minStaleTransitions+1; got > bound {
		t.Errorf("clock queue %d after 5000 renewals of one Secret, want at most %d", got, bound)
	}
	w := runClockAndWatch(t, c)
	waitForTimers(t, clk)
	clk.SetTime(last.expiringSoonAt)
	ev := next(t, w)
	if object := objectOf(t, ev); ev.Type != watch.Modified || object.Status.State != certstatus.StateExpiringSoon {
		t.Errorf("got %s %s, want MODIFIED ExpiringSoon at the last renewal's expiringSoonAt", ev.Type, object.Status.State)
	}
}

// A Secret's key is kept once however often it changes: the map's key and
// the sorted keys share their bytes (a map assignment stores the key it is
// given, so each change used to keep a second copy, 24 B per Secret).
func TestKeysAreKeptOnce(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	for round := range 3 {
		for i := range 100 {
			c.Upsert(item("team-"+strconv.Itoa(i%7), "tls-"+strconv.Itoa(i), map[string]string{"round": strconv.Itoa(round)}, longLived("1")))
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for key := range c.entries {
		i := sort.SearchStrings(c.keys, key)
		if i == len(c.keys) || c.keys[i] != key {
			t.Fatalf("%s is not among the keys", key)
		}
		if unsafe.StringData(c.keys[i]) != unsafe.StringData(key) {
			t.Errorf("%s is kept twice", key)
		}
	}
}
