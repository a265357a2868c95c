// Command soak runs certstatus on a real local control plane (test/stack)
// under sustained load for a long time (`make soak`): Secret churn (create,
// renew, delete, relabel) at a bounded rate, many typed-client informers
// watching through the aggregator, each with a cache of its own, and a
// background list loop. Every --sample it records certstatus's RSS and Go
// heap. At the end it stops the churn and checks that every informer's cache
// equals a fresh list (names and resourceVersions); it exits non-zero on a
// mismatch, a crash of certstatus, or an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/generated/informers/externalversions"
	listers "github.com/certstatus/certstatus/generated/listers/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// namespace holds the soak's Secrets.
const namespace = "soak"

type config struct {
	server     string
	duration   time.Duration
	watchers   int
	secrets    int
	rate       float64
	listEvery  time.Duration
	sample     time.Duration
	settle     time.Duration
	convergeIn time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.server, "server", "", "path to the certstatus-apiserver binary (make build)")
	flag.DurationVar(&c.duration, "duration", 30*time.Minute, "how long the churn runs")
	flag.IntVar(&c.watchers, "watchers", 100, "typed-client informers watching through the aggregator, one factory each")
	flag.IntVar(&c.secrets, "secrets", 200, "working-set size: Secrets created up front; churn keeps the count within ±25%")
	flag.Float64Var(&c.rate, "rate", 20, "Secret writes per second")
	flag.DurationVar(&c.listEvery, "list-every", 2*time.Second, "interval of the background list loop")
	flag.DurationVar(&c.sample, "sample", time.Minute, "memory sampling interval")
	flag.DurationVar(&c.settle, "settle", 5*time.Second, "wait after the churn stops before comparing caches")
	flag.DurationVar(&c.convergeIn, "converge", 60*time.Second, "how long the caches may take to equal a fresh list")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if c.server == "" || c.watchers < 1 || c.secrets < 4 || c.rate <= 0 {
		log.Print("--server is required; --watchers ≥ 1, --secrets ≥ 4, --rate > 0")
		os.Exit(2)
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stopSignals()
	if err != nil {
		log.Printf("FAIL: %v", err)
		os.Exit(1)
	}
	log.Print("PASS")
}

func run(ctx context.Context, c config) (err error) {
	st, err := stack.Start(ctx, stack.Options{Logf: log.Printf})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			st.WriteLogTails(os.Stderr, 30)
		}
		err = errors.Join(err, st.Stop())
	}()
	srv, err := st.StartServer(ctx, c.server)
	if err != nil {
		return err
	}
	pid := srv.PID()
	log.Printf("certstatus ready and registered (pid %d)", pid)

	kube := st.Client()
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	ch, err := newChurn(kube, c.secrets)
	if err != nil {
		return err
	}
	if err := ch.fill(ctx); err != nil {
		return err
	}
	log.Printf("created %d Secrets in namespace %s", c.secrets, namespace)

	// Watchers: one clientset and informer factory each, through the
	// aggregator, as independent clients would be.
	base := st.RESTConfig()
	base.QPS, base.Burst = -1, 0 // no client-side throttling: relists of 100 informers must not queue
	ws, err := startWatchers(ctx, base, c.watchers)
	if err != nil {
		return err
	}
	defer ws.stop()
	log.Printf("%d informers synced", c.watchers)

	mem := &memory{direct: srv.DirectRESTConfig(st.RESTConfig()), pid: pid}
	if err := mem.take(ctx); err != nil {
		return err
	}

	certs := versioned.NewForConfigOrDie(base)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var lists, listErrs atomic.Int64
	wg.Go(func() { ch.run(loadCtx, c.rate) })
	wg.Go(func() {
		for {
			select {
			case <-loadCtx.Done():
				return
			case <-time.After(c.listEvery):
			}
			if _, err := certs.CertstatusV1alpha1().CertificateStatuses(namespace).List(loadCtx, metav1.ListOptions{}); err != nil && loadCtx.Err() == nil {
				listErrs.Add(1)
				log.Printf("background list: %v", err)
			}
			lists.Add(1)
		}
	})

	begin := time.Now()
	end := time.After(c.duration)
	sampler := time.NewTicker(c.sample)
	progress := time.NewTicker(min(c.sample, 30*time.Second))
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-sampler.C:
			if err := mem.take(ctx); err != nil {
				log.Printf("memory sample: %v", err)
			}
		case <-progress.C:
			log.Printf("%v: %s; %d events; %d lists (%d failed); %d watch errors",
				time.Since(begin).Round(time.Second), ch.summary(), ws.events(), lists.Load(), listErrs.Load(), ws.watchErrors())
		}
	}
	sampler.Stop()
	progress.Stop()
	stopLoad()
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	log.Printf("churn stopped after %v; settling %v", time.Since(begin).Round(time.Second), c.settle)
	time.Sleep(c.settle)
	if err := mem.take(ctx); err != nil {
		log.Printf("memory sample: %v", err)
	}

	compareBegin := time.Now()
	mismatched, fresh, err := ws.converge(ctx, certs, c.convergeIn)
	if err != nil {
		return err
	}
	crashed := !srv.Running() || srv.PID() != pid

	fmt.Println()
	fmt.Println("soak summary")
	fmt.Printf("  duration          %v churn, %d watchers, working set %d Secrets (%d at the end)\n", c.duration, c.watchers, c.secrets, len(fresh))
	fmt.Printf("  writes            %s\n", ch.summary())
	fmt.Printf("  events            %d delivered to informers (%d watch errors/relists)\n", ws.events(), ws.watchErrors())
	fmt.Printf("  lists             %d background (%d failed)\n", lists.Load(), listErrs.Load())
	fmt.Printf("  memory            %s\n", mem.summary())
	fmt.Printf("  final check       %d/%d informer caches equal a fresh list of %d objects (names + resourceVersions), in %v\n",
		c.watchers-len(mismatched), c.watchers, len(fresh), time.Since(compareBegin).Round(time.Millisecond))
	fmt.Printf("  certstatus        pid %d, running=%v, restarted=%v\n", pid, srv.Running(), srv.PID() != pid)
	for _, m := range mismatched[:min(len(mismatched), 5)] {
		fmt.Printf("  mismatch          %s\n", m)
	}
	fmt.Println()
	switch {
	case crashed:
		return fmt.Errorf("certstatus (pid %d) is not running any more; see its log %s", pid, srv.LogPath())
	case len(mismatched) > 0:
		return fmt.Errorf("%d of %d informer caches differ from a fresh list", len(mismatched), c.watchers)
	}
	return nil
}

// churn writes Secrets in namespace: creates, renewals (new certificate
// data), deletions and relabels, keeping the count within ±25% of size.
type churn struct {
	kube   kubernetes.Interface
	size   int
	leaves [][]byte // tls.crt chains to pick from: valid, expiring soon, expired
	keys   [][]byte
	caPEM  []byte

	live    map[string]*corev1.Secret
	next    int
	counts  map[string]*atomic.Int64
	errs    atomic.Int64
	summMu  sync.Mutex
	lastErr string
}

var ops = []string{"create", "renew", "delete", "relabel"}

func newChurn(kube kubernetes.Interface, size int) (*churn, error) {
	now := time.Now()
	root, err := certtest.NewCA(certtest.Spec{CommonName: "soak Root CA", KeyAlgorithm: certtest.ECDSA, NotAfter: now.Add(10 * 365 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	intermediate, err := root.NewIntermediate(certtest.Spec{CommonName: "soak Intermediate CA", KeyAlgorithm: certtest.ECDSA, NotAfter: now.Add(5 * 365 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	ch := &churn{kube: kube, size: size, caPEM: root.PEM(), live: map[string]*corev1.Secret{}, counts: map[string]*atomic.Int64{}}
	for _, op := range ops {
		ch.counts[op] = &atomic.Int64{}
	}
	// A pool of leaves, so renewals change the status (expiry, state)
	// without generating keys at the write rate.
	for i := range 24 {
		notAfter := now.Add(time.Duration(i+1) * 24 * time.Hour * 7) // 1..24 weeks: expiring soon and valid
		if i%6 == 5 {
			notAfter = now.Add(-time.Duration(i) * time.Hour) // expired
		}
		leaf, err := intermediate.NewLeaf(certtest.Spec{
			CommonName: fmt.Sprintf("soak-%d.example.com", i), DNSNames: []string{fmt.Sprintf("soak-%d.example.com", i)},
			KeyAlgorithm: certtest.ECDSA, NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter,
		})
		if err != nil {
			return nil, err
		}
		key, err := leaf.KeyPEM(certtest.PKCS8)
		if err != nil {
			return nil, err
		}
		ch.leaves = append(ch.leaves, certtest.ChainPEM(leaf, intermediate))
		ch.keys = append(ch.keys, key)
	}
	return ch, nil
}

func (ch *churn) data() map[string][]byte {
	i := rand.IntN(len(ch.leaves))
	return map[string][]byte{"tls.crt": ch.leaves[i], "tls.key": ch.keys[i], "ca.crt": ch.caPEM}
}

func (ch *churn) fill(ctx context.Context) error {
	for len(ch.live) < ch.size {
		if err := ch.create(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (ch *churn) create(ctx context.Context) error {
	name := fmt.Sprintf("s-%06d", ch.next)
	ch.next++
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"tier": "soak", "gen": "0"}},
		Type:       corev1.SecretTypeTLS,
		Data:       ch.data(),
	}
	created, err := ch.kube.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	ch.live[name] = created
	ch.counts["create"].Add(1)
	return nil
}

// run writes at rate until ctx ends; errors are counted and logged, not fatal.
func (ch *churn) run(ctx context.Context, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := ch.step(ctx); err != nil && ctx.Err() == nil {
			ch.errs.Add(1)
			ch.summMu.Lock()
			ch.lastErr = err.Error()
			ch.summMu.Unlock()
		}
	}
}

func (ch *churn) step(ctx context.Context) error {
	op := ops[rand.IntN(len(ops))]
	switch {
	case op == "create" && len(ch.live) >= ch.size*5/4, op == "delete" && len(ch.live) <= ch.size*3/4:
		op = "renew"
	}
	if op == "create" {
		return ch.create(ctx)
	}
	name := ch.pick()
	secrets := ch.kube.CoreV1().Secrets(namespace)
	if op == "delete" {
		err := secrets.Delete(ctx, name, metav1.DeleteOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			delete(ch.live, name)
			ch.counts[op].Add(1)
		}
		return err
	}
	secret := ch.live[name].DeepCopy()
	if op == "renew" {
		secret.Data = ch.data()
	} else {
		gen, _ := strconv.Atoi(secret.Labels["gen"])
		secret.Labels["gen"] = strconv.Itoa(gen + 1)
	}
	updated, err := secrets.Update(ctx, secret, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) { // not expected: nothing else writes these
		if fresh, getErr := secrets.Get(ctx, name, metav1.GetOptions{}); getErr == nil {
			ch.live[name] = fresh
		}
	}
	if err != nil {
		return err
	}
	ch.live[name] = updated
	ch.counts[op].Add(1)
	return nil
}

func (ch *churn) pick() string {
	i := rand.IntN(len(ch.live))
	for name := range ch.live {
		if i == 0 {
			return name
		}
		i--
	}
	panic("unreachable")
}

func (ch *churn) summary() string {
	var total int64
	var parts []string
	for _, op := range ops {
		n := ch.counts[op].Load()
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", op, n))
	}
	ch.summMu.Lock()
	defer ch.summMu.Unlock()
	s := fmt.Sprintf("%d writes (%s), %d failed", total, strings.Join(parts, ", "), ch.errs.Load())
	if ch.lastErr != "" {
		s += " (last: " + ch.lastErr + ")"
	}
	return s
}

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

// memory samples certstatus's RSS (/proc/<pid>/status) and Go heap in use
// (go_memstats_heap_inuse_bytes from its own /metrics, read directly as admin).
type memory struct {
	direct     *rest.Config
	pid        int
	rss, heap  []int64 // bytes
	sampleTime []time.Time
}

func (m *memory) take(ctx context.Context) error {
	rss, err := measure.RSS(m.pid)
	if err != nil {
		return err
	}
	heap, err := heapInuse(ctx, m.direct)
	if err != nil {
		return err
	}
	m.rss = append(m.rss, rss)
	m.heap = append(m.heap, heap)
	m.sampleTime = append(m.sampleTime, time.Now())
	log.Printf("certstatus memory: RSS %s, heap in use %s", measure.MiB(rss), measure.MiB(heap))
	return nil
}

func (m *memory) summary() string {
	if len(m.rss) == 0 {
		return "no samples"
	}
	first, last := 0, len(m.rss)-1
	return fmt.Sprintf("%d samples; RSS first %s, last %s, max %s; heap in use first %s, last %s, max %s",
		len(m.rss), measure.MiB(m.rss[first]), measure.MiB(m.rss[last]), measure.MiB(slices.Max(m.rss)), measure.MiB(m.heap[first]), measure.MiB(m.heap[last]), measure.MiB(slices.Max(m.heap)))
}

func heapInuse(ctx context.Context, direct *rest.Config) (int64, error) {
	client, err := kubernetes.NewForConfig(direct)
	if err != nil {
		return 0, err
	}
	metrics, err := measure.Scrape(ctx, client.CoreV1().RESTClient(), "/metrics")
	if err != nil {
		return 0, fmt.Errorf("read certstatus /metrics: %w", err)
	}
	if _, ok := metrics["go_memstats_heap_inuse_bytes"]; !ok {
		return 0, errors.New("no go_memstats_heap_inuse_bytes in certstatus /metrics")
	}
	return int64(metrics.Sum("go_memstats_heap_inuse_bytes", nil)), nil
}
