package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The linear-cost target compares list time per object at the largest N
// with N = 10 000 (or the smallest size when 10 000 was not measured), and
// says missed beyond 1.2×.
func TestLinearSummary(t *testing.T) {
	point := func(n int, list time.Duration) sweepPoint {
		return sweepPoint{N: n, Typed: &comparison{Ours: stats{Runs: 3, Median: list}}}
	}
	render := func(r *results) string {
		var out strings.Builder
		linearSummary(func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }, r)
		return out.String()
	}
	r := &results{Sweep: []sweepPoint{point(1000, 20*time.Millisecond), point(10000, 600*time.Millisecond), point(50000, 3600*time.Millisecond)}}
	if got := render(r); !strings.Contains(got, "N = 50000 ≤ 1.2× at N = 10000") || !strings.Contains(got, "72.0 µs against 60.0 µs: 1.20×") || !strings.Contains(got, "| met |") {
		t.Errorf("at 1.20×: %q", got)
	}
	r.Sweep[2] = point(50000, 3700*time.Millisecond)
	if got := render(r); !strings.Contains(got, "**missed**") {
		t.Errorf("at 1.23×: %q", got)
	}
	r.Sweep = []sweepPoint{point(1000, 20*time.Millisecond), point(5000, 100*time.Millisecond)}
	if got := render(r); !strings.Contains(got, "N = 5000 ≤ 1.2× at N = 1000") {
		t.Errorf("without 10 000: %q", got)
	}
	r.Sweep = []sweepPoint{{N: 1000}, {N: 10000}}
	if got := render(r); got != "" {
		t.Errorf("a sweep without typed lists printed %q", got)
	}
}

// A setting's growth is from the RSS after its start to the higher of the
// peak and the RSS after the lists.
func TestSettingMemoryGrowth(t *testing.T) {
	m := settingMemory{StartRSS: 100 << 20, Lists: memoryPhase{PeakRSS: 130 << 20, After: memorySnapshot{RSS: 140 << 20}}}
	if got := m.growth(); got != 40<<20 {
		t.Errorf("growth %d MiB, want 40", got>>20)
	}
}

// The kubectl table row says how long kubectl's rate limiter held each
// table, and the same tables in one request, beside the target.
func TestTableSummary(t *testing.T) {
	render := func(lists ...comparison) string {
		var out strings.Builder
		mixSummary(func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }, &results{Mixes: []mixFigure{{Mix: "ecdsa", Lists: lists}}})
		return out.String()
	}
	table := comparison{Key: "table", Target: 0.9, Ours: stats{Runs: 5, Median: 2310 * time.Millisecond}, Peer: stats{Runs: 5, Median: 2390 * time.Millisecond},
		OursThrottled: 1830 * time.Millisecond, PeerThrottled: 1840 * time.Millisecond}
	unpaged := comparison{Key: "table-unpaged", Ours: stats{Runs: 5, Median: 500 * time.Millisecond}, Peer: stats{Runs: 5, Median: 625 * time.Millisecond}}
	got := render(table, unpaged)
	for _, want := range []string{"2.31 s against 2.39 s: **0.97×**", "held its requests 1.83 s / 1.84 s", "(`--chunk-size=0`): 500 ms against 625 ms, 0.80×", "**missed**"} {
		if !strings.Contains(got, want) {
			t.Errorf("the table row lacks %q: %q", want, got)
		}
	}
	if got := render(comparison{Key: "table", Target: 0.9, Ours: stats{Runs: 5, Median: time.Second}, Peer: stats{Runs: 5, Median: 2 * time.Second}}); strings.Contains(got, "rate limiter") || strings.Contains(got, "chunk-size") || !strings.Contains(got, "| met |") {
		t.Errorf("a row without those measures: %q", got)
	}
}

// A typed list straight to certstatus slower than through the aggregator
// (the spread between runs) gives the aggregator no negative share.
func TestTypedSummaryShare(t *testing.T) {
	typed := comparison{Key: "typed", Target: 1.0, Ours: stats{Runs: 5, Median: 235 * time.Millisecond}, Peer: stats{Runs: 5, Median: 530 * time.Millisecond}}
	direct := comparison{Key: "typed-direct", Ours: stats{Runs: 5, Median: 259 * time.Millisecond}, Peer: stats{Runs: 5, Median: 530 * time.Millisecond}}
	var out strings.Builder
	mixSummary(func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }, &results{Mixes: []mixFigure{{Mix: "rsa-heavy", Lists: []comparison{typed, direct}}}})
	if got := out.String(); strings.Contains(got, "≈ -") || !strings.Contains(got, "within the spread between runs") {
		t.Errorf("typed row: %q", got)
	}
	direct.Ours.Median = 200 * time.Millisecond
	out.Reset()
	mixSummary(func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }, &results{Mixes: []mixFigure{{Mix: "rsa-heavy", Lists: []comparison{typed, direct}}}})
	if got := out.String(); !strings.Contains(got, "the aggregator's share ≈ 35 ms") {
		t.Errorf("typed row: %q", got)
	}
}

// The waits are read from kubectl 1.37's own -v=6 lines (copied from a run
// of `kubectl get cst -A -v=6` against 10 000 statuses); other lines count
// nothing.
func TestThrottledWait(t *testing.T) {
	log := `I1207 23:54:24.279228   10756 round_trippers.go:632] "Response" verb="GET" url="https://127.0.0.1:38223/apis/certstatus.dev/v1alpha1/certificatestatuses?continue=x" status="200 OK" milliseconds=10
I1207 23:54:24.470259   10756 request.go:685] "Waited before sending request" delay="182.538442ms" reason="client-side throttling, not priority and fairness" verb="GET" URL="https://127.0.0.1:38223/apis/certstatus.dev/v1alpha1/certificatestatuses?continue=y"
I1207 23:54:24.670105   10756 request.go:685] "Waited before sending request" delay="182.547151ms" reason="client-side throttling, not priority and fairness" verb="GET" URL="https://127.0.0.1:38223/apis/certstatus.dev/v1alpha1/certificatestatuses?continue=z"
I1207 23:54:24.700000   10756 request.go:685] "Waited before sending request" delay="1s" reason="priority and fairness" verb="GET" URL="https://127.0.0.1:38223/api"
`
	if got, want := throttledWait(log), 365085593*time.Nanosecond; got != want {
		t.Errorf("waited %v, want %v", got, want)
	}
	if got := throttledWait(""); got != 0 {
		t.Errorf("an empty log waited %v", got)
	}
}
