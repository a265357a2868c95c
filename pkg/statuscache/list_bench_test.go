package statuscache

import (
	"fmt"
	"testing"
)

// BenchmarkListPages pages through every object 500 at a time, as kubectl
// and the reflectors do: the cost per object must not grow with N.
func BenchmarkListPages(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			c, _ := newTestCache(&testing.T{}, DefaultOptions())
			for i := range n {
				c.Upsert(item(fmt.Sprintf("ns-%02d", i%50), fmt.Sprintf("secret-%06d", i), nil, longLived("v1")))
			}
			b.ResetTimer()
			for b.Loop() {
				listed := 0
				for page := (ListResult{}); ; {
					page = c.List(ListOptions{Limit: 500, StartKey: page.NextKey})
					listed += len(page.Items)
					if page.NextKey == "" {
						break
					}
				}
				if listed != n {
					b.Fatalf("listed %d of %d", listed, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/object")
		})
	}
}
