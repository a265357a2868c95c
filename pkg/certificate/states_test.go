package certificate

import (
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// leafInput is a TLS Secret whose leaf has the given dates, served with the
// test intermediate and root.
func (p testPKI) leafInput(t testing.TB, notBefore, notAfter time.Time) Input {
	t.Helper()
	leaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "dated.example.com", NotBefore: notBefore, NotAfter: notAfter}))
	return tlsInput(certtest.ChainPEM(leaf, p.intermediate), keyPEM(t, leaf, certtest.PKCS8), p.root.PEM())
}

func TestStatesAndReasons(t *testing.T) {
	p := newPKI(t)
	otherKey := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "other"}))
	expiredIntermediate := certtest.Must(p.root.NewIntermediate(certtest.Spec{CommonName: "Old Intermediate", NotBefore: epoch.Add(-400 * day), NotAfter: epoch.Add(-day)}))
	leafOfExpired := certtest.Must(expiredIntermediate.NewLeaf(certtest.Spec{CommonName: "x", NotBefore: epoch.Add(-100 * day), NotAfter: epoch.Add(day * 100)}))
	futureLeaf := certtest.Must(expiredIntermediate.NewLeaf(certtest.Spec{CommonName: "y", NotBefore: epoch.Add(day), NotAfter: epoch.Add(day * 100)}))
	expiringIntermediate := certtest.Must(p.root.NewIntermediate(certtest.Spec{CommonName: "Expiring Intermediate", NotBefore: epoch.Add(-400 * day), NotAfter: epoch.Add(3 * day)}))
	futureLeafOfExpiring := certtest.Must(expiringIntermediate.NewLeaf(certtest.Spec{CommonName: "z", NotBefore: epoch.Add(day), NotAfter: epoch.Add(2 * day)}))

	tests := []struct {
		name       string
		in         Input
		wantState  certstatus.State
		wantReady  string // status/reason
		wantExpiry string // status/reason of ExpiringSoon
	}{
		{"valid", p.validTLS(t), certstatus.StateValid, "True/Valid", "False/Valid"},
		{"expiring soon", p.leafInput(t, epoch.Add(-80*day), epoch.Add(5*day)), certstatus.StateExpiringSoon, "True/ExpiringSoon", "True/ExpiringSoon"},
		{"expired", p.leafInput(t, epoch.Add(-90*day), epoch.Add(-time.Second)), certstatus.StateExpired, "False/Expired", "False/Expired"},
		{"expired at exactly notAfter", p.leafInput(t, epoch.Add(-90*day), epoch), certstatus.StateExpired, "False/Expired", "False/Expired"},
		{"not yet valid", p.leafInput(t, epoch.Add(time.Second), epoch.Add(90*day)), certstatus.StateNotYetValid, "False/NotYetValid", "False/NotYetValid"},
		{"valid from exactly notBefore", p.leafInput(t, epoch, epoch.Add(90*day)), certstatus.StateValid, "True/Valid", "False/Valid"},
		{"key mismatch", tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), keyPEM(t, otherKey, certtest.PKCS8), p.root.PEM()), certstatus.StateInvalid, "False/KeyPairMismatch", "False/KeyPairMismatch"},
		{"chain invalid", tlsInput(certtest.ChainPEM(p.leaf, p.root), p.leafKey, p.root.PEM()), certstatus.StateInvalid, "False/ChainInvalid", "False/ChainInvalid"},
		{"no certificate: empty tls.crt", tlsInput([]byte{}, []byte{}, nil), certstatus.StateInvalid, "False/NoCertificate", "False/NoCertificate"},
		{"no certificate: missing tls.crt", tlsInput(nil, p.leafKey, nil), certstatus.StateInvalid, "False/NoCertificate", "False/NoCertificate"},
		{"invalid data", tlsInput([]byte("garbage"), p.leafKey, nil), certstatus.StateInvalid, "False/InvalidData", "False/InvalidData"},
		// Precedence: Invalid > Expired > NotYetValid > ExpiringSoon.
		{"invalid beats expired", tlsInput(certtest.ChainPEM(leafOfExpired, expiredIntermediate), keyPEM(t, otherKey, certtest.PKCS8), p.root.PEM()), certstatus.StateInvalid, "False/KeyPairMismatch", "False/KeyPairMismatch"},
		{"expired beats not yet valid", tlsInput(certtest.ChainPEM(futureLeaf, expiredIntermediate), keyPEM(t, futureLeaf, certtest.PKCS8), p.root.PEM()), certstatus.StateExpired, "False/Expired", "False/Expired"},
		{"not yet valid beats expiring soon", tlsInput(certtest.ChainPEM(futureLeafOfExpiring, expiringIntermediate), keyPEM(t, futureLeafOfExpiring, certtest.PKCS8), p.root.PEM()), certstatus.StateNotYetValid, "False/NotYetValid", "False/NotYetValid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := statusAt(t, tt.in, epoch)
			if status.State != tt.wantState {
				t.Errorf("state %s, want %s", status.State, tt.wantState)
			}
			ready := condition(t, status, certstatus.ConditionReady)
			if got := ready.Status + "/" + ready.Reason; got != tt.wantReady {
				t.Errorf("Ready %s, want %s (%s)", got, tt.wantReady, ready.Message)
			}
			expiring := condition(t, status, certstatus.ConditionExpiringSoon)
			if got := expiring.Status + "/" + expiring.Reason; got != tt.wantExpiry {
				t.Errorf("ExpiringSoon %s, want %s", got, tt.wantExpiry)
			}
			if ready.Message == "" || expiring.Message == "" {
				t.Errorf("empty condition message: %+v %+v", ready, expiring)
			}
			for _, c := range status.Conditions {
				if c.ObservedGeneration != 0 {
					t.Errorf("observedGeneration %d, want 0", c.ObservedGeneration)
				}
			}
		})
	}
}

func TestExpiredIntermediateDoesNotBreakTheChain(t *testing.T) {
	p := newPKI(t)
	old := certtest.Must(p.root.NewIntermediate(certtest.Spec{CommonName: "Old Intermediate", NotBefore: epoch.Add(-400 * day), NotAfter: epoch.Add(-day)}))
	leaf := certtest.Must(old.NewLeaf(certtest.Spec{CommonName: "x", NotBefore: epoch.Add(-100 * day), NotAfter: epoch.Add(100 * day)}))
	status := statusAt(t, tlsInput(certtest.ChainPEM(leaf, old), keyPEM(t, leaf, certtest.PKCS8), p.root.PEM()), epoch)
	if status.Chain.Verified != certstatus.ChainVerified {
		t.Errorf("chain %+v, want verified: dates are the state's business", status.Chain)
	}
	if status.State != certstatus.StateExpired || !status.NotAfter.Time.Equal(epoch.Add(-day)) {
		t.Errorf("state %s notAfter %v, want Expired at the intermediate's notAfter", status.State, status.NotAfter)
	}
	ready := condition(t, status, certstatus.ConditionReady)
	if want := "Certificate tls.crt[1] (Old Intermediate) expired at " + formatTime(epoch.Add(-day)) + "."; ready.Message != want {
		t.Errorf("message %q, want %q", ready.Message, want)
	}
}

func TestSingleCertificateCAIsPartOfThePrimaryChain(t *testing.T) {
	p := newPKI(t)
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Short Root", NotBefore: epoch.Add(-100 * day), NotAfter: epoch.Add(-time.Hour)}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{CommonName: "I", NotBefore: epoch.Add(-50 * day), NotAfter: epoch.Add(300 * day)}))
	leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{CommonName: "l", NotBefore: epoch.Add(-10 * day), NotAfter: epoch.Add(80 * day)}))
	in := tlsInput(certtest.ChainPEM(leaf, intermediate), keyPEM(t, leaf, certtest.PKCS8), root.PEM())
	if status := statusAt(t, in, epoch); status.State != certstatus.StateExpired {
		t.Errorf("a one-certificate ca.crt that expired: state %s, want Expired", status.State)
	}
	// Several certificates in ca.crt are a bundle of trust anchors, not part of the chain.
	in.Data["ca.crt"] = certtest.ChainPEM(root, p.root)
	in.Data["tls.crt"] = certtest.ChainPEM(leaf, intermediate)
	if status := statusAt(t, in, epoch); status.State != certstatus.StateValid {
		t.Errorf("an expired root among several in ca.crt: state %s, want Valid", status.State)
	}
}

func TestThresholdRule(t *testing.T) {
	tests := []struct {
		name           string
		lifetime       time.Duration
		wantWindow     time.Duration
		annotation     string
		wantErrorEntry bool
	}{
		// 47 days × 0.33 = 15.51 days, shorter than 30 days.
		{"47-day certificate", 47 * day, time.Duration(0.33 * float64(47*day)).Truncate(time.Second), "", false},
		// A 10-year CA is flagged 30 days out.
		{"10-year certificate", 3650 * day, 720 * time.Hour, "", false},
		{"annotation overrides the threshold", 3650 * day, 168 * time.Hour, "168h", false},
		{"annotation is still capped by the fraction", 10 * day, time.Duration(0.33 * float64(10*day)).Truncate(time.Second), "168h", false},
		{"zero annotation disables the window", 3650 * day, 0, "0s", false},
		{"malformed annotation keeps the default", 3650 * day, 720 * time.Hour, "a week", true},
		{"negative annotation keeps the default", 3650 * day, 720 * time.Hour, "-5h", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notBefore := epoch.Add(-day)
			notAfter := notBefore.Add(tt.lifetime)
			// Self-signed, so no longer-lived issuer takes part.
			cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "c", NotBefore: notBefore, NotAfter: notAfter}))
			in := tlsInput(cert.PEM(), keyPEM(t, cert, certtest.PKCS8), nil)
			if tt.annotation != "" {
				in.Annotations = map[string]string{certstatus.ExpiringSoonThresholdAnnotation: tt.annotation}
			}
			a := analyze(t, in)
			wantAt := notAfter.Add(-tt.wantWindow)
			before, at := a.StatusAt(wantAt.Add(-time.Second)), a.StatusAt(wantAt)
			if !before.ExpiringSoonAt.Time.Equal(wantAt) {
				t.Errorf("expiringSoonAt %v, want %v", before.ExpiringSoonAt.Time, wantAt)
			}
			if tt.wantWindow > 0 && (before.State != certstatus.StateValid || at.State != certstatus.StateExpiringSoon) {
				t.Errorf("state a second before %v: %s, at it: %s; want Valid then ExpiringSoon", wantAt, before.State, at.State)
			}
			var annotationErrors int
			for _, e := range before.Errors {
				if e.Key == "metadata.annotations[certstatus.dev/expiring-soon-threshold]" {
					annotationErrors++
					if e.Message == "" || tt.annotation != "" && strings.Contains(e.Message, tt.annotation) {
						t.Errorf("annotation error message %q must explain without quoting the value", e.Message)
					}
				}
			}
			if (annotationErrors == 1) != tt.wantErrorEntry {
				t.Errorf("%d annotation errors, want error entry: %v (%+v)", annotationErrors, tt.wantErrorEntry, before.Errors)
			}
		})
	}
}

func TestSecretExpiringSoonAtIsTheEarliestOfTheChain(t *testing.T) {
	p := newPKI(t)
	// The intermediate (2 years) is flagged 30 days out, before the leaf's window opens.
	intermediate := certtest.Must(p.root.NewIntermediate(certtest.Spec{CommonName: "I", NotBefore: epoch.Add(-700 * day), NotAfter: epoch.Add(40 * day)}))
	leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{CommonName: "l", NotBefore: epoch.Add(-day), NotAfter: epoch.Add(39 * day)}))
	status := statusAt(t, tlsInput(certtest.ChainPEM(leaf, intermediate), keyPEM(t, leaf, certtest.PKCS8), nil), epoch)
	leafWindow := time.Duration(0.33 * float64(40*day)).Truncate(time.Second)
	want := epoch.Add(10 * day) // intermediate: 40 days − 30 days
	if leafAt := epoch.Add(39 * day).Add(-leafWindow); !want.Before(leafAt) {
		t.Fatalf("test setup: intermediate %v should be flagged before the leaf %v", want, leafAt)
	}
	if !status.ExpiringSoonAt.Time.Equal(want) {
		t.Errorf("expiringSoonAt %v, want the intermediate's %v", status.ExpiringSoonAt.Time, want)
	}
}

// critical_at is the later of expiringSoonAt and notAfter − min(7 days, a
// tenth of the lifetime of the certificate that expires first).
func TestCriticalAt(t *testing.T) {
	p := newPKI(t)
	longIntermediate := certtest.Must(p.root.NewIntermediate(certtest.Spec{CommonName: "Long", NotBefore: epoch.Add(-700 * day), NotAfter: epoch.Add(3000 * day)}))
	shortIntermediate := certtest.Must(p.root.NewIntermediate(certtest.Spec{CommonName: "Short", NotBefore: epoch.Add(-700 * day), NotAfter: epoch.Add(40 * day)}))
	chain := func(intermediate *certtest.Certificate, notBefore, notAfter time.Time) Input {
		leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{CommonName: "c", NotBefore: notBefore, NotAfter: notAfter}))
		return tlsInput(certtest.ChainPEM(leaf, intermediate), keyPEM(t, leaf, certtest.PKCS8), nil)
	}
	withThreshold := func(in Input, threshold string) Input {
		in.Annotations = map[string]string{certstatus.ExpiringSoonThresholdAnnotation: threshold}
		return in
	}
	tests := []struct {
		name string
		in   Input
		want time.Time
	}{
		// 47 days: expiring soon 15.5 days out, critical a tenth (4.7 days) out.
		{"47-day leaf", chain(longIntermediate, epoch, epoch.Add(47*day)), epoch.Add(47 * day).Add(-time.Duration(0.1 * float64(47*day)))},
		// One year: critical 7 days out.
		{"one-year leaf", chain(longIntermediate, epoch, epoch.Add(365*day)), epoch.Add(358 * day)},
		// The intermediate (740 days) expires first: 7 days before it.
		{"intermediate expires first", chain(shortIntermediate, epoch, epoch.Add(90*day)), epoch.Add(33 * day)},
		// A threshold of 3 days puts expiringSoonAt after notAfter − 7 days: the later wins.
		{"expiring soon later", withThreshold(chain(longIntermediate, epoch, epoch.Add(365*day)), "72h"), epoch.Add(362 * day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := analyze(t, tt.in)
			facts := a.FactsAt(epoch)
			if !facts.HasInstants || !facts.CriticalAt.Equal(tt.want) {
				t.Errorf("criticalAt %v, want %v (expiringSoonAt %v, notAfter %v)", facts.CriticalAt, tt.want, facts.ExpiringSoonAt, facts.NotAfter)
			}
			if facts.CriticalAt.Before(facts.ExpiringSoonAt) || !facts.CriticalAt.Before(facts.NotAfter) {
				t.Errorf("criticalAt %v is not within [expiringSoonAt %v, notAfter %v)", facts.CriticalAt, facts.ExpiringSoonAt, facts.NotAfter)
			}
		})
	}
	// A bundle: the member that expires last decides.
	old := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Old", NotBefore: epoch.Add(-100 * day), NotAfter: epoch.Add(10 * day)}))
	young := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Young", NotBefore: epoch, NotAfter: epoch.Add(20 * day)}))
	bundle := Input{Type: "Opaque", Data: map[string][]byte{"ca-bundle.crt": certtest.ChainPEM(old, young)}}
	if got, want := analyze(t, bundle).FactsAt(epoch).CriticalAt, epoch.Add(18*day); !got.Equal(want) {
		t.Errorf("bundle criticalAt %v, want %v (two days, a tenth of the 20-day member that expires last)", got, want)
	}
	// No certificate: no instants.
	if facts := analyze(t, tlsInput([]byte("garbage"), nil, nil)).FactsAt(epoch); facts.HasInstants || !facts.CriticalAt.IsZero() {
		t.Errorf("no certificate: criticalAt %v", facts.CriticalAt)
	}
}
