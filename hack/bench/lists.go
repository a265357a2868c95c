package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/pkg/certificate"
)

// pair times ours and peer alternately (the order swapping every run, so a
// noisy neighbour hurts both alike), after one warm-up of each.
func pair(ctx context.Context, runs int, ours, peer func() error) (stats, stats, error) {
	if err := ours(); err != nil {
		return stats{}, stats{}, fmt.Errorf("warm-up: %w", err)
	}
	if err := peer(); err != nil {
		return stats{}, stats{}, fmt.Errorf("warm-up: %w", err)
	}
	var a, b []time.Duration
	timed := func(f func() error, into *[]time.Duration) error {
		begin := time.Now()
		if err := f(); err != nil {
			return err
		}
		*into = append(*into, time.Since(begin))
		return nil
	}
	for i := range runs {
		if err := ctx.Err(); err != nil {
			return stats{}, stats{}, err
		}
		first, second := func() error { return timed(ours, &a) }, func() error { return timed(peer, &b) }
		if i%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return stats{}, stats{}, err
		}
		if err := second(); err != nil {
			return stats{}, stats{}, err
		}
	}
	return summarize(a), summarize(b), nil
}

// kubectlList times a kubectl command and checks it printed at least n lines.
func (b *bench) kubectlList(ctx context.Context, runs, n int, args ...string) (stats, kubectlRun, error) {
	var last kubectlRun
	s, err := repeat(ctx, runs, func() error {
		r, err := kubectl(ctx, b.st, args...)
		last = r
		if err == nil && r.Lines < n {
			err = fmt.Errorf("kubectl %v printed %d lines, want at least %d", args, r.Lines, n)
		}
		return err
	})
	return s, last, err
}

// kubectlPair compares two kubectl commands, each printing at least N rows.
func (b *bench) kubectlPair(ctx context.Context, name string, ours, peer []string) (comparison, error) {
	return b.kubectlPairMin(ctx, name, ours, peer, b.o.secrets, b.o.secrets)
}

// kubectlPairMin compares two kubectl commands that print tables of at
// least minOurs and minPeer rows; the items are the rows (lines but the header).
func (b *bench) kubectlPairMin(ctx context.Context, name string, ours, peer []string, minOurs, minPeer int) (comparison, error) {
	c := comparison{Name: name, OursLabel: "kubectl " + strings.Join(ours, " "), PeerLabel: "kubectl " + strings.Join(peer, " "), Target: 1.0}
	var oursRun, peerRun kubectlRun
	var maxOurs, maxPeer int64
	run := func(args []string, into *kubectlRun, peak *int64, least int) func() error {
		return func() error {
			r, err := kubectl(ctx, b.st, args...)
			if err != nil {
				return err
			}
			if r.Lines < least {
				return fmt.Errorf("kubectl %s printed %d lines, want at least %d", strings.Join(args, " "), r.Lines, least)
			}
			*into = r
			*peak = max(*peak, r.MaxRSS)
			return nil
		}
	}
	err := b.pairCPU(ctx, &c, run(ours, &oursRun, &maxOurs, minOurs), run(peer, &peerRun, &maxPeer, minPeer))
	c.OursBytes, c.PeerBytes = oursRun.Bytes, peerRun.Bytes
	c.OursMaxRSS, c.PeerMaxRSS = maxOurs, maxPeer
	c.OursItems, c.PeerItems = max(oursRun.Lines-1, 0), max(peerRun.Lines-1, 0)
	return c, err
}

// goListPair compares one all-namespace list by certstatus's generated
// client with one of Secrets by a client-go clientset; both must return at
// least N items.
func (b *bench) goListPair(ctx context.Context, c comparison, ours versioned.Interface, peer kubernetes.Interface) (comparison, error) {
	n := b.o.secrets
	err := b.pairCPU(ctx, &c, func() error {
		list, err := ours.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{})
		if err == nil {
			c.OursItems = len(list.Items)
		}
		return err
	}, func() error {
		list, err := peer.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
		if err == nil {
			c.PeerItems = len(list.Items)
		}
		return err
	})
	if err == nil && (c.OursItems < n || c.PeerItems < n) {
		err = fmt.Errorf("%s: listed %d CertificateStatuses and %d Secrets, want at least %d each", c.Name, c.OursItems, c.PeerItems, n)
	}
	return c, err
}

// Targets of issue #27 (part 3), by the key of the list row they bound.
var listTargets = map[string]float64{
	"table":     0.9,
	"typed":     1.0,
	"raw-gzip":  0.5,
	"raw-plain": 0.5,
}

// listFigures is figure 1 at N: kubectl tables and JSON, the typed clients,
// and the raw HTTPS lists (response sizes). Each row has a key (listTargets,
// the summary) and both servers' CPU per run.
func (b *bench) listFigures(ctx context.Context) ([]comparison, error) {
	table, err := b.kubectlPair(ctx, "kubectl table, all namespaces", []string{"get", "cst", "-A"}, []string{"get", "secrets", "-A"})
	if err != nil {
		return nil, err
	}
	table.Key = "table"
	// kubectl pages by 500 and sends at most 5 requests a second after a
	// burst of 10 (client-go's defaults): at N = 10 000 both tables wait
	// for its rate limiter, whichever server answers.
	if table.OursThrottled, err = kubectlThrottled(ctx, b.st, "get", "cst", "-A"); err != nil {
		return nil, err
	}
	if table.PeerThrottled, err = kubectlThrottled(ctx, b.st, "get", "secrets", "-A"); err != nil {
		return nil, err
	}
	b.logComparison(table)
	unpaged, err := b.kubectlPair(ctx, "kubectl table in one request (--chunk-size=0), all namespaces", []string{"get", "cst", "-A", "--chunk-size=0"}, []string{"get", "secrets", "-A", "--chunk-size=0"})
	if err != nil {
		return nil, err
	}
	unpaged.Key = "table-unpaged"
	b.logComparison(unpaged)
	jsonOut, err := b.kubectlPair(ctx, "kubectl -o json, all namespaces", []string{"get", "cst", "-A", "-o", "json"}, []string{"get", "secrets", "-A", "-o", "json"})
	if err != nil {
		return nil, err
	}
	jsonOut.Key = "json"
	b.logComparison(jsonOut)

	directClient, err := b.directTypedClient()
	if err != nil {
		return nil, err
	}
	directJSON, err := b.directTypedClientJSON()
	if err != nil {
		return nil, err
	}
	var goLists []comparison
	for _, l := range []struct {
		c    comparison
		ours versioned.Interface
		peer kubernetes.Interface
	}{
		{comparison{Key: "typed", Name: "Go client list, all namespaces (client-go defaults: protobuf)",
			OursLabel: "generated typed client, CertificateStatuses(\"\").List (protobuf, its default)",
			PeerLabel: "client-go CoreV1().Secrets(\"\").List (protobuf, client-go's default for built-in types)"}, b.certs, b.user},
		{comparison{Key: "typed-direct", Name: "Go client list, certstatus directly (no aggregator), protobuf", OursLabel: "generated typed client → certstatus (protobuf)",
			PeerLabel: "client-go CoreV1().Secrets(\"\").List (protobuf)"}, directClient, b.user},
		{comparison{Key: "cbor", Name: "Go client list, all namespaces, certstatus in CBOR (alpha, opt-in)",
			OursLabel: "generated typed client with ContentType application/cbor",
			PeerLabel: "client-go CoreV1().Secrets(\"\").List (protobuf)"}, b.certsCBOR, b.user},
		{comparison{Key: "json-both", Name: "Go client list, all namespaces, both JSON", OursLabel: "generated typed client with ContentType application/json",
			PeerLabel: "client-go CoreV1().Secrets(\"\").List with ContentType application/json"}, b.certsJSON, b.userJSON},
		{comparison{Key: "json-direct", Name: "Go client list, certstatus directly (no aggregator), both JSON", OursLabel: "generated typed client → certstatus, JSON",
			PeerLabel: "client-go CoreV1().Secrets(\"\").List, JSON"}, directJSON, b.userJSON},
	} {
		c, err := b.goListPair(ctx, l.c, l.ours, l.peer)
		if err != nil {
			return nil, err
		}
		b.logComparison(c)
		goLists = append(goLists, c)
	}

	// Go's HTTP client asks for gzip, and both servers compress large
	// responses; curl without --compressed and other plain clients do not.
	// The last row goes straight to certstatus: the aggregator's share of
	// an uncompressed list.
	directRaw, err := rawClient(b.plainConfig(b.srv.DirectRESTConfig(b.st.RESTConfig())))
	if err != nil {
		return nil, err
	}
	var raws []comparison
	for _, r := range []struct {
		key, name  string
		ours, peer rest.Interface
		oursVia    string
	}{
		{"raw-gzip", "raw HTTPS GET, JSON (gzip, as client-go and kubectl ask)", b.kubeRaw, b.kubeRaw, ""},
		{"raw-plain", "raw HTTPS GET, JSON, uncompressed (as curl without --compressed)", b.kubeRawPlain, b.kubeRawPlain, ""},
		{"raw-plain-direct", "raw HTTPS GET, JSON, uncompressed, certstatus directly (no aggregator)", directRaw, b.kubeRawPlain, " → certstatus"},
	} {
		raw := comparison{Key: r.key, Name: r.name, OursLabel: "GET /apis/certstatus.dev/v1alpha1/certificatestatuses" + r.oursVia,
			PeerLabel: "GET /api/v1/secrets"}
		if err := b.pairCPU(ctx, &raw, func() error {
			data, err := r.ours.Get().AbsPath("/apis/certstatus.dev/v1alpha1/certificatestatuses").DoRaw(ctx)
			raw.OursBytes = int64(len(data))
			return err
		}, func() error {
			data, err := r.peer.Get().AbsPath("/api/v1/secrets").DoRaw(ctx)
			raw.PeerBytes = int64(len(data))
			return err
		}); err != nil {
			return nil, err
		}
		b.logComparison(raw)
		raws = append(raws, raw)
	}

	curls, err := b.curlRows(ctx)
	if err != nil {
		return nil, err
	}
	lists := append(append(append([]comparison{table, unpaged, jsonOut}, goLists...), raws...), curls...)
	for i := range lists {
		lists[i].Target = listTargets[lists[i].Key]
	}
	for _, c := range lists {
		if c.Target > 0 && c.Ratio() > c.Target {
			// Missed: keep a CPU profile of certstatus serving lists.
			if err := b.profileWhile(ctx, "cpu-list.pprof", func() error {
				_, err := b.certs.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{})
				return err
			}); err != nil {
				logf("CPU profile of lists: %v", err)
			}
			break
		}
	}
	if table.Ratio() > listTargets["table"] {
		b.profileTables(ctx)
	}
	return lists, nil
}

// profileTables keeps what a missed kubectl table costs: certstatus serving
// `kubectl get cst -A` in a loop, and kubectl's own CPU profile of one run of
// each table (`--profile`), the client's share of the time.
func (b *bench) profileTables(ctx context.Context) {
	if err := b.profileWhile(ctx, "cpu-table.pprof", func() error {
		_, err := kubectl(ctx, b.st, "get", "cst", "-A")
		return err
	}); err != nil {
		logf("CPU profile of tables: %v", err)
	}
	for name, resource := range map[string]string{"cpu-kubectl-table.pprof": "cst", "cpu-kubectl-table-secrets.pprof": "secrets"} {
		file := filepath.Join(b.o.outDir, name)
		if _, err := kubectl(ctx, b.st, "get", resource, "-A", "--profile=cpu", "--profile-output="+file); err != nil {
			logf("kubectl's CPU profile: %v", err)
			continue
		}
		b.keepProfile(file)
	}
}

// plainConfig is cfg without asking for gzip, as curl without --compressed.
func (b *bench) plainConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.DisableCompression = true
	return cfg
}

// listRow is the row of a list figure with key, or the zero comparison.
func listRow(lists []comparison, key string) comparison {
	for _, c := range lists {
		if c.Key == key {
			return c
		}
	}
	return comparison{}
}

// profileWhile takes a 10 s CPU profile of certstatus while f runs in a loop.
func (b *bench) profileWhile(ctx context.Context, name string, f func() error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.saveProfile(ctx, "/debug/pprof/profile", name, "seconds", "10") }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if err := f(); err != nil {
			cancel()
			<-done
			return err
		}
	}
}

func (b *bench) logComparison(c comparison) {
	logf("%s: certstatus %v (p90 %v) vs %v (p90 %v): ratio %.2f; CPU per run: certstatus %v + kube-apiserver %v vs kube-apiserver %v; load %s", c.Name,
		c.Ours.Median.Round(time.Millisecond), c.Ours.P90.Round(time.Millisecond),
		c.Peer.Median.Round(time.Millisecond), c.Peer.P90.Round(time.Millisecond), c.Ratio(),
		c.OursCPU.Certstatus.Round(time.Millisecond), c.OursCPU.KubeAPIServer.Round(time.Millisecond), c.PeerCPU.KubeAPIServer.Round(time.Millisecond), loadAverage())
}

// clientSide is figure 6: what users script today, list every Secret and
// parse every certificate in the client, against one certstatus list.
func (b *bench) clientSide(ctx context.Context) error {
	c := comparison{Name: "the same answer, computed client-side", OursLabel: "typed client list of CertificateStatuses",
		PeerLabel: "client-go Secrets list (protobuf) + certificate.Analyze of each, sequential"}
	options := certificate.DefaultOptions()
	var err error
	c.Ours, c.Peer, err = pair(ctx, b.o.runs, func() error {
		list, err := b.certs.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{})
		if err == nil {
			c.OursItems = len(list.Items)
		}
		return err
	}, func() error {
		list, err := b.user.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		now := time.Now()
		listed := 0
		for i := range list.Items {
			a, ok := certificate.Analyze(certificate.InputFromSecret(&list.Items[i]), options)
			if !ok {
				continue
			}
			_ = a.StatusAt(now)
			listed++
		}
		c.PeerItems = listed
		return nil
	})
	if err != nil {
		return err
	}
	if c.OursItems != c.PeerItems {
		return fmt.Errorf("certstatus lists %d objects, the client-side analysis %d", c.OursItems, c.PeerItems)
	}
	b.logComparison(c)
	b.res.ClientSide = c
	return nil
}

// serverCPU is the CPU time certstatus and kube-apiserver spent, on average,
// per timed run of one side of a comparison (from /proc/<pid>/stat): on a
// shared machine it tells a slower server from a busier one.
type serverCPU struct {
	Certstatus    time.Duration `json:"certstatus"`
	KubeAPIServer time.Duration `json:"kubeAPIServer"`
}

// cpuCounted wraps f so that each call after the first (the warm-up) adds
// the servers' CPU time during it to a sum; the returned function averages
// it over the counted calls.
func (b *bench) cpuCounted(f func() error) (wrapped func() error, perRun func() serverCPU) {
	var sum serverCPU
	calls := 0
	wrapped = func() error {
		pids := b.processPIDs()
		before := cpuSnapshot(pids)
		err := f()
		after := cpuSnapshot(pids)
		if calls > 0 {
			sum.Certstatus += after["certstatus"] - before["certstatus"]
			sum.KubeAPIServer += after["kube-apiserver"] - before["kube-apiserver"]
		}
		calls++
		return err
	}
	perRun = func() serverCPU {
		if calls < 2 {
			return serverCPU{}
		}
		n := time.Duration(calls - 1)
		return serverCPU{Certstatus: sum.Certstatus / n, KubeAPIServer: sum.KubeAPIServer / n}
	}
	return wrapped, perRun
}

// pairCPU is pair with both servers' CPU per run of each side recorded in c.
func (b *bench) pairCPU(ctx context.Context, c *comparison, ours, peer func() error) error {
	return b.pairCPUWith(ctx, c, b.o.runs, ours, peer)
}

// pairCPUWith is pairCPU with its own number of runs.
func (b *bench) pairCPUWith(ctx context.Context, c *comparison, runs int, ours, peer func() error) error {
	ours, oursCPU := b.cpuCounted(ours)
	peer, peerCPU := b.cpuCounted(peer)
	var err error
	c.Ours, c.Peer, err = pair(ctx, runs, ours, peer)
	c.OursCPU, c.PeerCPU = oursCPU(), peerCPU()
	return err
}
