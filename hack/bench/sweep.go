package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sweepFull adds to one size of the way up what issue #27 part 4 asks to
// stay linear: Available after a restart (and the CPU to get there), the
// typed protobuf list against client-go's Secret list, and the fan-out p99.
func (b *bench) sweepFull(ctx context.Context, p *sweepPoint) error {
	p.Startup = &startupFigure{}
	// Each size's last restart is profiled, certstatus and kube-apiserver,
	// to find what grows faster than N.
	if err := b.startupFigure(ctx, p.Startup, 2, profileFor(fmt.Sprintf("cpu-startup-%d.pprof", p.N), p.N)); err != nil {
		return err
	}
	typed := comparison{Key: "typed", Name: "Go client list, all namespaces (protobuf)"}
	if err := b.pairCPUWith(ctx, &typed, b.o.sweepRuns, func() error {
		list, err := b.certs.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{})
		if err == nil {
			typed.OursItems = len(list.Items)
		}
		return err
	}, func() error {
		list, err := b.user.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
		if err == nil {
			typed.PeerItems = len(list.Items)
		}
		return err
	}); err != nil {
		return err
	}
	p.Typed = &typed
	b.logComparison(typed)
	// A lighter fan-out than figure 4: its own number of writes, and only
	// the protobuf watchers through the aggregator and the peer.
	saved := b.o.writes
	b.o.writes = b.o.sweepWrites
	defer func() { b.o.writes = saved }()
	f := &watchFigure{}
	if err := b.watchFigureRuns(ctx, f, false, false); err != nil {
		return err
	}
	p.FanOut, p.PeerFanOut, p.Watchers = &f.fanOutRun, f.Peer, f.Watchers
	logf("N=%d: Available %v (CPU %v); typed list %v (%.1f µs per object); fan-out p99 %v (peer %v)", p.N,
		p.Startup.Available.Median.Round(time.Millisecond), p.Startup.CPU.Median.Round(time.Millisecond),
		typed.Ours.Median.Round(time.Millisecond), perObject(typed.Ours.Median, p.N),
		p.FanOut.Latency.P99.Round(time.Millisecond), p.PeerFanOut.Latency.P99.Round(time.Millisecond))
	return nil
}

// perObject is d per object, in µs.
func perObject(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}
