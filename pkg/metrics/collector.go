package metrics

import (
	"io"

	"k8s.io/component-base/metrics"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

// ItemSource is where the certificate series come from: the status cache.
type ItemSource interface {
	Items() []statuscache.Item
}

// Certificates computes the certificate series from the cache at each scrape.
type Certificates struct {
	source ItemSource
	clock  clock.PassiveClock
	// x509 adds the x509-certificate-exporter compatible families.
	x509 bool
	// usedBySynced tells whether usedBy has synced; nil when usedBy is off.
	// certstatus_secret_used is written only while it answers true.
	usedBySynced func() bool
}

// NewCertificates returns the certificate series of source. usedBySynced
// is nil when usedBy is off, else it tells whether every usedBy informer
// has synced: until then nobody can tell whether a Secret is unused, so
// certstatus_secret_used is not written (the rules then fail closed).
func NewCertificates(source ItemSource, clk clock.PassiveClock, x509 bool, usedBySynced func() bool) *Certificates {
	return &Certificates{source: source, clock: clk, x509: x509, usedBySynced: usedBySynced}
}

// usedKnown tells whether certstatus_secret_used is written in this scrape.
func (c *Certificates) usedKnown() bool { return c.usedBySynced != nil && c.usedBySynced() }

// Write writes every certificate series in the Prometheus text format.
func (c *Certificates) Write(w io.Writer) error {
	text := newTextSink(w)
	writeCertificates(text, c.source.Items(), c.clock.Now(), c.x509, c.usedKnown())
	return text.flush()
}

// Collector returns the same series as a component-base StableCollector,
// the way the generic API server's registry collects metrics. It is kept
// for comparison (BenchmarkScrape): at 10 000 Secrets it allocates an
// object per series, so /metrics uses Write instead.
func (c *Certificates) Collector() metrics.StableCollector {
	collector := &certificateCollector{certificates: c, descs: map[*family]*metrics.Desc{}}
	for _, f := range allFamilies {
		collector.descs[f] = metrics.NewDesc(f.name, f.help, f.labels, nil, metrics.ALPHA, "")
	}
	return collector
}

var allFamilies = []*family{stateFamily, notAfterFamily, notBeforeFamily, expiringSoonAtFamily, criticalAtFamily, infoFamily,
	certificatesFamily, hostsNotCoveredFamily, usedFamily, x509NotAfterFamily, x509NotBeforeFamily, x509ExpiredFamily}

type certificateCollector struct {
	metrics.BaseStableCollector
	certificates *Certificates
	descs        map[*family]*metrics.Desc
}

func (c *certificateCollector) desc(f *family) *metrics.Desc { return c.descs[f] }

func (c *certificateCollector) DescribeWithStability(ch chan<- *metrics.Desc) {
	for _, f := range allFamilies {
		ch <- c.desc(f)
	}
}

func (c *certificateCollector) CollectWithStability(ch chan<- metrics.Metric) {
	writeCertificates(collectorSink{c, ch}, c.certificates.source.Items(), c.certificates.clock.Now(), c.certificates.x509, c.certificates.usedKnown())
}

type collectorSink struct {
	collector *certificateCollector
	ch        chan<- metrics.Metric
}

func (s collectorSink) begin(*family) {}

func (s collectorSink) sample(f *family, value float64, values []string) {
	s.ch <- metrics.NewLazyConstMetric(s.collector.desc(f), metrics.GaugeValue, value, values...)
}
