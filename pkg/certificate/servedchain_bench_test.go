package certificate

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// BenchmarkRetainedServedChain reports what keeping served chains costs
// for 10 000 Secrets of each benchmark mix whose leaves all name a Service
// host (svc-N.bench.svc), so every Secret keeps one: the worst case.
// B/secret is the heap an Analysis keeps; served-B/secret the part of it
// that is the served chain (measured by dropping the chains and
// collecting). It reports, it does not assert.
func BenchmarkRetainedServedChain(b *testing.B) {
	for _, mix := range certtest.Mixes {
		b.Run(string(mix), func(b *testing.B) {
			secrets, err := certtest.GenerateMixNamed(mix, 10000, time.Now(), func(i int) []string {
				return []string{fmt.Sprintf("svc-%05d.example.com", i), fmt.Sprintf("svc-%05d.bench.svc", i)}
			})
			if err != nil {
				b.Fatal(err)
			}
			inputs := make([]Input, len(secrets))
			for i, s := range secrets {
				inputs[i] = Input{Type: "kubernetes.io/tls", Data: s.Data}
			}
			var total, served float64
			runs := 0
			for b.Loop() {
				all, chains := retainedWithServedChains(b, inputs)
				total += all
				served += chains
				runs++
			}
			b.ReportMetric(total/float64(runs), "B/secret")
			b.ReportMetric(served/float64(runs), "served-B/secret")
		})
	}
}

// retainedWithServedChains analyses every input and returns the heap kept
// per Secret, and how much of it goes when the served chains are dropped.
func retainedWithServedChains(b *testing.B, inputs []Input) (all, served float64) {
	var before, kept, dropped runtime.MemStats
	collect := func(stats *runtime.MemStats) {
		runtime.GC()
		runtime.GC() // unique's handles are cleaned up after a cycle
		runtime.ReadMemStats(stats)
	}
	collect(&before)
	analyses := make([]*Analysis, len(inputs))
	for i, in := range inputs {
		analyses[i], _ = Analyze(in, DefaultOptions())
		if analyses[i].served == nil {
			b.Fatal(fmt.Sprintf("Secret %d keeps no served chain", i))
		}
	}
	collect(&kept)
	for _, a := range analyses {
		a.served = nil
	}
	collect(&dropped)
	runtime.KeepAlive(analyses)
	n := float64(len(inputs))
	slice := float64(8 * len(inputs))
	return (float64(kept.HeapAlloc) - float64(before.HeapAlloc) - slice) / n,
		(float64(kept.HeapAlloc) - float64(dropped.HeapAlloc)) / n
}
