// Command bench measures certstatus against the real local stack (`make
// bench`, issue 7): list latency against kube-apiserver's own Secret list,
// memory per Secret, start-up, watch fan-out, clock-driven events and the
// client-side alternative. It writes docs/benchmarks.md (between its markers)
// and a PNG plot. Nothing here is a test: targets are reported, not asserted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// benchLabel selects the generated Secrets (and so their CertificateStatuses).
const benchLabel = "app.kubernetes.io/part-of=certstatus-bench"

type options struct {
	server     string
	serverArgs []string
	secrets    int
	sizes      []int
	runs       int
	sweepRuns  int
	// sweepFull measures, at every size, start-up, the typed list and the
	// fan-out too (issue #27 part 4: cost that stays linear).
	sweepFull   bool
	sweepWrites int
	watchers    int
	writes      int
	clockCerts  int
	clockLead   time.Duration
	startups    int
	timeout     time.Duration
	doc         string
	plot        string
	outDir      string
	skip        map[string]bool
	generate    bool
	rerender    string
	// usedBy step (issue 15): sizes and repetitions.
	ingresses, pods, usedByChanges, rolloutPods int
	// configmaps step (issue #26 part 5): ConfigMaps, bundles among them, CRDs.
	configMaps, bundles, crds int
	// mixes are the Secret populations listed; the first is loaded for
	// every figure, the others for the list figures only.
	mixes []certtest.Mix
	// dashboard step (issue 24): its own Prometheus, no Kubernetes.
	dashboard     dashboardOptions
	dashboardOnly bool
	// memoryLimit is handed to certstatus as the Deployment does (its Go
	// memory limit is then 90 % of it); 0 for none.
	memoryLimit int64
}

func main() {
	var o options
	var sizes, skip string
	flag.StringVar(&o.server, "server", "_output/bin/certstatus-apiserver", "the certstatus-apiserver binary (make build)")
	var serverArgs string
	flag.StringVar(&serverArgs, "server-args", "", "extra certstatus-apiserver flags, space-separated (e.g. --feature-gates=...)")
	flag.IntVar(&o.secrets, "secrets", 10000, "N: TLS Secrets loaded for the full set of figures")
	flag.StringVar(&sizes, "sizes", "1000,5000", "smaller N measured on the way up (table lists and memory, for the plot); sizes >= --secrets are ignored")
	flag.IntVar(&o.runs, "runs", 7, "timed runs of each list after one warm-up")
	flag.IntVar(&o.sweepRuns, "sweep-runs", 3, "timed runs of each list at the smaller sizes")
	flag.BoolVar(&o.sweepFull, "sweep-full", false, "at every size (--sizes and --secrets) also time start-up, the typed protobuf list and the fan-out (linear cost)")
	flag.IntVar(&o.sweepWrites, "sweep-writes", 100, "with --sweep-full: Secret writes of each size's fan-out")
	flag.IntVar(&o.watchers, "watchers", 1000, "concurrent watchers for the fan-out figure")
	flag.IntVar(&o.writes, "writes", 300, "Secret writes for the fan-out latency")
	flag.IntVar(&o.clockCerts, "clock-certs", 1000, "certificates crossing notAfter at the same instant")
	flag.DurationVar(&o.clockLead, "clock-lead", 30*time.Second, "how far ahead of now their notAfter is set")
	flag.IntVar(&o.startups, "startups", 3, "restarts timed for the start-up figure")
	flag.DurationVar(&o.timeout, "timeout", 55*time.Minute, "bound on the whole run (the dashboard figure included)")
	flag.StringVar(&o.doc, "doc", "docs/benchmarks.md", "report to write (the part between its bench markers)")
	flag.StringVar(&o.plot, "plot", "docs/benchmarks.png", "PNG plot to write")
	flag.StringVar(&o.outDir, "out", "_output/bench", "raw results and pprof profiles")
	flag.StringVar(&skip, "skip", "", "comma-separated figures to skip: list,memory,startup,keystores,watch,clock,events,clientside,metrics,configmaps,usedby,dashboard")
	flag.IntVar(&o.ingresses, "ingresses", 10000, "usedby: Ingresses, each serving one bench Secret's leaf name")
	flag.IntVar(&o.pods, "pods", 30000, "usedby: Pods, 3 per Deployment (through a ReplicaSet), each Deployment mounting one bench Secret")
	flag.IntVar(&o.usedByChanges, "usedby-changes", 20, "usedby: Ingress changes timed until their watch event")
	flag.IntVar(&o.rolloutPods, "rollout-pods", 100, "usedby: Pods of the Deployment whose rollout's churn is measured")
	flag.IntVar(&o.configMaps, "configmaps", 10000, "configmaps: ConfigMaps beside the Secrets, --bundles of them trust bundles, the rest 4 KB without certificates")
	flag.IntVar(&o.bundles, "bundles", 1000, "configmaps: trust bundles among --configmaps")
	flag.IntVar(&o.crds, "crds", 50, "configmaps: CRDs with a conversion webhook and a 200 KB schema per version")
	flag.IntVar(&o.dashboard.days, "dashboard-days", 30, "dashboard: days of history backfilled")
	flag.DurationVar(&o.dashboard.rawInterval, "dashboard-raw-interval", 6*time.Hour, "dashboard: interval of the backfilled per-Secret series (30 s over 30 days would be 27 billion samples)")
	flag.DurationVar(&o.dashboard.recordedInterval, "dashboard-recorded-interval", time.Minute, "dashboard: interval of the backfilled recorded series (the rules' evaluation interval)")
	flag.DurationVar(&o.dashboard.scrapeEach, "dashboard-scrape-interval", 30*time.Second, "dashboard: Prometheus's scrape and evaluation interval for the live part")
	flag.DurationVar(&o.dashboard.liveFor, "dashboard-live", 3*time.Minute, "dashboard: how long Prometheus scrapes the two replicas live before the queries are timed")
	flag.IntVar(&o.dashboard.runs, "dashboard-runs", 5, "dashboard: timed runs of each query after one warm-up")
	flag.BoolVar(&o.dashboardOnly, "dashboard-only", false, "run only the dashboard figure (no Kubernetes), write its results to --out and its section to --out/dashboard.md")
	flag.BoolVar(&o.generate, "generate-only", false, "only generate (or find cached) Secrets, then exit")
	flag.StringVar(&o.rerender, "render", "", "only rewrite --doc and --plot from a results.json of an earlier run")
	var mixes, memoryLimit string
	flag.StringVar(&mixes, "mixes", "rsa-heavy,ecdsa", "Secret mixes to list, comma-separated (rsa-heavy, ecdsa); the first is loaded for every figure")
	flag.StringVar(&memoryLimit, "memory-limit", "512Mi", "container memory limit certstatus is told of, as the Deployment does (GOMEMLIMIT = 90 %); 0 for none")
	flag.Parse()
	for _, m := range strings.Split(mixes, ",") {
		if m = strings.TrimSpace(m); m != "" {
			o.mixes = append(o.mixes, certtest.Mix(m))
		}
	}
	if len(o.mixes) == 0 {
		log.Fatal("--mixes: at least one mix")
	}
	if o.bundles < 1 || o.bundles > o.configMaps || o.crds < 1 {
		log.Fatal("--bundles: at least one and at most --configmaps; --crds: at least one")
	}
	limit, err := resource.ParseQuantity(memoryLimit)
	if err != nil {
		log.Fatalf("--memory-limit: %v", err)
	}
	o.memoryLimit = limit.Value()
	// certstatus serves CBOR to the clients that ask for it (an alpha feature
	// in 1.37, off by default), so the bench can measure what a binary wire
	// format buys; every other client keeps JSON or protobuf.
	o.serverArgs = append([]string{"--feature-gates=kube:CBORServingAndStorage=true"}, strings.Fields(serverArgs)...)
	// Allows, does not prefer: only configs that ask for CBOR get it.
	if err := os.Setenv("KUBE_FEATURE_ClientsAllowCBOR", "true"); err != nil {
		log.Fatal(err)
	}
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	for _, s := range strings.Split(sizes, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 && n < o.secrets {
			o.sizes = append(o.sizes, n)
		}
	}
	slices.Sort(o.sizes)
	o.sizes = append(slices.Compact(o.sizes), o.secrets)
	o.skip = map[string]bool{}
	for _, s := range strings.Split(skip, ",") {
		o.skip[strings.TrimSpace(s)] = true
	}

	if o.rerender != "" {
		if err := render(o.rerender, o.doc, o.plot); err != nil {
			log.Print(err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	err = run(ctx, o)
	cancel()
	stop()
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// bench is one run: the stack, the certstatus server under test and clients.
type bench struct {
	o               options
	profilesMu      sync.Mutex // res.Profiles, appended by concurrent profile savers
	st              *stack.Stack
	srv             *stack.Server
	kube            kubernetes.Interface // admin, protobuf, no client-side rate limit: for writes
	user            kubernetes.Interface // admin, client-go defaults (protobuf for built-in types), no rate limit: the peer
	userJSON        kubernetes.Interface // the same, forced to JSON: certstatus's own wire format
	certs           versioned.Interface  // admin, generated typed client, through the aggregator (protobuf, its default)
	certsJSON       versioned.Interface  // the same, forced to JSON
	certsCBOR       versioned.Interface  // the same, asking for CBOR (alpha in Kubernetes 1.37, opt-in)
	kubeRaw, direct rest.Interface
	kubeRawPlain    rest.Interface // kubeRaw without asking for gzip
	res             *results
}

func logf(format string, args ...any) { log.Printf(format, args...) }

func run(ctx context.Context, o options) (err error) {
	begin := time.Now()
	res := &results{
		Command: "go run ./hack/bench " + strings.Join(os.Args[1:], " "),
		Machine: machine(), LoadBefore: loadAverage(), Started: begin, Secrets: o.secrets,
	}
	o.dashboard.dir = filepath.Join(o.outDir, "dashboard")
	// The dashboard figure needs no Kubernetes: first, before the stack loads the machine.
	if !o.skip["dashboard"] || o.dashboardOnly {
		stepBegin := time.Now()
		if res.Dashboard, err = dashboardFigures(ctx, o); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		res.Figures = append(res.Figures, "dashboard")
		logf("dashboard figures done in %v", time.Since(stepBegin).Round(time.Millisecond))
		if o.dashboardOnly {
			res.Duration = time.Since(begin)
			return writeDashboardOnly(o.outDir, res)
		}
	}
	if o.server, err = filepath.Abs(o.server); err != nil {
		return err
	}
	if _, err := os.Stat(o.server); err != nil {
		return fmt.Errorf("server binary: %w (run make build)", err)
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return err
	}
	secrets, err := loadOrGenerate(o.mixes[0], o.secrets, logf)
	if err != nil {
		return fmt.Errorf("generate Secrets: %w", err)
	}
	if o.generate {
		for _, mix := range o.mixes[1:] {
			if _, err := loadOrGenerate(mix, o.secrets, logf); err != nil {
				return fmt.Errorf("generate Secrets: %w", err)
			}
		}
		return nil
	}

	st, err := stack.Start(ctx, stack.Options{Logf: logf})
	if err != nil {
		return err
	}
	b := &bench{o: o, st: st, res: res}
	defer func() { err = st.StopAfter(ctx, err) }()
	if err := b.clients(); err != nil {
		return err
	}
	// Watches on Secrets before certstatus exists: what the control plane
	// itself holds, subtracted from the count later.
	if res.Watch.BaselineSecretWatches, err = b.secretWatches(ctx); err != nil {
		return err
	}
	if res.Memory.KubeAPIServerRSS0, err = b.kubeAPIServerRSS(); err != nil {
		return err
	}
	// certstatus's GC settings: the memory limit as the Deployment hands it
	// over, and a trace of every GC cycle in its log (the heap peaks). Set
	// after the control plane started, so only certstatus inherits them.
	res.GC = gcSettings(o.memoryLimit)
	if err := os.Setenv("GODEBUG", "gctrace=1"); err != nil {
		return err
	}
	// The first start and the load run with the binary's defaults (no
	// GOMEMLIMIT), as a new user runs it; the Deployment's setting follows
	// from the list step on (setMemoryLimit).
	if b.srv, err = st.StartServer(ctx, o.server, o.serverArgs...); err != nil {
		return err
	}
	logf("certstatus ready and registered (pid %d)", b.srv.PID())
	if b.direct, err = rawClient(b.srv.DirectRESTConfig(st.RESTConfig())); err != nil {
		return err
	}
	if res.Memory.Empty, err = b.serverMemory(ctx); err != nil {
		return err
	}
	logf("certstatus with 0 Secrets: heap in use %s, RSS %s", measure.MiB(res.Memory.Empty.HeapInuse), measure.MiB(res.Memory.Empty.RSS))

	// Load Secrets in steps; at each size measure table lists and memory.
	loaded := 0
	setting := gcSettings(0)
	for _, size := range o.sizes {
		loadBegin := time.Now()
		load, err := b.loadPhase(ctx, func() error {
			if err := createSecrets(ctx, b.kube, secrets[loaded:size]); err != nil {
				return err
			}
			return b.waitListed(ctx, size)
		})
		if err != nil {
			return err
		}
		logf("loaded Secrets %d..%d and certstatus lists them, in %v (certstatus RSS %s → peak %s, kube-apiserver %s → peak %s)", loaded, size,
			time.Since(loadBegin).Round(time.Millisecond), measure.MiB(load.Before.RSS), measure.MiB(load.PeakRSS), measure.MiB(load.Before.PeerRSS), measure.MiB(load.PeakPeerRSS))
		res.Load = append(res.Load, loadFigure{From: loaded, To: size, Took: time.Since(loadBegin), Setting: setting, loadMemory: load})
		loaded = size
		if o.sweepFull {
			// The sweep's restarts run as the Deployment would.
			if err := b.setMemoryLimit(true); err != nil {
				return err
			}
			setting = gcSettings(o.memoryLimit)
		}
		point, err := b.sweepPoint(ctx, size, size == o.secrets)
		if err != nil {
			return err
		}
		res.Sweep = append(res.Sweep, point)
	}
	res.Memory.Loaded = res.Sweep[len(res.Sweep)-1].Memory
	res.Memory.KubeAPIServerRSSN = res.Sweep[len(res.Sweep)-1].KubeAPIServerRSS
	if err := b.saveProfile(ctx, "/debug/pprof/heap", "heap-loaded.pprof"); err != nil {
		logf("heap profile: %v", err)
	}

	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"list", func(ctx context.Context) error { return b.listStep(ctx, o.mixes[0]) }},
		{"clientside", b.clientSide},
		{"startup", b.startup},
		{"keystores", b.keystores},
		{"watch", b.watchFanOut},
		{"clock", b.clock},
		{"events", b.eventsFigure},
		{"metrics", b.metricsFigures},
	}
	for _, step := range steps {
		if o.skip[step.name] {
			continue
		}
		stepBegin := time.Now()
		res.Figures = append(res.Figures, step.name)
		if err := step.f(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
		logf("%s figures done in %v", step.name, time.Since(stepBegin).Round(time.Millisecond))
	}
	if len(res.Mixes) > 0 {
		first := &res.Mixes[0]
		if res.Watch.Watchers > 0 {
			first.Watch = &res.Watch
		}
		if res.Startup.Available.Runs > 0 {
			first.Startup = &res.Startup
		}
	}
	// The other mixes: the same list, fan-out and start-up figures with
	// their Secrets in place of the first mix's.
	for _, mix := range o.mixes[1:] {
		if o.skip["list"] {
			break
		}
		stepBegin := time.Now()
		if err := b.switchMix(ctx, mix); err != nil {
			return fmt.Errorf("list %s: %w", mix, err)
		}
		if err := b.listStep(ctx, mix); err != nil {
			return fmt.Errorf("list %s: %w", mix, err)
		}
		fig := &res.Mixes[len(res.Mixes)-1]
		if !o.skip["watch"] {
			fig.Watch = &watchFigure{BaselineSecretWatches: res.Watch.BaselineSecretWatches, SecretWatches: res.Watch.SecretWatches}
			if err := b.watchFigure(ctx, fig.Watch, false); err != nil {
				return fmt.Errorf("watch %s: %w", mix, err)
			}
		}
		if !o.skip["startup"] {
			fig.Startup = &startupFigure{}
			if err := b.startupFigure(ctx, fig.Startup, o.startups, startupProfile{}); err != nil {
				return fmt.Errorf("startup %s: %w", mix, err)
			}
		}
		logf("figures of the %s mix done in %v", mix, time.Since(stepBegin).Round(time.Millisecond))
	}
	// The ConfigMaps and CRDs of the configmaps figure are deleted once it
	// is done (when usedby follows), so that usedby does not see them.
	if !o.skip["configmaps"] {
		stepBegin := time.Now()
		res.Figures = append(res.Figures, "configmaps")
		if err := b.configMapsFigures(ctx); err != nil {
			return fmt.Errorf("configmaps: %w", err)
		}
		logf("configmaps figures done in %v", time.Since(stepBegin).Round(time.Millisecond))
	}
	// usedby comes last: the Ingresses and Pods it adds must not show in
	// any other figure, the other mixes' lists included.
	if !o.skip["usedby"] {
		stepBegin := time.Now()
		res.Figures = append(res.Figures, "usedby")
		if err := b.usedByFigures(ctx); err != nil {
			return fmt.Errorf("usedby: %w", err)
		}
		logf("usedby figures done in %v", time.Since(stepBegin).Round(time.Millisecond))
	}

	res.LoadAfter = loadAverage()
	res.Duration = time.Since(begin)
	if err := res.writeJSON(filepath.Join(o.outDir, "results.json")); err != nil {
		return err
	}
	// The plot is of the main figures: a run of the configmaps figure only keeps the last one.
	if mainMeasured(res) {
		if err := writePlot(o.plot, res); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
	}
	if err := writeReport(o.doc, o.plot, res); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	logf("wrote %s and %s in %v", o.doc, o.plot, res.Duration.Round(time.Second))
	return nil
}

// cborConfig asks for CBOR. client-go (with ClientsAllowCBOR, set in main)
// and certstatus (started with CBORServingAndStorage) both have it as an
// alpha feature in Kubernetes 1.37; clients that do not ask are unaffected.
func cborConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeCBOR
	cfg.AcceptContentTypes = runtime.ContentTypeCBOR
	return cfg
}

// jsonConfig asks for JSON only: the generated clients prefer protobuf, and
// client-go's Accept header would otherwise also take it.
func jsonConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.AcceptContentTypes = runtime.ContentTypeJSON
	return cfg
}

func (b *bench) clients() error {
	cfg := b.st.RESTConfig()
	cfg.QPS, cfg.Burst = -1, 0
	cfg.WarningHandler = rest.NoWarnings{}
	cfg.Timeout = 2 * time.Minute
	var err error
	if b.user, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if b.certs, err = versioned.NewForConfig(cfg); err != nil {
		return err
	}
	if b.certsCBOR, err = versioned.NewForConfig(cborConfig(cfg)); err != nil {
		return err
	}
	jsonCfg := jsonConfig(cfg)
	if b.userJSON, err = kubernetes.NewForConfig(jsonCfg); err != nil {
		return err
	}
	if b.certsJSON, err = versioned.NewForConfig(jsonCfg); err != nil {
		return err
	}
	proto := rest.CopyConfig(cfg)
	proto.ContentType = runtime.ContentTypeProtobuf
	proto.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if b.kube, err = kubernetes.NewForConfig(proto); err != nil {
		return err
	}
	if b.kubeRaw, err = rawClient(cfg); err != nil {
		return err
	}
	b.kubeRawPlain, err = rawClient(b.plainConfig(cfg))
	return err
}

// waitListed waits until certstatus (through the aggregator) lists n bench objects.
func (b *bench) waitListed(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	last := -1
	for {
		list, err := b.certs.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{LabelSelector: benchLabel})
		if err == nil {
			if last = len(list.Items); last == n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for certstatus to list %d Secrets (last count %d, last error %v): %w", n, last, err, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// sweepPoint measures memory and both table lists at one size.
func (b *bench) sweepPoint(ctx context.Context, n int, final bool) (sweepPoint, error) {
	p := sweepPoint{N: n}
	var err error
	if p.Memory, err = b.serverMemory(ctx); err != nil {
		return p, err
	}
	if p.KubeAPIServerRSS, err = b.kubeAPIServerRSS(); err != nil {
		return p, err
	}
	logf("N=%d: certstatus heap in use %s (%.0f B/Secret), RSS %s; kube-apiserver RSS %s", n,
		measure.MiB(p.Memory.HeapInuse), perSecret(p.Memory.HeapInuse, b.res.Memory.Empty.HeapInuse, n),
		measure.MiB(p.Memory.RSS), measure.MiB(p.KubeAPIServerRSS))
	if b.o.sweepFull {
		if err := b.sweepFull(ctx, &p); err != nil {
			return p, err
		}
	}
	if final {
		return p, nil // the final size gets the full list figures
	}
	if b.o.skip["list"] {
		return p, nil
	}
	if p.CSTTable, _, err = b.kubectlList(ctx, b.o.sweepRuns, n, "get", "cst", "-A"); err != nil {
		return p, err
	}
	if p.SecretsTable, _, err = b.kubectlList(ctx, b.o.sweepRuns, n, "get", "secrets", "-A"); err != nil {
		return p, err
	}
	logf("N=%d: kubectl get cst -A %v, get secrets -A %v (medians)", n, p.CSTTable.Median.Round(time.Millisecond), p.SecretsTable.Median.Round(time.Millisecond))
	return p, nil
}

// kubeAPIServerRSS is kube-apiserver's RSS.
func (b *bench) kubeAPIServerRSS() (int64, error) {
	pid, err := b.kubeAPIServerPID()
	if err != nil {
		return 0, err
	}
	return measure.RSS(pid)
}

// kubeAPIServerPID finds kube-apiserver among the stack's processes.
func (b *bench) kubeAPIServerPID() (int, error) {
	for _, pid := range b.st.PIDs() {
		if procName(pid) == "kube-apiserver" {
			return pid, nil
		}
	}
	return 0, errors.New("kube-apiserver's PID not found")
}

// serverMemory forces a GC in certstatus (the pprof heap handler's gc=1),
// then reads its heap and RSS from /metrics.
func (b *bench) serverMemory(ctx context.Context) (memory, error) {
	var m memory
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Twice: sync.Pools (gzip writers, buffers) survive one GC in the victim cache.
	for range 2 {
		if _, err := b.direct.Get().AbsPath("/debug/pprof/heap").Param("gc", "1").DoRaw(ctx); err != nil {
			return m, fmt.Errorf("force GC through pprof: %w", err)
		}
	}
	metrics, err := measure.Scrape(ctx, b.direct, "/metrics")
	if err != nil {
		return m, err
	}
	m.HeapInuse = int64(metrics.Sum("go_memstats_heap_inuse_bytes", nil))
	m.HeapAlloc = int64(metrics.Sum("go_memstats_heap_alloc_bytes", nil))
	m.HeapLive = int64(metrics.Sum("go_gc_heap_live_bytes", nil))
	m.RSS = int64(metrics.Sum("process_resident_memory_bytes", nil))
	if m.HeapInuse == 0 || m.RSS == 0 {
		return m, errors.New("certstatus /metrics has no go_memstats_heap_inuse_bytes or process_resident_memory_bytes")
	}
	return m, nil
}

// secretWatches counts the Secret watches kube-apiserver is serving.
func (b *bench) secretWatches(ctx context.Context) (int, error) {
	metrics, err := measure.Scrape(ctx, b.kubeRaw, "/metrics")
	if err != nil {
		return 0, err
	}
	return int(metrics.Sum("apiserver_longrunning_requests", map[string]string{"resource": "secrets", "verb": "WATCH"})), nil
}

// processPIDs names the processes whose CPU time the fan-out reports.
func (b *bench) processPIDs() map[string]int {
	pids := map[string]int{"certstatus": b.srv.PID(), "bench": os.Getpid()}
	for _, pid := range b.st.PIDs() {
		if name := procName(pid); name == "kube-apiserver" || name == "etcd" {
			pids[name] = pid
		}
	}
	return pids
}

// profileSelf starts a CPU profile of the bench process (its clients);
// calling the returned function ends it.
func (b *bench) profileSelf(name string) (stop func(), err error) {
	file := filepath.Join(b.o.outDir, name)
	out, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, err
	}
	b.keepProfile(file)
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			out.Close()
		})
	}, nil
}

// keepProfile lists file among the run's profiles; safe to call from
// several goroutines at once.
func (b *bench) keepProfile(file string) {
	b.profilesMu.Lock()
	defer b.profilesMu.Unlock()
	b.res.Profiles = append(b.res.Profiles, file)
}

// saveProfile writes one of certstatus's pprof endpoints to outDir.
func (b *bench) saveProfile(ctx context.Context, path, name string, params ...string) error {
	return b.saveProfileFrom(ctx, b.direct, path, name, params...)
}

// saveProfileFrom keeps a pprof profile served by client's server; safe to
// call from several goroutines at once.
func (b *bench) saveProfileFrom(ctx context.Context, client rest.Interface, path, name string, params ...string) error {
	req := client.Get().AbsPath(path)
	for i := 0; i+1 < len(params); i += 2 {
		req = req.Param(params[i], params[i+1])
	}
	data, err := req.DoRaw(ctx)
	if err != nil {
		return err
	}
	file := filepath.Join(b.o.outDir, name)
	b.keepProfile(file)
	return os.WriteFile(file, data, 0o644)
}

func perSecret(value, base int64, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(value-base) / float64(n)
}

// render rewrites the report and the plot from saved results.
func render(resultsPath, doc, plot string) error {
	data, err := os.ReadFile(resultsPath)
	if err != nil {
		return err
	}
	res := &results{}
	if err := json.Unmarshal(data, res); err != nil {
		return err
	}
	if mainMeasured(res) {
		if err := writePlot(plot, res); err != nil {
			return err
		}
	}
	return writeReport(doc, plot, res)
}
