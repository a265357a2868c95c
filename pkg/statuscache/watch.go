package statuscache

import (
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"
)

// WatchOptionsOf say where a watch starts and what it sees.
type WatchOptionsOf[T any, P Object[T]] struct {
	Namespace string // empty: all namespaces
	Matches   func(P) bool
	// ResourceVersion: 0 starts at the current state; otherwise events after it are replayed.
	ResourceVersion ResourceVersion
	// SendInitialEvents true sends an ADDED event for every current object
	// first (the streaming list); unset does the same for resourceVersion 0,
	// as kube-apiserver does; false never does.
	SendInitialEvents *bool
	// AllowBookmarks sends periodic BOOKMARK events, and the
	// initial-events-end bookmark after the initial events.
	AllowBookmarks bool
}

// Watch starts a watch. A resourceVersion this process did not give out, or
// one older than the history it keeps, answers 410 Gone so the client relists.
func (c *CacheOf[T, P]) Watch(options WatchOptionsOf[T, P]) (watch.Interface, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	streamingList := options.SendInitialEvents != nil && *options.SendInitialEvents
	initialState := streamingList || (options.SendInitialEvents == nil && options.ResourceVersion == 0)
	var backlog []*record
	switch {
	case initialState:
		backlog = c.snapshot(options.Namespace)
	case options.ResourceVersion == 0:
		// Only changes from now on.
	case !c.servable(options.ResourceVersion):
		return nil, apierrors.NewResourceExpired("resourceVersion " + options.ResourceVersion.String() +
			" is too old or comes from another certstatus server; list again")
	default:
		backlog = c.history.since(options.ResourceVersion)
	}

	w := &watcher[T, P]{
		change:   c.change,
		options:  options,
		clock:    c.clock,
		interval: c.options.BookmarkInterval,
		input:    make(chan *ChangeOf[T, P], c.options.WatcherBuffer),
		result:   make(chan watch.Event),
		done:     make(chan struct{}),
		drained:  c.signalDrained,
		lastRV:   c.rv.current(),
	}
	if !initialState && options.ResourceVersion != 0 {
		w.lastRV = options.ResourceVersion
	}
	id := c.nextWatcher
	c.nextWatcher++
	c.watchers[id] = w
	w.unregister = func() {
		c.mu.Lock()
		delete(c.watchers, id)
		c.mu.Unlock()
		c.signalDrained()
	}
	go w.run(backlog, streamingList, c.rv.current())
	return w, nil
}

// snapshot is an ADDED record for every current object. Called with c.mu
// held; the watcher builds the objects in its own goroutine.
func (c *CacheOf[T, P]) snapshot(namespace string) []*record {
	records := make([]*record, 0, len(c.keys))
	for _, key := range c.keys {
		e := c.entries[key]
		if namespace != "" && e.item.Meta.Namespace != namespace {
			continue
		}
		records = append(records, &record{Type: watch.Added, RV: e.rv, current: e})
	}
	return records
}

// watcher is one client's watch: its own goroutine filters events and
// delivers them, so a slow client only ever slows itself.
type watcher[T any, P Object[T]] struct {
	// change builds a remembered change's objects.
	change     func(*record) *ChangeOf[T, P]
	options    WatchOptionsOf[T, P]
	clock      clock.WithTicker
	interval   time.Duration
	input      chan *ChangeOf[T, P]
	result     chan watch.Event
	done       chan struct{}
	stopOnce   sync.Once
	unregister func()
	// drained tells a burst waiting for watchers that this one has room.
	drained func()
	lastRV  ResourceVersion // the newest event this watcher has seen, matched or not
}

// offer hands a change to the watcher without blocking. False means the
// watcher's buffer is full. Called with the cache's lock held.
func (w *watcher[T, P]) offer(ch *ChangeOf[T, P]) bool {
	select {
	case w.input <- ch:
		return true
	default:
		return false
	}
}

func (w *watcher[T, P]) ResultChan() <-chan watch.Event { return w.result }

// Stop ends the watch. It is idempotent.
func (w *watcher[T, P]) Stop() {
	w.terminate()
	w.unregister()
}

func (w *watcher[T, P]) terminate() { w.stopOnce.Do(func() { close(w.done) }) }

func (w *watcher[T, P]) run(backlog []*record, initialEvents bool, snapshotRV ResourceVersion) {
	defer close(w.result)
	for _, r := range backlog {
		if !w.deliver(w.change(r)) {
			return
		}
	}
	if initialEvents && w.options.AllowBookmarks {
		if !w.bookmark(snapshotRV, true) {
			return
		}
	}
	var tick <-chan time.Time
	if w.options.AllowBookmarks && w.interval > 0 {
		ticker := w.clock.NewTicker(w.interval)
		defer ticker.Stop()
		tick = ticker.C()
	}
	for {
		select {
		case <-w.done:
			return
		case ch := <-w.input:
			if len(w.input) <= cap(w.input)/2 {
				w.drained()
			}
			if ch.rv <= w.lastRV {
				continue // already covered by the snapshot or the replayed history
			}
			if !w.deliver(ch) {
				return
			}
		case <-tick:
			if len(w.input) == 0 && !w.bookmark(w.lastRV, false) {
				return
			}
		}
	}
}

// deliver sends ch as this watcher sees it through its selectors: an object
// entering the selection is ADDED, staying MODIFIED, leaving DELETED.
func (w *watcher[T, P]) deliver(ch *ChangeOf[T, P]) bool {
	if ch.rv > w.lastRV {
		w.lastRV = ch.rv
	}
	now := w.visible(ch.Object)
	before := ch.Previous != nil && w.visible(ch.Previous)
	var out watch.Event
	switch {
	case ch.Type == watch.Deleted:
		if !before && !now {
			return true
		}
		out = watch.Event{Type: watch.Deleted, Object: ch.outgoing()}
	case now && before:
		out = watch.Event{Type: watch.Modified, Object: ch.outgoing()}
	case now:
		out = watch.Event{Type: watch.Added, Object: ch.outgoing()}
	case before:
		gone := ch.Previous.DeepCopyObject().(P)
		gone.SetResourceVersion(ch.rv.String())
		out = watch.Event{Type: watch.Deleted, Object: gone}
	default:
		return true
	}
	return w.send(out)
}

func (w *watcher[T, P]) visible(object P) bool {
	if w.options.Namespace != "" && object.GetNamespace() != w.options.Namespace {
		return false
	}
	return w.options.Matches == nil || w.options.Matches(object)
}

// bookmark tells the client how far it has seen; the initial-events-end
// bookmark is what client-go's streaming list waits for before it is synced.
func (w *watcher[T, P]) bookmark(rv ResourceVersion, initialEventsEnd bool) bool {
	object := P(new(T))
	object.SetResourceVersion(rv.String())
	if initialEventsEnd {
		object.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	return w.send(watch.Event{Type: watch.Bookmark, Object: object})
}

func (w *watcher[T, P]) send(ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-w.done:
		return false
	}
}
