package main

import (
	"context"
	"log"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
)

// backgroundLists lists the soak's CertificateStatuses at an interval while
// the churn runs, as a dashboard polling the API would; failures are counted
// and logged, not fatal.
type backgroundLists struct {
	done, failed atomic.Int64
}

func (l *backgroundLists) run(ctx context.Context, certs versioned.Interface, every time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		if _, err := certs.CertstatusV1alpha1().CertificateStatuses(namespace).List(ctx, metav1.ListOptions{}); err != nil && ctx.Err() == nil {
			l.failed.Add(1)
			log.Printf("background list: %v", err)
		}
		l.done.Add(1)
	}
}
