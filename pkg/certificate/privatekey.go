package certificate

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// privateKeyBlockTypes are the PEM types that may hold a private key. The
// parsers are tried regardless of the label, since mislabelled keys are common.
var privateKeyBlockTypes = map[string]bool{
	"PRIVATE KEY":     true, // PKCS#8
	"RSA PRIVATE KEY": true, // PKCS#1
	"EC PRIVATE KEY":  true, // SEC1
}

// isPrivateKeyBlock reports whether a PEM block claims to be a private key,
// encrypted or not.
func isPrivateKeyBlock(block *pem.Block) bool {
	return privateKeyBlockTypes[block.Type] || block.Type == "ENCRYPTED PRIVATE KEY"
}

// parsePrivateKey returns the public half of a private key block and its
// algorithm name. The private key itself goes out of scope at once: nothing
// of it is kept. Errors never quote the key.
func parsePrivateKey(block *pem.Block) (crypto.PublicKey, string, error) {
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, "", errors.New("the private key is encrypted, which Kubernetes TLS Secrets do not support")
	}
	if public, ok := rsaPublicFromPrivate(block.Bytes); ok {
		return public, "RSA", nil
	}
	var key any
	if parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		key = parsed
	} else if parsed, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = parsed
	} else if parsed, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		key = parsed
	} else {
		return nil, "", errors.New("the " + block.Type + " block is not a valid PKCS#1, PKCS#8 or SEC1 private key")
	}
	switch key := key.(type) {
	case *rsa.PrivateKey:
		return key.Public(), "RSA", nil
	case *ecdsa.PrivateKey:
		return key.Public(), "ECDSA", nil
	case ed25519.PrivateKey:
		return key.Public(), "Ed25519", nil
	case *ecdh.PrivateKey:
		return key.Public(), "X25519", nil
	default:
		return nil, "", errors.New("the private key has an unsupported algorithm")
	}
}

// publicKeysEqual compares a private key's public half with a certificate's key.
func publicKeysEqual(fromKey, fromCertificate crypto.PublicKey) bool {
	comparable, ok := fromKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && comparable.Equal(fromCertificate)
}

// matchPrivateKey describes the Secret's private key against the leaf. A
// TLS Secret always gets a PrivateKey (absent or not); other types only
// when they hold one.
func (a *Analysis) matchPrivateKey(contents *secretContents, isTLS bool) *certstatus.PrivateKeyStatus {
	key := contents.privateKey
	if key == nil {
		if isTLS {
			return privateKeyStatusFor(certstatus.PrivateKeyStatus{})
		}
		return nil
	}
	status := certstatus.PrivateKeyStatus{Present: true, Type: key.algorithm}
	if i := a.leafIndex(); i >= 0 {
		status.MatchesCertificate = publicKeysEqual(key.public, contents.certificates[i].cert.PublicKey)
	}
	return privateKeyStatusFor(status)
}

// privateKeyStatuses are every PrivateKeyStatus parsePrivateKey can lead
// to. Analyses point at these instead of keeping a copy each; nobody
// mutates a status.
var privateKeyStatuses = func() []certstatus.PrivateKeyStatus {
	statuses := []certstatus.PrivateKeyStatus{{}}
	for _, algorithm := range []string{"RSA", "ECDSA", "Ed25519", "X25519"} {
		for _, matches := range []bool{false, true} {
			statuses = append(statuses, certstatus.PrivateKeyStatus{Present: true, Type: algorithm, MatchesCertificate: matches})
		}
	}
	return statuses
}()

func privateKeyStatusFor(status certstatus.PrivateKeyStatus) *certstatus.PrivateKeyStatus {
	for i := range privateKeyStatuses {
		if privateKeyStatuses[i] == status {
			return &privateKeyStatuses[i]
		}
	}
	return &status
}
