package intern

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

type value struct{ names []string }

func TestEqualKeysShareOneValueAndDifferentKeysDoNot(t *testing.T) {
	var table Table[string, value]
	builds := 0
	build := func(name string) func() *value {
		return func() *value { builds++; return &value{names: []string{name}} }
	}
	a := table.Get("a", build("a"))
	again := table.Get("a", build("a"))
	b := table.Get("b", build("b"))
	if a != again {
		t.Error("the same key gave two values")
	}
	if a == b || b.names[0] != "b" {
		t.Errorf("key b gave %v", b.names)
	}
	if builds != 2 {
		t.Errorf("built %d values, want 2", builds)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
}

func TestACollectedValueLeavesTheTable(t *testing.T) {
	var table Table[int, value]
	kept := table.Get(1, func() *value { return &value{names: []string{"kept"}} })
	table.Get(2, func() *value { return &value{names: []string{"dropped"}} })
	deadline := time.Now().Add(5 * time.Second)
	for entries(&table) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("table holds %d entries, want only the one in use", entries(&table))
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if again := table.Get(1, func() *value { t.Error("rebuilt a value in use"); return &value{} }); again != kept {
		t.Error("the value in use was not found again")
	}
}

func TestConcurrentCallersGetTheSameValue(t *testing.T) {
	var table Table[string, value]
	const callers = 16
	got := make([]*value, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { got[i] = table.Get("k", func() *value { return &value{} }) })
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("caller %d got another value", i)
		}
	}
}

// entries counts the table's entries, collected values not yet dropped included.
func entries[K comparable, V any](t *Table[K, V]) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.values)
}
