package usedby

import (
	"sync"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Sink receives the Secrets' items: the status cache. It also gives back
// the item last upserted, so the combiner keeps no copy of its own.
type Sink interface {
	Upsert(item statuscache.Item)
	Delete(namespace, name string)
	Item(namespace, name string) (statuscache.Item, bool)
}

// Combiner sits between the Secret source and the cache: it attaches each
// Secret's users to its item, and upserts the item again when the Index
// says its users changed. The cache compares the built objects, so a
// change that alters nothing visible sends no event, and one that does is
// a MODIFIED with a new resourceVersion through the cache's usual fan-out.
type Combiner struct {
	index *Index
	sink  Sink

	// mu orders reading the index with upserting the result, so the last
	// upsert of a Secret always reflects the index's latest state.
	mu sync.Mutex
}

// NewCombiner feeds sink and listens to index.
func NewCombiner(index *Index, sink Sink) *Combiner {
	c := &Combiner{index: index, sink: sink}
	index.SetChanged(c.usersChanged)
	return c
}

// Upsert records a Secret's item and passes it on with its users.
func (c *Combiner) Upsert(item statuscache.Item) {
	secret := SecretRef{Namespace: item.Meta.Namespace, Name: item.Meta.Name}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sink.Upsert(c.decorate(secret, item))
}

// Delete forgets a Secret.
func (c *Combiner) Delete(namespace, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sink.Delete(namespace, name)
}

func (c *Combiner) decorate(secret SecretRef, item statuscache.Item) statuscache.Item {
	item.Analysis = Decorate(item.Analysis, c.index.Users(secret))
	return item
}

// usersChanged upserts again the listed Secrets that exist; a reference to
// a Secret that is not listed has nothing to attach to.
func (c *Combiner) usersChanged(secrets []SecretRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, secret := range secrets {
		if item, ok := c.sink.Item(secret.Namespace, secret.Name); ok {
			if decorated, ok := item.Analysis.(*Decorated); ok {
				item.Analysis = decorated.Unwrap()
			}
			c.sink.Upsert(c.decorate(secret, item))
		}
	}
}
