package registrationsource

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// signallingDecorator calls Trust.changed from inside Decorate, with the
// registrations' cache lock held, as the Secret cache's subscriber does when
// Decorate's own PutRegistration makes the Secret cache rebuild a serving
// Secret.
type signallingDecorator struct {
	trust     *Trust
	decorated atomic.Int32
}

func (d *signallingDecorator) Decorate(key statuscache.Key, base statuscache.Analysis) statuscache.Analysis {
	d.trust.mu.Lock()
	d.trust.keys[key] = struct{}{}
	d.trust.mu.Unlock()
	d.decorated.Add(1)
	d.trust.changed()
	return base
}

// A change heard while a registration is being decorated never rebuilds on
// that goroutine (it would wait for the cache lock it holds); Trust.run
// rebuilds the registrations afterwards.
func TestChangedDuringDecorateDoesNotDeadlock(t *testing.T) {
	rebuilds := statuscache.NewRebuilds()
	trust := &Trust{rebuilds: rebuilds, keys: map[statuscache.Key]struct{}{}, signal: make(chan struct{}, 1)}
	decorator := &signallingDecorator{trust: trust}
	cache := statuscache.NewOf[certstatus.ClusterCertificateStatus](statuscache.ClusterCertificateStatuses,
		clocktesting.NewFakeClock(now), statuscache.Options{HistorySize: 10}, decorator, rebuilds)

	upserted := make(chan struct{})
	go func() {
		defer close(upserted)
		cache.Upsert(statuscache.Item{Meta: &metav1.ObjectMeta{Name: "validatingwebhookconfiguration.hooks", UID: "uid"}, Analysis: webhookAnalysis(t)})
	}()
	select {
	case <-upserted:
	case <-time.After(10 * time.Second):
		t.Fatal("Upsert deadlocked: changed rebuilt on the decorating goroutine")
	}
	if n := decorator.decorated.Load(); n != 1 {
		t.Fatalf("decorated %d times before run, want 1", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go trust.run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for decorator.decorated.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("run never rebuilt the registration")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
