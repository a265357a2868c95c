package statuscache

import (
	"fmt"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/watchtest"
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeAnalysis is Valid until expiringSoonAt, ExpiringSoon until notAfter, then Expired.
type fakeAnalysis struct {
	expiringSoonAt, notAfter time.Time
	tag                      string // distinguishes renewed certificates
}

func (f fakeAnalysis) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	status := certstatus.CertificateStatusStatus{SecretType: "kubernetes.io/tls", State: certstatus.StateValid}
	switch {
	case !now.Before(f.notAfter):
		status.State = certstatus.StateExpired
	case !now.Before(f.expiringSoonAt):
		status.State = certstatus.StateExpiringSoon
	}
	status.Chain.Message = f.tag
	return status
}

func (f fakeAnalysis) NextTransition(now time.Time) (time.Time, bool) {
	for _, t := range []time.Time{f.expiringSoonAt, f.notAfter} {
		if t.After(now) {
			return t, true
		}
	}
	return time.Time{}, false
}

func item(namespace, name string, labels map[string]string, analysis fakeAnalysis) Item {
	return Item{Meta: &metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels, UID: types.UID("uid-" + name)}, Analysis: analysis}
}

func longLived(tag string) fakeAnalysis {
	return fakeAnalysis{expiringSoonAt: start.Add(1000 * time.Hour), notAfter: start.Add(2000 * time.Hour), tag: tag}
}

func newTestCache(t *testing.T, options Options) (*Cache, *clocktesting.FakeClock) {
	t.Helper()
	clk := clocktesting.NewFakeClock(start)
	return New(clk, options), clk
}

func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	return watchtest.Next(t, w, 5*time.Second)
}

func expectNothing(t *testing.T, w watch.Interface) {
	t.Helper()
	select {
	case ev := <-w.ResultChan():
		t.Fatalf("unexpected event %s %v", ev.Type, ev.Object)
	case <-time.After(50 * time.Millisecond):
	}
}

// objectOf is the event's object; a live event's is wrapped for encoding once.
func objectOf(t *testing.T, ev watch.Event) *certstatus.CertificateStatus {
	t.Helper()
	obj := ev.Object
	if cacheable, ok := obj.(runtime.CacheableObject); ok {
		obj = cacheable.GetObject()
	}
	object, ok := obj.(*certstatus.CertificateStatus)
	if !ok {
		t.Fatalf("event object is %T", ev.Object)
	}
	return object
}

func TestUpsertChangesResourceVersionOnlyWhenTheObjectChanges(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "web", nil, longLived("v1")))
	first, _ := c.Get("a", "web")

	c.Upsert(item("a", "web", nil, longLived("v1"))) // same content: a resync
	same, _ := c.Get("a", "web")
	if same.ResourceVersion != first.ResourceVersion {
		t.Errorf("unchanged object got a new resourceVersion: %s -> %s", first.ResourceVersion, same.ResourceVersion)
	}

	c.Upsert(item("a", "web", nil, longLived("v2"))) // renewed
	renewed, _ := c.Get("a", "web")
	if renewed.ResourceVersion == first.ResourceVersion {
		t.Errorf("changed object kept resourceVersion %s", first.ResourceVersion)
	}
	c.Upsert(item("a", "web", map[string]string{"tier": "x"}, longLived("v2"))) // label change
	relabelled, _ := c.Get("a", "web")
	if relabelled.ResourceVersion == renewed.ResourceVersion {
		t.Errorf("label change kept resourceVersion %s", renewed.ResourceVersion)
	}
}

func TestWatchFromListResourceVersionSeesEveryLaterChange(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "one", nil, longLived("v1")))
	listed := c.List(ListOptions{})
	w, err := c.Watch(WatchOptions{ResourceVersion: listed.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	expectNothing(t, w)

	c.Upsert(item("a", "two", nil, longLived("v1")))
	c.Upsert(item("a", "one", nil, longLived("v2")))
	c.Delete("a", "two")
	var got []string
	for i := 0; i < 3; i++ {
		ev := next(t, w)
		got = append(got, string(ev.Type)+" "+objectOf(t, ev).Name)
	}
	want := []string{"ADDED two", "MODIFIED one", "DELETED two"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestWatchResumesFromAnOlderResourceVersionByReplayingHistory(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "one", nil, longLived("v1")))
	resumeFrom := c.ResourceVersion()
	c.Upsert(item("a", "one", nil, longLived("v2")))
	c.Upsert(item("a", "two", nil, longLived("v1")))

	w, err := c.Watch(WatchOptions{ResourceVersion: resumeFrom})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := next(t, w); ev.Type != watch.Modified || objectOf(t, ev).Status.Chain.Message != "v2" {
		t.Errorf("first replayed event %s %+v, want MODIFIED one v2", ev.Type, objectOf(t, ev))
	}
	if ev := next(t, w); ev.Type != watch.Added || objectOf(t, ev).Name != "two" {
		t.Errorf("second replayed event %s %s, want ADDED two", ev.Type, objectOf(t, ev).Name)
	}
	expectNothing(t, w)
}

func TestWatchFromAnUnservableResourceVersionIsGone(t *testing.T) {
	options := DefaultOptions()
	options.HistorySize = 2
	c, _ := newTestCache(t, options)
	c.Upsert(item("a", "one", nil, longLived("v1")))
	tooOld := c.ResourceVersion()
	for _, tag := range []string{"v2", "v3", "v4"} {
		c.Upsert(item("a", "one", nil, longLived(tag)))
	}
	for name, rv := range map[string]ResourceVersion{
		"older than the history":      tooOld,
		"from another process, below": c.rv.first - 5,
		"from another process, above": c.ResourceVersion() + 1<<counterBits,
		"not yet given out":           c.ResourceVersion() + 1,
	} {
		if _, err := c.Watch(WatchOptions{ResourceVersion: rv}); !apierrors.IsResourceExpired(err) {
			t.Errorf("%s: err = %v, want 410 Gone", name, err)
		}
	}
}

func TestAResourceVersionOfAnotherProcessIsForeignEvenWhenNumbersOverlap(t *testing.T) {
	this, other := newResourceVersions(7), newResourceVersions(8)
	for i := 0; i < 1000; i++ {
		this.next()
		other.next()
	}
	if this.ours(other.current()) || other.ours(this.current()) {
		t.Error("a resourceVersion of another epoch passes as ours")
	}
	if !this.ours(this.current()) || this.ours(this.current()+1) {
		t.Error("ours() is wrong about this process's own resourceVersions")
	}
	if epoch := randomEpoch(); epoch == 0 || epoch >= 1<<epochBits {
		t.Errorf("epoch %d out of range", epoch)
	}
	if last := newResourceVersions(1<<epochBits-1).first + 1<<counterBits - 1; last > 1<<63-1 {
		t.Errorf("resourceVersions exceed int64: %d", last)
	}
}

func TestStreamingListSendsInitialEventsThenTheEndBookmark(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "one", nil, longLived("v1")))
	c.Upsert(item("b", "two", nil, longLived("v1")))
	w, err := c.Watch(WatchOptions{SendInitialEvents: ptr.To(true), AllowBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, name := range []string{"one", "two"} {
		if ev := next(t, w); ev.Type != watch.Added || objectOf(t, ev).Name != name {
			t.Errorf("got %s %s, want ADDED %s", ev.Type, objectOf(t, ev).Name, name)
		}
	}
	ev := next(t, w)
	bookmark := objectOf(t, ev)
	if ev.Type != watch.Bookmark || bookmark.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("got %s %v, want the initial-events-end BOOKMARK", ev.Type, bookmark.Annotations)
	}
	if bookmark.ResourceVersion != c.ResourceVersion().String() {
		t.Errorf("bookmark at %s, want the snapshot's %s", bookmark.ResourceVersion, c.ResourceVersion())
	}
	c.Upsert(item("a", "three", nil, longLived("v1")))
	if ev := next(t, w); ev.Type != watch.Added || objectOf(t, ev).Name != "three" {
		t.Errorf("got %s %s after the bookmark, want ADDED three", ev.Type, objectOf(t, ev).Name)
	}
}

func TestWatchFromZeroWithoutInitialEventsStartsNow(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "old", nil, longLived("v1")))
	w, err := c.Watch(WatchOptions{SendInitialEvents: ptr.To(false)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	c.Upsert(item("a", "new", nil, longLived("v1")))
	if ev := next(t, w); ev.Type != watch.Added || objectOf(t, ev).Name != "new" {
		t.Errorf("got %s %s, want only the later ADDED new", ev.Type, objectOf(t, ev).Name)
	}
	expectNothing(t, w)

	legacy, err := c.Watch(WatchOptions{}) // resourceVersion 0, sendInitialEvents unset
	if err != nil {
		t.Fatal(err)
	}
	defer legacy.Stop()
	for range 2 {
		if ev := next(t, legacy); ev.Type != watch.Added {
			t.Errorf("legacy watch from 0 got %s, want the current objects as ADDED", ev.Type)
		}
	}
	expectNothing(t, legacy)
}

func TestSelectorsTurnEnteringAndLeavingIntoAddedAndDeleted(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	frontend := map[string]string{"tier": "frontend"}
	c.Upsert(item("a", "web", nil, longLived("v1")))
	w, err := c.Watch(WatchOptions{
		ResourceVersion: c.ResourceVersion(),
		Matches:         func(o *certstatus.CertificateStatus) bool { return o.Labels["tier"] == "frontend" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	c.Upsert(item("a", "web", frontend, longLived("v1"))) // enters
	c.Upsert(item("a", "web", frontend, longLived("v2"))) // stays
	c.Upsert(item("a", "web", nil, longLived("v2")))      // leaves
	c.Upsert(item("a", "other", nil, longLived("v1")))    // never in
	var got []watch.EventType
	for i := 0; i < 3; i++ {
		got = append(got, next(t, w).Type)
	}
	want := []watch.EventType{watch.Added, watch.Modified, watch.Deleted}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	expectNothing(t, w)
}

func TestTheClockAloneProducesModifiedEvents(t *testing.T) {
	c, clk := newTestCache(t, DefaultOptions())
	analysis := fakeAnalysis{expiringSoonAt: start.Add(time.Hour), notAfter: start.Add(2 * time.Hour)}
	c.Upsert(item("a", "web", nil, analysis))
	w := runClockAndWatch(t, c)

	for _, want := range []certstatus.State{certstatus.StateExpiringSoon, certstatus.StateExpired} {
		waitForTimers(t, clk)
		clk.Step(time.Hour)
		ev := next(t, w)
		if ev.Type != watch.Modified || objectOf(t, ev).Status.State != want {
			t.Errorf("got %s %s, want MODIFIED %s", ev.Type, objectOf(t, ev).Status.State, want)
		}
	}
}

func TestASlowWatcherIsDroppedWithoutBlockingOthers(t *testing.T) {
	options := DefaultOptions()
	options.WatcherBuffer = 2
	c, _ := newTestCache(t, options)
	slow, _ := c.Watch(WatchOptions{ResourceVersion: c.ResourceVersion()})
	fast, _ := c.Watch(WatchOptions{ResourceVersion: c.ResourceVersion()})
	defer fast.Stop()

	received := make(chan int)
	go func() {
		n := 0
		for range fast.ResultChan() {
			n++
			if n == 20 {
				received <- n
				return
			}
		}
	}()
	for i := 0; i < 20; i++ {
		c.Upsert(item("a", "web", nil, longLived(string(rune('a'+i)))))
		time.Sleep(time.Millisecond) // let the reading watcher keep up
	}
	select {
	case <-received:
	case <-time.After(5 * time.Second):
		t.Fatal("the reading watcher did not get all 20 events")
	}
	// The slow watcher's stream ends once its buffer is drained.
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-slow.ResultChan():
			if !ok {
				if stats := c.Stats(); stats.WatchersClosedBehind != 1 || stats.Watchers != 1 {
					t.Errorf("stats %+v, want one watcher open and one closed for falling behind", stats)
				}
				return
			}
		case <-deadline:
			t.Fatal("the slow watcher was not dropped")
		}
	}
}

func TestListPagesCoverEveryObjectOnce(t *testing.T) {
	c, _ := newTestCache(t, DefaultOptions())
	for _, key := range [][2]string{{"b", "x"}, {"a", "z"}, {"a", "y"}, {"c", "w"}, {"a-b", "v"}} {
		c.Upsert(item(key[0], key[1], nil, longLived("v1")))
	}
	want := []string{"a-b/v", "a/y", "a/z", "b/x", "c/w"}
	everything := func(*certstatus.CertificateStatus) bool { return true }
	for _, deferred := range []bool{false, true} {
		var got []string
		page := ListResult{}
		for {
			// Statuses are deferred unless a selector needs them.
			options := ListOptions{Limit: 2, StartKey: page.NextKey}
			if !deferred {
				options.Matches = everything
			}
			page = c.List(options)
			if (page.Status != nil) != deferred {
				t.Fatalf("deferred %v, but Status set: %v", deferred, page.Status != nil)
			}
			for i, object := range page.Items {
				got = append(got, objectKey(object.Namespace, object.Name))
				if deferred {
					// Deferred: metadata only, and Status builds what Get returns.
					full, _ := c.Get(object.Namespace, object.Name)
					if object.Status.State != "" || !apiequality.Semantic.DeepEqual(page.Status(i), full.Status) || object.ResourceVersion != full.ResourceVersion {
						t.Errorf("deferred %s: %+v / %+v, want the status of %+v", object.Name, object, page.Status(i), full)
					}
				}
			}
			if page.NextKey == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages (deferred %v) %v, want %v", deferred, got, want)
		}
	}
	inA := c.List(ListOptions{Namespace: "a"})
	if len(inA.Items) != 2 || inA.Items[0].Name != "y" || inA.Items[1].Name != "z" {
		t.Errorf("namespace a lists %v", inA.Items)
	}
}

// An object is built at the instant its entry was evaluated, not at the
// moment it is read: until the clock loop handles a due transition, a read
// shows the state that goes with the object's resourceVersion.
func TestAReadBeforeTheClockLoopRunsMatchesTheResourceVersion(t *testing.T) {
	c, clk := newTestCache(t, DefaultOptions())
	c.Upsert(item("a", "web", nil, fakeAnalysis{expiringSoonAt: start.Add(time.Hour), notAfter: start.Add(2 * time.Hour)}))
	before, _ := c.Get("a", "web")

	clk.Step(90 * time.Minute) // past expiringSoonAt; the clock loop is not running
	got, _ := c.Get("a", "web")
	page := c.List(ListOptions{})
	listed := page.Items[0]
	listed.Status = page.Status(0)
	for _, o := range []*certstatus.CertificateStatus{got, &listed} {
		if o.Status.State != certstatus.StateValid || o.ResourceVersion != before.ResourceVersion {
			t.Errorf("read %s at resourceVersion %s, want Valid at %s", o.Status.State, o.ResourceVersion, before.ResourceVersion)
		}
	}

	c.fireDue()
	after, _ := c.Get("a", "web")
	if after.Status.State != certstatus.StateExpiringSoon || after.ResourceVersion == before.ResourceVersion {
		t.Errorf("after the transition: %s at resourceVersion %s", after.Status.State, after.ResourceVersion)
	}
}

// Many certificates crossing one instant (a CA expiring under many Secrets)
// reach a watcher that keeps reading, however small its buffer: the burst
// is published in chunks the watcher can drain, not all at once.
func TestABurstOfClockChangesDoesNotCloseAWatcherThatKeepsReading(t *testing.T) {
	options := DefaultOptions()
	options.WatcherBuffer = 8
	c, clk := newTestCache(t, options)
	const secrets = 100
	expiring := fakeAnalysis{expiringSoonAt: start.Add(time.Hour), notAfter: start.Add(2 * time.Hour)}
	for i := range secrets {
		c.Upsert(item("a", fmt.Sprintf("web-%03d", i), nil, expiring))
	}
	w := runClockAndWatch(t, c)

	waitForTimers(t, clk)
	clk.Step(time.Hour)
	seen := map[string]bool{}
	for len(seen) < secrets {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch was closed after %d of %d changes", len(seen), secrets)
			}
			if object := objectOf(t, ev); ev.Type == watch.Modified && object.Status.State == certstatus.StateExpiringSoon {
				seen[object.Name] = true
			}
			time.Sleep(100 * time.Microsecond) // a client slower than the cache
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d changes arrived", len(seen), secrets)
		}
	}
}

// runClockAndWatch starts the cache's clock loop and a watch from now; both
// end with the test.
func runClockAndWatch(t *testing.T, c *Cache) watch.Interface {
	t.Helper()
	ctx, cancel := contextWithCancel()
	t.Cleanup(cancel)
	go c.Run(ctx)
	w, err := c.Watch(WatchOptions{ResourceVersion: c.ResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}
