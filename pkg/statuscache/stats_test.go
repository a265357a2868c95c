package statuscache

import (
	"testing"
	"time"
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
