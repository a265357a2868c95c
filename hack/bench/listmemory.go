package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// concurrentLists is how many full lists run at once in the memory figure.
const concurrentLists = 4

// mixFigure is the list figures of one Secret mix and the memory the two
// servers needed while they ran.
type mixFigure struct {
	Mix    certtest.Mix `json:"mix"`
	Lists  []comparison `json:"lists"`
	Memory listMemory   `json:"memory"`
	// Settings: certstatus's memory under the same lists with the
	// Deployment's GC settings and with the binary's defaults.
	Settings []settingMemory `json:"settings,omitempty"`
	// Watch and Startup of this mix (the first mix's are also in results).
	Watch   *watchFigure   `json:"watch,omitempty"`
	Startup *startupFigure `json:"startup,omitempty"`
}

// settingMemory is certstatus's RSS from a fresh start with N Secrets present
// through a fixed sequence of its own lists, under one GC setting.
type settingMemory struct {
	Setting string `json:"setting"`
	// StartRSS is the RSS once the restarted server lists every Secret.
	StartRSS int64       `json:"startRSS"`
	Lists    memoryPhase `json:"lists"`
}

// growth is the highest RSS during or after the lists minus StartRSS.
func (m settingMemory) growth() int64 { return max(m.Lists.PeakRSS, m.Lists.After.RSS) - m.StartRSS }

// setMemoryLimit hands the next certstatus start the Deployment's memory
// limit (GOMEMLIMIT 90 % of it), or nothing (the binary's defaults).
func (b *bench) setMemoryLimit(on bool) error {
	if !on || b.o.memoryLimit <= 0 {
		return os.Unsetenv(memoryLimitEnv)
	}
	return os.Setenv(memoryLimitEnv, strconv.FormatInt(b.o.memoryLimit, 10))
}

// settingMemory restarts certstatus with or without the memory limit and
// runs, b.o.runs times, each kind of certstatus list (typed protobuf, raw
// gzip, raw uncompressed, kubectl table), then concurrentLists raw lists at
// once b.o.runs times.
func (b *bench) settingMemory(ctx context.Context, limited bool) (settingMemory, error) {
	m := settingMemory{Setting: gcSettings(0)}
	if limited && b.o.memoryLimit > 0 {
		m.Setting = gcSettings(b.o.memoryLimit)
	}
	if err := b.setMemoryLimit(limited); err != nil {
		return m, err
	}
	if err := b.srv.Restart(ctx); err != nil {
		return m, err
	}
	if err := b.waitListed(ctx, b.o.secrets); err != nil {
		return m, err
	}
	var err error
	if m.StartRSS, err = measure.RSS(b.srv.PID()); err != nil {
		return m, err
	}
	const path = "/apis/certstatus.dev/v1alpha1/certificatestatuses"
	m.Lists, err = b.phase(ctx, "", func() error {
		for range b.o.runs {
			if _, err := b.certs.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{}); err != nil {
				return err
			}
			for _, raw := range []rest.Interface{b.kubeRaw, b.kubeRawPlain} {
				if _, err := raw.Get().AbsPath(path).DoRaw(ctx); err != nil {
					return err
				}
			}
			if _, err := kubectl(ctx, b.st, "get", "cst", "-A"); err != nil {
				return err
			}
		}
		_, err := repeat(ctx, b.o.runs, func() error {
			return parallelN(ctx, concurrentLists, concurrentLists, func(int) error {
				_, err := b.kubeRaw.Get().AbsPath(path).DoRaw(ctx)
				return err
			})
		})
		return err
	})
	logf("%s: certstatus RSS %s after the restart, peak %s under its lists (heap peak %s, %d GCs): growth %s",
		m.Setting, measure.MiB(m.StartRSS), measure.MiB(m.Lists.PeakRSS), measure.MiB(m.Lists.PeakHeap), m.Lists.GCs, measure.MiB(m.growth()))
	return m, err
}

// listMemory is memory before, during and after list load. Sequential is
// every row of the list figure (each run of certstatus and of its peer);
// Concurrent is concurrentLists raw lists at once, repeated, certstatus's
// first and then kube-apiserver's.
type listMemory struct {
	Before     memorySnapshot `json:"before"`
	Sequential memoryPhase    `json:"sequential"`
	Concurrent memoryPhase    `json:"concurrent"`
	PeerBefore int64          `json:"peerBefore"` // kube-apiserver RSS before its concurrent lists
	PeerPhase  memoryPhase    `json:"peerPhase"`
}

// memorySnapshot is the certstatus heap in use (no forced GC) and both
// servers' RSS at one moment.
type memorySnapshot struct {
	HeapInuse int64 `json:"heapInuse"`
	RSS       int64 `json:"rss"`
	PeerRSS   int64 `json:"peerRSS"`
}

// memoryPhase is the peaks during a phase and the snapshot at its end.
type memoryPhase struct {
	PeakRSS     int64          `json:"peakRSS"`
	PeakHeap    int64          `json:"peakHeap"` // certstatus, from gctrace: the largest heap a GC cycle saw
	PeakPeerRSS int64          `json:"peakPeerRSS"`
	GCs         int            `json:"gcs"`
	After       memorySnapshot `json:"after"`
}

// rssSampler polls the RSS of processes every 20 ms and keeps the peaks.
type rssSampler struct {
	pids  []int
	peaks []int64
	stop  chan struct{}
	done  sync.WaitGroup
}

func sampleRSS(pids ...int) *rssSampler {
	s := &rssSampler{pids: pids, peaks: make([]int64, len(pids)), stop: make(chan struct{})}
	s.done.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			for i, pid := range s.pids {
				if rss, err := measure.RSS(pid); err == nil {
					s.peaks[i] = max(s.peaks[i], rss)
				}
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	})
	return s
}

// Stop ends the sampling and returns the peak of each process.
func (s *rssSampler) Stop() []int64 {
	close(s.stop)
	s.done.Wait()
	return s.peaks
}

// gctraceLine matches the heap sizes of a GODEBUG=gctrace=1 line: heap at
// the start of the cycle, at the end of marking, and live, in MiB.
var gctraceLine = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB, `)

// gcTrace reads the GC lines certstatus appends to its log from an offset on.
type gcTrace struct {
	path   string
	offset int64
}

func newGCTrace(path string) *gcTrace {
	t := &gcTrace{path: path}
	if info, err := os.Stat(path); err == nil {
		t.offset = info.Size()
	}
	return t
}

// peak is the largest heap (MiB → bytes) any GC cycle since the offset saw,
// and how many cycles there were.
func (t *gcTrace) peak() (peak int64, cycles int, err error) {
	f, err := os.Open(t.path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if _, err := f.Seek(t.offset, io.SeekStart); err != nil {
		return 0, 0, err
	}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		m := gctraceLine.FindStringSubmatch(scanner.Text())
		if m == nil {
			continue
		}
		cycles++
		for _, v := range m[1:3] {
			mib, _ := strconv.ParseInt(v, 10, 64)
			peak = max(peak, mib<<20)
		}
	}
	return peak, cycles, scanner.Err()
}

// snapshot reads certstatus's heap in use from /metrics without forcing a
// GC, and both servers' RSS.
func (b *bench) snapshot(ctx context.Context) (memorySnapshot, error) {
	var s memorySnapshot
	metrics, err := measure.Scrape(ctx, b.direct, "/metrics")
	if err != nil {
		return s, err
	}
	s.HeapInuse = int64(metrics.Sum("go_memstats_heap_inuse_bytes", nil))
	if s.RSS, err = measure.RSS(b.srv.PID()); err != nil {
		return s, err
	}
	s.PeerRSS, err = b.kubeAPIServerRSS()
	return s, err
}

// phase runs f while sampling both servers' RSS and certstatus's GC trace.
// profile, if not empty, names the file that keeps certstatus's heap
// profile taken when its RSS was highest (sampled every second).
func (b *bench) phase(ctx context.Context, profile string, f func() error) (memoryPhase, error) {
	var p memoryPhase
	peerPID, err := b.kubeAPIServerPID()
	if err != nil {
		return p, err
	}
	trace := newGCTrace(b.srv.LogPath())
	sampler := sampleRSS(b.srv.PID(), peerPID)
	stopProfiles := b.heapAtPeak(ctx, profile)
	err = f()
	stopProfiles()
	peaks := sampler.Stop()
	if err != nil {
		return p, err
	}
	p.PeakRSS, p.PeakPeerRSS = peaks[0], peaks[1]
	if p.PeakHeap, p.GCs, err = trace.peak(); err != nil {
		return p, fmt.Errorf("read certstatus's GC trace: %w", err)
	}
	p.After, err = b.snapshot(ctx)
	return p, err
}

// loadPhase is phase for loading: the RSS before, the peaks, the GC trace.
func (b *bench) loadPhase(ctx context.Context, f func() error) (loadMemory, error) {
	var m loadMemory
	var err error
	if m.Before, err = b.snapshot(ctx); err != nil {
		return m, err
	}
	p, err := b.phase(ctx, "", f)
	m.PeakRSS, m.PeakPeerRSS, m.PeakHeap, m.GCs = max(p.PeakRSS, p.After.RSS), max(p.PeakPeerRSS, p.After.PeerRSS), p.PeakHeap, p.GCs
	return m, err
}

// heapAtPeak fetches certstatus's heap profile (no forced GC: what the last
// collection found live, and every allocation since the start) every second
// and keeps the one taken at the highest RSS, until the returned function is
// called. A heap profile is where the growth is.
func (b *bench) heapAtPeak(ctx context.Context, name string) (stop func()) {
	if name == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		var best int64
		var kept []byte
		defer func() {
			if kept == nil {
				return
			}
			file := filepath.Join(b.o.outDir, name)
			if err := os.WriteFile(file, kept, 0o644); err != nil {
				logf("heap profile at the peak: %v", err)
				return
			}
			b.keepProfile(file)
		}()
		for ctx.Err() == nil {
			data, err := b.direct.Get().AbsPath("/debug/pprof/heap").DoRaw(ctx)
			if rss, rssErr := measure.RSS(b.srv.PID()); err == nil && rssErr == nil && rss > best {
				best, kept = rss, data
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// listStep measures the list figures of one mix and the memory both servers
// needed meanwhile. Both are restarted first, so that each mix starts from a
// server that has served no list.
func (b *bench) listStep(ctx context.Context, mix certtest.Mix) error {
	if err := b.setMemoryLimit(true); err != nil {
		return err
	}
	if err := b.freshServers(ctx); err != nil {
		return err
	}
	fig := mixFigure{Mix: mix}
	var err error
	if fig.Memory.Before, err = b.snapshot(ctx); err != nil {
		return err
	}
	logf("%s: before the lists: certstatus heap in use %s, RSS %s; kube-apiserver RSS %s", mix,
		measure.MiB(fig.Memory.Before.HeapInuse), measure.MiB(fig.Memory.Before.RSS), measure.MiB(fig.Memory.Before.PeerRSS))
	if fig.Memory.Sequential, err = b.phase(ctx, "heap-lists-peak-"+string(mix)+".pprof", func() error {
		fig.Lists, err = b.listFigures(ctx)
		return err
	}); err != nil {
		return err
	}
	b.logPhase(mix, "every list row", fig.Memory.Sequential)

	// concurrentRawLists lists path concurrentLists times at once, b.o.runs times over.
	concurrentRawLists := func(path string) func() error {
		return func() error {
			_, err := repeat(ctx, b.o.runs, func() error {
				return parallelN(ctx, concurrentLists, concurrentLists, func(int) error {
					_, err := b.kubeRaw.Get().AbsPath(path).DoRaw(ctx)
					return err
				})
			})
			return err
		}
	}
	if fig.Memory.Concurrent, err = b.phase(ctx, "heap-concurrent-peak-"+string(mix)+".pprof", concurrentRawLists("/apis/certstatus.dev/v1alpha1/certificatestatuses")); err != nil {
		return err
	}
	b.logPhase(mix, fmt.Sprintf("%d raw lists at once", concurrentLists), fig.Memory.Concurrent)
	if fig.Memory.PeerBefore, err = b.kubeAPIServerRSS(); err != nil {
		return err
	}
	if fig.Memory.PeerPhase, err = b.phase(ctx, "", concurrentRawLists("/api/v1/secrets")); err != nil {
		return err
	}
	logf("%s: %d raw Secret lists at once: kube-apiserver RSS %s → peak %s", mix, concurrentLists,
		measure.MiB(fig.Memory.PeerBefore), measure.MiB(fig.Memory.PeerPhase.PeakPeerRSS))
	// The same certstatus lists from a fresh start, with the Deployment's
	// GC settings and with the binary's defaults.
	for _, limited := range []bool{true, false} {
		m, err := b.settingMemory(ctx, limited)
		if err != nil {
			return err
		}
		fig.Settings = append(fig.Settings, m)
	}
	if err := b.setMemoryLimit(true); err != nil {
		return err
	}
	if err := b.srv.Restart(ctx); err != nil {
		return err
	}
	if err := b.waitListed(ctx, b.o.secrets); err != nil {
		return err
	}
	b.res.Mixes = append(b.res.Mixes, fig)
	if len(b.res.Lists) == 0 {
		b.res.Lists = fig.Lists
	}
	return nil
}

func (b *bench) logPhase(mix certtest.Mix, what string, p memoryPhase) {
	logf("%s: %s: certstatus peak RSS %s, peak heap %s (%d GCs), after: heap in use %s, RSS %s; kube-apiserver peak RSS %s, after %s",
		mix, what, measure.MiB(p.PeakRSS), measure.MiB(p.PeakHeap), p.GCs, measure.MiB(p.After.HeapInuse), measure.MiB(p.After.RSS),
		measure.MiB(p.PeakPeerRSS), measure.MiB(p.After.PeerRSS))
}

// freshServers restarts kube-apiserver and certstatus and waits until
// certstatus lists every bench Secret through the aggregator again.
func (b *bench) freshServers(ctx context.Context) error {
	begin := time.Now()
	// kube-apiserver must not inherit the server's GC settings.
	restore := withoutEnv("GODEBUG", memoryLimitEnv)
	err := b.st.RestartAPIServer(ctx)
	restore()
	if err != nil {
		return err
	}
	if err := b.srv.Restart(ctx); err != nil {
		return err
	}
	if err := b.waitListed(ctx, b.o.secrets); err != nil {
		return err
	}
	logf("restarted kube-apiserver and certstatus (pid %d) in %v", b.srv.PID(), time.Since(begin).Round(time.Millisecond))
	return nil
}

// switchMix replaces the bench Secrets with n of mix. The Secrets the
// clock and events figures left go too, so that every mix is listed alone,
// as the first was.
func (b *bench) switchMix(ctx context.Context, mix certtest.Mix) error {
	begin := time.Now()
	secrets, err := loadOrGenerate(mix, b.o.secrets, logf)
	if err != nil {
		return err
	}
	for _, ns := range []string{clockNamespace, eventsNamespace} {
		if err := b.kube.CoreV1().Secrets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete the Secrets of %s: %w", ns, err)
		}
	}
	for i := range benchNamespaces {
		if err := b.kube.CoreV1().Secrets(benchNamespace(i)).DeleteCollection(ctx, metav1.DeleteOptions{},
			metav1.ListOptions{LabelSelector: benchLabel}); err != nil {
			return fmt.Errorf("delete the bench Secrets of %s: %w", benchNamespace(i), err)
		}
	}
	if err := b.waitListed(ctx, 0); err != nil {
		return err
	}
	if err := createSecrets(ctx, b.kube, secrets); err != nil {
		return err
	}
	if err := b.waitListed(ctx, len(secrets)); err != nil {
		return err
	}
	logf("replaced the bench Secrets by %d of the %s mix in %v", len(secrets), mix, time.Since(begin).Round(time.Millisecond))
	return nil
}

// withoutEnv unsets variables until the returned function restores them.
func withoutEnv(names ...string) (restore func()) {
	saved := map[string]string{}
	for _, name := range names {
		if v, ok := os.LookupEnv(name); ok {
			saved[name] = v
			os.Unsetenv(name)
		}
	}
	return func() {
		for name, v := range saved {
			os.Setenv(name, v)
		}
	}
}

// maxGrowth is the growth from before to the larger of the peak and after.
func maxGrowth(before, peak, after int64) int64 { return max(peak, after) - before }

// memoryLimitEnv is how the Deployment hands certstatus its memory limit
// (see cmd/certstatus-apiserver/memlimit.go).
const memoryLimitEnv = "CERTSTATUS_MEMORY_LIMIT"

// gcSettings says how certstatus's garbage collector runs in this bench.
func gcSettings(memoryLimit int64) string {
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		gogc = "100 (default)"
	}
	if memoryLimit <= 0 {
		return "GOGC=" + gogc + ", no GOMEMLIMIT"
	}
	return fmt.Sprintf("GOGC=%s, GOMEMLIMIT=%s (90 %% of %s, as the Deployment sets it from the container limit)",
		gogc, measure.MiB(memoryLimit*9/10), measure.MiB(memoryLimit))
}
