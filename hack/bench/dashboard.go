package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/internal/monitoring"
	"github.com/certstatus/certstatus/test/stack"
)

// The dashboard figure (issue 24): every query of the shipped Grafana
// dashboard, timed against a real Prometheus that holds 30 days of the
// series of N Secrets exported by two replicas. It needs no Kubernetes:
//
//  1. the history is backfilled with promtool (tsdb create-blocks-from
//     openmetrics), one OpenMetrics file per block range, written by the
//     bench (series.go) and deleted once promtool has read it;
//  2. Prometheus starts on those blocks with the shipped rules and scrapes
//     the same series live from the bench, as two replicas, so the present
//     is in its head and its recording rules run, as in a real install;
//  3. each panel query and variable is timed over the dashboard's default
//     range, and Prometheus's own cost is read: series, samples/s, rule
//     evaluation, TSDB bytes, memory.

// dashboardBlock is the block range of the backfill: what a Prometheus with
// a retention over 30 days compacts to (its largest range under a tenth of
// the retention), so Prometheus does not compact during the figure.
const dashboardBlock = 54 * time.Hour

type dashboardFigure struct {
	Secrets  int `json:"secrets"`
	Replicas int `json:"replicas"`
	// Days backfilled; RawInterval is the interval of the per-Secret series
	// in the backfill, RecordedInterval that of the recorded ones, and
	// ScrapeInterval the live scrapes' (and the rules' evaluation).
	Days             int           `json:"days"`
	RawInterval      time.Duration `json:"rawInterval"`
	RecordedInterval time.Duration `json:"recordedInterval"`
	ScrapeInterval   time.Duration `json:"scrapeInterval"`
	LiveFor          time.Duration `json:"liveFor"`
	Step             time.Duration `json:"step"`
	// The backfill: samples, OpenMetrics bytes, and how long generating
	// and promtool took.
	BackfillSamples int64         `json:"backfillSamples"`
	BackfillInput   int64         `json:"backfillInput"`
	BackfillTime    time.Duration `json:"backfillTime"`
	Blocks          int           `json:"blocks"`
	BlockBytes      int64         `json:"blockBytes"`
	// What Prometheus reports after LiveFor of live scrapes.
	HeadSeries       int64         `json:"headSeries"`
	SamplesPerSecond float64       `json:"samplesPerSecond"`
	ScrapeDuration   time.Duration `json:"scrapeDuration"`
	// ScrapeBytes is one replica's exposition (text format, uncompressed).
	ScrapeBytes int64 `json:"scrapeBytes"`
	RSS         int64 `json:"rss"`
	HeapInuse   int64 `json:"heapInuse"`
	WALBytes    int64 `json:"walBytes"`
	// RuleGroups is each group's last evaluation time.
	RuleGroups []ruleGroupTime `json:"ruleGroups"`
	Queries    []queryTime     `json:"queries"`
	// Checked: the recorded series backfilled equal what Prometheus's
	// rules record from the live series.
	RecordedChecked int `json:"recordedChecked"`
}

type ruleGroupTime struct {
	Name string        `json:"name"`
	Time time.Duration `json:"time"`
}

type queryTime struct {
	Panel string `json:"panel"`
	// Kind is instant, range or labels (a variable).
	Kind     string        `json:"kind"`
	Expr     string        `json:"expr"`
	Duration stats         `json:"duration"`
	Max      time.Duration `json:"max"`
	// Series in the result (values for labels).
	Series int `json:"series"`
	// Samples is what Prometheus read for it (its stats=all
	// totalQueryableSamples): the work, whatever the machine's load.
	Samples int64 `json:"samples,omitempty"`
}

type dashboardOptions struct {
	days                                      int
	rawInterval, recordedInterval, scrapeEach time.Duration
	liveFor                                   time.Duration
	runs                                      int
	dir                                       string
}

// dashboardFigures runs the figure with its own Prometheus.
func dashboardFigures(ctx context.Context, o options) (*dashboardFigure, error) {
	do := o.dashboard
	tools, err := stack.MonitoringToolsDir("")
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(do.dir); err != nil {
		return nil, err
	}
	data := filepath.Join(do.dir, "prometheus-data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	f := &dashboardFigure{Secrets: o.secrets, Replicas: 2, Days: do.days, RawInterval: do.rawInterval,
		RecordedInterval: do.recordedInterval, ScrapeInterval: do.scrapeEach, LiveFor: do.liveFor}
	now := time.Now()
	secrets := fakeSecrets(o.secrets, now)

	// The live replicas: the same series, scraped from here.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	exposition, scrapeBytes := newSeriesWriterTo(func(w io.Writer) {
		sw := newSeriesWriter(w)
		writeSecretFamilies(sw, secrets, nil, nil)
		sw.family("certstatus_informer_synced")
		sw.sample("certstatus_informer_synced", 1, "resource", "secrets")
		sw.family("certstatus_cached_secrets")
		sw.sample("certstatus_cached_secrets", float64(len(secrets)))
		_ = sw.flush()
	})
	f.ScrapeBytes = scrapeBytes
	server := &http.Server{Handler: exposition, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	defer server.Close()
	instance := listener.Addr().String()
	const job = "certstatus-bench"
	replicas := [][]string{
		{"job", job, "instance", instance, "pod", "certstatus-apiserver-a"},
		{"job", job, "instance", instance, "pod", "certstatus-apiserver-b"},
	}

	began := time.Now()
	if err := backfill(ctx, f, filepath.Join(tools, "promtool"), do, data, now, secrets, replicas); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	f.BackfillTime = time.Since(began)
	if f.Blocks, f.BlockBytes, err = blockBytes(data); err != nil {
		return nil, err
	}
	logf("dashboard: backfilled %d samples (%s of OpenMetrics) into %d blocks of %s in %v",
		f.BackfillSamples, size(f.BackfillInput), f.Blocks, size(f.BlockBytes), f.BackfillTime.Round(time.Second))

	prom, err := startPrometheus(ctx, tools, do, data, instance, job, replicas)
	if err != nil {
		return nil, err
	}
	defer prom.stop()
	logf("dashboard: Prometheus on %s, scraping the two replicas live for %v", prom.url, do.liveFor)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(do.liveFor):
	}
	if err := prom.cost(ctx, f); err != nil {
		return nil, err
	}
	if f.RecordedChecked, err = prom.checkRecorded(ctx, recordedSeries(secrets), now); err != nil {
		return nil, err
	}
	if err := prom.timeQueries(ctx, f, do.runs); err != nil {
		return nil, err
	}
	if f.WALBytes, err = dirBytes(filepath.Join(data, "wal")); err != nil {
		return nil, err
	}
	return f, nil
}

// newSeriesWriterTo serves what write writes, generated once, and says its size.
func newSeriesWriterTo(write func(io.Writer)) (http.Handler, int64) {
	var body strings.Builder
	write(&body)
	text := body.String()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, text)
	}), int64(len(text))
}

// backfill writes the history, one block range at a time: raw series
// every rawInterval and recorded ones every recordedInterval, up to now.
func backfill(ctx context.Context, f *dashboardFigure, promtool string, do dashboardOptions, data string, now time.Time,
	secrets []fakeSecret, replicas [][]string) error {
	end := now.Truncate(time.Minute).Unix()
	start := end - int64(do.days)*24*3600
	block := int64(dashboardBlock / time.Second)
	recorded := recordedSeries(secrets)
	every := func(from, to, interval int64) []int64 {
		var ts []int64
		for t := end - interval*((end-from)/interval); t < to && t <= end; t += interval {
			if t >= from {
				ts = append(ts, t)
			}
		}
		return ts
	}
	for b := block * (start / block); b <= end; b += block {
		from, to := max(b, start), b+block
		raw := every(from, to, int64(do.rawInterval/time.Second))
		rec := every(from, to, int64(do.recordedInterval/time.Second))
		file := filepath.Join(do.dir, "backfill.om")
		out, err := os.Create(file)
		if err != nil {
			return err
		}
		sw := newSeriesWriter(out)
		writeSecretFamilies(sw, secrets, replicas, raw)
		writeRecorded(sw, recorded, rec)
		_, _ = sw.w.WriteString("# EOF\n")
		err = errors.Join(sw.flush(), out.Close())
		if err != nil {
			return err
		}
		info, err := os.Stat(file)
		if err != nil {
			return err
		}
		f.BackfillInput += info.Size()
		f.BackfillSamples += int64(len(raw)*len(replicas)*rawSeriesPerReplica(secrets) + len(rec)*len(recorded))
		cmd := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
			"--max-block-duration="+dashboardBlock.String(), file, data)
		if output, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("promtool: %v: %s", err, output)
		}
		if err := os.Remove(file); err != nil {
			return err
		}
		logf("dashboard: block %s..%s: %d raw and %d recorded timestamps",
			time.Unix(from, 0).UTC().Format(time.DateTime), time.Unix(min(to, end), 0).UTC().Format(time.DateTime), len(raw), len(rec))
	}
	return nil
}

// blockBytes counts the backfilled blocks and their bytes.
func blockBytes(data string) (int, int64, error) {
	entries, err := os.ReadDir(data)
	if err != nil {
		return 0, 0, err
	}
	blocks, total := 0, int64(0)
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(data, e.Name(), "meta.json")); err != nil {
			continue
		}
		n, err := dirBytes(filepath.Join(data, e.Name()))
		if err != nil {
			return 0, 0, err
		}
		blocks++
		total += n
	}
	return blocks, total, nil
}

func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return err
	})
	return total, err
}

// prometheusProcess is the figure's Prometheus, stopped by its PID.
type prometheusProcess struct {
	cmd *exec.Cmd
	url string
}

func startPrometheus(ctx context.Context, tools string, do dashboardOptions, data, instance, job string, replicas [][]string) (*prometheusProcess, error) {
	rules, err := yaml.Marshal(map[string]any{"groups": monitoring.Rules(monitoring.DefaultOptions())})
	if err != nil {
		return nil, err
	}
	rulesFile := filepath.Join(do.dir, "certstatus.rules.yaml")
	if err := os.WriteFile(rulesFile, rules, 0o644); err != nil {
		return nil, err
	}
	// Two targets at the same address, told apart by their pod label, as
	// two replicas behind a ServiceMonitor are; a job name that is not the
	// default, because no query may depend on it.
	var targets strings.Builder
	for _, r := range replicas {
		fmt.Fprintf(&targets, "  - targets: [%q]\n    labels: {pod: %q}\n", instance, r[5])
	}
	config := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
  scrape_timeout: %[1]s
rule_files: [%[2]q]
scrape_configs:
- job_name: %[3]q
  honor_labels: true
  static_configs:
%[4]s`, do.scrapeEach, rulesFile, job, targets.String())
	configFile := filepath.Join(do.dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	listen := listener.Addr().String()
	listener.Close()
	logFile, err := os.Create(filepath.Join(do.dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(tools, "prometheus"), "--config.file="+configFile, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=40d", "--web.listen-address="+listen)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &prometheusProcess{cmd: cmd, url: "http://" + listen}
	ready, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		if resp, err := http.Get(p.url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-ready.Done():
			p.stop()
			return nil, fmt.Errorf("Prometheus not ready (see %s): %w", logFile.Name(), ready.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (p *prometheusProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// apiResult is the part of a Prometheus API answer the figure reads.
type apiResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Stats struct {
			Samples struct {
				TotalQueryableSamples int64 `json:"totalQueryableSamples"`
			} `json:"samples"`
		} `json:"stats"`
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`
			Values [][]any           `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (p *prometheusProcess) get(ctx context.Context, path string, params url.Values, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %v: %s: %s", path, params, resp.Status, body)
	}
	return json.Unmarshal(body, into)
}

// instant evaluates expr now and returns its series.
func (p *prometheusProcess) instant(ctx context.Context, expr string, at time.Time) (*apiResult, error) {
	var r apiResult
	params := url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}, "stats": {"all"}}
	if err := p.get(ctx, "/api/v1/query", params, &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", expr, r.Error)
	}
	return &r, nil
}

// scalar is the value of a query that returns one series.
func (p *prometheusProcess) scalar(ctx context.Context, expr string) (float64, error) {
	r, err := p.instant(ctx, expr, time.Now())
	if err != nil {
		return 0, err
	}
	if len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
		return 0, fmt.Errorf("%s: %d series, want 1", expr, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// cost reads what the series cost Prometheus after the live scrapes.
func (p *prometheusProcess) cost(ctx context.Context, f *dashboardFigure) error {
	// Prometheus's own /metrics, read twice for the samples appended per second.
	read := func() (measure.Metrics, time.Time, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/metrics", nil)
		if err != nil {
			return measure.Metrics{}, time.Time{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return measure.Metrics{}, time.Time{}, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return measure.Metrics{}, time.Time{}, err
		}
		m, err := measure.ParseMetrics(body)
		return m, time.Now(), err
	}
	first, t0, err := read()
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * f.ScrapeInterval):
	}
	last, t1, err := read()
	if err != nil {
		return err
	}
	appended := last.Sum("prometheus_tsdb_head_samples_appended_total", nil) - first.Sum("prometheus_tsdb_head_samples_appended_total", nil)
	f.SamplesPerSecond = appended / t1.Sub(t0).Seconds()
	f.HeadSeries = int64(last.Sum("prometheus_tsdb_head_series", nil))
	f.HeapInuse = int64(last.Sum("go_memstats_heap_inuse_bytes", nil))
	if f.RSS, err = measure.RSS(p.cmd.Process.Pid); err != nil {
		return err
	}
	scrape, err := p.scalar(ctx, `max(scrape_duration_seconds{job="certstatus-bench"})`)
	if err != nil {
		return err
	}
	f.ScrapeDuration = time.Duration(scrape * float64(time.Second))
	var rules struct {
		Data struct {
			Groups []struct {
				Name           string  `json:"name"`
				EvaluationTime float64 `json:"evaluationTime"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := p.get(ctx, "/api/v1/rules", nil, &rules); err != nil {
		return err
	}
	for _, g := range rules.Data.Groups {
		f.RuleGroups = append(f.RuleGroups, ruleGroupTime{Name: g.Name, Time: time.Duration(g.EvaluationTime * float64(time.Second))})
	}
	logf("dashboard: %d head series, %.0f samples/s, scrape %v, Prometheus RSS %s, heap in use %s",
		f.HeadSeries, f.SamplesPerSecond, f.ScrapeDuration.Round(time.Millisecond), measure.MiB(f.RSS), measure.MiB(f.HeapInuse))
	return nil
}

// checkRecorded compares the recorded series the bench backfilled at
// backfillEnd with what Prometheus's recording rules record now from the
// live series: the same population, so every value must match.
func (p *prometheusProcess) checkRecorded(ctx context.Context, want []recordedSample, backfillEnd time.Time) (int, error) {
	names := map[string]bool{}
	for _, r := range want {
		names[r.name] = true
	}
	checked := 0
	for name := range names {
		for _, at := range []struct {
			what string
			t    time.Time
			expr string
		}{
			{"backfilled", backfillEnd.Truncate(time.Minute), name},
			// Only samples Prometheus recorded itself, after the backfill.
			{"recorded by Prometheus", time.Now(), fmt.Sprintf("%s and timestamp(%s) > %d", name, name, backfillEnd.Unix())},
		} {
			r, err := p.instant(ctx, at.expr, at.t)
			if err != nil {
				return checked, err
			}
			got := map[string]float64{}
			for _, s := range r.Data.Result {
				v, _ := s.Value[1].(string)
				got[s.Metric["namespace"]+"/"+s.Metric["state"]], _ = strconv.ParseFloat(v, 64)
			}
			n := 0
			for _, w := range want {
				if w.name != name {
					continue
				}
				n++
				k := w.labels[1] + "/"
				if len(w.labels) > 2 {
					k += w.labels[3]
				}
				if v, ok := got[k]; !ok || math.Abs(v-w.value) > 1e-9 {
					return checked, fmt.Errorf("%s %s{%s}: %v (present %v), the bench computes %v", at.what, name, k, v, ok, w.value)
				}
			}
			if len(got) != n {
				return checked, fmt.Errorf("%s %s: %d series, the bench computes %d", at.what, name, len(got), n)
			}
			checked += n
		}
	}
	return checked, nil
}

// timeQueries times every query of the dashboard: instant ones now, range
// ones over its default range at the step Grafana uses for a half-width
// panel, variables as Grafana asks for label values; with every variable
// at "All".
func (p *prometheusProcess) timeQueries(ctx context.Context, f *dashboardFigure, runs int) error {
	rangeLength, err := time.ParseDuration(strings.TrimSuffix(monitoring.DefaultRange, "d") + "h")
	if err != nil {
		return err
	}
	rangeLength *= 24
	// Grafana's step: the range over the panel's width in pixels (about
	// 900 for half a 1920-pixel screen), rounded to a round interval.
	f.Step = 10 * time.Minute
	all := strings.NewReplacer(`"$cluster"`, `".*"`, `"$namespace"`, `".*"`)
	dashboard := monitoring.Dashboard()
	type query struct {
		panel, kind, expr string
		run               func(context.Context) (series int, samples int64, err error)
	}
	var queries []query
	for _, v := range dashboard.Templating.List {
		if v.Type != "query" {
			continue
		}
		// label_values(selector, label)
		inner := strings.TrimSuffix(strings.TrimPrefix(v.Query, "label_values("), ")")
		comma := strings.LastIndex(inner, ",")
		selector, label := all.Replace(inner[:comma]), strings.TrimSpace(inner[comma+1:])
		queries = append(queries, query{"variable $" + v.Name, "labels", v.Query, func(ctx context.Context) (int, int64, error) {
			var r struct {
				Status string   `json:"status"`
				Data   []string `json:"data"`
			}
			end := time.Now()
			params := url.Values{"match[]": {selector}, "start": {strconv.FormatInt(end.Add(-rangeLength).Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}}
			err := p.get(ctx, "/api/v1/label/"+label+"/values", params, &r)
			return len(r.Data), 0, err
		}})
	}
	for _, panel := range dashboard.Panels {
		for _, target := range panel.Targets {
			expr := all.Replace(target.Expr)
			if target.Instant {
				queries = append(queries, query{panel.Title, "instant", target.Expr, func(ctx context.Context) (int, int64, error) {
					r, err := p.instant(ctx, expr, time.Now())
					if err != nil {
						return 0, 0, err
					}
					return len(r.Data.Result), r.Data.Stats.Samples.TotalQueryableSamples, nil
				}})
				continue
			}
			queries = append(queries, query{panel.Title, "range", target.Expr, func(ctx context.Context) (int, int64, error) {
				var r apiResult
				end := time.Now()
				params := url.Values{"query": {expr}, "start": {strconv.FormatInt(end.Add(-rangeLength).Unix(), 10)},
					"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {strconv.Itoa(int(f.Step / time.Second))}, "stats": {"all"}}
				if err := p.get(ctx, "/api/v1/query_range", params, &r); err != nil {
					return 0, 0, err
				}
				if r.Status != "success" {
					return 0, 0, fmt.Errorf("%s: %s", expr, r.Error)
				}
				return len(r.Data.Result), r.Data.Stats.Samples.TotalQueryableSamples, nil
			}})
		}
	}
	for _, q := range queries {
		var durations []time.Duration
		series, samples := 0, int64(0)
		for i := range runs + 1 {
			began := time.Now()
			n, read, err := q.run(ctx)
			if err != nil {
				return fmt.Errorf("panel %q: %w", q.panel, err)
			}
			if i > 0 { // the first run warms up
				durations = append(durations, time.Since(began))
			}
			series, samples = n, read
		}
		t := queryTime{Panel: q.panel, Kind: q.kind, Expr: q.expr, Duration: summarize(durations), Max: slices.Max(durations), Series: series, Samples: samples}
		f.Queries = append(f.Queries, t)
		logf("dashboard: %-50s %-7s median %s, max %s, %d series, %d samples read", q.panel, q.kind, ms(t.Duration.Median), ms(t.Max), series, samples)
	}
	return nil
}
