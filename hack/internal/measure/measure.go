// Package measure holds the measurements hack/bench, hack/soak and
// hack/watchlatency share: percentiles of timings, a process's memory and
// CPU time, and sums over a Prometheus /metrics scrape.
package measure

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"
	"k8s.io/client-go/rest"
)

// Percentile of sorted durations, by nearest rank; p is in percent, so the
// p90 of 7 samples is the slowest.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// MiB formats a number of bytes as mebibytes, e.g. "12.3 MiB".
func MiB(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

// RSS is a process's resident set size, in bytes.
func RSS(pid int) (int64, error) {
	stat, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return int64(stat.ResidentMemory()), nil
}

// CPU is the CPU time (user + system) a process has used so far.
func CPU(pid int) (time.Duration, error) {
	stat, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(stat.CPUTime() * float64(time.Second)), nil
}

func procStat(pid int) (procfs.ProcStat, error) {
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	return proc.Stat()
}

// Metrics is one scrape of a Prometheus text endpoint, by family name.
type Metrics map[string]*dto.MetricFamily

// Scrape reads path (e.g. "/metrics") with client and parses it.
func Scrape(ctx context.Context, client rest.Interface, path string) (Metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, err := client.Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	metrics, err := ParseMetrics(body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return metrics, nil
}

// ParseMetrics parses the Prometheus text format.
func ParseMetrics(text []byte) (Metrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	return Metrics(families), err
}

// Sum adds the values of the counter, gauge or untyped series of family
// name whose labels include every pair of match (nil matches all); it is 0
// when there is no such family.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	var total float64
next:
	for _, metric := range m[name].GetMetric() {
		labels := map[string]string{}
		for _, pair := range metric.GetLabel() {
			labels[pair.GetName()] = pair.GetValue()
		}
		for label, value := range match {
			if labels[label] != value {
				continue next
			}
		}
		total += metric.GetCounter().GetValue() + metric.GetGauge().GetValue() + metric.GetUntyped().GetValue()
	}
	return total
}

// Series counts the samples of the scrape as the text format has them, one
// a line: a histogram's buckets, sum and count (a summary's quantiles, sum
// and count) each count as one.
func (m Metrics) Series() int {
	n := 0
	for _, family := range m {
		for _, metric := range family.GetMetric() {
			switch {
			case metric.Histogram != nil:
				n += len(metric.GetHistogram().GetBucket()) + 2
			case metric.Summary != nil:
				n += len(metric.GetSummary().GetQuantile()) + 2
			default:
				n++
			}
		}
	}
	return n
}
