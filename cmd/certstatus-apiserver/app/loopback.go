package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

// loopbackMaxAge is how long the loopback certificate is valid, as in
// k8s.io/apiserver: past it, /livez fails so that the server is restarted.
const loopbackMaxAge = (3*365 + 1) * 24 * time.Hour

// applySecureServing does what RecommendedOptions.ApplyTo does for serving
// (the serving certificates, then a self-signed certificate the server's
// in-process loopback client trusts), with an ECDSA P-256 loopback key
// instead of k8s.io/apiserver's RSA-2048 one. Generating that RSA key took
// 85 ms in the median and up to 400 ms on two cores, at every start, before
// anything else could begin; P-256 takes well under a millisecond.
func applySecureServing(options *genericoptions.SecureServingOptionsWithLoopback, config *genericapiserver.Config) error {
	if err := options.SecureServingOptions.ApplyTo(&config.SecureServing); err != nil {
		return err
	}
	if config.SecureServing == nil {
		return nil // serving is off (--secure-port=0)
	}
	now := time.Now()
	certPEM, keyPEM, err := loopbackCertificate(now)
	if err != nil {
		return fmt.Errorf("generate the loopback certificate: %w", err)
	}
	provider, err := dynamiccertificates.NewStaticSNICertKeyContent("self-signed loopback", certPEM, keyPEM, genericapiserver.LoopbackClientServerNameOverride)
	if err != nil {
		return fmt.Errorf("load the loopback certificate: %w", err)
	}
	// First, so that it wins over any other certificate for that name.
	config.SecureServing.SNICerts = append([]dynamiccertificates.SNICertKeyContentProvider{provider}, config.SecureServing.SNICerts...)
	if config.LoopbackClientConfig, err = config.SecureServing.NewLoopbackClientConfig(rand.Text(), certPEM); err != nil {
		return fmt.Errorf("create the loopback client: %w", err)
	}
	expires := now.Add(loopbackMaxAge)
	check := healthz.NamedCheck("loopback-serving-certificate", func(*http.Request) error {
		if time.Now().After(expires) {
			return errors.New("loopback serving certificate is expired")
		}
		return nil
	})
	config.AddHealthzChecks(check)
	config.AddLivezChecks(check)
	return nil
}

// loopbackCertificate is a self-signed certificate and key (PEM) for the
// loopback client's server name, valid for loopbackMaxAge from now.
func loopbackCertificate(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", genericapiserver.LoopbackClientServerNameOverride, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(loopbackMaxAge),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{genericapiserver.LoopbackClientServerNameOverride},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
