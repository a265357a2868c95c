package certificate

import (
	"crypto"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// retainedSecrets is how many Secrets BenchmarkRetainedTLS keeps alive:
// enough that what they share costs little per Secret.
const retainedSecrets = 2000

// BenchmarkRetainedTLS reports the heap one *Analysis keeps for the life
// of the process, for the benchmark mix: TLS Secrets with leaf +
// intermediate in tls.crt, the root in ca.crt and a key; 60 % RSA-2048 and
// 40 % ECDSA P-256 leaves with 1-2 DNS names; one intermediate and root
// shared by all. It reports, it does not assert.
func BenchmarkRetainedTLS(b *testing.B) {
	inputs := retainedMix(b, retainedSecrets)
	var heapAlloc, heapInuse float64
	runs := 0
	for b.Loop() {
		alloc, inuse := retainedPerSecret(inputs)
		heapAlloc += alloc
		heapInuse += inuse
		runs++
	}
	b.ReportMetric(heapAlloc/float64(runs), "B/secret")
	b.ReportMetric(heapInuse/float64(runs), "inuse-B/secret")
}

// retainedPerSecret analyses every input, keeps the results and returns
// the growth of HeapAlloc and HeapInuse per Secret after a full GC.
func retainedPerSecret(inputs []Input) (heapAlloc, heapInuse float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := make([]*Analysis, len(inputs))
	for i, in := range inputs {
		kept[i], _ = Analyze(in, DefaultOptions())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	// The kept slice itself is the server's map entry, not the Analysis.
	slice := float64(8 * len(kept))
	n := float64(len(inputs))
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc) - slice) / n,
		(float64(after.HeapInuse) - float64(before.HeapInuse) - slice) / n
}

// retainedMix builds n bench-like TLS Secrets. Keys come from a small pool
// (RSA generation is slow); nothing of a key is retained, so reuse does not
// change the figure.
func retainedMix(b *testing.B, n int) []Input {
	b.Helper()
	p := newPKI(b)
	var rsaKeys, ecdsaKeys []crypto.Signer
	for range 3 {
		rsaKeys = append(rsaKeys, certtest.Must(certtest.NewKey(certtest.RSA, 2048)))
		ecdsaKeys = append(ecdsaKeys, certtest.Must(certtest.NewKey(certtest.ECDSA, 0)))
	}
	inputs := make([]Input, n)
	for i := range inputs {
		key := ecdsaKeys[i%len(ecdsaKeys)]
		if i%5 < 3 {
			key = rsaKeys[i%len(rsaKeys)]
		}
		name := fmt.Sprintf("app-%d.team-%d.example.com", i, i%37)
		names := []string{name}
		if i%2 == 0 {
			names = append(names, "www."+name)
		}
		// Issued a minute apart, as renewals spread over time are.
		notBefore := epoch.Add(-60 * day).Add(time.Duration(i) * time.Minute)
		leaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{
			CommonName: name, DNSNames: names, Key: key,
			NotBefore: notBefore, NotAfter: notBefore.Add(90 * day),
		}))
		inputs[i] = tlsInput(certtest.ChainPEM(leaf, p.intermediate), certtest.Must(certtest.KeyPEM(key, certtest.PKCS8)), p.root.PEM())
	}
	return inputs
}
