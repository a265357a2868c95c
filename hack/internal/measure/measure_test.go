package measure

import (
	"os"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	seven := []time.Duration{1, 2, 3, 4, 5, 6, 7}
	for _, tc := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{seven, 50, 4},
		{seven, 90, 7}, // nearest rank: ceil(6.3) = 7th
		{seven, 99, 7},
		{seven, 0, 1},
		{seven, 100, 7},
		{[]time.Duration{10, 20}, 50, 10},
		{[]time.Duration{10, 20}, 51, 20},
	} {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
		}
	}
}

func TestMiB(t *testing.T) {
	if got := MiB(3 << 19); got != "1.5 MiB" {
		t.Errorf("MiB(1.5 MiB) = %q", got)
	}
}

func TestRSSAndCPUOfThisProcess(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("RSS = %d, %v; want at least 1 MiB", rss, err)
	}
	if _, err := CPU(os.Getpid()); err != nil {
		t.Errorf("CPU: %v", err)
	}
	if _, err := RSS(-1); err == nil {
		t.Error("RSS of pid -1: no error")
	}
}

const scrape = `# HELP apiserver_longrunning_requests Gauge of all active long-running apiserver requests.
# TYPE apiserver_longrunning_requests gauge
apiserver_longrunning_requests{component="apiserver",resource="secrets",scope="cluster",subresource="",verb="WATCH"} 3
apiserver_longrunning_requests{component="apiserver",resource="secrets",scope="namespace",subresource="",verb="WATCH"} 2
apiserver_longrunning_requests{component="apiserver",resource="pods",scope="cluster",subresource="",verb="WATCH"} 7
apiserver_longrunning_requests{component="apiserver",resource="secrets",scope="cluster",subresource="",verb="LIST"} 11
# HELP go_memstats_alloc_bytes_total Total bytes allocated.
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 1.5e+06
# HELP request_seconds Request latency.
# TYPE request_seconds histogram
request_seconds_bucket{le="0.1"} 1
request_seconds_bucket{le="1"} 2
request_seconds_bucket{le="+Inf"} 3
request_seconds_sum 4.2
request_seconds_count 3
# HELP gc_seconds GC pauses.
# TYPE gc_seconds summary
gc_seconds{quantile="0.5"} 0.001
gc_seconds{quantile="1"} 0.01
gc_seconds_sum 0.02
gc_seconds_count 9
untyped_thing 5
`

func TestParseMetricsSumAndSeries(t *testing.T) {
	m, err := ParseMetrics([]byte(scrape))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		match map[string]string
		want  float64
	}{
		{"apiserver_longrunning_requests", map[string]string{"resource": "secrets", "verb": "WATCH"}, 5},
		{"apiserver_longrunning_requests", nil, 23},
		{"go_memstats_alloc_bytes_total", nil, 1.5e6},
		{"untyped_thing", nil, 5},
		{"absent", nil, 0},
	} {
		if got := m.Sum(tc.name, tc.match); got != tc.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", tc.name, tc.match, got, tc.want)
		}
	}
	// One a sample line: 4 gauges, 1 counter, 5 histogram, 4 summary, 1 untyped.
	if got := m.Series(); got != 15 {
		t.Errorf("Series() = %d, want 15", got)
	}
	if _, err := ParseMetrics([]byte("broken{ 1\n")); err == nil {
		t.Error("malformed text: no error")
	}
}
