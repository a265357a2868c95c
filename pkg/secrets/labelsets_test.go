package secrets

import (
	"maps"
	"runtime"
	"testing"
	"time"
)

func TestEqualLabelMapsAreSharedAndDifferentOnesAreNot(t *testing.T) {
	sets := newLabelSets()
	a := sets.share(map[string]string{"app": "web", "tier": "frontend"})
	b := sets.share(map[string]string{"tier": "frontend", "app": "web"})
	c := sets.share(map[string]string{"app": "web", "tier": "backend"})
	d := sets.share(map[string]string{"app": "web"})
	if a != b {
		t.Error("equal label maps were not shared")
	}
	if a == c || a == d {
		t.Error("different label maps were shared")
	}
	if !maps.Equal(a.labels, map[string]string{"app": "web", "tier": "frontend"}) {
		t.Errorf("shared labels = %v", a.labels)
	}
	if sets.share(nil) != nil || sets.share(map[string]string{}) != nil {
		t.Error("no labels should share nothing")
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	runtime.KeepAlive(d)
}

func TestALabelSetNoSecretUsesIsNotKeptAlive(t *testing.T) {
	sets := newLabelSets()
	kept := sets.share(map[string]string{"app": "kept"})
	sets.share(map[string]string{"app": "dropped"})
	deadline := time.Now().Add(5 * time.Second)
	for sets.table.Lookup("app=dropped") != nil {
		if time.Now().After(deadline) {
			t.Fatal("the table keeps alive a label set no Secret uses")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if again := sets.share(map[string]string{"app": "kept"}); again != kept {
		t.Error("the set in use was not found again")
	}
}
