package metrics

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"k8s.io/component-base/metrics"
)

// BenchmarkScrape compares the two ways of serving the certificate series
// at 10 000 TLS Secrets: the streaming writer /metrics uses, and a
// component-base StableCollector gathered through a registry and encoded
// as the registry's handler does. docs/design.md quotes the figures.
func BenchmarkScrape(b *testing.B) {
	now := time.Now()
	secrets := manySecrets(b, 10000, now)
	for _, x509 := range []bool{false, true} {
		certificates := NewCertificates(fixedClock(now), x509, Source{Kind: SecretKind, Items: secrets})
		b.Run("stream/x509="+strconv.FormatBool(x509), func(b *testing.B) {
			b.ReportAllocs()
			var size countingWriter
			for b.Loop() {
				size = 0
				if err := certificates.Write(&size); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size), "bytes/scrape")
		})
		b.Run("registry/x509="+strconv.FormatBool(x509), func(b *testing.B) {
			registry := metrics.NewKubeRegistry()
			registry.CustomMustRegister(certificates.Collector())
			b.ReportAllocs()
			for b.Loop() {
				families, err := registry.Gather()
				if err != nil {
					b.Fatal(err)
				}
				encoder := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, family := range families {
					if err := encoder.Encode(family); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
