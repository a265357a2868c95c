package certtest

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestChainAndKeyEncodings(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	root := Must(NewCA(Spec{CommonName: "root", NotBefore: now, NotAfter: now.Add(time.Hour)}))
	intermediate := Must(root.NewIntermediate(Spec{CommonName: "intermediate", KeyAlgorithm: Ed25519}))
	leaf := Must(intermediate.NewLeaf(Spec{CommonName: "leaf", KeyAlgorithm: RSA, DNSNames: []string{"leaf"}}))

	if !root.Certificate.IsCA || !intermediate.Certificate.IsCA || leaf.Certificate.IsCA {
		t.Error("CA flags wrong")
	}
	if !root.Certificate.NotBefore.Equal(now) || !root.Certificate.NotAfter.Equal(now.Add(time.Hour)) {
		t.Errorf("dates %v %v", root.Certificate.NotBefore, root.Certificate.NotAfter)
	}
	if err := leaf.Certificate.CheckSignatureFrom(intermediate.Certificate); err != nil {
		t.Errorf("leaf not signed by intermediate: %v", err)
	}
	if err := intermediate.Certificate.CheckSignatureFrom(root.Certificate); err != nil {
		t.Errorf("intermediate not signed by root: %v", err)
	}
	rest := ChainPEM(leaf, intermediate)
	for _, want := range []*Certificate{leaf, intermediate} {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" || string(block.Bytes) != string(want.DER) {
			t.Fatalf("ChainPEM block for %s wrong", want.Certificate.Subject.CommonName)
		}
	}

	tests := []struct {
		cert      *Certificate
		format    KeyFormat
		wantType  string
		wantError bool
	}{
		{leaf, PKCS1, "RSA PRIVATE KEY", false},
		{leaf, PKCS8, "PRIVATE KEY", false},
		{leaf, SEC1, "", true},
		{root, SEC1, "EC PRIVATE KEY", false},
		{root, PKCS1, "", true},
		{intermediate, PKCS8, "PRIVATE KEY", false},
	}
	for _, tt := range tests {
		encoded, err := tt.cert.KeyPEM(tt.format)
		if (err != nil) != tt.wantError {
			t.Errorf("%s %s: error %v", tt.cert.Certificate.Subject.CommonName, tt.format, err)
			continue
		}
		if tt.wantError {
			continue
		}
		block, _ := pem.Decode(encoded)
		if block == nil || block.Type != tt.wantType {
			t.Errorf("%s %s: block %v, want %s", tt.cert.Certificate.Subject.CommonName, tt.format, block, tt.wantType)
			continue
		}
		if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil && tt.format == PKCS8 {
			t.Errorf("PKCS#8 does not parse: %v", err)
		}
	}
}
