package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// KeyAlgorithm selects the kind of key a certificate gets.
type KeyAlgorithm string

const (
	// ECDSA is P-256, the default: fast to generate.
	ECDSA KeyAlgorithm = "ECDSA"
	// RSA is 2048 bits unless Spec.RSABits says otherwise.
	RSA     KeyAlgorithm = "RSA"
	Ed25519 KeyAlgorithm = "Ed25519"
)

// KeyFormat is how a private key is encoded in PEM.
type KeyFormat string

const (
	// PKCS8 ("PRIVATE KEY") works for every algorithm.
	PKCS8 KeyFormat = "PKCS8"
	// PKCS1 ("RSA PRIVATE KEY") is for RSA only.
	PKCS1 KeyFormat = "PKCS1"
	// SEC1 ("EC PRIVATE KEY") is for ECDSA only.
	SEC1 KeyFormat = "SEC1"
)

// NewKey generates a private key. bits applies to RSA only (0 means 2048).
func NewKey(algorithm KeyAlgorithm, bits int) (crypto.Signer, error) {
	switch algorithm {
	case "", ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		if bits == 0 {
			bits = 2048
		}
		return rsa.GenerateKey(rand.Reader, bits)
	case Ed25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	default:
		return nil, fmt.Errorf("unknown key algorithm %q", algorithm)
	}
}

// KeyPEM encodes a private key in the given format.
func KeyPEM(key crypto.Signer, format KeyFormat) ([]byte, error) {
	var block *pem.Block
	switch format {
	case "", PKCS8:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("encode PKCS#8 key: %w", err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	case PKCS1:
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#1 needs an RSA key, not %T", key)
		}
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}
	case SEC1:
		ecKey, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("SEC1 needs an ECDSA key, not %T", key)
		}
		der, err := x509.MarshalECPrivateKey(ecKey)
		if err != nil {
			return nil, fmt.Errorf("encode SEC1 key: %w", err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	default:
		return nil, fmt.Errorf("unknown key format %q", format)
	}
	return pem.EncodeToMemory(block), nil
}
