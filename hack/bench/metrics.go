package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/test/stack"
)

// scrapeFigure is one /metrics scrape of the server with N Secrets.
type scrapeFigure struct {
	Name string `json:"name"`
	// Duration is the wall time of one scrape; CPU the server's CPU time
	// per scrape; Allocated its bytes allocated per scrape (from
	// go_memstats_alloc_bytes_total, which includes the idle background).
	Duration  stats         `json:"duration"`
	CPU       time.Duration `json:"cpu"`
	Allocated int64         `json:"allocated"`
	Bytes     int64         `json:"bytes"`
	Series    int           `json:"series"`
}

const scrapeRuns = 5

// metricsFigures scrapes /metrics of the server (default families), then of
// a second replica started with --x509-exporter-metrics on the same Secrets.
func (b *bench) metricsFigures(ctx context.Context) error {
	figure, err := b.scrapeFigure(ctx, "default", b.srv, b.direct)
	if err != nil {
		return err
	}
	b.res.Metrics = append(b.res.Metrics, figure)
	srv, err := b.st.LaunchServer(ctx, b.o.server, append(b.o.serverArgs, "--x509-exporter-metrics")...)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	direct, err := rawClient(srv.DirectRESTConfig(b.st.RESTConfig()))
	if err != nil {
		return err
	}
	figure, err = b.scrapeFigure(ctx, "--x509-exporter-metrics", srv, direct)
	if err != nil {
		return err
	}
	b.res.Metrics = append(b.res.Metrics, figure)
	return nil
}

func (b *bench) scrapeFigure(ctx context.Context, name string, srv *stack.Server, client rest.Interface) (scrapeFigure, error) {
	f := scrapeFigure{Name: name}
	allocated := func() (float64, error) {
		metrics, err := measure.Scrape(ctx, client, "/metrics")
		if err != nil {
			return 0, err
		}
		f.Series = metrics.Series()
		return metrics.Sum("go_memstats_alloc_bytes_total", nil), nil
	}
	// Warm up, then the allocation counter over scrapeRuns scrapes (each
	// scrape reads it before writing the certificate series).
	first, err := allocated()
	if err != nil {
		return f, err
	}
	cpuBefore, err := measure.CPU(srv.PID())
	if err != nil {
		return f, err
	}
	var durations []time.Duration
	for range scrapeRuns {
		began := time.Now()
		body, err := client.Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return f, fmt.Errorf("scrape: %w", err)
		}
		durations = append(durations, time.Since(began))
		f.Bytes = int64(len(body))
	}
	cpuAfter, err := measure.CPU(srv.PID())
	if err != nil {
		return f, err
	}
	last, err := allocated()
	if err != nil {
		return f, err
	}
	f.Duration = summarize(durations)
	f.CPU = (cpuAfter - cpuBefore) / scrapeRuns
	f.Allocated = int64(last-first) / scrapeRuns
	logf("/metrics %s: %d series, %s, scrape median %s, server CPU %s and %s allocated per scrape",
		name, f.Series, size(f.Bytes), ms(f.Duration.Median), ms(f.CPU), size(f.Allocated))
	return f, nil
}
