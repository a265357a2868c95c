package statuscache

// Stats are the cache's own health, read when /metrics is scraped.
type Stats struct {
	// Objects is the number of listed Secrets.
	Objects int
	// Watchers is the number of open watches.
	Watchers int
	// WatchersClosedBehind counts watches closed because they fell behind.
	WatchersClosedBehind uint64
	// ClockQueue is how many clock transitions are scheduled (including stale ones not popped yet).
	ClockQueue int
	// History is how many events are kept for resuming watches.
	History int
}

// Stats reads the cache's health.
func (c *CacheOf[T, P]) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return Stats{
		Objects:              len(c.entries),
		Watchers:             len(c.watchers),
		WatchersClosedBehind: c.watchersClosedBehind,
		ClockQueue:           len(c.clockQ),
		History:              c.history.size,
	}
}

// Items returns every listed Secret's item in key order. It copies the item
// headers only (the analyses are shared and immutable), under the lock, so
// the caller can evaluate them at leisure without holding up the informer.
func (c *CacheOf[T, P]) Items() []Item {
	c.mu.RLock()
	defer c.mu.RUnlock()
	items := make([]Item, len(c.keys))
	for i, key := range c.keys {
		items[i] = c.entries[key].item
	}
	return items
}

// Item is the current item of one object, as last upserted.
func (c *CacheOf[T, P]) Item(namespace, name string) (Item, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[objectKey(namespace, name)]
	if !ok {
		return Item{}, false
	}
	return e.item, true
}
