package metrics

import (
	"sync"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

// The server's own health. Counters and the histogram are updated as things
// happen; the rest is read from the cache when scraped.
var (
	secretAnalyses = metrics.NewCounter(alpha("certstatus_secret_analyses_total",
		"Secrets analysed (each Secret once per change of its content)."))
	analysisDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Name:           "certstatus_secret_analysis_duration_seconds",
		Help:           "How long analysing one Secret took.",
		Buckets:        metrics.ExponentialBuckets(0.0001, 4, 8), // 100µs to 1.6s
		StabilityLevel: metrics.ALPHA,
	})
	forbiddenReads = metrics.NewCounterVec(alpha("certstatus_forbidden_reads_total",
		"Lists and watches kube-apiserver refused for lack of RBAC permission, by resource."), []string{"resource"})

	eventsRecorded = metrics.NewCounterVec(alpha("certstatus_events_recorded_total",
		"Events this process created (--events), by reason."), []string{"reason"})
	eventsAlreadyRecorded = metrics.NewCounter(alpha("certstatus_events_already_recorded_total",
		"Events another replica or an earlier run had already created (AlreadyExists)."))
	eventsDropped = metrics.NewCounterVec(alpha("certstatus_events_dropped_total",
		"State transitions not recorded as Events, by cause: queue_full (burst beyond the queue), "+
			"too_old (older than --events-max-age), forbidden (RBAC refused the write), error (anything else)."),
		[]string{"cause"})

	registerOnce sync.Once
)

// alpha is a counter's options: every certstatus counter is ALPHA.
func alpha(name, help string) *metrics.CounterOpts {
	return &metrics.CounterOpts{Name: name, Help: help, StabilityLevel: metrics.ALPHA}
}

func registerCounters() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(secretAnalyses, analysisDuration, forbiddenReads,
			eventsRecorded, eventsAlreadyRecorded, eventsDropped)
	})
}

// SourceMetrics counts what the sources do: it is the observer of
// pkg/secrets (analyses), pkg/sourcesync and pkg/usedby (forbidden reads).
type SourceMetrics struct{}

// Analysed records one Secret analysis that took elapsed.
func (SourceMetrics) Analysed(elapsed time.Duration) {
	secretAnalyses.Inc()
	analysisDuration.Observe(elapsed.Seconds())
}

// ForbiddenRead records a list or watch of resource refused by RBAC.
func (SourceMetrics) ForbiddenRead(resource string) {
	forbiddenReads.WithLabelValues(resource).Inc()
}

// EventMetrics counts what the Event recorder does (it implements
// events.Observer).
type EventMetrics struct{}

// Recorded counts an Event created, by reason.
func (EventMetrics) Recorded(reason string) { eventsRecorded.WithLabelValues(reason).Inc() }

// AlreadyRecorded counts an Event found already created.
func (EventMetrics) AlreadyRecorded() { eventsAlreadyRecorded.Inc() }

// Dropped counts a transition not recorded, by cause.
func (EventMetrics) Dropped(cause string) { eventsDropped.WithLabelValues(cause).Inc() }

// HealthSource is what the health collector reads at scrape time.
type HealthSource interface {
	Stats() statuscache.Stats
}

// Informer is an informer whose sync state is exported.
type Informer struct {
	Resource  string
	HasSynced func() bool
}

var (
	cachedSecretsDesc = metrics.NewDesc("certstatus_cached_secrets",
		"Secrets listed (holding certificates) in the cache.", nil, nil, metrics.ALPHA, "")
	watchersDesc = metrics.NewDesc("certstatus_watchers",
		"Open watches of certificatestatuses.", nil, nil, metrics.ALPHA, "")
	watchersClosedDesc = metrics.NewDesc("certstatus_watchers_closed_behind_total",
		"Watches closed because the client fell behind (it then resumes or relists).", nil, nil, metrics.ALPHA, "")
	clockQueueDesc = metrics.NewDesc("certstatus_clock_queue_length",
		"Scheduled clock transitions (notBefore, expiringSoonAt, notAfter), including superseded ones not yet discarded.", nil, nil, metrics.ALPHA, "")
	historyDesc = metrics.NewDesc("certstatus_watch_history_length",
		"Events kept for watches that resume from a resourceVersion.", nil, nil, metrics.ALPHA, "")
	informerSyncedDesc = metrics.NewDesc("certstatus_informer_synced",
		"1 once the informer of resource has synced its initial list, else 0.", []string{"resource"}, nil, metrics.ALPHA, "")
)

// healthCollector reads the cache's health when scraped.
type healthCollector struct {
	metrics.BaseStableCollector
	source    HealthSource
	informers []Informer
}

func (c *healthCollector) DescribeWithStability(ch chan<- *metrics.Desc) {
	for _, d := range []*metrics.Desc{cachedSecretsDesc, watchersDesc, watchersClosedDesc, clockQueueDesc, historyDesc, informerSyncedDesc} {
		ch <- d
	}
}

func (c *healthCollector) CollectWithStability(ch chan<- metrics.Metric) {
	stats := c.source.Stats()
	ch <- metrics.NewLazyConstMetric(cachedSecretsDesc, metrics.GaugeValue, float64(stats.Objects))
	ch <- metrics.NewLazyConstMetric(watchersDesc, metrics.GaugeValue, float64(stats.Watchers))
	ch <- metrics.NewLazyConstMetric(watchersClosedDesc, metrics.CounterValue, float64(stats.WatchersClosedBehind))
	ch <- metrics.NewLazyConstMetric(clockQueueDesc, metrics.GaugeValue, float64(stats.ClockQueue))
	ch <- metrics.NewLazyConstMetric(historyDesc, metrics.GaugeValue, float64(stats.History))
	for _, informer := range c.informers {
		ch <- metrics.NewLazyConstMetric(informerSyncedDesc, metrics.GaugeValue, boolValue(informer.HasSynced()), informer.Resource)
	}
}

// RegisterHealth registers the server's health metrics in component-base's
// legacy registry, which the generic API server serves on /metrics. Call it
// once per process.
func RegisterHealth(source HealthSource, informers ...Informer) error {
	registerCounters()
	return legacyregistry.CustomRegister(&healthCollector{source: source, informers: informers})
}
