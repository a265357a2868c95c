// Package watchtest holds the waiting that tests of watches share: the next
// event of a watch.Interface, or the next value of any channel a test reads
// a stream from, with a deadline. It is for tests only.
package watchtest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
)

// ErrClosed is Receive's error when the channel closes instead of sending.
var ErrClosed = errors.New("closed while a value was expected")

// Receive waits up to timeout for ch's next value.
func Receive[T any](ch <-chan T, timeout time.Duration) (T, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case value, ok := <-ch:
		if !ok {
			return value, ErrClosed
		}
		return value, nil
	case <-timer.C:
		var zero T
		return zero, fmt.Errorf("nothing within %v", timeout)
	}
}

// Next returns w's next event, failing the test if w closes or sends
// nothing within timeout.
func Next(t testing.TB, w watch.Interface, timeout time.Duration) watch.Event {
	t.Helper()
	event, err := Receive(w.ResultChan(), timeout)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	return event
}
