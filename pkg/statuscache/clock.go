package statuscache

import (
	"container/heap"
	"context"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"
)

// transition is an instant at which the clock alone changes one object.
type transition struct {
	at  time.Time
	key string
}

// transitionQueue is a min-heap of transitions. Entries are not removed
// when a Secret changes or goes away; a popped transition that no longer
// matches its entry's nextTransition is simply skipped, and the queue is
// rebuilt from the entries when such stale ones outnumber the live ones
// (compact), so it stays bounded by the number of objects.
type transitionQueue []transition

func (q transitionQueue) Len() int           { return len(q) }
func (q transitionQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q transitionQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *transitionQueue) Push(x any)        { *q = append(*q, x.(transition)) }
func (q *transitionQueue) Pop() any {
	old := *q
	last := old[len(old)-1]
	*q = old[:len(old)-1]
	return last
}

// setNextTransition schedules the entry's next clock-driven change.
// Called with c.mu held.
func (c *CacheOf[T, P]) setNextTransition(key string, e *entry, now time.Time) {
	next, ok := e.item.Analysis.NextTransition(now)
	if !ok {
		e.nextTransition = time.Time{}
		return
	}
	if next.Equal(e.nextTransition) {
		return
	}
	e.nextTransition = next
	wasEarliest := len(c.clockQ) == 0 || next.Before(c.clockQ[0].at)
	heap.Push(&c.clockQ, transition{at: next, key: key})
	if len(c.clockQ) > 2*len(c.entries)+minStaleTransitions {
		c.compactClockQueue()
	}
	if wasEarliest {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// minStaleTransitions keeps a small cache from rebuilding its queue often.
const minStaleTransitions = 1024

// compactClockQueue rebuilds the queue with one transition per entry that
// has one, dropping the stale ones. Called with c.mu held; its cost is
// linear in the objects, paid once per as many stale transitions.
func (c *CacheOf[T, P]) compactClockQueue() {
	q := make(transitionQueue, 0, len(c.entries))
	for key, e := range c.entries {
		if !e.nextTransition.IsZero() {
			q = append(q, transition{at: e.nextTransition, key: key})
		}
	}
	heap.Init(&q)
	c.clockQ = q
}

// Run fires clock-driven changes until ctx ends: when a certificate crosses
// notBefore, expiringSoonAt or notAfter, the object is recomputed and
// watchers get MODIFIED with no Secret change. It sleeps until the earliest
// transition; there is no polling over all Secrets.
func (c *CacheOf[T, P]) Run(ctx context.Context) {
	for {
		wait := c.fireDue()
		var timer clock.Timer
		var timerC <-chan time.Time
		if wait >= 0 {
			timer = c.clock.NewTimer(wait)
			timerC = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-c.wake:
		case <-timerC:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// fireDue recomputes every object whose transition is due and returns how
// long until the next one (-1 when none is scheduled). Many certificates may
// cross an instant together (a CA expiring under a thousand Secrets); such a
// burst is published in chunks of half a watcher's buffer, letting watchers
// drain in between, so that it does not overflow their buffers and close
// every watch at once.
func (c *CacheOf[T, P]) fireDue() time.Duration {
	budget := burstWait
	for {
		wait, more := c.fireChunk(max(c.options.WatcherBuffer/2, 1))
		if !more {
			return wait
		}
		if budget > 0 {
			budget -= c.waitForWatchers(budget)
		}
	}
}

// burstWait bounds how long one burst waits, in all, for watchers to drain,
// so that a slow client delays the others by at most this. Once it is spent,
// a watcher that still falls behind overflows and is closed, as any slow
// one is, and resumes.
const burstWait = time.Second

// fireChunk publishes at most limit of the due changes. more tells whether
// due transitions remain.
func (c *CacheOf[T, P]) fireChunk(limit int) (wait time.Duration, more bool) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for published := 0; len(c.clockQ) > 0 && !c.clockQ[0].at.After(now); {
		if published == limit {
			return 0, true
		}
		due := heap.Pop(&c.clockQ).(transition)
		e, ok := c.entries[due.key]
		if !ok || !e.nextTransition.Equal(due.at) {
			continue // stale: the Secret changed or went away since
		}
		e.nextTransition = time.Time{}
		updated := &entry{item: e.item, at: now}
		object, previous := c.object(updated, 0), c.object(e, e.rv)
		if !c.sameObject(previous, object) {
			updated.rv = c.rv.next()
			object.SetResourceVersion(updated.rv.String())
			c.entries[due.key] = updated
			c.publish(&record{Type: watch.Modified, RV: updated.rv, current: updated, previous: e}, object, previous)
			published++
			e = updated
		}
		c.setNextTransition(due.key, e, now)
	}
	if len(c.clockQ) == 0 {
		return -1, false
	}
	return c.clockQ[0].at.Sub(now), false
}

// waitForWatchers waits, at most timeout, until no watcher's buffer is more
// than half full, and returns how long it waited. While it waits, watchers
// signal c.drained each time they take a change from a buffer at most half
// full or stop, and it re-checks on each signal. It waits in real time
// rather than on the cache's clock: for goroutines, not for an instant.
func (c *CacheOf[T, P]) waitForWatchers(timeout time.Duration) time.Duration {
	began := time.Now()
	// Set before the first check, so a watcher that drains after the check
	// sees it and signals: no wakeup is lost.
	c.bursting.Store(true)
	defer c.bursting.Store(false)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for !c.watchersDrained() {
		select {
		case <-c.drained:
		case <-timer.C:
			return time.Since(began)
		}
	}
	return time.Since(began)
}

// signalDrained wakes waitForWatchers, if a burst is waiting, without blocking.
func (c *CacheOf[T, P]) signalDrained() {
	if !c.bursting.Load() {
		return
	}
	select {
	case c.drained <- struct{}{}:
	default: // a signal is already pending
	}
}

func (c *CacheOf[T, P]) watchersDrained() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, w := range c.watchers {
		if len(w.input) > cap(w.input)/2 {
			return false
		}
	}
	return true
}
