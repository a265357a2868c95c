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

// Rebuilds is how the decorator's sources signal keys whose decoration
// changed: the cache given it at construction rebuilds them at once, on the
// signalling goroutine, as the index's change happens (so every change of a
// Secret's users is its own MODIFIED, as before). Data flows one way: the
// sources never read an item back out of the cache. It exists so that the
// index can be built before the cache it decorates (each needs the other);
// keys signalled before the cache exists are rebuilt when it does. Safe for
// concurrent use.
type Rebuilds struct {
	mu      sync.Mutex
	rebuild func(keys ...Key)
	pending []Key
}

// NewRebuilds is a signal not yet bound to a cache.
func NewRebuilds() *Rebuilds { return &Rebuilds{} }

// Add signals that these keys' decoration changed.
func (r *Rebuilds) Add(keys ...Key) {
	r.mu.Lock()
	rebuild := r.rebuild
	if rebuild == nil {
		r.pending = append(r.pending, keys...)
	}
	r.mu.Unlock()
	if rebuild != nil {
		rebuild(keys...)
	}
}

// bind makes rebuild the receiver of the signals; the cache's constructor
// calls it.
func (r *Rebuilds) bind(rebuild func(keys ...Key)) {
	r.mu.Lock()
	r.rebuild = rebuild
	pending := r.pending
	r.pending = nil
	r.mu.Unlock()
	rebuild(pending...)
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
