// Package intern shares equal values between the many objects that hold
// them, without keeping any value alive by itself.
package intern

import (
	"runtime"
	"sync"
	"weak"
)

// Table maps keys to shared values. It holds its values weakly: a value
// lives as long as something else points to it, and its entry leaves the
// table once it has been collected. Go's unique package does this for
// comparable values; Table is for values that are not comparable (maps,
// structs with slices), found by a comparable key. Safe for concurrent use.
type Table[K comparable, V any] struct {
	mu     sync.Mutex
	values map[K]weak.Pointer[V]
}

// Get returns the value shared under key, made by build when there is none.
// build runs without the table's lock held, so slow builds do not queue
// other callers; if two callers build at once, the first stored wins.
// Callers must keep the returned pointer (not only what it points into)
// for as long as they use the value, and never modify it.
func (t *Table[K, V]) Get(key K, build func() *V) *V {
	if v := t.Lookup(key); v != nil {
		return v
	}
	fresh := build()
	t.mu.Lock()
	defer t.mu.Unlock()
	if v := t.values[key].Value(); v != nil {
		return v
	}
	if t.values == nil {
		t.values = map[K]weak.Pointer[V]{}
	}
	t.values[key] = weak.Make(fresh)
	runtime.AddCleanup(fresh, t.forget, key)
	return fresh
}

// Lookup returns the value shared under key, or nil when there is none.
func (t *Table[K, V]) Lookup(key K) *V {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.values[key].Value()
}

// forget drops the entry of a collected value, unless a newer value has
// been stored under the same key since.
func (t *Table[K, V]) forget(key K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.values[key].Value() == nil {
		delete(t.values, key)
	}
}
