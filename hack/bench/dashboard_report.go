package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/certstatus/certstatus/hack/internal/measure"
)

// dashboardTarget is the bound on every dashboard query (issue 24).
const dashboardTarget = time.Second

// slowestQuery is the dashboard query with the largest median.
func slowestQuery(f *dashboardFigure) queryTime {
	var slowest queryTime
	for _, q := range f.Queries {
		if q.Duration.Median > slowest.Duration.Median {
			slowest = q
		}
	}
	return slowest
}

func dashboardSummary(p func(string, ...any), r *results) {
	f := r.Dashboard
	if f == nil || len(f.Queries) == 0 {
		return
	}
	q := slowestQuery(f)
	p("| dashboard: every query ≤ 1 s over the default range, %d days of %d Secrets × %d replicas | slowest median %s, max %s (%s, %s) | %s |\n",
		f.Days, f.Secrets, f.Replicas, ms(q.Duration.Median), ms(q.Max), q.Panel, q.Kind, verdict(q.Duration.Median <= dashboardTarget))
}

func renderDashboard(p func(string, ...any), r *results) {
	f := r.Dashboard
	if f == nil {
		return
	}
	p("\n## 9. Dashboard and Prometheus, %d Secrets × %d replicas, %d days\n\n", f.Secrets, f.Replicas, f.Days)
	p("A real Prometheus (no Kubernetes): %d days backfilled with `promtool tsdb create-blocks-from openmetrics` "+
		"(per-Secret series every %s, recorded series every %s; %d samples, %s of OpenMetrics, in %s), "+
		"then %s of live scrapes of the same series from two replicas every %s with the shipped rules loaded. "+
		"Every query of the dashboard with its variables at All: instant queries now, range queries over the default range at a %s step, "+
		"variables as Grafana asks for label values over the range; median and max of %d runs after one warm-up. "+
		"The %d recorded values backfilled equal those Prometheus's rules recorded from the live series.\n\n",
		f.Days, f.RawInterval, f.RecordedInterval, f.BackfillSamples, size(f.BackfillInput), f.BackfillTime.Round(time.Second),
		f.LiveFor, f.ScrapeInterval, f.Step, slicesLen(f), f.RecordedChecked)
	p("| panel | query | kind | median | max | series | samples read |\n|---|---|---|---|---|---|---|\n")
	for _, q := range f.Queries {
		p("| %s | `%s` | %s | %s | %s | %d | %d |\n", q.Panel, strings.ReplaceAll(q.Expr, "|", `\|`), q.Kind, ms(q.Duration.Median), ms(q.Max), q.Series, q.Samples)
	}
	p("\nWhat the series cost Prometheus:\n\n| | |\n|---|---|\n")
	p("| head series (both replicas, recorded and Prometheus's own included) | %d |\n", f.HeadSeries)
	p("| samples appended per second | %.0f |\n", f.SamplesPerSecond)
	p("| one scrape of one replica | %s, %s |\n", size(f.ScrapeBytes), ms(f.ScrapeDuration))
	for _, g := range f.RuleGroups {
		p("| rule group %s, one evaluation | %s |\n", g.Name, ms(g.Time))
	}
	p("| Prometheus RSS, Go heap in use | %s, %s |\n", measure.MiB(f.RSS), measure.MiB(f.HeapInuse))
	p("| TSDB blocks backfilled (%d, at the intervals above) | %s |\n", f.Blocks, size(f.BlockBytes))
	p("| WAL after %s of live scrapes | %s |\n", f.LiveFor, size(f.WALBytes))
}

func slicesLen(f *dashboardFigure) int {
	if len(f.Queries) == 0 {
		return 0
	}
	return f.Queries[0].Duration.Runs
}

// writeDashboardOnly writes the results of a --dashboard-only run and its
// report section, for pasting into a dated section of docs/benchmarks.md.
func writeDashboardOnly(dir string, res *results) error {
	if err := res.writeJSON(filepath.Join(dir, "results-dashboard.json")); err != nil {
		return err
	}
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	res.LoadAfter = loadAverage()
	p("Run %s, took %s. Machine: %s. Load average (1, 5, 15 min) before: %s, after: %s. Command: `%s`\n\n", res.Started.UTC().Format("2006-01-02 15:04 MST"),
		res.Duration.Round(time.Second), res.Machine, res.LoadBefore, res.LoadAfter, res.Command)
	p("| target | measured | |\n|---|---|---|\n")
	dashboardSummary(p, res)
	renderDashboard(p, res)
	file := filepath.Join(dir, "dashboard.md")
	logf("wrote %s", file)
	return os.WriteFile(file, []byte(w.String()), 0o644)
}
