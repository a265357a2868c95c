package certificate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestBadCertificateData(t *testing.T) {
	p := newPKI(t)
	good := p.leaf.PEM()
	truncated := good[:len(good)/2]
	tests := []struct {
		name        string
		crt         []byte
		wantCerts   int
		wantMessage string
	}{
		{"garbage", []byte("hello world"), 0, "not PEM"},
		{"binary garbage", []byte{0xff, 0x00, 0x13}, 0, "not PEM"},
		{"DER instead of PEM", p.leaf.DER, 0, "binary DER"},
		{"base64 of PEM", []byte(base64.StdEncoding.EncodeToString(good)), 0, "base64-encoded twice"},
		{"truncated PEM", truncated, 0, "truncated"},
		{"truncated block before a good one", append(append([]byte{}, truncated...), good...), 1, "truncated"},
		{"bad base64 body", []byte("-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n"), 0, "malformed"},
		{"mismatched END line", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0, "malformed"},
		{"certificate block with garbage DER", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not der")}), 0, "Certificate 0 is not a valid X.509 certificate"},
		{"private key in tls.crt", append(p.leafKey, good...), 1, "It holds a private key, where only CERTIFICATE blocks belong"},
		{"unknown block type is not repeated", append(pem.EncodeToMemory(&pem.Block{Type: "MY SECRET LABEL", Bytes: []byte{1}}), good...), 1, "a PEM block of another type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := statusAt(t, tlsInput(tt.crt, p.leafKey, nil), epoch)
			if len(status.Certificates) != tt.wantCerts {
				t.Errorf("%d certificates, want %d", len(status.Certificates), tt.wantCerts)
			}
			if len(status.Errors) != 1 || status.Errors[0].Key != "tls.crt" || !strings.Contains(status.Errors[0].Message, tt.wantMessage) {
				t.Fatalf("errors %+v, want one tls.crt entry containing %q", status.Errors, tt.wantMessage)
			}
			if strings.Contains(status.Errors[0].Message, "MY SECRET LABEL") {
				t.Errorf("error message repeats Secret data: %q", status.Errors[0].Message)
			}
			if tt.wantCerts == 0 && status.State != certstatus.StateInvalid {
				t.Errorf("state %s, want Invalid", status.State)
			}
			if tt.wantCerts > 0 && status.State == certstatus.StateInvalid {
				t.Errorf("state Invalid: the readable certificate must still show")
			}
		})
	}
}

func TestBadDataDoesNotHideTheRest(t *testing.T) {
	p := newPKI(t)
	in := tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), p.leafKey, []byte("garbage"))
	status := statusAt(t, in, epoch)
	if status.State != certstatus.StateValid || len(status.Certificates) != 2 {
		t.Errorf("state %s with %d certificates, want Valid with 2", status.State, len(status.Certificates))
	}
	if len(status.Errors) != 1 || status.Errors[0].Key != "ca.crt" {
		t.Errorf("errors %+v, want one for ca.crt", status.Errors)
	}
	if status.Chain.Verified != certstatus.ChainUnverified {
		t.Errorf("chain %+v, want Unknown: an unreadable ca.crt gives nothing to verify against", status.Chain)
	}
}

func TestCRLFAndSurroundingText(t *testing.T) {
	p := newPKI(t)
	chain := "subject=CN=web.example.com\nissuer=CN=Test Intermediate\r\n" + string(p.leaf.PEM()) + "\nsome notes\n" + string(p.intermediate.PEM()) + "trailing"
	crlf := []byte(strings.ReplaceAll(strings.ReplaceAll(chain, "\r\n", "\n"), "\n", "\r\n"))
	status := statusAt(t, tlsInput(crlf, []byte(strings.ReplaceAll(string(p.leafKey), "\n", "\r\n")), p.root.PEM()), epoch)
	if status.State != certstatus.StateValid || len(status.Certificates) != 3 || len(status.Errors) != 0 || !status.PrivateKey.MatchesCertificate {
		t.Errorf("state %s, %d certificates, errors %+v, key %+v; want Valid, 3, none, matching", status.State, len(status.Certificates), status.Errors, status.PrivateKey)
	}
}

func TestProblemsPerKeyAreBounded(t *testing.T) {
	var crt []byte
	for i := 0; i < 50; i++ {
		crt = append(crt, "-----BEGIN CERTIFICATE-----\n@@\n-----END CERTIFICATE-----\n"...)
	}
	status := statusAt(t, tlsInput(crt, nil, nil), epoch)
	var message string
	for _, e := range status.Errors {
		if e.Key == "tls.crt" {
			message = e.Message
		}
	}
	if !strings.Contains(message, "There are 47 more problems like these.") || len(message) > 500 {
		t.Errorf("message %q, want three problems and a count", message)
	}
}

func TestCertificateBound(t *testing.T) {
	root := newRootCA("Many")
	one := root.PEM()
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{
		"a.crt": bytes.Repeat(one, 600),
		"b.crt": bytes.Repeat(one, 405),
	}}
	status := statusAt(t, in, epoch)
	if len(status.Certificates) != maxCertificates || status.Summary.Certificates != maxCertificates {
		t.Errorf("%d certificates analysed, want %d", len(status.Certificates), maxCertificates)
	}
	if len(status.Errors) != 1 || status.Errors[0].Key != "b.crt" || !strings.Contains(status.Errors[0].Message, "5 certificates were not analysed: at most 1000") {
		t.Errorf("errors %+v, want the 5 skipped certificates of b.crt reported", status.Errors)
	}
}

// TestNoKeyBytesInOutput: the status never carries the private key, in any
// form, even when it sits in a key read for certificates or is broken.
func TestNoKeyBytesInOutput(t *testing.T) {
	p := newPKI(t)
	rsaLeaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "rsa", KeyAlgorithm: certtest.RSA, NotBefore: epoch.Add(-day), NotAfter: epoch.Add(90 * day)}))
	for _, format := range []certtest.KeyFormat{certtest.PKCS1, certtest.PKCS8} {
		key := keyPEM(t, rsaLeaf, format)
		block, _ := pem.Decode(key)
		inputs := map[string]Input{
			"tls":               tlsInput(certtest.ChainPEM(rsaLeaf, p.intermediate), key, p.root.PEM()),
			"key in tls.crt":    tlsInput(append(append([]byte{}, key...), rsaLeaf.PEM()...), key, nil),
			"truncated key":     tlsInput(rsaLeaf.PEM(), key[:len(key)/2], nil),
			"corrupt key":       tlsInput(rsaLeaf.PEM(), pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes[:len(block.Bytes)-7]}), nil),
			"opaque combined":   {Type: "Opaque", Data: map[string][]byte{"server.pem": append(append([]byte{}, key...), rsaLeaf.PEM()...)}},
			"key as a cert":     tlsInput(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}), key, nil),
			"key base64 in crt": tlsInput([]byte(base64.StdEncoding.EncodeToString(key)), key, nil),
		}
		for name, in := range inputs {
			t.Run(fmt.Sprintf("%s/%s", format, name), func(t *testing.T) {
				out, err := json.Marshal(statusAt(t, in, epoch))
				if err != nil {
					t.Fatal(err)
				}
				body := base64.StdEncoding.EncodeToString(block.Bytes)
				for _, secret := range []string{body[:40], body[len(body)/2 : len(body)/2+40], base64.StdEncoding.EncodeToString(key)[:40], "PRIVATE KEY-----", string(key[40:80])} {
					if bytes.Contains(out, []byte(secret)) {
						t.Errorf("status contains key material %q:\n%s", secret, out)
					}
				}
				hexKey := fmt.Sprintf("%X", block.Bytes[20:40])
				if bytes.Contains(bytes.ReplaceAll(out, []byte(":"), nil), []byte(hexKey)) {
					t.Errorf("status contains the key in hex")
				}
			})
		}
	}
}
