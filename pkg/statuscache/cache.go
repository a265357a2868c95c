package statuscache

import (
	"context"
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
func (e *entry) object(rv ResourceVersion) *certstatus.CertificateStatus {
	object := &certstatus.CertificateStatus{}
	e.fill(object, rv)
	return object
}

// fill builds the entry's object into dst (which is overwritten).
func (e *entry) fill(dst *certstatus.CertificateStatus, rv ResourceVersion) {
	e.fillMeta(dst, rv)
	dst.Status = e.status()
}

// fillMeta builds the entry's object without its status into dst.
func (e *entry) fillMeta(dst *certstatus.CertificateStatus, rv ResourceVersion) {
	meta := e.item.Meta
	*dst = certstatus.CertificateStatus{
		ObjectMeta: metav1.ObjectMeta{
			Name:              meta.Name,
			Namespace:         meta.Namespace,
			UID:               meta.UID,
			ResourceVersion:   rv.String(),
			Labels:            meta.Labels,
			CreationTimestamp: meta.CreationTimestamp,
		},
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
	// bursting is true while the clock loop waits for watchers to drain,
	// and drained is how they wake it (see waitForWatchers).
	bursting atomic.Bool
	drained  chan struct{}

	watchers    map[int]*watcher
	nextWatcher int
	// listeners get every change (Subscribe), e.g. the Event recorder.
	listeners []func(Change)
	// watchersClosedBehind counts watchers closed for falling behind.
	watchersClosedBehind uint64

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
		drained:  make(chan struct{}, 1),
		watchers: map[int]*watcher{},
		synced:   make(chan struct{}),
	}
}

// objectKey is how the cache names an object.
func objectKey(namespace, name string) string { return namespace + "/" + name }

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
	key := objectKey(item.Meta.Namespace, item.Meta.Name)
	updated := &entry{item: item, at: now}
	object := updated.object(0)

	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries[key]
	var previous *certstatus.CertificateStatus
	if old != nil {
		// Assigning to the map stores the key it is given: give it the one
		// already kept, or each change would keep a second copy.
		key = c.keptKey(key)
		// The queued transition serves the new entry too when its instant
		// is still the next one (a label or usedBy change): setNextTransition
		// then queues nothing.
		updated.nextTransition = old.nextTransition
		previous = old.object(old.rv)
		if sameObject(previous, object) {
			// Same answer, so the same resourceVersion; keep the newer item
			// so that later transitions use it.
			updated.rv = old.rv
			c.entries[key] = updated
			c.setNextTransition(key, updated, now)
			return
		}
	}
	updated.rv = c.rv.next()
	object.ResourceVersion = updated.rv.String()
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
func (c *Cache) Delete(namespace, name string) {
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
	c.publish(&record{Type: watch.Deleted, RV: rv, current: old, previous: old}, old.object(rv), old.object(old.rv))
}

// Get returns the current object, built for this caller.
func (c *Cache) Get(namespace, name string) (*certstatus.CertificateStatus, bool) {
	c.mu.RLock()
	e, ok := c.entries[objectKey(namespace, name)]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return e.object(e.rv), true
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
	// Status builds the status of Items[i] (as of the page) when the
	// statuses were deferred, as they are without Matches (a selector may
	// need the status), so that a caller that writes the objects out one
	// by one never holds every status at once; nil otherwise.
	Status func(i int) certstatus.CertificateStatusStatus
}

// List returns the matching objects in key order. The entries are taken
// under the lock and the objects built after it is released, so a large
// list never holds up the Secret informer or the watchers.
func (c *Cache) List(options ListOptions) ListResult {
	c.mu.RLock()
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
		result.Items = make([]certstatus.CertificateStatus, len(page))
		for i, e := range page {
			e.fillMeta(&result.Items[i], e.rv)
		}
		result.Status = func(i int) certstatus.CertificateStatusStatus { return page[i].status() }
		return result
	}
	result.Items = make([]certstatus.CertificateStatus, 0, capacity)
	var candidate certstatus.CertificateStatus
	for i, e := range entries {
		e.fill(&candidate, e.rv)
		if options.Matches != nil && !options.Matches(&candidate) {
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
func (c *Cache) ResourceVersion() ResourceVersion {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rv.current()
}

// keptKey is the copy of key the cache already keeps (key itself if none).
func (c *Cache) keptKey(key string) string {
	if i := sort.SearchStrings(c.keys, key); i < len(c.keys) && c.keys[i] == key {
		return c.keys[i]
	}
	return key
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

// publish remembers a change and hands it, with its objects already built,
// to every subscriber and watcher. Called with c.mu held.
func (c *Cache) publish(r *record, object, previous *certstatus.CertificateStatus) {
	c.history.add(r)
	live := &Change{Type: r.Type, rv: r.RV, Object: object, Previous: previous}
	for _, listener := range c.listeners {
		listener(*live)
	}
	if len(c.watchers) == 0 {
		return
	}
	live.shared = &encodedOnce{CertificateStatus: object}
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
func sameObject(a, b *certstatus.CertificateStatus) bool {
	return a.UID == b.UID &&
		a.CreationTimestamp.Equal(&b.CreationTimestamp) &&
		apiequality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		apiequality.Semantic.DeepEqual(a.Status, b.Status)
}
