package secrets

import (
	"runtime"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// analyseInParallel wraps a Secret watch so that the analysis (the
// informer's transform) runs on every core while events keep their order.
// The informer would otherwise analyse one Secret at a time in its reflector
// goroutine, which a burst of writes (a CA rotated under thousands of
// Secrets) would queue behind. The initial list is analysed the same way
// by listAnalysed. The transform stays idempotent, so the informer passes
// the analysed objects through.
func analyseInParallel(upstream watch.Interface, transform toolscache.TransformFunc) watch.Interface {
	w := &orderedWatch{upstream: upstream, result: make(chan watch.Event), done: make(chan struct{})}
	workers := runtime.GOMAXPROCS(0)
	// Each event gets a slot in arrival order; the slot is filled when its analysis is done.
	slots := make(chan chan watch.Event, 4*workers)
	busy := make(chan struct{}, workers)
	go func() {
		defer close(slots)
		for event := range upstream.ResultChan() {
			slot := make(chan watch.Event, 1)
			select {
			case slots <- slot:
			case <-w.done:
				return
			}
			busy <- struct{}{}
			go func() {
				defer func() { <-busy }()
				slot <- analysed(event, transform)
			}()
		}
	}()
	go func() {
		defer close(w.result)
		for slot := range slots {
			select {
			case w.result <- <-slot:
			case <-w.done:
				return
			}
		}
	}()
	return w
}

// analysed is the event with its Secret analysed. A bookmark keeps only its
// resourceVersion and annotations (a streaming list's initial-events-end
// annotation is one).
func analysed(event watch.Event, transform toolscache.TransformFunc) watch.Event {
	switch event.Type {
	case watch.Added, watch.Modified, watch.Deleted:
		if object, err := transform(event.Object); err == nil {
			if secret, ok := object.(*analysedSecret); ok {
				event.Object = secret
			}
		}
	case watch.Bookmark:
		if m, ok := event.Object.(metav1.Object); ok {
			event.Object = &analysedSecret{ObjectMeta: metav1.ObjectMeta{
				ResourceVersion: m.GetResourceVersion(), Annotations: m.GetAnnotations(),
			}}
		}
	}
	return event
}

type orderedWatch struct {
	upstream watch.Interface
	result   chan watch.Event
	done     chan struct{}
	stopOnce sync.Once
}

func (w *orderedWatch) ResultChan() <-chan watch.Event { return w.result }

func (w *orderedWatch) Stop() {
	w.stopOnce.Do(func() {
		close(w.done)
		w.upstream.Stop()
	})
}
