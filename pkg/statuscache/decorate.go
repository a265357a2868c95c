package statuscache

import "sync"

// Key names an object: its namespace ("" when cluster-scoped) and name.
type Key struct {
	Namespace, Name string
}

// Decorator adds to an object what other sources know of it (usedBy: who
// serves or mounts a Secret) as the object's item enters the cache. It is
// called with the cache's write lock held, so the last item upserted for a
// key always carries the decorator's latest answer; it must not call back
// into the cache.
type Decorator interface {
	Decorate(key Key, base Analysis) Analysis
}

// undecorated is what a decorated analysis offers to get its base back, so
// that a rebuild decorates the source's analysis afresh rather than wrapping
// the old decoration.
type undecorated interface {
	Unwrap() Analysis
}

// Rebuilds are the keys whose decoration changed and that the cache must
// rebuild: the decorator's sources signal them here (Add), and the cache's
// Run takes them. Data flows one way: the sources never read an item back
// out of the cache. Keys signalled again before they are taken are rebuilt
// once. Safe for concurrent use.
type Rebuilds struct {
	mu      sync.Mutex
	pending map[Key]struct{}
	ready   chan struct{}
}

// NewRebuilds is an empty set of keys to rebuild.
func NewRebuilds() *Rebuilds {
	return &Rebuilds{pending: map[Key]struct{}{}, ready: make(chan struct{}, 1)}
}

// Add signals that these keys' decoration changed. It never blocks.
func (r *Rebuilds) Add(keys ...Key) {
	if len(keys) == 0 {
		return
	}
	r.mu.Lock()
	for _, key := range keys {
		r.pending[key] = struct{}{}
	}
	r.mu.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// take empties the set.
func (r *Rebuilds) take() []Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]Key, 0, len(r.pending))
	for key := range r.pending {
		keys = append(keys, key)
	}
	clear(r.pending)
	return keys
}

// decorate is item with its analysis decorated for key (unchanged without a decorator).
func (c *CacheOf[T, P]) decorate(key Key, item Item) Item {
	if c.decorator != nil {
		item.Analysis = c.decorator.Decorate(key, item.Analysis)
	}
	return item
}

// Rebuild decorates the current items of keys afresh and upserts them: a
// change that alters nothing visible is no event, one that does is a
// MODIFIED. Keys not in the cache are skipped (a reference to a Secret that
// is not listed has nothing to decorate).
func (c *CacheOf[T, P]) Rebuild(keys ...Key) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for _, key := range keys {
		c.mu.RLock()
		e, ok := c.entries[objectKey(key.Namespace, key.Name)]
		c.mu.RUnlock()
		if !ok {
			continue
		}
		item := e.item
		if d, ok := item.Analysis.(undecorated); ok {
			item.Analysis = d.Unwrap()
		}
		c.upsert(c.decorate(key, item))
	}
}
