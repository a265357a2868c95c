package main

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// certstatus keeps a watch history bounded by a count of changes
// (--watch-history-size), and a change remembers the version it replaced.
// Loading Ingresses or Pods changes their Secrets' usedBy, so right after a
// load the history is full of those changes and of the versions they
// replaced: heap that is bounded, not per object. refillHistory writes as
// many changes of a few filler Secrets of its own as the history holds,
// which pushes out whatever was there, so that memory measured after it
// holds the same history every time.
const (
	historyNamespace = "certstatus-bench-history"
	historyFillers   = 16
)

// historyBound is the server's --watch-history-size.
func (b *bench) historyBound() int {
	bound := statuscache.DefaultOptions().HistorySize
	for _, arg := range b.o.serverArgs {
		if value, ok := strings.CutPrefix(arg, "--watch-history-size="); ok {
			if n, err := strconv.Atoi(value); err == nil {
				bound = n
			}
		}
	}
	return bound
}

// refillHistory fills the history with bound changes of the filler Secrets
// and waits until certstatus has seen the last of them.
func (b *bench) refillHistory(ctx context.Context, bound int) error {
	if err := ensureNamespace(ctx, b.kube, historyNamespace); err != nil {
		return err
	}
	ca, err := certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: "Bench History CA"}})
	if err != nil {
		return err
	}
	perFiller := (bound + historyFillers - 1) / historyFillers
	round := strconv.FormatInt(time.Now().UnixNano(), 36)
	// Expired leaves without their CA: each version of a Secret with a
	// transition ahead (a leaf's or its CA's expiry) queues one for the
	// clock, and the queue keeps superseded ones until they are due; these
	// have none, so the refill adds nothing but the history itself.
	expired := time.Now().Add(-24 * time.Hour)
	err = parallelN(ctx, historyFillers, historyFillers, func(i int) error {
		name := fmt.Sprintf("filler-%02d", i)
		secret, err := ecdsaSecret(ca, historyNamespace, name, expired.Add(-24*time.Hour), expired, nil)
		if err != nil {
			return err
		}
		delete(secret.Data, "ca.crt")
		if _, err := b.kube.CoreV1().Secrets(historyNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		for k := range perFiller {
			patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"%s-%d"}}}`, seqLabel, round, k)
			if _, err := b.kube.CoreV1().Secrets(historyNamespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refill the watch history: %w", err)
	}
	last := fmt.Sprintf("%s-%d", round, perFiller-1)
	return pollUntil(ctx, time.Minute, func() bool {
		list, err := b.certs.CertstatusV1alpha1().CertificateStatuses(historyNamespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != historyFillers {
			return false
		}
		for _, item := range list.Items {
			if item.Labels[seqLabel] != last {
				return false
			}
		}
		return true
	})
}

// serverMemoryRefilled is serverMemory after refilling the history; it
// returns the history's length as certstatus reports it.
func (b *bench) serverMemoryRefilled(ctx context.Context, bound int) (memory, int, error) {
	if err := b.refillHistory(ctx, bound); err != nil {
		return memory{}, 0, err
	}
	m, err := b.serverMemory(ctx)
	if err != nil {
		return m, 0, err
	}
	metrics, err := measure.Scrape(ctx, b.direct, "/metrics")
	if err != nil {
		return m, 0, err
	}
	return m, int(metrics.Sum("certstatus_watch_history_length", nil)), nil
}
