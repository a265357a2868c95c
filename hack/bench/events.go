package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/test/stack"
)

const eventsNamespace = "certstatus-bench-events"

// eventsFigure: --clock-certs certificates expiring at one instant on a
// server with --events (its own, watching only its namespace): how long
// until every Event exists, and how late the clock's MODIFIED events reach a
// watcher meanwhile.
func (b *bench) eventsFigure(ctx context.Context) error {
	C := b.o.clockCerts
	f := &b.res.Events
	f.Certificates = C
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	if _, _, err := b.st.Kubectl(ctx, "apply", "-k", filepath.Join(root, "artifacts", "events")); err != nil {
		return fmt.Errorf("grant create on events: %w", err)
	}
	if err := ensureNamespace(ctx, b.kube, eventsNamespace); err != nil {
		return err
	}
	args := append(append([]string(nil), b.o.serverArgs...), "--events", "--namespaces="+eventsNamespace)
	srv, err := b.st.LaunchServer(ctx, b.o.server, args...)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	cfg := srv.DirectRESTConfig(b.watchConfig())
	client, err := versioned.NewForConfig(cfg)
	if err != nil {
		return err
	}

	instant, rv, err := b.createExpiringSecrets(ctx, eventsNamespace, "Bench Events CA", C, client)
	if err != nil {
		return err
	}
	logf("events: %d certificates expire at %s, in %v, on a server with --events", C, instant.Format(time.TimeOnly), time.Until(instant).Round(time.Millisecond))

	// The watcher, in the background.
	watchCtx, cancel := context.WithDeadline(ctx, instant.Add(5*time.Minute))
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		seen := map[string]bool{}
		for len(seen) < C && watchCtx.Err() == nil {
			wi, err := client.CertstatusV1alpha1().CertificateStatuses(eventsNamespace).Watch(watchCtx, metav1.ListOptions{ResourceVersion: rv})
			if err != nil {
				logf("events: watch: %v", err)
				return
			}
			for ev := range wi.ResultChan() {
				at := time.Now()
				obj, ok := ev.Object.(*v1alpha1.CertificateStatus)
				if !ok {
					break
				}
				rv = obj.ResourceVersion
				if ev.Type != watch.Modified || obj.Status.State != v1alpha1.StateExpired || seen[obj.Name] {
					continue
				}
				seen[obj.Name] = true
				f.LastModified = at.Sub(instant)
				if len(seen) == C {
					break
				}
			}
			wi.Stop()
		}
		f.Modified = len(seen)
	}()

	// The Events, counted by listing them (the bench may; the server never does).
	for watchCtx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		list, err := b.kube.EventsV1().Events(eventsNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		expired := 0
		for _, e := range list.Items {
			if e.Reason == "Expired" {
				expired++
			}
		}
		f.Events = expired
		if expired >= C {
			f.AllEvents = time.Since(instant)
			break
		}
	}
	<-watched
	logf("events: %d of %d Events, all %v after notAfter; watcher: %d MODIFIED, last %v after notAfter",
		f.Events, C, f.AllEvents.Round(time.Millisecond), f.Modified, f.LastModified.Round(time.Millisecond))
	return nil
}
