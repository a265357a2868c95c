package intern

import (
	"maps"
	"runtime"
	"testing"
	"time"
)

func TestEqualLabelMapsAreSharedAndDifferentOnesAreNot(t *testing.T) {
	sets := &LabelSets{}
	a := sets.Share(map[string]string{"app": "web", "tier": "frontend"})
	b := sets.Share(map[string]string{"tier": "frontend", "app": "web"})
	c := sets.Share(map[string]string{"app": "web", "tier": "backend"})
	d := sets.Share(map[string]string{"app": "web"})
	if a != b {
		t.Error("equal label maps were not shared")
	}
	if a == c || a == d {
		t.Error("different label maps were shared")
	}
	if !maps.Equal(a.Labels, map[string]string{"app": "web", "tier": "frontend"}) {
		t.Errorf("shared labels = %v", a.Labels)
	}
	if sets.Share(nil) != nil || sets.Share(map[string]string{}) != nil {
		t.Error("no labels should share nothing")
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	runtime.KeepAlive(d)
}

func TestALabelSetNothingUsesIsNotKeptAlive(t *testing.T) {
	sets := &LabelSets{}
	kept := sets.Share(map[string]string{"app": "kept"})
	sets.Share(map[string]string{"app": "dropped"})
	deadline := time.Now().Add(5 * time.Second)
	for sets.table.Lookup("app=dropped") != nil {
		if time.Now().After(deadline) {
			t.Fatal("the table keeps alive a label set nothing uses")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if again := sets.Share(map[string]string{"app": "kept"}); again != kept {
		t.Error("the set in use was not found again")
	}
}
