package watchtest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/watch"
)

func TestReceive(t *testing.T) {
	values := make(chan string, 1)
	values <- "first"
	if got, err := Receive(values, time.Second); got != "first" || err != nil {
		t.Errorf("buffered value: got %q, %v; want first, nil", got, err)
	}
	if _, err := Receive(values, 10*time.Millisecond); err == nil || !strings.Contains(err.Error(), "nothing within 10ms") {
		t.Errorf("empty channel: error %v, want nothing within 10ms", err)
	}
	close(values)
	if _, err := Receive(values, time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("closed channel: error %v, want ErrClosed", err)
	}
}

func TestNext(t *testing.T) {
	w := watch.NewFake()
	go w.Add(nil)
	if event := Next(t, w, 5*time.Second); event.Type != watch.Added {
		t.Errorf("event type %s, want %s", event.Type, watch.Added)
	}
}
