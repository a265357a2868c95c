package certtest

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// Spec describes a certificate to build. Zero fields get sensible defaults.
type Spec struct {
	// CommonName is used when Subject and RawSubject are empty.
	CommonName string
	// Subject, when not empty, is the full subject; use ExtraNames for unusual attributes.
	Subject pkix.Name
	// RawSubject, when set, is the exact DER subject (multi-valued RDNs, odd string types).
	RawSubject []byte

	DNSNames       []string
	IPAddresses    []net.IP
	URIs           []*url.URL
	EmailAddresses []string

	// NotBefore defaults to an hour ago, NotAfter to 90 days after NotBefore.
	NotBefore, NotAfter time.Time

	// Key is reused when set (RSA generation is slow); else one of KeyAlgorithm is made.
	Key          crypto.Signer
	KeyAlgorithm KeyAlgorithm
	RSABits      int

	// SerialNumber defaults to a random 128-bit number.
	SerialNumber *big.Int
	// KeyUsage and ExtKeyUsage default to what a CA or a TLS server needs.
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// MaxPathLen applies to CAs; with MaxPathLenZero a zero means "no intermediates".
	MaxPathLen     int
	MaxPathLenZero bool
}

// Certificate is a built certificate with its private key.
type Certificate struct {
	Certificate *x509.Certificate
	DER         []byte
	Key         crypto.Signer
}

// NewCA builds a self-signed root CA.
func NewCA(spec Spec) (*Certificate, error) {
	return build(spec, nil, true)
}

// NewSelfSigned builds a self-signed certificate that is not a CA.
func NewSelfSigned(spec Spec) (*Certificate, error) {
	return build(spec, nil, false)
}

// NewIntermediate builds a CA issued by c.
func (c *Certificate) NewIntermediate(spec Spec) (*Certificate, error) {
	return build(spec, c, true)
}

// NewLeaf builds an end-entity certificate issued by c.
func (c *Certificate) NewLeaf(spec Spec) (*Certificate, error) {
	return build(spec, c, false)
}

func build(spec Spec, issuer *Certificate, isCA bool) (*Certificate, error) {
	key := spec.Key
	if key == nil {
		var err error
		if key, err = NewKey(spec.KeyAlgorithm, spec.RSABits); err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
	}
	template, err := templateFor(spec, key, isCA)
	if err != nil {
		return nil, err
	}
	parent, signer := template, key
	if issuer != nil {
		parent, signer = issuer.Certificate, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", spec.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse created certificate: %w", err)
	}
	return &Certificate{Certificate: cert, DER: der, Key: key}, nil
}

func templateFor(spec Spec, key crypto.Signer, isCA bool) (*x509.Certificate, error) {
	notBefore := spec.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	notAfter := spec.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(90 * 24 * time.Hour)
	}
	serial := spec.SerialNumber
	if serial == nil {
		var err error
		if serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128)); err != nil {
			return nil, fmt.Errorf("generate serial: %w", err)
		}
	}
	subject := spec.Subject
	if subject.String() == "" && spec.RawSubject == nil {
		subject = pkix.Name{CommonName: spec.CommonName}
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		RawSubject:            spec.RawSubject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		DNSNames:              spec.DNSNames,
		IPAddresses:           spec.IPAddresses,
		URIs:                  spec.URIs,
		EmailAddresses:        spec.EmailAddresses,
		KeyUsage:              spec.KeyUsage,
		ExtKeyUsage:           spec.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		MaxPathLen:            spec.MaxPathLen,
		MaxPathLenZero:        spec.MaxPathLenZero,
		SubjectKeyId:          subjectKeyID(key),
	}
	if template.KeyUsage == 0 {
		template.KeyUsage = x509.KeyUsageDigitalSignature
		if isCA {
			template.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	if template.ExtKeyUsage == nil && !isCA {
		template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	return template, nil
}

// subjectKeyID is the RFC 5280 method 1 identifier; x509 would pick one for
// CAs only, and tests want it on every certificate.
func subjectKeyID(key crypto.Signer) []byte {
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil
	}
	sum := sha1.Sum(der)
	return sum[:]
}

// PEM is the certificate as a PEM CERTIFICATE block.
func (c *Certificate) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})
}

// KeyPEM is the private key in the given format.
func (c *Certificate) KeyPEM(format KeyFormat) ([]byte, error) {
	return KeyPEM(c.Key, format)
}

// ChainPEM concatenates certificates as a served chain (leaf first) or a bundle.
func ChainPEM(certs ...*Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c.PEM()...)
	}
	return out
}

// Must panics on error; for tests and demo data, where failing to generate
// a certificate is a bug.
func Must[T any](value T, err error) T {
	if err != nil {
		panic(err)
	}
	return value
}
