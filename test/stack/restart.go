package stack

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// restartTimeout bounds the wait for a restarted control-plane process (on
// top of the caller's context).
const restartTimeout = 2 * time.Minute

// restartAttempts is how often a restart is tried while the process dies
// because another program took its port in the meantime; the port cannot
// change, since kubeconfigs and kube-apiserver's --etcd-servers name it.
const restartAttempts = 5

// RestartAPIServer stops kube-apiserver by its PID (SIGTERM, then SIGKILL to
// the same PID after 10 s) and starts it again with the same flags and
// port, waiting for /readyz. Open watches through it end; clients reconnect
// to the same URL. Stop stops the new process.
func (s *Stack) RestartAPIServer(ctx context.Context) error {
	return s.restart(ctx, "kube-apiserver", &s.apiserver, s.apiserverReady)
}

// RestartEtcd stops etcd by its PID (SIGTERM, then SIGKILL to the same PID
// after 10 s) and starts it again with the same flags, ports and data dir,
// waiting for its /health and then for kube-apiserver's /readyz (which
// checks etcd), so the control plane as a whole is usable again when it
// returns. Stop stops the new process.
func (s *Stack) RestartEtcd(ctx context.Context) error {
	return s.restart(ctx, "etcd", &s.etcd, func(ctx context.Context, p *process) error {
		if err := waitReady(ctx, p, s.etcdURL+"/health", nil); err != nil {
			return err
		}
		s.mu.Lock()
		apiserver := s.apiserver
		s.mu.Unlock()
		if err := s.apiserverReady(ctx, apiserver); err != nil {
			return fmt.Errorf("kube-apiserver after the etcd restart: %w", err)
		}
		return nil
	})
}

// apiserverReady waits for p's (kube-apiserver's) /readyz.
func (s *Stack) apiserverReady(ctx context.Context, p *process) error {
	tlsConfig, err := clientTLS(s.certs.clusterCA.CertPEM, s.certs.admin)
	if err != nil {
		return err
	}
	return waitReady(ctx, p, s.apiserverURL+"/readyz", tlsConfig)
}

// restart stops *slot (guarded by s.mu) and starts it again with the same
// binary, arguments and log. A new process is started only under s.mu and
// only while the stack is not stopping, so Stop always sees, and stops, the
// newest one; replaced processes stay in PIDs.
func (s *Stack) restart(ctx context.Context, what string, slot **process, ready func(context.Context, *process) error) error {
	s.restartMu.Lock()
	defer s.restartMu.Unlock()
	begin := time.Now()
	s.mu.Lock()
	old, stopped := *slot, s.stopped
	s.mu.Unlock()
	switch {
	case stopped:
		return fmt.Errorf("restart %s: stack is stopping", what)
	case old == nil:
		return fmt.Errorf("restart %s: not started", what)
	}
	if err := old.stop(); err != nil {
		return fmt.Errorf("restart %s: %w", what, err)
	}
	s.logf("%s (pid %d) stopped in %v", what, old.PID(), time.Since(begin).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(ctx, restartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return fmt.Errorf("restart %s: stack is stopping", what)
		}
		p, err := (*slot).respawn()
		if err == nil {
			s.retired = append(s.retired, *slot)
			*slot = p
		}
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("restart %s: %w", what, err)
		}
		err = ready(ctx, p)
		if err == nil {
			s.logf("%s restarted (pid %d → %d) in %v", what, old.PID(), p.PID(), time.Since(begin).Round(time.Millisecond))
			return nil
		}
		_ = p.stop()
		if !errors.Is(err, errPortInUse) || attempt == restartAttempts {
			return fmt.Errorf("restart %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}
