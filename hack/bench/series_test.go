package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/hack/internal/measure"
)

// The live exposition parses as the Prometheus text format, has the series
// the dashboard figure counts, and the recorded series the bench backfills
// are the sums of those series.
func TestFakeSeriesAndTheirRecordings(t *testing.T) {
	secrets := fakeSecrets(1000, time.Now())
	var out bytes.Buffer
	sw := newSeriesWriter(&out)
	writeSecretFamilies(sw, secrets, nil, nil)
	if err := sw.flush(); err != nil {
		t.Fatal(err)
	}
	metrics, err := measure.ParseMetrics(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := metrics.Series(), rawSeriesPerReplica(secrets); got != want {
		t.Errorf("%d series, rawSeriesPerReplica says %d", got, want)
	}
	sums := map[string]float64{}
	for _, r := range recordedSeries(secrets) {
		sums[r.name] += r.value
		if r.name == "namespace_state:certstatus_secret_state:sum" && r.labels[3] == "Expired" {
			sums["expired"] += r.value
		}
	}
	for name, family := range map[string]string{
		"namespace_state:certstatus_secret_state:sum":        "certstatus_secret_state",
		"namespace_state:certstatus_secret_certificates:sum": "certstatus_secret_certificates",
		"namespace:certstatus_secret_used:sum":               "certstatus_secret_used",
		"namespace:certstatus_secret_hosts_not_covered:sum":  "certstatus_secret_hosts_not_covered",
	} {
		if want := metrics.Sum(family, nil); sums[name] != want || want == 0 {
			t.Errorf("%s sums to %v, %s to %v", name, sums[name], family, want)
		}
	}
	if want := metrics.Sum("certstatus_secret_state", map[string]string{"state": "Expired"}); sums["expired"] != want || want != 50 {
		t.Errorf("%v Secrets recorded Expired, %v in the series (5 %% of 1000 wanted)", sums["expired"], want)
	}
	if used := len(metrics["certstatus_secret_used"].GetMetric()); used != 900 {
		t.Errorf("%d Secrets with a _used series, want 900 (10 %% not synced)", used)
	}

	// With targets and timestamps: OpenMetrics lines, each family's TYPE once.
	out.Reset()
	sw = newSeriesWriter(&out)
	writeSecretFamilies(sw, secrets[:3], [][]string{{"pod", "a"}, {"pod", "b"}}, []int64{60, 120})
	if err := sw.flush(); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if n := strings.Count(text, "# TYPE certstatus_secret_state gauge\n"); n != 1 {
		t.Errorf("TYPE of certstatus_secret_state %d times", n)
	}
	want := `certstatus_secret_state{namespace="ns-00",secret="tls-00000",state="Expired",pod="b"} 1 120` + "\n"
	if !strings.Contains(text, want) {
		t.Errorf("no line %q in\n%s", want, text[:min(len(text), 2000)])
	}
}
