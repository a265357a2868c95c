package certificate

import (
	"bytes"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// TestRealWorldLayouts: Secrets laid out the way real clusters lay them
// out raise no false alarm.
func TestRealWorldLayouts(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name        string
		in          Input
		wantState   certstatus.State
		wantChain   certstatus.ChainVerification
		wantMessage string
	}{
		{"mutual TLS, Opaque", Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{
			"tls.crt": certtest.ChainPEM(p.leaf, p.intermediate), "tls.key": p.leafKey, "ca.crt": p.clientCA.PEM()}},
			certstatus.StateValid, certstatus.ChainUnverified, "ca.crt does not issue the served chain"},
		{"mutual TLS, kubernetes.io/tls", tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), p.leafKey, p.clientCA.PEM()),
			certstatus.StateValid, certstatus.ChainUnverified, "ca.crt does not issue the served chain"},
		{"fullchain.pem and chain.pem concatenated", tlsInput(certtest.ChainPEM(p.leaf, p.intermediate, p.intermediate), p.leafKey, nil),
			certstatus.StateValid, certstatus.ChainUnverified, "tls.crt[2] (Test Intermediate) repeats tls.crt[1] (Test Intermediate)"},
		{"leaf only", tlsInput(p.leaf.PEM(), p.leafKey, nil),
			certstatus.StateValid, certstatus.ChainUnverified, "tls.crt holds only the leaf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := statusAt(t, tt.in, epoch)
			if status.State != tt.wantState || status.Chain.Verified != tt.wantChain || !strings.Contains(status.Chain.Message, tt.wantMessage) {
				t.Errorf("state %s chain %s %q; want %s %s containing %q", status.State, status.Chain.Verified, status.Chain.Message, tt.wantState, tt.wantChain, tt.wantMessage)
			}
			if status.PrivateKey == nil || !status.PrivateKey.MatchesCertificate {
				t.Errorf("private key %+v, want matching the leaf", status.PrivateKey)
			}
		})
	}
}

// TestPrivateKeyMatchesThePrimaryLeafOrTheBundlesFirstMember.
func TestPrivateKeyMatchesThePrimaryLeafOrTheBundlesFirstMember(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name  string
		data  map[string][]byte
		match bool
	}{
		// a.crt sorts before tls.crt but holds only a CA: the primary chain is tls.crt.
		{"leaf of the primary key", map[string][]byte{"a.crt": p.otherRoot.PEM(), "tls.crt": certtest.ChainPEM(p.leaf, p.intermediate), "tls.key": p.leafKey}, true},
		{"not the intermediate", map[string][]byte{"tls.crt": certtest.ChainPEM(p.leaf, p.intermediate), "tls.key": keyPEM(t, p.intermediate, certtest.PKCS8)}, false},
		{"bundle: its first member", map[string][]byte{"bundle.crt": certtest.ChainPEM(p.otherRoot, p.root), "bundle.key": keyPEM(t, p.otherRoot, certtest.PKCS8)}, true},
		{"bundle: not a later member", map[string][]byte{"bundle.crt": certtest.ChainPEM(p.otherRoot, p.root), "bundle.key": keyPEM(t, p.root, certtest.PKCS8)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := statusAt(t, Input{Type: "Opaque", CreatedAt: changedAt, Data: tt.data}, epoch)
			if status.PrivateKey == nil || !status.PrivateKey.Present || status.PrivateKey.MatchesCertificate != tt.match {
				t.Errorf("private key %+v, want matchesCertificate %v", status.PrivateKey, tt.match)
			}
		})
	}
}

// TestAHugeCABundleDoesNotHideTheLeaf: the bound reads tls.crt first, so a
// ca.crt of more than 1000 certificates beside it leaves the leaf analysed.
func TestAHugeCABundleDoesNotHideTheLeaf(t *testing.T) {
	p := newPKI(t)
	huge := bytes.Repeat(p.root.PEM(), maxCertificates+5)
	for _, secretType := range []string{"kubernetes.io/tls", "Opaque"} {
		t.Run(secretType, func(t *testing.T) {
			in := tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), p.leafKey, huge)
			in.Type = secretType
			status := statusAt(t, in, epoch)
			if status.State != certstatus.StateValid || status.Chain.Verified != certstatus.ChainVerified {
				t.Errorf("state %s chain %s (%s), want Valid and verified", status.State, status.Chain.Verified, status.Chain.Message)
			}
			if len(status.Certificates) != maxCertificates {
				t.Fatalf("%d certificates, want %d", len(status.Certificates), maxCertificates)
			}
			// Shown in key order: ca.crt's 998, then tls.crt's leaf and intermediate.
			last := status.Certificates[maxCertificates-2]
			if last.Key != "tls.crt" || last.Index != 0 || last.Role != certstatus.RoleLeaf || last.CommonName != "web.example.com" {
				t.Errorf("certificate %d is %s[%d] %s %s, want the leaf tls.crt[0]", maxCertificates-2, last.Key, last.Index, last.Role, last.CommonName)
			}
			if status.Certificates[0].Key != "ca.crt" {
				t.Errorf("first certificate from %s, want ca.crt (key order)", status.Certificates[0].Key)
			}
			if len(status.Errors) != 1 || status.Errors[0].Key != "ca.crt" || !strings.Contains(status.Errors[0].Message, "7 certificates were not analysed") {
				t.Errorf("errors %+v, want ca.crt's 7 skipped certificates", status.Errors)
			}
			if !status.PrivateKey.MatchesCertificate {
				t.Errorf("private key %+v does not match the leaf", status.PrivateKey)
			}
		})
	}
}

// TestPKCS7IsExplained: a .p7b made by openssl gives an errors[] entry that
// says what it is and how to convert it.
func TestPKCS7IsExplained(t *testing.T) {
	p := newPKI(t)
	chain := writeTemp(t, "chain.pem", certtest.ChainPEM(p.leaf, p.intermediate))
	p7b := []byte(certtest.OpenSSL(t, "crl2pkcs7", "-nocrl", "-certfile", chain))
	if !bytes.Contains(p7b, []byte("-----BEGIN PKCS7-----")) {
		t.Fatalf("openssl made no PKCS7 block:\n%s", p7b)
	}
	check := func(t *testing.T, status certstatus.CertificateStatusStatus, key string) {
		t.Helper()
		for _, e := range status.Errors {
			if e.Key == key && strings.Contains(e.Message, "PKCS#7") && strings.Contains(e.Message, "openssl pkcs7 -print_certs") {
				return
			}
		}
		t.Errorf("errors %+v, want %s explained as PKCS#7 with the conversion", status.Errors, key)
	}
	t.Run("tls.crt of a TLS Secret", func(t *testing.T) {
		status := statusAt(t, tlsInput(p7b, p.leafKey, nil), epoch)
		if status.State != certstatus.StateInvalid {
			t.Errorf("state %s, want Invalid", status.State)
		}
		check(t, status, "tls.crt")
	})
	t.Run("beside PEM certificates in an Opaque Secret", func(t *testing.T) {
		status := statusAt(t, Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{
			"ca.crt": append(p.root.PEM(), p7b...)}}, epoch)
		check(t, status, "ca.crt")
	})
	t.Run("an Opaque Secret of PKCS#7 only is not listed", func(t *testing.T) {
		if _, listed := Analyze(Input{Type: "Opaque", Data: map[string][]byte{"bundle.p7b": p7b}}, DefaultOptions()); listed {
			t.Error("listed")
		}
	})
}
