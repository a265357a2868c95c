package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/generated/informers/externalversions"
	listers "github.com/certstatus/certstatus/generated/listers/certstatus/v1alpha1"
)

// watchers are independent informers, each with its own cache.
type watchers struct {
	listers  []listers.CertificateStatusNamespaceLister
	stopCh   chan struct{}
	shutdown []func()
	ev       atomic.Int64
	watchErr atomic.Int64
}

func startWatchers(ctx context.Context, base *rest.Config, n int) (*watchers, error) {
	ws := &watchers{stopCh: make(chan struct{})}
	count := func(any) { ws.ev.Add(1) }
	var synced []toolscache.InformerSynced
	for i := range n {
		cfg := rest.CopyConfig(base)
		cfg.UserAgent = fmt.Sprintf("soak-watcher-%d", i)
		client, err := versioned.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		factory := externalversions.NewSharedInformerFactoryWithOptions(client, 0, externalversions.WithNamespace(namespace))
		informer := factory.Certstatus().V1alpha1().CertificateStatuses()
		if err := informer.Informer().SetWatchErrorHandlerWithContext(func(ctx context.Context, r *toolscache.Reflector, err error) {
			ws.watchErr.Add(1)
			toolscache.DefaultWatchErrorHandler(ctx, r, err)
		}); err != nil {
			return nil, err
		}
		if _, err := informer.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: count, UpdateFunc: func(_, o any) { count(o) }, DeleteFunc: count,
		}); err != nil {
			return nil, err
		}
		ws.listers = append(ws.listers, informer.Lister().CertificateStatuses(namespace))
		synced = append(synced, informer.Informer().HasSynced)
		factory.Start(ws.stopCh)
		ws.shutdown = append(ws.shutdown, factory.Shutdown)
	}
	syncCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if !toolscache.WaitForCacheSync(syncCtx.Done(), synced...) {
		ws.stop()
		return nil, errors.New("the informers did not sync within 2 minutes")
	}
	return ws, nil
}

func (ws *watchers) events() int64      { return ws.ev.Load() }
func (ws *watchers) watchErrors() int64 { return ws.watchErr.Load() }

func (ws *watchers) stop() {
	select {
	case <-ws.stopCh:
		return
	default:
	}
	close(ws.stopCh)
	for _, shutdown := range ws.shutdown {
		shutdown()
	}
}

// converge takes a fresh list and waits up to timeout until every cache
// holds exactly its names and resourceVersions; it returns the watchers
// that never did.
func (ws *watchers) converge(ctx context.Context, certs versioned.Interface, timeout time.Duration) ([]string, map[string]string, error) {
	list, err := certs.CertstatusV1alpha1().CertificateStatuses(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("fresh list: %w", err)
	}
	fresh := map[string]string{}
	for _, o := range list.Items {
		fresh[o.Name] = o.ResourceVersion
	}
	deadline := time.Now().Add(timeout)
	for {
		var mismatched []string
		for i, lister := range ws.listers {
			if diff := compare(lister, fresh); diff != "" {
				mismatched = append(mismatched, fmt.Sprintf("watcher %d: %s", i, diff))
			}
		}
		if len(mismatched) == 0 || time.Now().After(deadline) {
			return mismatched, fresh, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// compare describes how a cache differs from fresh (name → resourceVersion).
func compare(lister listers.CertificateStatusNamespaceLister, fresh map[string]string) string {
	cached, err := lister.List(labels.Everything())
	if err != nil {
		return err.Error()
	}
	var diffs []string
	seen := map[string]bool{}
	for _, o := range cached {
		seen[o.Name] = true
		switch rv, ok := fresh[o.Name]; {
		case !ok:
			diffs = append(diffs, o.Name+" cached but not listed")
		case rv != o.ResourceVersion:
			diffs = append(diffs, fmt.Sprintf("%s rv %s cached, %s listed", o.Name, o.ResourceVersion, rv))
		}
	}
	for name := range fresh {
		if !seen[name] {
			diffs = append(diffs, name+" listed but not cached")
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	sort.Strings(diffs)
	return fmt.Sprintf("%d differences: %s", len(diffs), strings.Join(diffs[:min(len(diffs), 5)], "; "))
}
