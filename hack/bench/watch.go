package main

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

const (
	watchNamespace = "certstatus-bench-watch"
	clockNamespace = "certstatus-bench-clock"
	seqLabel       = "bench/seq"
	// writeWait bounds the wait for one write to reach every watcher.
	writeWait = 10 * time.Second
)

// watchClient is the typed client through the aggregator, without the
// request timeout the list clients have (it would end watches).
func (b *bench) watchClient() (versioned.Interface, error) {
	return versioned.NewForConfig(b.watchConfig())
}

func (b *bench) watchConfig() *rest.Config {
	cfg := b.st.RESTConfig()
	cfg.QPS, cfg.Burst = -1, 0
	cfg.WarningHandler = rest.NoWarnings{}
	return cfg
}

// kubeWatchClient is client-go's clientset, configured as watchClient.
func (b *bench) kubeWatchClient() (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(b.watchConfig())
}

// watchFanOut is figure 4: W watchers through the aggregator, every write to
// one Secret timed until each of them has the event; and how many Secret
// watches certstatus holds on kube-apiserver meanwhile.
func (b *bench) watchFanOut(ctx context.Context) error {
	return b.watchFigure(ctx, &b.res.Watch, true)
}

// watchFigure measures one fan-out figure into f: protobuf watchers through
// the aggregator, the same straight to certstatus (the aggregator's share),
// optionally CBOR watchers, and kube-apiserver's own Secret watch. first
// also profiles and counts certstatus's upstream watches.
func (b *bench) watchFigure(ctx context.Context, f *watchFigure, first bool) error {
	return b.watchFigureRuns(ctx, f, first, true)
}

// watchFigureRuns is watchFigure; without direct, only the watchers through
// the aggregator and the peer are measured.
func (b *bench) watchFigureRuns(ctx context.Context, f *watchFigure, first, direct bool) error {
	f.Watchers, f.Writes = b.o.watchers, b.o.writes
	if err := ensureNamespace(ctx, b.kube, watchNamespace); err != nil {
		return err
	}
	ca, err := certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: "Bench Watch CA"}})
	if err != nil {
		return err
	}
	target, err := ecdsaSecret(ca, watchNamespace, "target", time.Time{}, time.Time{}, map[string]string{seqLabel: "none"})
	if err != nil {
		return err
	}
	if _, err := b.kube.CoreV1().Secrets(watchNamespace).Create(ctx, target, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// The watches start at the list's resourceVersion, after the target exists.
	var rv string
	for deadline := time.Now().Add(time.Minute); ; {
		list, err := b.certs.CertstatusV1alpha1().CertificateStatuses(watchNamespace).List(ctx, metav1.ListOptions{})
		if err == nil && len(list.Items) == 1 {
			rv = list.ResourceVersion
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("certstatus does not list %s/target (last error %v)", watchNamespace, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	client, err := b.watchClient()
	if err != nil {
		return err
	}
	ours := func(ctx context.Context, timeout *int64) (watch.Interface, error) {
		return client.CertstatusV1alpha1().CertificateStatuses("").Watch(ctx, metav1.ListOptions{ResourceVersion: rv, TimeoutSeconds: timeout})
	}
	oursSeq := func(ev watch.Event) (string, bool) {
		obj, ok := ev.Object.(*v1alpha1.CertificateStatus)
		if ev.Type != watch.Modified || !ok || obj.Namespace != watchNamespace {
			return "", false
		}
		return obj.Labels[seqLabel], true
	}
	if err := b.fanOut(ctx, &f.fanOutRun, ours, oursSeq, "certstatus", first); err != nil {
		return err
	}

	// currentRV: each run starts from the current state, the earlier runs'
	// writes are history now.
	currentRV := func() (string, error) {
		list, err := b.certs.CertstatusV1alpha1().CertificateStatuses(watchNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", err
		}
		return list.ResourceVersion, nil
	}
	// The same watchers straight to certstatus: the aggregator's share.
	if !direct {
		return b.peerFanOut(ctx, f)
	}
	directCfg := b.srv.DirectRESTConfig(b.st.RESTConfig())
	directCfg.QPS, directCfg.Burst = -1, 0
	directClient, err := versioned.NewForConfig(directCfg)
	if err != nil {
		return err
	}
	if rv, err = currentRV(); err != nil {
		return err
	}
	directWatch := func(ctx context.Context, timeout *int64) (watch.Interface, error) {
		return directClient.CertstatusV1alpha1().CertificateStatuses("").Watch(ctx, metav1.ListOptions{ResourceVersion: rv, TimeoutSeconds: timeout})
	}
	f.Direct = &fanOutRun{}
	if err := b.fanOut(ctx, f.Direct, directWatch, oursSeq, "certstatus directly (no aggregator)", false); err != nil {
		return err
	}

	if first {
		// The same with clients that ask for CBOR (alpha, opt-in on both sides).
		cborClient, err := versioned.NewForConfig(cborConfig(b.watchConfig()))
		if err != nil {
			return err
		}
		if rv, err = currentRV(); err != nil {
			return err
		}
		cbor := func(ctx context.Context, timeout *int64) (watch.Interface, error) {
			return cborClient.CertstatusV1alpha1().CertificateStatuses("").Watch(ctx, metav1.ListOptions{ResourceVersion: rv, TimeoutSeconds: timeout})
		}
		f.CBOR = &fanOutRun{}
		if err := b.fanOut(ctx, f.CBOR, cbor, oursSeq, "certstatus, CBOR clients", false); err != nil {
			return err
		}
	}

	return b.peerFanOut(ctx, f)
}

// peerFanOut is the peer of a fan-out figure: the same writes watched as
// Secrets on kube-apiserver itself, by the same number of client-go watches
// (protobuf, client-go's default).
func (b *bench) peerFanOut(ctx context.Context, f *watchFigure) error {
	kube, err := b.kubeWatchClient()
	if err != nil {
		return err
	}
	secrets, err := kube.CoreV1().Secrets(watchNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	peer := func(ctx context.Context, timeout *int64) (watch.Interface, error) {
		return kube.CoreV1().Secrets("").Watch(ctx, metav1.ListOptions{ResourceVersion: secrets.ResourceVersion, TimeoutSeconds: timeout})
	}
	peerSeq := func(ev watch.Event) (string, bool) {
		obj, ok := ev.Object.(*corev1.Secret)
		if ev.Type != watch.Modified || !ok || obj.Namespace != watchNamespace {
			return "", false
		}
		return obj.Labels[seqLabel], true
	}
	f.Peer = &fanOutRun{}
	return b.fanOut(ctx, f.Peer, peer, peerSeq, "kube-apiserver Secrets", false)
}

// fanOut opens W watches with open, then patches the target Secret's
// sequence label once per write and times each write until every watch has
// reported it (seq extracts the label from a relevant event). The first
// run also profiles certstatus and the bench and records certstatus's
// upstream watches.
func (b *bench) fanOut(ctx context.Context, f *fanOutRun, open func(context.Context, *int64) (watch.Interface, error), seq func(watch.Event) (string, bool), what string, profile bool) error {
	W, writes := b.o.watchers, b.o.writes
	watchCtx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()
	base := time.Now()
	received := make([][]int64, W) // received[w][i]: ns after base, 0 = not yet
	counts := make([]atomic.Int32, writes)
	reached := make([]chan struct{}, writes)
	for i := range reached {
		reached[i] = make(chan struct{})
	}
	var closed atomic.Int32
	var wg sync.WaitGroup
	watches := make([]watch.Interface, W)
	timeout := int64(600)
	establish := time.Now()
	err := parallelN(watchCtx, 50, W, func(w int) error {
		wi, err := open(watchCtx, &timeout)
		if err != nil {
			return fmt.Errorf("watch %d: %w", w, err)
		}
		watches[w] = wi
		received[w] = make([]int64, writes)
		wg.Go(func() {
			for ev := range wi.ResultChan() {
				at := time.Since(base)
				label, ok := seq(ev)
				if !ok {
					continue
				}
				i, err := strconv.Atoi(label)
				if err != nil || i < 0 || i >= writes || received[w][i] != 0 {
					continue
				}
				atomic.StoreInt64(&received[w][i], int64(at))
				if counts[i].Add(1) == int32(W) {
					close(reached[i])
				}
			}
			if watchCtx.Err() == nil {
				closed.Add(1)
			}
		})
		return nil
	})
	defer func() {
		cancel()
		for _, wi := range watches {
			if wi != nil {
				wi.Stop()
			}
		}
		wg.Wait()
	}()
	if err != nil {
		return err
	}
	f.Establish = time.Since(establish)
	logf("%s: %d watches open in %v", what, W, f.Establish.Round(time.Millisecond))
	if profile {
		if err := b.countUpstreamWatches(ctx); err != nil {
			return err
		}
		// CPU profiles of certstatus and of the bench's clients while the writes fan out.
		profiled := make(chan error, 1)
		go func() {
			profiled <- b.saveProfile(watchCtx, "/debug/pprof/profile", "cpu-watch.pprof", "seconds", "10")
		}()
		defer func() {
			if err := <-profiled; err != nil {
				logf("CPU profile of the fan-out: %v", err)
			}
		}()
		stopOwnProfile, err := b.profileSelf("cpu-watch-bench.pprof")
		if err != nil {
			return err
		}
		defer stopOwnProfile()
		time.AfterFunc(10*time.Second, stopOwnProfile)
	}

	processes := b.processPIDs()
	cpuBefore := cpuSnapshot(processes)
	sent := make([]int64, writes)
	for i := range writes {
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"%d"}}}`, seqLabel, i)
		sent[i] = int64(time.Since(base))
		if _, err := b.kube.CoreV1().Secrets(watchNamespace).Patch(watchCtx, "target", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		select {
		case <-reached[i]:
		case <-time.After(writeWait):
			f.Missing += W - int(counts[i].Load())
			logf("write %d reached %d of %d watchers within %v", i, counts[i].Load(), W, writeWait)
			if f.Missing > W*5 {
				return fmt.Errorf("watchers stopped receiving events (%d closed)", closed.Load())
			}
		case <-watchCtx.Done():
			return watchCtx.Err()
		}
		if profile && i == writes/2 {
			mem, err := b.serverMemory(ctx)
			if err != nil {
				return err
			}
			f.RSSDuring, f.HeapDuring = mem.RSS, mem.HeapInuse
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Let stragglers of the last write (if any were late) arrive.
	time.Sleep(100 * time.Millisecond)
	cpuAfter := cpuSnapshot(processes)
	for _, name := range []string{"certstatus", "kube-apiserver", "etcd", "bench"} {
		if before, ok := cpuBefore[name]; ok {
			f.CPUPerWrite = append(f.CPUPerWrite, processCPU{Process: name, CPU: (cpuAfter[name] - before) / time.Duration(writes)})
		}
	}
	var all, slowest []time.Duration
	for i := range writes {
		var last time.Duration
		complete := true
		for w := range W {
			at := atomic.LoadInt64(&received[w][i])
			if at == 0 {
				complete = false
				continue
			}
			latency := time.Duration(at - sent[i])
			all = append(all, latency)
			last = max(last, latency)
		}
		if complete {
			slowest = append(slowest, last)
		}
	}
	f.Deliveries, f.Closed, f.WriteCount = len(all), int(closed.Load()), writes
	f.Latency, f.Slowest = summarize(all), summarize(slowest)
	logf("%s: fan-out to %d watchers over %d writes: latency median %v, p99 %v; every watcher reached: median %v, p99 %v; missing %d, closed %d",
		what, W, writes, f.Latency.Median.Round(time.Microsecond), f.Latency.P99.Round(time.Microsecond),
		f.Slowest.Median.Round(time.Microsecond), f.Slowest.P99.Round(time.Microsecond), f.Missing, f.Closed)
	return nil
}

// countUpstreamWatches records how many Secret watches certstatus holds on kube-apiserver.
func (b *bench) countUpstreamWatches(ctx context.Context) error {
	f := &b.res.Watch
	var err error
	if f.SecretWatches, err = b.secretWatches(ctx); err != nil {
		return err
	}
	f.SecretWatches -= f.BaselineSecretWatches
	logf("Secret watches on kube-apiserver held by certstatus: %d", f.SecretWatches)
	return nil
}

// clock is figure 5: C certificates whose notAfter is the same second;
// one watcher through the aggregator times every MODIFIED to Expired.
func (b *bench) clock(ctx context.Context) error {
	C := b.o.clockCerts
	f := &b.res.Clock
	f.Certificates = C
	if err := ensureNamespace(ctx, b.kube, clockNamespace); err != nil {
		return err
	}
	instant, rv, err := b.createExpiringSecrets(ctx, clockNamespace, "Bench Clock CA", C, b.certs)
	if err != nil {
		return err
	}
	logf("%d certificates expire at %s, in %v", C, instant.Format(time.TimeOnly), time.Until(instant).Round(time.Millisecond))

	client, err := b.watchClient()
	if err != nil {
		return err
	}
	watchCtx, cancel := context.WithDeadline(ctx, instant.Add(time.Minute))
	defer cancel()
	seen := map[string]bool{}
	var first, last time.Time
	for len(seen) < C && watchCtx.Err() == nil {
		wi, err := client.CertstatusV1alpha1().CertificateStatuses(clockNamespace).Watch(watchCtx, metav1.ListOptions{ResourceVersion: rv})
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		for ev := range wi.ResultChan() {
			at := time.Now()
			obj, ok := ev.Object.(*v1alpha1.CertificateStatus)
			if !ok {
				if status, isStatus := ev.Object.(*metav1.Status); isStatus {
					wi.Stop()
					return fmt.Errorf("watch error: %s", status.Message)
				}
				continue
			}
			rv = obj.ResourceVersion
			if ev.Type != watch.Modified || obj.Status.State != v1alpha1.StateExpired || seen[obj.Name] {
				continue
			}
			seen[obj.Name] = true
			if first.IsZero() {
				first = at
			}
			last = at
			if len(seen) == C {
				break
			}
		}
		wi.Stop()
		if len(seen) < C && watchCtx.Err() == nil {
			f.Rewatches++ // the server ended the watch; resume as a reflector would
		}
	}
	f.Received = len(seen)
	if !first.IsZero() {
		f.First, f.Last = first.Sub(instant), last.Sub(instant)
	}
	logf("clock: %d of %d MODIFIED (Expired) events; first %v, last %v after notAfter; %d re-watches",
		f.Received, C, f.First.Round(time.Millisecond), f.Last.Round(time.Millisecond), f.Rewatches)
	return nil
}
