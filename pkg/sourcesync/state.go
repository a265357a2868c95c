// Package sourcesync is the synced state of one source (Secrets, and later
// ConfigMaps and API registrations): whether its initial list is in the
// cache, and, while it is not, why. Readiness reads the Secret source's
// state only; every resource answers its reads from its own source's state,
// so a source whose reads are forbidden never delays or breaks another.
package sourcesync

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
)

// Observer counts reads RBAC refused (pkg/metrics implements it).
type Observer interface {
	ForbiddenRead(resource string)
}

// State is one source's synced state. Safe for concurrent use.
type State struct {
	// resource is what the source lists, e.g. "secrets".
	resource string
	observer Observer

	synced     chan struct{}
	syncedOnce sync.Once

	// refused is closed on the first refusal, so that waiting reads answer at once.
	refused     chan struct{}
	refusedOnce sync.Once

	mu        sync.Mutex
	forbidden error // the last refusal while not synced; nil once synced
	logged    bool
}

// New is the state of a source that lists resource; observer may be nil.
func New(resource string, observer Observer) *State {
	return &State{resource: resource, observer: observer, synced: make(chan struct{}), refused: make(chan struct{})}
}

// Resource is what the source lists.
func (s *State) Resource() string { return s.resource }

// MarkSynced records that the source's initial list is in the cache.
func (s *State) MarkSynced() {
	s.syncedOnce.Do(func() {
		s.mu.Lock()
		s.forbidden = nil
		s.mu.Unlock()
		close(s.synced)
	})
}

// HasSynced tells whether MarkSynced was called.
func (s *State) HasSynced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

// WaitSynced blocks until the source has synced or ctx ends.
func (s *State) WaitSynced(ctx context.Context) error {
	select {
	case <-s.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Forbidden records a list or watch RBAC refused: counted every time,
// logged once, and named by Unavailable until the source syncs.
func (s *State) Forbidden(err error) {
	if s.observer != nil {
		s.observer.ForbiddenRead(s.resource)
	}
	s.mu.Lock()
	first := !s.logged
	s.logged = true
	if !s.HasSynced() {
		s.forbidden = err
	}
	s.mu.Unlock()
	s.refusedOnce.Do(func() { close(s.refused) })
	if first {
		klog.InfoS("Not allowed to list or watch; its resource answers 503 until RBAC allows it", "resource", s.resource, "err", err)
	}
}

// Wait is what a read of the source's resource does before answering: nil
// once synced; a 503 naming the missing permission as soon as the source's
// reads are refused; else a 503 after at most timeout. The 503
// carries no Retry-After: nothing says when RBAC will change.
func (s *State) Wait(ctx context.Context, timeout time.Duration) error {
	if s.HasSynced() {
		return nil
	}
	if err := s.refusal(); err != nil {
		return err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.synced:
		return nil
	case <-s.refused:
		if err := s.refusal(); err != nil {
			return err
		}
		if s.HasSynced() {
			return nil
		}
	case <-timer.C:
	case <-ctx.Done():
	}
	if err := s.refusal(); err != nil {
		return err
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the %s cache has not synced yet; retry shortly", s.resource))
}

// refusal is the 503 naming the missing permission, or nil when no read was refused.
func (s *State) refusal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forbidden == nil {
		return nil
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("cannot list %s: %v; grant get, list and watch on %s",
		s.resource, s.forbidden, s.resource))
}
