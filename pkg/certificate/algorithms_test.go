package certificate

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// TestAlgorithmsGoDoesNotParseAreNamed builds certificates with openssl
// (Go cannot create them) and compares our key and signature algorithm
// names with what `openssl x509 -text` prints: a name, never "0".
func TestAlgorithmsGoDoesNotParseAreNamed(t *testing.T) {
	dir := t.TempDir()
	dsaParams := filepath.Join(dir, "dsa-params.pem")
	certtest.OpenSSL(t, "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-pkeyopt", "dsa_paramgen_q_bits:256", "-out", dsaParams)
	tests := []struct {
		name              string
		newkey            []string
		wantKey           string
		wantSize          int32
		wantSignature     string // "" means: as `openssl x509 -text` prints it
		goKnowsSignature  bool
		opensslPrintsBits bool
	}{
		{"Ed448", []string{"-newkey", "ed448"}, "Ed448", 456, "ED448", false, false},
		{"RSA-PSS key", []string{"-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048"}, "RSA-PSS", 2048, "rsassaPss", false, true},
		{"DSA with SHA-384", []string{"-newkey", "dsa:" + dsaParams, "-sha384"}, "DSA", 2048, "dsa_with_SHA384", false, true},
		{"DSA with SHA-256", []string{"-newkey", "dsa:" + dsaParams, "-sha256"}, "DSA", 2048, "DSA-SHA256", true, true},
	}
	signatureLine := regexp.MustCompile(`(?m)^\s*Signature Algorithm: (\S+)`)
	bitsLine := regexp.MustCompile(`Public-Key: \((\d+) bit\)`)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPath := filepath.Join(dir, strconv.Itoa(i)+".pem")
			args := append([]string{"req", "-x509", "-nodes", "-days", "30", "-subj", "/CN=" + tt.name,
				"-keyout", filepath.Join(dir, strconv.Itoa(i)+".key"), "-out", certPath}, tt.newkey...)
			certtest.OpenSSL(t, args...)
			certPEM, err := os.ReadFile(certPath)
			if err != nil {
				t.Fatal(err)
			}
			text := certtest.OpenSSL(t, "x509", "-noout", "-text", "-in", certPath)
			opensslSignature := signatureLine.FindStringSubmatch(text)
			if opensslSignature == nil {
				t.Fatalf("no Signature Algorithm in openssl's text:\n%s", text)
			}
			cert := parseOne(t, certPEM)
			info := describe(cert, "tls.crt", 0)
			if info.PublicKeyAlgorithm != tt.wantKey || info.PublicKeySize != tt.wantSize {
				t.Errorf("public key %s %d, want %s %d", info.PublicKeyAlgorithm, info.PublicKeySize, tt.wantKey, tt.wantSize)
			}
			if tt.opensslPrintsBits {
				bits := bitsLine.FindStringSubmatch(text)
				if bits == nil || bits[1] != strconv.Itoa(int(info.PublicKeySize)) {
					t.Errorf("publicKeySize %d, openssl prints %v", info.PublicKeySize, bits)
				}
			}
			if info.SignatureAlgorithm != tt.wantSignature {
				t.Errorf("signature algorithm %q, want %q", info.SignatureAlgorithm, tt.wantSignature)
			}
			if !tt.goKnowsSignature && info.SignatureAlgorithm != opensslSignature[1] {
				t.Errorf("signature algorithm %q, openssl prints %q", info.SignatureAlgorithm, opensslSignature[1])
			}
			// The whole analysis lists it and never shows a number.
			status := statusAt(t, Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"server.pem": certPEM}}, cert.NotBefore)
			if len(status.Certificates) != 1 || status.Certificates[0].PublicKeyAlgorithm != tt.wantKey {
				t.Errorf("analysis: %+v", status.Certificates)
			}
		})
	}

	t.Run("unknown algorithms", func(t *testing.T) {
		// An Ed25519 certificate whose key and signature OIDs (1.3.101.112)
		// are rewritten to 1.3.101.127, which no one knows.
		cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "unknown", KeyAlgorithm: certtest.Ed25519}))
		der := bytes.ReplaceAll(cert.DER, []byte{0x06, 0x03, 0x2b, 0x65, 0x70}, []byte{0x06, 0x03, 0x2b, 0x65, 0x7f})
		certPath := writeTemp(t, "unknown.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		text := certtest.OpenSSL(t, "x509", "-noout", "-text", "-in", certPath)
		if m := signatureLine.FindStringSubmatch(text); m == nil || m[1] != "1.3.101.127" {
			t.Fatalf("openssl does not print the rewritten OID as unknown: %v", m)
		}
		info := describe(parseOne(t, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), "tls.crt", 0)
		if info.PublicKeyAlgorithm != "Unknown" || info.PublicKeySize != 0 || info.SignatureAlgorithm != "Unknown" {
			t.Errorf("got %s %d %s, want Unknown 0 Unknown", info.PublicKeyAlgorithm, info.PublicKeySize, info.SignatureAlgorithm)
		}
	})
}

// parseOne parses the first PEM certificate of data.
func parseOne(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
