package certificate

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestRSAPublicFromPrivateReadsPKCS1AndPKCS8(t *testing.T) {
	key := certtest.Must(certtest.NewKey(certtest.RSA, 2048)).(*rsa.PrivateKey)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, der := range map[string][]byte{"PKCS#1": x509.MarshalPKCS1PrivateKey(key), "PKCS#8": pkcs8} {
		public, ok := rsaPublicFromPrivate(der)
		if !ok || !public.Equal(&key.PublicKey) {
			t.Errorf("%s: got %v ok=%v, want the key's public half", name, public, ok)
		}
	}
}

func TestRSAPublicFromPrivateLeavesEverythingElseToTheFullParsers(t *testing.T) {
	rsaKey := certtest.Must(certtest.NewKey(certtest.RSA, 2048)).(*rsa.PrivateKey)
	ecdsaDER, err := x509.MarshalPKCS8PrivateKey(certtest.Must(certtest.NewKey(certtest.ECDSA, 0)))
	if err != nil {
		t.Fatal(err)
	}
	// A made-up key: the right modulus with primes that do not multiply to it.
	forged := *rsaKey
	forged.Primes = []*big.Int{big.NewInt(7919), big.NewInt(104729)}
	forgedDER := x509.MarshalPKCS1PrivateKey(&forged)
	full := x509.MarshalPKCS1PrivateKey(rsaKey)
	for name, der := range map[string][]byte{
		"ECDSA PKCS#8": ecdsaDER,
		"truncated":    full[:len(full)/2],
		"trailing":     append(append([]byte{}, full...), 0),
		"forged":       forgedDER,
		"garbage":      []byte("not a key"),
	} {
		if _, ok := rsaPublicFromPrivate(der); ok {
			t.Errorf("%s: read as an RSA key", name)
		}
	}
	// The forged key then fails the full parsers too, so the Secret says why.
	if _, _, err := parsePrivateKey(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: forgedDER}); err == nil {
		t.Error("a forged RSA key parses")
	}
}
