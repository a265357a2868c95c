package certificate

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestPrivateKeyTypesAndEncodings(t *testing.T) {
	rsaKey := certtest.Must(certtest.NewKey(certtest.RSA, 2048))
	tests := []struct {
		name      string
		spec      certtest.Spec
		format    certtest.KeyFormat
		wantType  string
		prefixPEM string
	}{
		{"RSA PKCS#1", certtest.Spec{Key: rsaKey}, certtest.PKCS1, "RSA", ""},
		{"RSA PKCS#8", certtest.Spec{Key: rsaKey}, certtest.PKCS8, "RSA", ""},
		{"ECDSA SEC1", certtest.Spec{KeyAlgorithm: certtest.ECDSA}, certtest.SEC1, "ECDSA", ""},
		{"ECDSA SEC1 after EC PARAMETERS", certtest.Spec{KeyAlgorithm: certtest.ECDSA}, certtest.SEC1, "ECDSA", "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"},
		{"ECDSA PKCS#8", certtest.Spec{KeyAlgorithm: certtest.ECDSA}, certtest.PKCS8, "ECDSA", ""},
		{"Ed25519 PKCS#8", certtest.Spec{KeyAlgorithm: certtest.Ed25519}, certtest.PKCS8, "Ed25519", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.CommonName, tt.spec.NotBefore, tt.spec.NotAfter = "k", epoch.Add(-day), epoch.Add(90*day)
			cert := certtest.Must(certtest.NewSelfSigned(tt.spec))
			other := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "other", KeyAlgorithm: certtest.KeyAlgorithm(tt.wantType)}))

			matching := statusAt(t, tlsInput(cert.PEM(), append([]byte(tt.prefixPEM), keyPEM(t, cert, tt.format)...), nil), epoch)
			want := certstatus.PrivateKeyStatus{Present: true, Type: tt.wantType, MatchesCertificate: true}
			if matching.PrivateKey == nil || *matching.PrivateKey != want {
				t.Errorf("privateKey %+v, want %+v (errors %+v)", matching.PrivateKey, want, matching.Errors)
			}
			if matching.State != certstatus.StateValid || len(matching.Errors) != 0 {
				t.Errorf("state %s errors %+v, want Valid without errors", matching.State, matching.Errors)
			}

			mismatched := statusAt(t, tlsInput(cert.PEM(), keyPEM(t, other, tt.format), nil), epoch)
			want.MatchesCertificate = false
			if mismatched.PrivateKey == nil || *mismatched.PrivateKey != want || mismatched.State != certstatus.StateInvalid {
				t.Errorf("mismatched key: privateKey %+v state %s, want %+v and Invalid", mismatched.PrivateKey, mismatched.State, want)
			}
			if ready := condition(t, mismatched, certstatus.ConditionReady); ready.Reason != certstatus.ReasonKeyPairMismatch || !strings.Contains(ready.Message, "tls.key") {
				t.Errorf("Ready %+v, want KeyPairMismatch naming tls.key", ready)
			}
		})
	}
}

func TestPrivateKeyProblems(t *testing.T) {
	cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "k", NotBefore: epoch.Add(-day), NotAfter: epoch.Add(90 * day)}))
	der, err := x509.MarshalPKCS8PrivateKey(cert.Key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		key         []byte
		wantMessage string
		// An absent key leaves the certificate usable (e.g. a certificate-only
		// Secret); a key that is there but unreadable breaks the TLS server that loads it.
		wantState certstatus.State
	}{
		{"missing", nil, "The key is missing", certstatus.StateValid},
		{"empty", []byte("\n"), "The value is empty", certstatus.StateValid},
		{"garbage", []byte("not a key"), "not PEM", certstatus.StateInvalid},
		{"DER", der, "binary DER", certstatus.StateInvalid},
		{"certificate instead of key", cert.PEM(), "No PEM private key block", certstatus.StateInvalid},
		{"corrupt key body", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der[:40]}), "not a valid PKCS#1, PKCS#8 or SEC1 private key", certstatus.StateInvalid},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "encrypted", certstatus.StateInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := statusAt(t, tlsInput(cert.PEM(), tt.key, nil), epoch)
			if status.PrivateKey == nil || status.PrivateKey.Present {
				t.Errorf("privateKey %+v, want present=false", status.PrivateKey)
			}
			if status.State != tt.wantState {
				t.Errorf("state %s, want %s", status.State, tt.wantState)
			}
			if ready := condition(t, status, certstatus.ConditionReady); tt.wantState == certstatus.StateInvalid &&
				(ready.Reason != certstatus.ReasonInvalidData || !strings.Contains(ready.Message, "tls.key")) {
				t.Errorf("Ready %+v, want InvalidData naming tls.key", ready)
			}
			if len(status.Errors) != 1 || status.Errors[0].Key != "tls.key" || !strings.Contains(status.Errors[0].Message, tt.wantMessage) {
				t.Errorf("errors %+v, want one tls.key entry containing %q", status.Errors, tt.wantMessage)
			}
		})
	}
}
