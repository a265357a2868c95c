package statuscache

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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

// Item is one listed Secret as the cache needs it. It is never modified
// once handed to the cache.
type Item struct {
	// Meta holds the Secret's name, namespace, uid, labels and
	// creationTimestamp. It is shared with the Secret informer, not copied.
	Meta       *metav1.ObjectMeta
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

// entry is one object as of its last change. The object itself is not
// stored: it is a pure function of the item and the instant it was computed
// at, rebuilt whenever it is served (see object). An entry never changes
// once created, except nextTransition, which only the clock loop reads;
// events in the history point to entries, so they cost nothing extra while
// the entry is current.
type entry struct {
	item Item
	// at is the instant the object was computed at. The object does not
	// change before the next transition, which the clock loop handles by
	// replacing the entry.
	at time.Time
	rv ResourceVersion
	// nextTransition is when the clock next changes the object; zero if never.
	nextTransition time.Time
}

// object builds the entry's object carrying resourceVersion rv.
func (c *CacheOf[T, P]) object(e *entry, rv ResourceVersion) P {
	object := P(new(T))
	c.fill(e, object, rv)
	return object
}

// fill builds the entry's object into dst (which is overwritten).
func (c *CacheOf[T, P]) fill(e *entry, dst P, rv ResourceVersion) {
	c.fillMeta(e, dst, rv)
	*c.kind.Status(dst) = e.status()
}

// fillMeta builds the entry's object without its status into dst.
func (c *CacheOf[T, P]) fillMeta(e *entry, dst P, rv ResourceVersion) {
	meta := e.item.Meta
	var zero T
	*dst = zero
	*c.kind.Meta(dst) = metav1.ObjectMeta{
		Name:              meta.Name,
		Namespace:         meta.Namespace,
		UID:               meta.UID,
		ResourceVersion:   rv.String(),
		Labels:            meta.Labels,
		CreationTimestamp: meta.CreationTimestamp,
	}
}

// status is the entry's object's status.
func (e *entry) status() certstatus.CertificateStatusStatus {
	status := e.item.Analysis.StatusAt(e.at)
	if status.SecretType == "" {
		status.SecretType = e.item.SecretType
	}
	return status
}

// CacheOf holds one kind's objects. Safe for concurrent use.
type CacheOf[T any, P Object[T]] struct {
	kind    Kind[T]
	clock   clock.WithTicker
	options Options

	mu      sync.RWMutex
	entries map[string]*entry
	keys    []string // sorted entry keys, for stable lists and continue tokens
	rv      resourceVersions
	history *history
	clockQ  transitionQueue
	wake    chan struct{} // nudges the clock loop when the earliest transition moves
	// bursting is true while the clock loop waits for watchers to drain,
	// and drained is how they wake it (see waitForWatchers).
	bursting atomic.Bool
	drained  chan struct{}

	watchers    map[int]*watcher[T, P]
	nextWatcher int
	// listeners get every change (Subscribe), e.g. the Event recorder.
	listeners []func(ChangeOf[T, P])
	// watchersClosedBehind counts watchers closed for falling behind.
	watchersClosedBehind uint64

	// decorator (nil: none) decorates every item as it enters.
	decorator Decorator
	// writeMu orders the writers (the source's upserts and deletes, the
	// rebuilds): an item is decorated and stored under it, so the last
	// write of a key always carries the decorator's latest answer.
	writeMu sync.Mutex
}

// New returns an empty cache. Its resourceVersions carry a random epoch, so
// another process's are recognised as foreign (see docs/design.md).
func New(clk clock.WithTicker, options Options) *Cache {
	return NewDecorated(clk, options, nil, nil)
}

// NewDecorated is New with a decorator (see NewOf).
func NewDecorated(clk clock.WithTicker, options Options, decorator Decorator, rebuilds *Rebuilds) *Cache {
	return NewOf[certstatus.CertificateStatus](CertificateStatuses, clk, options, decorator, rebuilds)
}

// NewOf is a cache of kind's objects. decorator (nil: none) is applied to
// every item as it enters; rebuilds (nil: none) is how the decorator's
// sources signal keys whose decoration changed (rebuilt at once).
func NewOf[T any, P Object[T]](kind Kind[T], clk clock.WithTicker, options Options, decorator Decorator, rebuilds *Rebuilds) *CacheOf[T, P] {
	c := &CacheOf[T, P]{
		kind:      kind,
		decorator: decorator,
		clock:     clk,
		options:   options,
		entries:   map[string]*entry{},
		rv:        newResourceVersions(randomEpoch()),
		history:   newHistory(options.HistorySize),
		wake:      make(chan struct{}, 1),
		drained:   make(chan struct{}, 1),
		watchers:  map[int]*watcher[T, P]{},
	}
	if rebuilds != nil {
		rebuilds.bind(c.Rebuild)
	}
	return c
}

// objectKey is how the cache names an object.
func objectKey(namespace, name string) string { return namespace + "/" + name }

// Upsert records the current state of a listed Secret, decorated. An
// event goes to watchers only when the computed object changes.
func (c *CacheOf[T, P]) Upsert(item Item) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.upsert(c.decorate(Key{Namespace: item.Meta.Namespace, Name: item.Meta.Name}, item))
}

// upsert stores an item already decorated. Called with c.writeMu held.
func (c *CacheOf[T, P]) upsert(item Item) {
	now := c.clock.Now()
	key := objectKey(item.Meta.Namespace, item.Meta.Name)
	updated := &entry{item: item, at: now}
	object := c.object(updated, 0)

	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries[key]
	var previous P
	if old != nil {
		// Assigning to the map stores the key it is given: give it the one
		// already kept, or each change would keep a second copy.
		key = c.keptKey(key)
		// The queued transition serves the new entry too when its instant
		// is still the next one (a label or usedBy change): setNextTransition
		// then queues nothing.
		updated.nextTransition = old.nextTransition
		previous = c.object(old, old.rv)
		if c.sameObject(previous, object) {
			// Same answer, so the same resourceVersion; keep the newer item
			// so that later transitions use it.
			updated.rv = old.rv
			c.entries[key] = updated
			c.setNextTransition(key, updated, now)
			return
		}
	}
	updated.rv = c.rv.next()
	object.SetResourceVersion(updated.rv.String())
	c.entries[key] = updated
	c.setNextTransition(key, updated, now)
	if old == nil {
		c.insertKey(key)
		c.publish(&record{Type: watch.Added, RV: updated.rv, current: updated}, object, nil)
		return
	}
	c.publish(&record{Type: watch.Modified, RV: updated.rv, current: updated, previous: old}, object, previous)
}

// Delete forgets a Secret that was deleted or no longer holds certificates.
func (c *CacheOf[T, P]) Delete(namespace, name string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	key := objectKey(namespace, name)
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
	c.publish(&record{Type: watch.Deleted, RV: rv, current: old, previous: old}, c.object(old, rv), c.object(old, old.rv))
}

// Get returns the current object, built for this caller.
func (c *CacheOf[T, P]) Get(namespace, name string) (P, bool) {
	c.mu.RLock()
	e, ok := c.entries[objectKey(namespace, name)]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return c.object(e, e.rv), true
}

// ListOptionsOf[T, P] select a page of objects.
type ListOptionsOf[T any, P Object[T]] struct {
	Namespace string // empty: all namespaces
	Matches   func(P) bool
	// StartKey continues a previous page: objects with keys >= StartKey.
	StartKey string
	// Limit is the page size; 0 means everything.
	Limit int64
}

// ListResultOf[T, P] is a page of objects.
type ListResultOf[T any, P Object[T]] struct {
	Items []T
	// ResourceVersion is the cache's resourceVersion when the page was read.
	ResourceVersion ResourceVersion
	// NextKey is the key of the first object after the page; empty on the last page.
	NextKey string
	// Status builds the status of Items[i] (as of the page) when the
	// statuses were deferred, as they are without Matches (a selector may
	// need the status), so that a caller that writes the objects out one
	// by one never holds every status at once; nil otherwise.
	Status func(i int) certstatus.CertificateStatusStatus
}

// List returns the matching objects in key order. The entries are taken
// under the lock and the objects built after it is released, so a large
// list never holds up the Secret informer or the watchers.
func (c *CacheOf[T, P]) List(options ListOptionsOf[T, P]) ListResultOf[T, P] {
	c.mu.RLock()
	result := ListResultOf[T, P]{ResourceVersion: c.rv.current()}
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
	if options.Matches == nil && options.Limit > 0 && options.Limit < int64(len(keys)) {
		// A page needs its own entries and the key after them, not the rest
		// of the cache: otherwise paging through N objects costs N²/limit.
		keys = keys[:options.Limit+1]
	}
	entries := make([]*entry, len(keys))
	for i, key := range keys {
		entries[i] = c.entries[key]
	}
	c.mu.RUnlock()

	capacity := len(entries)
	if options.Limit > 0 && options.Limit < int64(capacity) {
		capacity = int(options.Limit)
	}
	if options.Matches == nil {
		page := entries[:capacity]
		if capacity < len(entries) {
			result.NextKey = keys[capacity]
		}
		result.Items = make([]T, len(page))
		for i, e := range page {
			c.fillMeta(e, &result.Items[i], e.rv)
		}
		result.Status = func(i int) certstatus.CertificateStatusStatus { return page[i].status() }
		return result
	}
	result.Items = make([]T, 0, capacity)
	var candidate T
	for i, e := range entries {
		c.fill(e, &candidate, e.rv)
		if options.Matches != nil && !options.Matches(P(&candidate)) {
			continue
		}
		if options.Limit > 0 && int64(len(result.Items)) == options.Limit {
			result.NextKey = keys[i]
			break
		}
		result.Items = append(result.Items, candidate)
	}
	return result
}

// ResourceVersion is the cache's current resourceVersion.
func (c *CacheOf[T, P]) ResourceVersion() ResourceVersion {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rv.current()
}

// keptKey is the copy of key the cache already keeps (key itself if none).
func (c *CacheOf[T, P]) keptKey(key string) string {
	if i := sort.SearchStrings(c.keys, key); i < len(c.keys) && c.keys[i] == key {
		return c.keys[i]
	}
	return key
}

func (c *CacheOf[T, P]) insertKey(key string) {
	i := sort.SearchStrings(c.keys, key)
	c.keys = append(c.keys, "")
	copy(c.keys[i+1:], c.keys[i:])
	c.keys[i] = key
}

func (c *CacheOf[T, P]) removeKey(key string) {
	i := sort.SearchStrings(c.keys, key)
	if i < len(c.keys) && c.keys[i] == key {
		c.keys = append(c.keys[:i], c.keys[i+1:]...)
	}
}

// publish remembers a change and hands it, with its objects already built,
// to every subscriber and watcher. Called with c.mu held.
func (c *CacheOf[T, P]) publish(r *record, object, previous P) {
	c.history.add(r)
	live := &ChangeOf[T, P]{Type: r.Type, rv: r.RV, Object: object, Previous: previous}
	for _, listener := range c.listeners {
		listener(*live)
	}
	if len(c.watchers) == 0 {
		return
	}
	live.shared = &encodedOnce[T, P]{object: object}
	for id, w := range c.watchers {
		if !w.offer(live) {
			// A watcher that cannot keep up is dropped rather than allowed to
			// block the others or grow without bound; its client resumes or relists.
			delete(c.watchers, id)
			c.watchersClosedBehind++
			w.terminate()
		}
	}
}

// sameObject tells whether two objects differ only in resourceVersion.
func (c *CacheOf[T, P]) sameObject(a, b P) bool {
	am, bm := c.kind.Meta(a), c.kind.Meta(b)
	return am.UID == bm.UID &&
		am.CreationTimestamp.Equal(&bm.CreationTimestamp) &&
		apiequality.Semantic.DeepEqual(am.Labels, bm.Labels) &&
		apiequality.Semantic.DeepEqual(c.kind.Status(a), c.kind.Status(b))
}
