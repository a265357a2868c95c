package statuscache

// Subscribe calls listener with every change from now on, in the order
// watchers get them (the same stream). The listener is called with the
// cache's lock held: it must not block, must not call back into the cache,
// and must not modify the objects, which are shared with the watchers.
// Subscribe before the Secret source starts to see the initial objects as
// Added.
func (c *CacheOf[T, P]) Subscribe(listener func(ChangeOf[T, P])) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners = append(c.listeners, listener)
}
