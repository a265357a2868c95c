package statuscache

import (
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Change is one change of an object, as watchers get it: Secret-driven and
// clock-driven alike.
type Change struct {
	Type watch.EventType
	// Object is the object after the change (for Deleted, its last state).
	Object *certstatus.CertificateStatus
	// Previous is the object before the change; nil for Added.
	Previous *certstatus.CertificateStatus
}

// Subscribe calls listener with every change from now on, in the order
// watchers get them (the same stream). The listener is called with the
// cache's lock held: it must not block, must not call back into the cache,
// and must not modify the objects, which are shared with the watchers.
// Subscribe before the Secret source starts to see the initial objects as
// Added.
func (c *Cache) Subscribe(listener func(Change)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners = append(c.listeners, listener)
}

// notify hands a change to the listeners. Called with c.mu held.
func (c *Cache) notify(ev *event, object, previous *certstatus.CertificateStatus) {
	for _, listener := range c.listeners {
		listener(Change{Type: ev.Type, Object: object, Previous: previous})
	}
}
