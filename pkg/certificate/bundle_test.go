package certificate

import (
	"fmt"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// bundleInput is an Opaque Secret with a ca-bundle.crt of roots with the given dates.
func bundleInput(t testing.TB, dates ...[2]time.Time) (Input, []*certtest.Certificate) {
	t.Helper()
	var roots []*certtest.Certificate
	for i, d := range dates {
		roots = append(roots, certtest.Must(certtest.NewCA(certtest.Spec{CommonName: fmt.Sprintf("Root %d", i), NotBefore: d[0], NotAfter: d[1]})))
	}
	return Input{Type: "Opaque", Data: map[string][]byte{"ca-bundle.crt": certtest.ChainPEM(roots...)}, CreatedAt: changedAt}, roots
}

func TestBundles(t *testing.T) {
	year := 365 * day
	long := [2]time.Time{epoch.Add(-year), epoch.Add(10 * year)}
	expired := func(ago time.Duration) [2]time.Time { return [2]time.Time{epoch.Add(-10 * year), epoch.Add(-ago)} }
	expiring := [2]time.Time{epoch.Add(-10 * year), epoch.Add(10 * day)}
	future := [2]time.Time{epoch.Add(day), epoch.Add(10 * year)}

	tests := []struct {
		name        string
		members     [][2]time.Time
		wantState   certstatus.State
		wantSummary certstatus.CertificateSummary
		wantMessage string
	}{
		{"valid with expired members", [][2]time.Time{long, expired(day), expired(2 * day), expired(3 * day), expired(4 * day), expired(5 * day)},
			certstatus.StateValid, certstatus.CertificateSummary{Certificates: 6, Valid: 1, Expired: 5},
			"1 of 6 CA certificates in the bundle are valid; expired: Root 1, Root 2, Root 3 and 2 more."},
		{"valid while one member is not expiring", [][2]time.Time{long, expiring},
			certstatus.StateValid, certstatus.CertificateSummary{Certificates: 2, Valid: 1, ExpiringSoon: 1},
			"1 of 2 CA certificates in the bundle are valid."},
		{"expiring soon when every valid member is", [][2]time.Time{expiring, expired(day)},
			certstatus.StateExpiringSoon, certstatus.CertificateSummary{Certificates: 2, ExpiringSoon: 1, Expired: 1},
			"Every valid CA certificate in the bundle expires soon, the last at " + formatTime(epoch.Add(10*day)) + "; expired: Root 1."},
		{"expired when all are", [][2]time.Time{expired(day), expired(2 * day)},
			certstatus.StateExpired, certstatus.CertificateSummary{Certificates: 2, Expired: 2},
			"All 2 CA certificates in the bundle have expired, the last at " + formatTime(epoch.Add(-day)) + "."},
		{"not yet valid when none is valid yet", [][2]time.Time{future, expired(day)},
			certstatus.StateNotYetValid, certstatus.CertificateSummary{Certificates: 2, NotYetValid: 1, Expired: 1},
			"None of the 2 CA certificates in the bundle is valid yet; expired: Root 1."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := bundleInput(t, tt.members...)
			status := statusAt(t, in, epoch)
			if status.State != tt.wantState || status.Summary != tt.wantSummary {
				t.Errorf("state %s summary %+v, want %s %+v", status.State, status.Summary, tt.wantState, tt.wantSummary)
			}
			if ready := condition(t, status, certstatus.ConditionReady); ready.Message != tt.wantMessage {
				t.Errorf("Ready message\n got %q\nwant %q", ready.Message, tt.wantMessage)
			}
			if status.Chain.Verified != certstatus.ChainUnverified || status.PrivateKey != nil {
				t.Errorf("chain %+v privateKey %+v, want Unknown and no key", status.Chain, status.PrivateKey)
			}
			for _, c := range status.Certificates {
				if c.Role != certstatus.RoleCA || c.Key != "ca-bundle.crt" {
					t.Errorf("member %s[%d] role %s, want CA", c.Key, c.Index, c.Role)
				}
			}
		})
	}
}

func TestBundleInstants(t *testing.T) {
	year := 365 * day
	in, roots := bundleInput(t,
		[2]time.Time{epoch.Add(-3 * year), epoch.Add(2 * year)},
		[2]time.Time{epoch.Add(-5 * year), epoch.Add(-year)},
		[2]time.Time{epoch.Add(-year), epoch.Add(4 * year)},
	)
	a := analyze(t, in)
	status := a.StatusAt(epoch)
	lastExpiringSoon := roots[2].Certificate.NotAfter.Add(-720 * time.Hour)
	if !status.NotBefore.Time.Equal(epoch.Add(-5*year)) || !status.NotAfter.Time.Equal(epoch.Add(4*year)) || !status.ExpiringSoonAt.Time.Equal(lastExpiringSoon) {
		t.Errorf("bundle instants %v %v %v, want earliest notBefore, latest notAfter, latest expiringSoonAt", status.NotBefore, status.NotAfter, status.ExpiringSoonAt)
	}
	if got := a.StatusAt(lastExpiringSoon.Add(-time.Second)).State; got != certstatus.StateValid {
		t.Errorf("just before expiringSoonAt: %s, want Valid", got)
	}
	atExpiring := a.StatusAt(lastExpiringSoon)
	if atExpiring.State != certstatus.StateExpiringSoon {
		t.Errorf("at expiringSoonAt: %s, want ExpiringSoon", atExpiring.State)
	}
	if c := condition(t, atExpiring, certstatus.ConditionExpiringSoon); !c.LastTransitionTime.Equal(lastExpiringSoon) {
		t.Errorf("ExpiringSoon lastTransitionTime %v, want %v", c.LastTransitionTime, lastExpiringSoon)
	}
	if got := a.StatusAt(epoch.Add(4 * year)).State; got != certstatus.StateExpired {
		t.Errorf("after the last notAfter: %s, want Expired", got)
	}
}

func TestNonTLSSecrets(t *testing.T) {
	p := newPKI(t)
	serverPEM := append(keyPEM(t, p.leaf, certtest.SEC1), certtest.ChainPEM(p.leaf, p.intermediate)...)
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{
		"ca.crt":     p.root.PEM(),
		"server.pem": serverPEM,
		"password":   []byte("hunter2"),
	}}
	status := statusAt(t, in, epoch)
	if status.State != certstatus.StateValid || status.Chain.Verified != certstatus.ChainVerified {
		t.Errorf("state %s chain %+v, want Valid and verified", status.State, status.Chain)
	}
	if status.PrivateKey == nil || !status.PrivateKey.MatchesCertificate || status.PrivateKey.Type != "ECDSA" {
		t.Errorf("privateKey %+v, want the key in server.pem matched against its leaf", status.PrivateKey)
	}
	roles := ""
	for _, c := range status.Certificates {
		roles += fmt.Sprintf("%s[%d]=%s ", c.Key, c.Index, c.Role)
	}
	if want := "ca.crt[0]=CA server.pem[0]=Leaf server.pem[1]=Intermediate "; roles != want {
		t.Errorf("roles %q, want %q", roles, want)
	}
	if len(status.Errors) != 0 {
		t.Errorf("errors %+v: keys without certificates are not judged", status.Errors)
	}
}

func TestListing(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name       string
		in         Input
		wantListed bool
	}{
		{"TLS Secret", p.validTLS(t), true},
		{"broken TLS Secret", tlsInput([]byte("x"), nil, nil), true},
		{"empty TLS Secret", Input{Type: "kubernetes.io/tls"}, true},
		{"Opaque with a certificate", Input{Type: "Opaque", Data: map[string][]byte{"cert": p.leaf.PEM()}}, true},
		{"service account token with ca.crt", Input{Type: "kubernetes.io/service-account-token", Data: map[string][]byte{"ca.crt": p.root.PEM(), "token": []byte("t")}}, true},
		{"Opaque with a broken certificate block", Input{Type: "Opaque", Data: map[string][]byte{"cert": []byte("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")}}, true},
		{"Opaque without certificates", Input{Type: "Opaque", Data: map[string][]byte{"password": []byte("x")}}, false},
		{"Opaque with only a private key", Input{Type: "Opaque", Data: map[string][]byte{"key": p.leafKey}}, false},
		{"docker config", Input{Type: "kubernetes.io/dockerconfigjson", Data: map[string][]byte{".dockerconfigjson": []byte("{}")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, listed := Analyze(tt.in, DefaultOptions())
			if listed != tt.wantListed || (a != nil) != tt.wantListed {
				t.Errorf("listed %v (analysis %v), want %v", listed, a != nil, tt.wantListed)
			}
		})
	}
	broken := Input{Type: "Opaque", Data: map[string][]byte{"cert": []byte("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")}}
	if status := statusAt(t, broken, epoch); status.State != certstatus.StateInvalid || condition(t, status, certstatus.ConditionReady).Reason != certstatus.ReasonInvalidData {
		t.Errorf("a listed Secret with no readable certificate: state %s, want Invalid/InvalidData", status.State)
	}
}
