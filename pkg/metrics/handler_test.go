package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

type fixedStats statuscache.Stats

func (f fixedStats) Stats() statuscache.Stats { return statuscache.Stats(f) }

func TestMetricsServesTheRegistryThenTheCertificates(t *testing.T) {
	now := time.Now()
	if err := RegisterHealth(fixedStats{Objects: 8, Watchers: 2, WatchersClosedBehind: 1},
		Informer{Resource: "secrets", HasSynced: func() bool { return true }}); err != nil {
		t.Fatal(err)
	}
	SourceMetrics{}.Analysed(2 * time.Millisecond)
	SourceMetrics{}.ForbiddenRead("secrets")
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	handler := WithCertificates(next, NewCertificates(fixedClock(now), false, Source{Kind: SecretKind, Items: exampleItems(t, now)}))

	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := recorder.Body.String()
	if recorder.Code != http.StatusOK || !strings.HasPrefix(recorder.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %q", recorder.Code, recorder.Header().Get("Content-Type"))
	}
	families := parse(t, body)
	for name, want := range map[string]float64{
		"certstatus_cached_secrets":               8,
		"certstatus_watchers":                     2,
		"certstatus_watchers_closed_behind_total": 1,
		"certstatus_secret_analyses_total":        1,
	} {
		f := families[name]
		if f == nil || len(f.Metric) != 1 {
			t.Errorf("%s missing: %v", name, f)
			continue
		}
		m := f.Metric[0]
		if got := m.GetGauge().GetValue() + m.GetCounter().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if v, ok := value(families, "certstatus_informer_synced", map[string]string{"resource": "secrets"}); !ok || v != 1 {
		t.Errorf("informer synced %v %v", v, ok)
	}
	if v, ok := value(families, "certstatus_secret_state", map[string]string{"secret": "expired", "state": "Expired"}); !ok || v != 1 {
		t.Error("the certificate series are missing")
	}
	if families["certstatus_forbidden_reads_total"] == nil || families["certstatus_secret_analysis_duration_seconds"] == nil {
		t.Error("forbidden reads or analysis duration missing")
	}

	for _, r := range []*http.Request{httptest.NewRequest(http.MethodDelete, "/metrics", nil), httptest.NewRequest(http.MethodGet, "/metrics/slis", nil)} {
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, r)
		if recorder.Code != http.StatusTeapot {
			t.Errorf("%s %s was not passed through", r.Method, r.URL.Path)
		}
	}
}
