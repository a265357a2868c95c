package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// pollInterval is how often readiness is probed: fast, because every test
// waits on it, and each probe is a cheap local request.
const pollInterval = 100 * time.Millisecond

// errPortInUse marks a process that died because its port was taken between
// freePort and its bind; the caller retries with new ports.
var errPortInUse = errors.New("address already in use")

// waitReady polls url (http or https) until it answers 200, the process exits, or ctx ends.
func waitReady(ctx context.Context, p *process, url string, tlsConfig *tls.Config) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsConfig, DisableKeepAlives: true},
	}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		if err := p.failure(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s at %s: %w (last answer: %s)\n%s", p.name, url, ctx.Err(), last, tail(p.logPath, 30))
		case <-p.done:
		case <-time.After(pollInterval):
		}
	}
}

// failure returns an error if the process has exited, wrapping errPortInUse
// when its log says the port was taken.
func (p *process) failure() error {
	if !p.exited() {
		return nil
	}
	logTail := tail(p.logPath, 30)
	if strings.Contains(logTail, "address already in use") {
		return fmt.Errorf("%s exited (%v): %w", p.name, p.err, errPortInUse)
	}
	return fmt.Errorf("%s exited early (%v); log %s:\n%s", p.name, p.err, p.logPath, logTail)
}

// startOnFreePort runs start with a free loopback port, up to three times
// (with a new port each time) while it fails with errPortInUse.
func startOnFreePort(start func(port int) error) error {
	var err error
	for range 3 {
		port, portErr := freePort()
		if portErr != nil {
			return portErr
		}
		if err = start(port); !errors.Is(err, errPortInUse) {
			return err
		}
	}
	return err
}

// fatal marks an error that ends poll at once instead of being retried.
type fatal struct{ error }

func (f fatal) Unwrap() error { return f.error }

// poll calls check every interval until it returns true, a fatal error, or
// ctx ends; other errors are retried and reported if time runs out.
func poll(ctx context.Context, interval time.Duration, what string, check func(context.Context) (bool, error)) error {
	var lastErr error
	for {
		ok, err := check(ctx)
		if ok {
			return nil
		}
		var f fatal
		if errors.As(err, &f) {
			return fmt.Errorf("wait for %s: %w", what, f.error)
		}
		lastErr = err
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("wait for %s: %w (last error: %v)", what, ctx.Err(), lastErr)
			}
			return fmt.Errorf("wait for %s: %w", what, ctx.Err())
		case <-time.After(interval):
		}
	}
}
