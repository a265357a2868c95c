package statuscache

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Analysis is a parsed Secret: what it looks like at any instant, and when
// that answer next changes by the clock alone.
type Analysis interface {
	StatusAt(now time.Time) certstatus.CertificateStatusStatus
	NextTransition(now time.Time) (time.Time, bool)
}

// Item is one listed Secret as the cache needs it.
type Item struct {
	// Meta holds the Secret's name, namespace, uid, labels and creationTimestamp.
	Meta       metav1.ObjectMeta
	SecretType string
	Analysis   Analysis
}

// Options tune the cache.
type Options struct {
	// HistorySize is how many recent events are kept for watches that resume
	// from a resourceVersion. Older resourceVersions answer 410 Gone.
	HistorySize int
	// WatcherBuffer is how many events a watcher may fall behind before it is
	// dropped (its client then resumes or relists).
	WatcherBuffer int
	// BookmarkInterval is how often idle watchers that asked for bookmarks get one.
	BookmarkInterval time.Duration
}

// DefaultOptions are sized for tens of thousands of Secrets and a thousand watchers.
func DefaultOptions() Options {
	return Options{HistorySize: 10000, WatcherBuffer: 512, BookmarkInterval: time.Minute}
}

type entry struct {
	item   Item
	object *certstatus.CertificateStatus
	// nextTransition is when the clock next changes object; zero if never.
	nextTransition time.Time
}

// Cache is safe for concurrent use.
type Cache struct {
	clock   clock.WithTicker
	options Options

	mu      sync.RWMutex
	entries map[string]*entry
	keys    []string // sorted entry keys, for stable lists and continue tokens
	rv      resourceVersions
	history *history
	clockQ  transitionQueue
	wake    chan struct{} // nudges the clock loop when the earliest transition moves

	watchers    map[int]*watcher
	nextWatcher int

	synced     chan struct{}
	syncedOnce sync.Once
}

// New returns an empty cache. Its resourceVersions carry a random epoch, so
// another process's are recognised as foreign (see docs/design.md).
func New(clk clock.WithTicker, options Options) *Cache {
	return &Cache{
		clock:    clk,
		options:  options,
		entries:  map[string]*entry{},
		rv:       newResourceVersions(randomEpoch()),
		history:  newHistory(options.HistorySize),
		wake:     make(chan struct{}, 1),
		watchers: map[int]*watcher{},
		synced:   make(chan struct{}),
	}
}

// Key is how the cache names an object.
func Key(namespace, name string) string { return namespace + "/" + name }

// MarkSynced records that the initial list of Secrets has been loaded.
func (c *Cache) MarkSynced() { c.syncedOnce.Do(func() { close(c.synced) }) }

// HasSynced tells whether MarkSynced was called.
func (c *Cache) HasSynced() bool {
	select {
	case <-c.synced:
		return true
	default:
		return false
	}
}

// WaitSynced blocks until the cache has synced or ctx ends.
func (c *Cache) WaitSynced(ctx context.Context) error {
	select {
	case <-c.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Upsert records the current state of a listed Secret. An event goes to
// watchers only when the computed object changes.
func (c *Cache) Upsert(item Item) {
	now := c.clock.Now()
	key := Key(item.Meta.Namespace, item.Meta.Name)

	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries[key]
	object := buildObject(item, now)
	if old != nil && sameObject(old.object, object) {
		old.item = item
		c.setNextTransition(key, old, now)
		return
	}
	rv := c.rv.next()
	object.ResourceVersion = rv.String()
	e := &entry{item: item, object: object}
	c.entries[key] = e
	c.setNextTransition(key, e, now)
	if old == nil {
		c.insertKey(key)
		c.publish(&event{Type: watch.Added, Object: object, RV: rv})
		return
	}
	c.publish(&event{Type: watch.Modified, Object: object, Previous: old.object, RV: rv})
}

// Delete forgets a Secret that was deleted or no longer holds certificates.
func (c *Cache) Delete(namespace, name string) {
	key := Key(namespace, name)
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries[key]
	if old == nil {
		return
	}
	delete(c.entries, key)
	c.removeKey(key)
	rv := c.rv.next()
	// The deleted object carries the resourceVersion of its deletion, as in kube-apiserver.
	gone := old.object.DeepCopy()
	gone.ResourceVersion = rv.String()
	c.publish(&event{Type: watch.Deleted, Object: gone, Previous: old.object, RV: rv})
}

// Get returns the current object. It is shared: callers must not modify it.
func (c *Cache) Get(namespace, name string) (*certstatus.CertificateStatus, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[Key(namespace, name)]
	if !ok {
		return nil, false
	}
	return e.object, true
}

// ListOptions select a page of objects.
type ListOptions struct {
	Namespace string // empty: all namespaces
	Matches   func(*certstatus.CertificateStatus) bool
	// StartKey continues a previous page: objects with keys >= StartKey.
	StartKey string
	// Limit is the page size; 0 means everything.
	Limit int64
}

// ListResult is a page of objects.
type ListResult struct {
	Items []certstatus.CertificateStatus
	// ResourceVersion is the cache's resourceVersion when the page was read.
	ResourceVersion ResourceVersion
	// NextKey is the key of the first object after the page; empty on the last page.
	NextKey string
}

// List returns the matching objects in key order.
func (c *Cache) List(options ListOptions) ListResult {
	c.mu.RLock()
	defer c.mu.RUnlock()
	result := ListResult{ResourceVersion: c.rv.current()}

	keys := c.keys
	if options.Namespace != "" {
		prefix := options.Namespace + "/"
		start := sort.SearchStrings(keys, prefix)
		end := start + sort.Search(len(keys)-start, func(i int) bool { return !strings.HasPrefix(keys[start+i], prefix) })
		keys = keys[start:end]
	}
	if options.StartKey != "" {
		keys = keys[sort.SearchStrings(keys, options.StartKey):]
	}
	for i, key := range keys {
		object := c.entries[key].object
		if options.Matches != nil && !options.Matches(object) {
			continue
		}
		if options.Limit > 0 && int64(len(result.Items)) == options.Limit {
			result.NextKey = keys[i]
			break
		}
		result.Items = append(result.Items, *object)
	}
	return result
}

// ResourceVersion is the cache's current resourceVersion.
func (c *Cache) ResourceVersion() ResourceVersion {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rv.current()
}

func (c *Cache) insertKey(key string) {
	i := sort.SearchStrings(c.keys, key)
	c.keys = append(c.keys, "")
	copy(c.keys[i+1:], c.keys[i:])
	c.keys[i] = key
}

func (c *Cache) removeKey(key string) {
	i := sort.SearchStrings(c.keys, key)
	if i < len(c.keys) && c.keys[i] == key {
		c.keys = append(c.keys[:i], c.keys[i+1:]...)
	}
}

// publish records an event and hands it to every watcher. Called with c.mu held.
func (c *Cache) publish(ev *event) {
	c.history.add(ev)
	for id, w := range c.watchers {
		if !w.offer(ev) {
			// A watcher that cannot keep up is dropped rather than allowed to
			// block the others or grow without bound; its client resumes or relists.
			delete(c.watchers, id)
			w.terminate()
		}
	}
}

// buildObject computes the object for a Secret at an instant.
func buildObject(item Item, now time.Time) *certstatus.CertificateStatus {
	object := &certstatus.CertificateStatus{
		ObjectMeta: metav1.ObjectMeta{
			Name:              item.Meta.Name,
			Namespace:         item.Meta.Namespace,
			UID:               item.Meta.UID,
			Labels:            item.Meta.Labels,
			CreationTimestamp: item.Meta.CreationTimestamp,
		},
		Status: item.Analysis.StatusAt(now),
	}
	if object.Status.SecretType == "" {
		object.Status.SecretType = item.SecretType
	}
	return object
}

// sameObject tells whether two objects differ only in resourceVersion.
func sameObject(a, b *certstatus.CertificateStatus) bool {
	return a.UID == b.UID &&
		a.CreationTimestamp.Equal(&b.CreationTimestamp) &&
		apiequality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		apiequality.Semantic.DeepEqual(a.Status, b.Status)
}
