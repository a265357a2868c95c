package certificate

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// BenchmarkAnalyzeTLS is a typical Secret: an RSA leaf with its
// intermediate in tls.crt, the root in ca.crt and a PKCS#8 key.
func BenchmarkAnalyzeTLS(b *testing.B) {
	p := newPKI(b)
	leaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "web.example.com", KeyAlgorithm: certtest.RSA, DNSNames: []string{"web.example.com"}, NotBefore: epoch.Add(-day), NotAfter: epoch.Add(90 * day)}))
	in := tlsInput(certtest.ChainPEM(leaf, p.intermediate), keyPEM(b, leaf, certtest.PKCS8), p.root.PEM())
	b.ReportAllocs()
	for b.Loop() {
		if _, listed := Analyze(in, DefaultOptions()); !listed {
			b.Fatal("not listed")
		}
	}
}

// BenchmarkAnalyzeBundle150 is a distribution-sized CA bundle.
func BenchmarkAnalyzeBundle150(b *testing.B) {
	in := bundle150(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, listed := Analyze(in, DefaultOptions()); !listed {
			b.Fatal("not listed")
		}
	}
}

func BenchmarkStatusAtTLS(b *testing.B) {
	a := analyze(b, newPKI(b).validTLS(b))
	b.ReportAllocs()
	for b.Loop() {
		_ = a.StatusAt(epoch)
	}
}

func BenchmarkStatusAtBundle150(b *testing.B) {
	a := analyze(b, bundle150(b))
	b.ReportAllocs()
	for b.Loop() {
		_ = a.StatusAt(epoch)
	}
}

func bundle150(b *testing.B) Input {
	dates := make([][2]time.Time, 150)
	for i := range dates {
		// Spread over the past and future, some expired, as real bundles are.
		notBefore := epoch.Add(time.Duration(i-120) * 30 * day)
		dates[i] = [2]time.Time{notBefore, notBefore.Add(20 * 365 * day)}
		if i%25 == 0 {
			dates[i][1] = epoch.Add(-day)
		}
	}
	in, _ := bundleInput(b, dates...)
	return in
}

// BenchmarkAnalyze1MiB are the worst cases of size: a Secret of 1 MiB of
// certificates (the 1000-certificate bound applies) and one of 1 MiB of
// unterminated PEM headers.
func BenchmarkAnalyze1MiB(b *testing.B) {
	root := newRootCA("Many")
	inputs := map[string]Input{
		"certificates": {Type: "Opaque", Data: map[string][]byte{"ca.crt": repeatTo(root.PEM(), 1<<20)}},
		"headers":      tlsInput(repeatTo([]byte("-----BEGIN CERTIFICATE-----\n"), 1<<20), nil, nil),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Analyze(in, DefaultOptions())
			}
		})
	}
}

func repeatTo(unit []byte, size int) []byte {
	out := make([]byte, 0, size+len(unit))
	for len(out) < size {
		out = append(out, unit...)
	}
	return out
}

// BenchmarkLockedKeystoreJDKDefaults is the cost of one locked keystore:
// a PKCS#12 as keytool writes it by default (JDK 17+: PBES2 AES-256 and a
// SHA-256 MAC, 10 000 iterations each), with a wrong annotated password,
// so every candidate (the annotated one, both encodings of the empty
// password, changeit) costs a MAC key derivation. Target: ≤ 25 ms.
func BenchmarkLockedKeystoreJDKDefaults(b *testing.B) {
	p := newPKI(b)
	store := keytoolStore(b, p, "PKCS12", randomPassword(b))
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": store, "password": []byte("wrong")},
		Annotations: map[string]string{certstatus.KeystorePasswordKeyAnnotation: "password"}}
	if status := statusAt(b, in, epoch); status.State != certstatus.StateUnknown {
		b.Fatalf("state %s, errors %+v; want a locked keystore", status.State, status.Errors)
	}
	b.ReportAllocs()
	for b.Loop() {
		pkcs12Cache.reset() // what a first analysis costs, not a cache hit
		if _, listed := Analyze(in, DefaultOptions()); !listed {
			b.Fatal("not listed")
		}
	}
}

// BenchmarkLockedKeystoreCached is the same keystore analysed again (a
// relist): the cache answers, no key derivation runs.
func BenchmarkLockedKeystoreCached(b *testing.B) {
	p := newPKI(b)
	store := keytoolStore(b, p, "PKCS12", randomPassword(b))
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": store}}
	b.ReportAllocs()
	for b.Loop() {
		if _, listed := Analyze(in, DefaultOptions()); !listed {
			b.Fatal("not listed")
		}
	}
}

// BenchmarkAnalyzeMix is the analysis of the benchmark mixes' Secrets one
// after the other on one goroutine (ns/op is one Secret), beside
// crypto-floor: what no analysis of such a Secret can skip, each leaf being
// unique — parsing the leaf, deriving the public key of tls.key to match it
// (a P-256 base-point multiplication for ECDSA keys) and checking the leaf's
// signature with its intermediate's key. The difference is what the rest of
// the analysis costs.
func BenchmarkAnalyzeMix(b *testing.B) {
	const n = 1000
	for _, mix := range certtest.Mixes {
		secrets, err := certtest.GenerateMix(mix, n, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(mix)+"/analyze", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, listed := Analyze(Input{Type: "kubernetes.io/tls", Data: secrets[i%n].Data}, DefaultOptions()); !listed {
					b.Fatal("not listed")
				}
				i++
			}
		})
		b.Run(string(mix)+"/crypto-floor", func(b *testing.B) {
			type floor struct {
				leaf, intermediate, key []byte
			}
			floors := make([]floor, n)
			for i, s := range secrets {
				leafBlock, rest := pem.Decode(s.Data["tls.crt"])
				intermediateBlock, _ := pem.Decode(rest)
				keyBlock, _ := pem.Decode(s.Data["tls.key"])
				floors[i] = floor{leafBlock.Bytes, intermediateBlock.Bytes, keyBlock.Bytes}
			}
			i := 0
			for b.Loop() {
				f := floors[i%n]
				i++
				leaf, err := x509.ParseCertificate(f.leaf)
				if err != nil {
					b.Fatal(err)
				}
				intermediate, _ := parseCertificate(f.intermediate) // shared, as in the analysis
				if err := intermediate.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
					b.Fatal(err)
				}
				if public, ok := rsaPublicFromPrivate(f.key); ok {
					_ = public.Equal(leaf.PublicKey)
					continue
				}
				key, err := x509.ParsePKCS8PrivateKey(f.key)
				if err != nil {
					b.Fatal(err)
				}
				if !key.(*ecdsa.PrivateKey).PublicKey.Equal(leaf.PublicKey) {
					b.Fatal("the key does not match")
				}
			}
		})
	}
}
