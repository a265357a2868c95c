package certtest

import (
	"crypto"
	"crypto/x509/pkix"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Mix is a population of kubernetes.io/tls Secrets, as benchmarks load them.
// Every Secret holds three certificates: tls.crt = leaf + intermediate,
// ca.crt = root, and the leaf's key in tls.key. Per 20 Secrets: 1 expired,
// 2 expiring within the 30-day window, 17 valid.
type Mix string

const (
	// MixRSAHeavy has RSA-2048 CAs; 60 % of the leaves are RSA-2048, 40 %
	// ECDSA P-256. Its Secrets are large (≈ 5 KB of data).
	MixRSAHeavy Mix = "rsa-heavy"
	// MixECDSA is what ECDSA issuers produce: P-256 CAs, leaves and keys.
	// Its Secrets are small (≈ 2 KB of data).
	MixECDSA Mix = "ecdsa"
)

const mixDay = 24 * time.Hour

// Mixes are the known mixes, in the order benchmarks report them.
var Mixes = []Mix{MixRSAHeavy, MixECDSA}

// MixSecret is one generated Secret of a mix.
type MixSecret struct {
	Name  string
	Kind  string // rsa-chain or ecdsa-leaf
	State string // expired, expiring or valid
	Data  map[string][]byte
}

// mixRSAKeyPool is how many RSA-2048 keys a mix generates and reuses:
// generating one costs ~100 ms of CPU, signing with one ~1.5 ms.
const mixRSAKeyPool = 8

// mixIssuers is how many root → intermediate pairs sign the leaves.
const mixIssuers = 4

// GenerateMix builds n Secrets of mix, named tls-00000 onwards, with dates
// relative to now that keep their state for 7 days. It uses every core.
// Leaf i names svc-<i>.example.com and svc-<i>.svc.
func GenerateMix(mix Mix, n int, now time.Time) ([]MixSecret, error) {
	return GenerateMixNamed(mix, n, now, func(i int) []string {
		return []string{fmt.Sprintf("svc-%05d.example.com", i), fmt.Sprintf("svc-%05d.svc", i)}
	})
}

// GenerateMixNamed is GenerateMix with leaf i naming dnsNames(i) (its
// common name is the first).
func GenerateMixNamed(mix Mix, n int, now time.Time, dnsNames func(i int) []string) ([]MixSecret, error) {
	if mix != MixRSAHeavy && mix != MixECDSA {
		return nil, fmt.Errorf("unknown Secret mix %q", mix)
	}
	now = now.UTC().Truncate(time.Second)
	caKey := func(i int, keys []crypto.Signer) Spec {
		if mix == MixECDSA {
			return Spec{KeyAlgorithm: ECDSA}
		}
		return Spec{Key: keys[i%len(keys)]}
	}
	var keys []crypto.Signer
	if mix == MixRSAHeavy {
		keys = make([]crypto.Signer, mixRSAKeyPool)
		if err := parallelDo(len(keys), func(i int) (err error) {
			keys[i], err = NewKey(RSA, 2048)
			return err
		}); err != nil {
			return nil, err
		}
	}
	type issuer struct{ root, intermediate *Certificate }
	issuers := make([]issuer, mixIssuers)
	if err := parallelDo(len(issuers), func(i int) error {
		org := []string{"certstatus bench"}
		spec := caKey(i, keys)
		spec.Subject = pkix.Name{CommonName: fmt.Sprintf("Bench Root CA %d", i), Organization: org}
		spec.NotBefore, spec.NotAfter = now.Add(-2*365*mixDay), now.Add(10*365*mixDay)
		root, err := NewCA(spec)
		if err != nil {
			return err
		}
		spec = caKey(i+1, keys)
		spec.Subject = pkix.Name{CommonName: fmt.Sprintf("Bench Intermediate CA %d", i), Organization: org}
		spec.NotBefore, spec.NotAfter = now.Add(-365*mixDay), now.Add(5*365*mixDay)
		intermediate, err := root.NewIntermediate(spec)
		issuers[i] = issuer{root: root, intermediate: intermediate}
		return err
	}); err != nil {
		return nil, err
	}
	secrets := make([]MixSecret, n)
	err := parallelDo(n, func(i int) error {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		s := MixSecret{Name: fmt.Sprintf("tls-%05d", i)}
		var notBefore, notAfter time.Time
		switch i % 20 {
		case 0:
			s.State = "expired"
			notAfter = now.Add(-time.Duration(1+rng.IntN(300)) * mixDay)
			notBefore = notAfter.Add(-90 * mixDay)
		case 1, 2:
			// Window: min(30 d, a third of the ≥ 88 d lifetime) ≥ 29 d.
			s.State = "expiring"
			notBefore = now.Add(-80 * mixDay)
			notAfter = now.Add(time.Duration(8*24+rng.IntN(17*24)) * time.Hour)
		default:
			s.State = "valid"
			notBefore = now.Add(-time.Duration(rng.IntN(60*24)) * time.Hour)
			notAfter = now.Add(time.Duration(60+rng.IntN(640)) * mixDay)
		}
		names := dnsNames(i)
		spec := Spec{
			CommonName: names[0],
			DNSNames:   names,
			NotBefore:  notBefore,
			NotAfter:   notAfter,
		}
		if mix == MixRSAHeavy && i%5 < 3 {
			s.Kind = "rsa-chain"
			spec.Key = keys[rng.IntN(len(keys))]
		} else {
			s.Kind = "ecdsa-leaf"
			spec.KeyAlgorithm = ECDSA
		}
		is := issuers[i%len(issuers)]
		leaf, err := is.intermediate.NewLeaf(spec)
		if err != nil {
			return err
		}
		key, err := leaf.KeyPEM(PKCS8)
		if err != nil {
			return err
		}
		s.Data = map[string][]byte{
			corev1.TLSCertKey:       ChainPEM(leaf, is.intermediate),
			corev1.TLSPrivateKeyKey: key,
			"ca.crt":                is.root.PEM(),
		}
		secrets[i] = s
		return nil
	})
	return secrets, err
}

// parallelDo runs do(0..n-1) on every core and returns the first error.
func parallelDo(n int, do func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), n) {
		wg.Go(func() {
			for failed.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return *err
	}
	return nil
}
