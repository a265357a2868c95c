package metrics

import (
	"io"

	"k8s.io/component-base/metrics"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/statuscache"
)

// ItemSource is where the certificate series come from: a kind's status cache.
type ItemSource interface {
	Items() []statuscache.Item
}

// Source is one kind's cache as its certificate families read it.
type Source struct {
	Kind  *Kind
	Items ItemSource
	// UsedSynced tells whether the kind's usedBy has synced; nil when the
	// kind has no usedBy (or it is off). <Prefix>_used is written only while
	// it answers true: until then nobody can tell whether an object is
	// unused (the rules then fail closed).
	UsedSynced func() bool
}

// Certificates computes the certificate series from the caches at each scrape.
type Certificates struct {
	sources  []Source
	families []*kindFamilies
	clock    clock.PassiveClock
	// x509 adds the x509-certificate-exporter compatible families.
	x509 bool
}

// NewCertificates returns the certificate series of sources, one per kind.
func NewCertificates(clk clock.PassiveClock, x509 bool, sources ...Source) *Certificates {
	c := &Certificates{sources: sources, clock: clk, x509: x509}
	for _, source := range sources {
		c.families = append(c.families, source.Kind.families())
	}
	return c
}

// Write writes every certificate series in the Prometheus text format.
func (c *Certificates) Write(w io.Writer) error {
	text := newTextSink(w)
	c.write(text)
	return text.flush()
}

// write sends every series to s: each kind's families, then the x509 ones.
func (c *Certificates) write(s sink) {
	now := c.clock.Now()
	var x509 []x509Source
	for i, source := range c.sources {
		items := source.Items.Items()
		usedKnown := source.UsedSynced != nil && source.UsedSynced()
		writeKind(s, source.Kind, c.families[i], items, now, usedKnown)
		if c.x509 && source.Kind.X509Labels != nil {
			x509 = append(x509, x509Source{kind: source.Kind, families: c.families[i], items: items})
		}
	}
	writeX509(s, x509, now)
}

// Collector returns the same series as a component-base StableCollector,
// the way the generic API server's registry collects metrics. It is kept
// for comparison (BenchmarkScrape, Secrets only: the registry refuses one
// family with two label sets, as the x509 families of two kinds have): at
// 10 000 Secrets it allocates an object per series, so /metrics uses Write
// instead.
func (c *Certificates) Collector() metrics.StableCollector {
	collector := &certificateCollector{certificates: c, descs: map[*family]*metrics.Desc{}}
	for i := range c.sources {
		for _, f := range c.families[i].ordered(c.x509) {
			collector.descs[f] = metrics.NewDesc(f.name, f.help, f.labels, nil, metrics.ALPHA, "")
		}
	}
	return collector
}

type certificateCollector struct {
	metrics.BaseStableCollector
	certificates *Certificates
	descs        map[*family]*metrics.Desc
}

func (c *certificateCollector) desc(f *family) *metrics.Desc { return c.descs[f] }

func (c *certificateCollector) DescribeWithStability(ch chan<- *metrics.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *certificateCollector) CollectWithStability(ch chan<- metrics.Metric) {
	c.certificates.write(collectorSink{c, ch})
}

type collectorSink struct {
	collector *certificateCollector
	ch        chan<- metrics.Metric
}

func (s collectorSink) begin(*family) {}

func (s collectorSink) sample(f *family, value float64, values []string) {
	s.ch <- metrics.NewLazyConstMetric(s.collector.desc(f), metrics.GaugeValue, value, values...)
}
