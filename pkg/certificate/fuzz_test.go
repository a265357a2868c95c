package certificate

import (
	"encoding/json"
	"testing"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// FuzzAnalyze feeds arbitrary bytes as tls.crt, tls.key and ca.crt, as a
// TLS and as an Opaque Secret: analysis must never panic, and its status
// must stay well-formed at any instant.
func FuzzAnalyze(f *testing.F) {
	p := newPKI(f)
	key := keyPEM(f, p.leaf, certtest.PKCS8)
	f.Add(certtest.ChainPEM(p.leaf, p.intermediate), key, p.root.PEM(), "168h")
	f.Add(p.leaf.PEM(), keyPEM(f, p.leaf, certtest.SEC1), []byte{}, "")
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA"), []byte("garbage"), []byte("-----END CERTIFICATE-----"), "x")
	f.Add(p.leaf.DER, []byte{}, certtest.ChainPEM(p.root, p.intermediate), "-1h")
	f.Fuzz(func(t *testing.T, crt, tlsKey, ca []byte, threshold string) {
		annotations := map[string]string{"certstatus.dev/expiring-soon-threshold": threshold}
		for _, secretType := range []string{"kubernetes.io/tls", "Opaque"} {
			in := Input{Type: secretType, Annotations: annotations, CreatedAt: changedAt,
				Data: map[string][]byte{"tls.crt": crt, "tls.key": tlsKey, "ca.crt": ca}}
			a, listed := Analyze(in, DefaultOptions())
			if !listed {
				continue
			}
			now := epoch
			for i := 0; i < 4; i++ {
				status := a.StatusAt(now)
				if len(status.Conditions) != 2 || status.State == "" {
					t.Fatalf("malformed status %+v", status)
				}
				if _, err := json.Marshal(status); err != nil {
					t.Fatal(err)
				}
				next, ok := a.NextTransition(now)
				if !ok {
					break
				}
				if !next.After(now) {
					t.Fatalf("NextTransition(%v) = %v, not after", now, next)
				}
				now = next
			}
		}
	})
}

// FuzzFormatName checks the name formatter on arbitrary DER alone.
func FuzzFormatName(f *testing.F) {
	p := newPKI(f)
	f.Add(p.leaf.Certificate.RawSubject)
	f.Add(p.root.Certificate.RawIssuer)
	f.Fuzz(func(t *testing.T, der []byte) {
		_, _, _ = formatName(der)
	})
}
