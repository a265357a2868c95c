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
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
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
	defer func() { err = st.StopAfter(ctx, err) }()
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
	var lists backgroundLists
	wg.Go(func() { ch.run(loadCtx, c.rate) })
	wg.Go(func() { lists.run(loadCtx, certs, c.listEvery) })

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
				time.Since(begin).Round(time.Second), ch.summary(), ws.events(), lists.done.Load(), lists.failed.Load(), ws.watchErrors())
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
	fmt.Printf("  lists             %d background (%d failed)\n", lists.done.Load(), lists.failed.Load())
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
