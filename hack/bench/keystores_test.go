package main

import (
	"encoding/asn1"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
)

func TestParseBenchTime(t *testing.T) {
	out := []byte(`goos: linux
goarch: amd64
pkg: github.com/certstatus/certstatus/pkg/certificate
BenchmarkLockedKeystoreJDKDefaultsX      	      40	   1000 ns/op
BenchmarkLockedKeystoreJDKDefaults-2     	      40	  12345678 ns/op	  123 B/op	  4 allocs/op
PASS
`)
	got, err := parseBenchTime(out, keystoreBenchmark)
	if err != nil || got != 12345678*time.Nanosecond {
		t.Errorf("parseBenchTime = %v, %v; want 12.345678ms", got, err)
	}
	// -cpu 1: no suffix; fractional ns/op.
	got, err = parseBenchTime([]byte("BenchmarkLockedKeystoreJDKDefaults \t 40\t 9876543.5 ns/op\n"), keystoreBenchmark)
	if err != nil || got != 9876543*time.Nanosecond {
		t.Errorf("parseBenchTime = %v, %v; want 9.876543ms", got, err)
	}
	if _, err := parseBenchTime([]byte("FAIL\n"), keystoreBenchmark); err == nil {
		t.Error("no error for output without the benchmark")
	}
}

func TestKeystoreGrowth(t *testing.T) {
	plain := startupWithCPU{Available: stats{Median: 2 * time.Second}, CPU: stats{Median: 3 * time.Second}}
	locked := startupWithCPU{Available: stats{Median: 2500 * time.Millisecond}, CPU: stats{Median: 4100 * time.Millisecond}}
	g := growthOf(plain, locked)
	if g.Available != 500*time.Millisecond || g.CPU != 1100*time.Millisecond {
		t.Errorf("growth %+v", g)
	}
	if g.met() {
		t.Error("1.1 s of CPU met the 1 s target")
	}
	if !(keystoreGrowth{Available: time.Second, CPU: -time.Second}).met() {
		t.Error("1 s and less not met")
	}
	if s := signedMS(-1500 * time.Millisecond); s != "-1500 ms" {
		t.Errorf("signedMS = %q", s)
	}
}

// The keystores are what keytool writes by default, open with their own
// password only, and certstatus lists them as Unknown.
func TestLockedKeystoreSecrets(t *testing.T) {
	now := time.Now()
	secrets, err := lockedKeystoreSecrets(2, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 || secrets[0].Name == secrets[1].Name {
		t.Fatalf("%d Secrets, names not distinct", len(secrets))
	}
	for _, s := range secrets {
		store := s.Data["keystore.p12"]
		for _, pw := range []string{"", "changeit", string(s.Data["password"]), string(passwordSecret().Data["password"])} {
			if _, _, _, err := pkcs12.DecodeChain(store, pw); err == nil {
				t.Errorf("%s opens with %q", s.Name, pw)
			}
		}
		// PBES2 (1.2.840.113549.1.5.13) and 10 000 iterations (0x2710) appear in the DER.
		if !strings.Contains(string(store), string(mustDER(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}))) {
			t.Errorf("%s: no PBES2", s.Name)
		}
		if !strings.Contains(string(store), string(mustDER(t, jdkIterations))) {
			t.Errorf("%s: no iteration count %d", s.Name, jdkIterations)
		}
		if s.Annotations[certstatus.KeystorePasswordKeyAnnotation] != "password" || s.Annotations[certstatus.KeystorePasswordSecretAnnotation] != "keystore-passwords/password" {
			t.Errorf("%s: annotations %v", s.Name, s.Annotations)
		}
		asked := ""
		fromSecret := func(secret, key string) ([]byte, error) { asked = secret + "/" + key; return []byte("wrong"), nil }
		a, listed := certificate.Analyze(certificate.Input{Type: string(s.Type), Data: s.Data, Annotations: s.Annotations, CreatedAt: now, PasswordFromSecret: fromSecret}, certificate.DefaultOptions())
		if !listed {
			t.Fatalf("%s not listed", s.Name)
		}
		if st := a.StatusAt(now); st.State != certstatus.StateUnknown {
			t.Errorf("%s: state %s, want %s", s.Name, st.State, certstatus.StateUnknown)
		}
		if asked != "keystore-passwords/password" {
			t.Errorf("%s: password Secret asked for %q", s.Name, asked)
		}
	}
	if l := passwordSecret().Labels[certstatus.KeystorePasswordLabel]; l != "true" {
		t.Errorf("password Secret label %q", l)
	}
	wall, cpu, err := analyseLocked(secrets)
	if err != nil || wall <= 0 || cpu < 0 {
		t.Errorf("analyseLocked = %v, %v, %v", wall, cpu, err)
	}
}

func TestPerKeystoreWorst(t *testing.T) {
	k := &keystoreFigure{PerKeystore: 4 * time.Millisecond, InProcessCPU: 5 * time.Millisecond}
	if w := k.perKeystoreWorst(); w != 5*time.Millisecond {
		t.Errorf("worst %v", w)
	}
	k.BenchError = "exit status 1\nlots"
	if w := k.perKeystoreWorst(); w != 5*time.Millisecond {
		t.Errorf("worst with a failed benchmark %v", w)
	}
	if f := benchFigure(k); f != "failed: exit status 1" {
		t.Errorf("benchFigure %q", f)
	}
}

func mustDER(t *testing.T, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
