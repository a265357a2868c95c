package events

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

var now = time.Now().UTC().Truncate(time.Second)

// object is a CertificateStatus in state that began at began.
func object(name string, state certstatus.State, began time.Time) *certstatus.CertificateStatus {
	notAfter := metav1.NewTime(now.Add(time.Hour))
	return &certstatus.CertificateStatus{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, UID: types.UID("uid-" + name)},
		Status: certstatus.CertificateStatusStatus{
			State:    state,
			NotAfter: &notAfter,
			Certificates: []certstatus.CertificateInfo{
				{Role: certstatus.RoleCA, CommonName: "Some CA"},
				{Role: certstatus.RoleLeaf, CommonName: "www.example.com"},
			},
			Conditions: []metav1.Condition{
				{Type: certstatus.ConditionReady, Reason: string(state), Message: "SECRET-ISH detail", LastTransitionTime: metav1.NewTime(began)},
				{Type: certstatus.ConditionExpiringSoon, Reason: string(state), LastTransitionTime: metav1.NewTime(began)},
			},
		},
	}
}

func TestWhichChangesAreTransitions(t *testing.T) {
	began := now.Add(-time.Minute)
	for _, tc := range []struct {
		name             string
		previous, object *certstatus.CertificateStatus
		want             string // reason, or "" for none
	}{
		{"a new valid Secret", nil, object("a", certstatus.StateValid, began), ""},
		{"a new expired Secret", nil, object("a", certstatus.StateExpired, began), "Expired"},
		{"a new invalid Secret", nil, object("a", certstatus.StateInvalid, began), "Invalid"},
		{"a new Secret not valid yet", nil, object("a", certstatus.StateNotYetValid, began), "NotYetValid"},
		{"valid to expiring soon", object("a", certstatus.StateValid, began), object("a", certstatus.StateExpiringSoon, now), "ExpiringSoon"},
		{"expiring soon to expired", object("a", certstatus.StateExpiringSoon, began), object("a", certstatus.StateExpired, now), "Expired"},
		{"recovery", object("a", certstatus.StateExpired, began), object("a", certstatus.StateValid, now), "Valid"},
		{"same state, another write", object("a", certstatus.StateExpired, began), object("a", certstatus.StateExpired, now), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := transitionOf(tc.previous, tc.object)
			if tc.want == "" {
				if ok {
					t.Fatalf("got a transition to %s, want none", got.state)
				}
				return
			}
			if !ok || string(got.state) != tc.want {
				t.Fatalf("got %v %q, want %q", ok, got.state, tc.want)
			}
			if !got.at.Equal(tc.object.Status.Conditions[0].LastTransitionTime.Time) {
				t.Errorf("instant %s, want the conditions' lastTransitionTime %s", got.at, tc.object.Status.Conditions[0].LastTransitionTime)
			}
			event := got.event("replica-1")
			wantType := "Warning"
			if tc.want == "Valid" {
				wantType = "Normal"
			}
			if event.Type != wantType || event.Reason != tc.want {
				t.Errorf("type %s reason %s, want %s %s", event.Type, event.Reason, wantType, tc.want)
			}
			if r := event.Regarding; r.Kind != "CertificateStatus" || r.APIVersion != "certstatus.dev/v1alpha1" ||
				r.Namespace != "team" || r.Name != "a" || r.UID != "uid-a" || event.Namespace != "team" {
				t.Errorf("regarding %+v in namespace %s", r, event.Namespace)
			}
			if !event.EventTime.Time.Equal(got.at) {
				t.Errorf("eventTime %s, want the transition instant %s", event.EventTime, got.at)
			}
			if !strings.Contains(event.Note, `"www.example.com"`) || !strings.Contains(event.Note, got.at.Format(time.RFC3339)) {
				t.Errorf("note %q does not name the certificate and the instant", event.Note)
			}
			if strings.Contains(event.Note, "SECRET-ISH") {
				t.Errorf("note %q copies the condition's message", event.Note)
			}
		})
	}
}

func TestEventNamesAreDeterministicAndValid(t *testing.T) {
	at := now
	a := eventName("web", "uid-1", "Expired", instantKey(at))
	if b := eventName("web", "uid-1", "Expired", instantKey(at.Local())); a != b {
		t.Errorf("same transition, names %q and %q", a, b)
	}
	for _, other := range []string{
		eventName("web", "uid-2", "Expired", instantKey(at)),
		eventName("web", "uid-1", "ExpiringSoon", instantKey(at)),
		eventName("web", "uid-1", "Expired", instantKey(at.Add(time.Second))),
	} {
		if other == a {
			t.Errorf("different transitions share the name %q", a)
		}
	}
	long := strings.Repeat("a", 200) + "." + strings.Repeat("b", 52)
	for _, name := range []string{a, eventName(long, "u", "Expired", instantKey(at)), eventName(strings.Repeat("x", 236)+"-y", "u", "Invalid", instantKey(at))} {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("name %q: %v", name, errs)
		}
	}
}

type counts struct {
	mu       sync.Mutex
	recorded map[string]int
	already  int
	dropped  map[string]int
}

func newCounts() *counts {
	return &counts{recorded: map[string]int{}, dropped: map[string]int{}}
}
func (c *counts) Recorded(reason string) { c.mu.Lock(); c.recorded[reason]++; c.mu.Unlock() }
func (c *counts) AlreadyRecorded()       { c.mu.Lock(); c.already++; c.mu.Unlock() }
func (c *counts) Dropped(cause string)   { c.mu.Lock(); c.dropped[cause]++; c.mu.Unlock() }
func (c *counts) read(f func(*counts) int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f(c)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, r *Recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func change(previous, object *certstatus.CertificateStatus) statuscache.Change {
	if previous == nil {
		return statuscache.Change{Type: watch.Added, Object: object}
	}
	return statuscache.Change{Type: watch.Modified, Object: object, Previous: previous}
}

// Two replicas (or a replica and its restart) see the same transitions: the
// first creates each Event, the second finds it there.
func TestTwoRecordersCreateEachEventOnce(t *testing.T) {
	client := fake.NewClientset()
	first, second := newCounts(), newCounts()
	a := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), first)
	b := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), second)
	start(t, a)
	changes := []statuscache.Change{
		change(object("w", certstatus.StateValid, now.Add(-time.Hour/2)), object("w", certstatus.StateExpiringSoon, now.Add(-time.Minute))),
		change(object("w", certstatus.StateExpiringSoon, now.Add(-time.Minute)), object("w", certstatus.StateExpired, now)),
		change(nil, object("born-expired", certstatus.StateExpired, now)),
		change(nil, object("fine", certstatus.StateValid, now)),
	}
	for _, c := range changes {
		a.Observe(c)
	}
	waitFor(t, "3 Events", func() bool {
		return first.read(func(c *counts) int { return c.recorded["Expired"] + c.recorded["ExpiringSoon"] }) == 3
	})
	start(t, b)
	for _, c := range changes {
		b.Observe(c)
	}
	waitFor(t, "3 already recorded", func() bool { return second.read(func(c *counts) int { return c.already }) == 3 })

	list, err := client.EventsV1().Events("team").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range list.Items {
		got[e.Regarding.Name+"/"+e.Reason]++
	}
	want := map[string]int{"w/ExpiringSoon": 1, "w/Expired": 1, "born-expired/Expired": 1}
	if len(got) != len(want) {
		t.Fatalf("Events %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("Events %v, want %v", got, want)
		}
	}
	if n := second.read(func(c *counts) int { return len(c.recorded) }); n != 0 {
		t.Errorf("the second recorder created %d kinds of Events, want none", n)
	}
}

func TestTransitionsOlderThanMaxAgeAreNotRecorded(t *testing.T) {
	client := fake.NewClientset()
	seen := newCounts()
	r := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), seen)
	start(t, r)
	r.Observe(change(nil, object("old", certstatus.StateExpired, now.Add(-2*time.Hour))))
	r.Observe(change(nil, object("new", certstatus.StateExpired, now)))
	waitFor(t, "the recent one", func() bool { return seen.read(func(c *counts) int { return c.recorded["Expired"] }) == 1 })
	if n := seen.read(func(c *counts) int { return c.dropped[DropTooOld] }); n != 1 {
		t.Errorf("dropped as too old: %d, want 1", n)
	}
	list, _ := client.EventsV1().Events("team").List(context.Background(), metav1.ListOptions{})
	if len(list.Items) != 1 || list.Items[0].Regarding.Name != "new" {
		t.Errorf("Events %v, want only new's", list.Items)
	}
}

// A full queue drops and counts instead of blocking the cache; what fits
// is written, paced by the token bucket.
func TestABurstIsPacedAndOverflowIsCounted(t *testing.T) {
	client := fake.NewClientset()
	seen := newCounts()
	options := DefaultOptions()
	options.QueueSize, options.QPS, options.Burst = 20, 40, 1
	r := New(client.EventsV1(), clock.RealClock{}, options, seen)
	began := time.Now()
	for i := range 25 {
		name := "s" + string(rune('a'+i))
		r.Observe(change(nil, object(name, certstatus.StateExpired, now))) // never blocks: nothing runs yet
	}
	if n := seen.read(func(c *counts) int { return c.dropped[DropQueueFull] }); n != 5 {
		t.Errorf("dropped for a full queue: %d, want 5", n)
	}
	start(t, r)
	waitFor(t, "20 Events", func() bool { return seen.read(func(c *counts) int { return c.recorded["Expired"] }) == 20 })
	// 20 Events at 40/s with a burst of 1 take at least 19/40 s.
	if elapsed := time.Since(began); elapsed < 19*time.Second/40 {
		t.Errorf("20 Events took %s, faster than the token bucket allows", elapsed)
	}
}

// A refused write (RBAC) is counted every time and never stops the recorder.
func TestForbiddenWritesAreCountedAndRecordingGoesOn(t *testing.T) {
	client := fake.NewClientset()
	forbidden := true
	var mu sync.Mutex
	client.PrependReactor("create", "events", func(clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if forbidden {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, "x", nil)
		}
		return false, nil, nil
	})
	seen := newCounts()
	r := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), seen)
	start(t, r)
	r.Observe(change(nil, object("a", certstatus.StateExpired, now)))
	r.Observe(change(nil, object("b", certstatus.StateInvalid, now)))
	waitFor(t, "2 forbidden", func() bool { return seen.read(func(c *counts) int { return c.dropped[DropForbidden] }) == 2 })
	mu.Lock()
	forbidden = false
	mu.Unlock()
	r.Observe(change(nil, object("c", certstatus.StateExpired, now)))
	waitFor(t, "c's Event", func() bool { return seen.read(func(c *counts) int { return c.recorded["Expired"] }) == 1 })
	var events *eventsv1.EventList
	events, _ = client.EventsV1().Events("team").List(context.Background(), metav1.ListOptions{})
	if len(events.Items) != 1 {
		t.Errorf("%d Events, want 1", len(events.Items))
	}
}

// A deletion records nothing.
func TestADeletionRecordsNothing(t *testing.T) {
	seen := newCounts()
	r := New(fake.NewClientset().EventsV1(), clock.RealClock{}, DefaultOptions(), seen)
	gone := object("a", certstatus.StateExpired, now)
	r.Observe(statuscache.Change{Type: watch.Deleted, Object: gone, Previous: object("a", certstatus.StateValid, now)})
	if n := r.QueueLength(); n != 0 {
		t.Errorf("%d transitions queued for a deletion", n)
	}
}

// A Secret that becomes Unknown (a locked keystore) gets a Warning
// KeystoreLocked Event naming the annotation to set.
func TestUnknownIsAWarningKeystoreLocked(t *testing.T) {
	began := now.Add(-time.Minute)
	locked := object("a", certstatus.StateUnknown, now)
	locked.Status.Certificates, locked.Status.NotAfter = nil, nil
	for _, previous := range []*certstatus.CertificateStatus{nil, object("a", certstatus.StateValid, began)} {
		got, ok := transitionOf(previous, locked)
		if !ok {
			t.Fatal("no transition to Unknown")
		}
		event := got.event("replica-1")
		if event.Type != "Warning" || event.Reason != certstatus.ReasonKeystoreLocked || !strings.Contains(event.Note, certstatus.KeystorePasswordKeyAnnotation) {
			t.Errorf("event %s %s %q, want Warning KeystoreLocked naming the annotation", event.Type, event.Reason, event.Note)
		}
	}
}
