package stack

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// certLifetime is long enough for any test run, short enough to never matter.
const certLifetime = 24 * time.Hour

// keyPair is a certificate with its private key, in memory (built by
// pkg/certificate/certtest) and as PEM.
type keyPair struct {
	certificate *certtest.Certificate
	CertPEM     []byte
	KeyPEM      []byte
}

// certSpec describes a certificate to issue.
type certSpec struct {
	CommonName   string
	Organization []string
	DNSNames     []string
	IPs          []net.IP
	Server       bool // serving certificate (otherwise client)
}

// newCA creates a self-signed certificate authority (ECDSA P-256, the
// certtest default).
func newCA(commonName string) (*keyPair, error) {
	now := time.Now()
	ca, err := certtest.NewCA(certtest.Spec{
		CommonName: commonName,
		NotBefore:  now.Add(-time.Minute),
		NotAfter:   now.Add(certLifetime),
	})
	if err != nil {
		return nil, fmt.Errorf("CA %q: %w", commonName, err)
	}
	return pairOf(ca)
}

// issue signs a leaf certificate with this CA.
func (ca *keyPair) issue(spec certSpec) (*keyPair, error) {
	usage := x509.ExtKeyUsageClientAuth
	if spec.Server {
		usage = x509.ExtKeyUsageServerAuth
	}
	now := time.Now()
	leaf, err := ca.certificate.NewLeaf(certtest.Spec{
		Subject:     pkix.Name{CommonName: spec.CommonName, Organization: spec.Organization},
		DNSNames:    spec.DNSNames,
		IPAddresses: spec.IPs,
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(certLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		return nil, fmt.Errorf("certificate %q: %w", spec.CommonName, err)
	}
	return pairOf(leaf)
}

func pairOf(c *certtest.Certificate) (*keyPair, error) {
	keyPEM, err := c.KeyPEM(certtest.PKCS8)
	if err != nil {
		return nil, fmt.Errorf("marshal key of %q: %w", c.Certificate.Subject.CommonName, err)
	}
	return &keyPair{certificate: c, CertPEM: c.PEM(), KeyPEM: keyPEM}, nil
}

// write stores the pair as <dir>/<name>.crt and <dir>/<name>.key.
func (kp *keyPair) write(dir, name string) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, kp.CertPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("write %s: %w", certFile, err)
	}
	if err := os.WriteFile(keyFile, kp.KeyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("write %s: %w", keyFile, err)
	}
	return certFile, keyFile, nil
}

// writeServiceAccountKeys writes the RSA key pair kube-apiserver signs and
// verifies service-account tokens with (kube-controller-manager asks for such
// tokens because it runs with --use-service-account-credentials).
func writeServiceAccountKeys(dir string) (privateFile, publicFile string, err error) {
	key, err := certtest.NewKey(certtest.RSA, 2048)
	if err != nil {
		return "", "", fmt.Errorf("generate service-account key: %w", err)
	}
	priv, err := certtest.KeyPEM(key, certtest.PKCS1)
	if err != nil {
		return "", "", fmt.Errorf("marshal service-account private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", fmt.Errorf("marshal service-account public key: %w", err)
	}
	privateFile = filepath.Join(dir, "sa.key")
	publicFile = filepath.Join(dir, "sa.pub")
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := os.WriteFile(privateFile, priv, 0o600); err != nil {
		return "", "", fmt.Errorf("write %s: %w", privateFile, err)
	}
	if err := os.WriteFile(publicFile, pub, 0o600); err != nil {
		return "", "", fmt.Errorf("write %s: %w", publicFile, err)
	}
	return privateFile, publicFile, nil
}
