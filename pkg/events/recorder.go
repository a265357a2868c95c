package events

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Options tune the recorder.
type Options struct {
	// MaxAge: transitions that began longer ago are never recorded.
	MaxAge time.Duration
	// QPS and Burst are the token bucket Event writes go through.
	QPS   float32
	Burst int
	// QueueSize bounds the transitions waiting to be written; beyond it they
	// are dropped and counted.
	QueueSize int
	// Workers write Events concurrently (all through the one token bucket).
	Workers int
	// Instance is the reportingInstance: the pod or host name.
	Instance string
}

// DefaultOptions: one hour (kube-apiserver's default Event lifetime), 50
// Events a second with bursts of 100, 10 000 queued.
func DefaultOptions() Options {
	return Options{MaxAge: time.Hour, QPS: 50, Burst: 100, QueueSize: 10000, Workers: 4}
}

// Drop causes, the values of the metric's cause label.
const (
	DropQueueFull = "queue_full"
	DropTooOld    = "too_old"
	DropForbidden = "forbidden"
	DropError     = "error"
)

// Observer counts what the recorder does (pkg/metrics implements it).
type Observer interface {
	// Recorded: an Event was created.
	Recorded(reason string)
	// AlreadyRecorded: another replica or an earlier run had created it.
	AlreadyRecorded()
	// Dropped: a transition was not recorded, for cause.
	Dropped(cause string)
}

// Recorder turns state changes into Events.
type Recorder struct {
	client   eventsclient.EventsGetter
	clock    clock.Clock
	options  Options
	observer Observer
	limiter  flowcontrol.RateLimiter
	queue    chan transition

	forbiddenOnce sync.Once
}

// New returns a recorder writing through client. Feed it with
// cache.Subscribe(recorder.Observe) and start it with Run.
func New(client eventsclient.EventsGetter, clk clock.Clock, options Options, observer Observer) *Recorder {
	if options.Workers < 1 {
		options.Workers = 1
	}
	if options.QueueSize < 1 {
		options.QueueSize = 1
	}
	return &Recorder{
		client:   client,
		clock:    clk,
		options:  options,
		observer: observer,
		limiter:  flowcontrol.NewTokenBucketRateLimiterWithClock(options.QPS, options.Burst, clk),
		queue:    make(chan transition, options.QueueSize),
	}
}

// Observe takes one change from the Secret kind's cache
// (cache.Subscribe(recorder.Observe)).
func (r *Recorder) Observe(change statuscache.Change) {
	Subscriber(r, SecretKind, statuscache.CertificateStatuses)(change)
}

// Subscriber is what a kind's cache subscribes to feed the recorder:
// cache.Subscribe(events.Subscriber(recorder, events.ConfigMapKind,
// statuscache.ConfigMapCertificateStatuses)). It never blocks: it is
// called under the cache's lock.
func Subscriber[T any, P statuscache.Object[T]](r *Recorder, kind *Kind, objects statuscache.Kind[T]) func(statuscache.ChangeOf[T, P]) {
	view := func(o P) observed { return observed{meta: objects.Meta(o), status: objects.Status(o)} }
	return func(change statuscache.ChangeOf[T, P]) {
		if change.Object == nil || change.Type == watch.Deleted {
			return
		}
		var previous *observed
		if change.Previous != nil {
			p := view(change.Previous)
			previous = &p
		}
		now := view(change.Object)
		if t, ok := transitionIn(kind, previous, now); ok {
			r.enqueue(t)
		}
		if t, ok := hostsTransitionIn(kind, previous, now); ok {
			r.enqueue(t)
		}
	}
}

// enqueue hands a transition to the workers unless it is too old or the
// queue is full.
func (r *Recorder) enqueue(t transition) {
	if t.identity != "" {
		t.at = r.clock.Now() // undated: observed now (see transition.identity)
	}
	if r.tooOld(t) {
		r.observer.Dropped(DropTooOld)
		return
	}
	select {
	case r.queue <- t:
	default:
		r.observer.Dropped(DropQueueFull)
	}
}

// tooOld tells whether the transition began more than MaxAge ago.
func (r *Recorder) tooOld(t transition) bool {
	return r.clock.Since(t.at) > r.options.MaxAge
}

// Run writes Events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.options.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case t := <-r.queue:
					r.record(ctx, t)
				}
			}
		}()
	}
	wg.Wait()
}

// retries bounds the attempts at a transient failure.
const retries = 5

// record creates the Event of t, retrying transient failures with backoff
// while the transition is younger than MaxAge.
func (r *Recorder) record(ctx context.Context, t transition) {
	event := t.event(r.options.Instance)
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if r.tooOld(t) {
			r.observer.Dropped(DropTooOld)
			return
		}
		if err := r.limiter.Wait(ctx); err != nil {
			return // ctx ended
		}
		err := r.create(ctx, event)
		switch {
		case err == nil:
			r.observer.Recorded(event.Reason)
			klog.V(2).InfoS("Recorded Event", "event", klog.KRef(event.Namespace, event.Name), "reason", event.Reason)
			return
		case apierrors.IsAlreadyExists(err):
			r.observer.AlreadyRecorded()
			klog.V(4).InfoS("Event already recorded", "event", klog.KRef(event.Namespace, event.Name))
			return
		case apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
			r.observer.Dropped(DropError)
			return
		case apierrors.IsForbidden(err):
			r.observer.Dropped(DropForbidden)
			r.forbiddenOnce.Do(func() {
				klog.ErrorS(err, "Cannot record Events: certstatus-apiserver needs create on events.k8s.io events. "+
					"Grant it (kubectl apply -k artifacts/events, or the Helm value events.enabled=true) or run without --events. "+
					"Serving continues; further refusals are only counted (certstatus_events_dropped_total{cause=\"forbidden\"})",
					"event", klog.KRef(event.Namespace, event.Name))
			})
			return
		case ctx.Err() != nil:
			return
		case attempt >= retries || !transient(err):
			r.observer.Dropped(DropError)
			klog.ErrorS(err, "Cannot record Event", "event", klog.KRef(event.Namespace, event.Name), "reason", event.Reason)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-r.clock.After(backoff):
		}
		backoff *= 2
	}
}

func (r *Recorder) create(ctx context.Context, event *eventsv1.Event) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := r.client.Events(event.Namespace).Create(ctx, event, metav1.CreateOptions{})
	return err
}

// transient tells whether a failure may pass by itself: anything but a
// refusal of the request as such (invalid, not found, bad request).
func transient(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // a connection error
	}
	return !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) && !apierrors.IsNotFound(err) &&
		!apierrors.IsMethodNotSupported(err) && !apierrors.IsUnauthorized(err)
}

// QueueLength is how many transitions wait to be written.
func (r *Recorder) QueueLength() int { return len(r.queue) }
