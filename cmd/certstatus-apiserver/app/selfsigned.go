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
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/klog/v2"
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
	certPEM, keyPEM, err := selfSigned(now, genericapiserver.LoopbackClientServerNameOverride,
		[]string{genericapiserver.LoopbackClientServerNameOverride}, nil, loopbackMaxAge)
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

// selfSigned is a self-signed certificate and its key (PEM), P-256, for
// dnsNames and ips, valid for validity from now (and an hour before, for
// clocks that lag).
func selfSigned(now time.Time, commonName string, dnsNames []string, ips []net.IP, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	// No SerialNumber: x509.CreateCertificate picks a random one.
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", commonName, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	if keyPEM, err = keyutil.MarshalPrivateKeyToPEM(key); err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// servingCertValidity is how long a generated serving certificate is
// valid, as k8s.io/apiserver's.
const servingCertValidity = 365 * 24 * time.Hour

// defaultServingCertificate is SecureServingOptions'
// MaybeDefaultWithSelfSignedCerts with a P-256 key instead of two RSA-2048
// ones (a CA and the certificate, 170 ms in the median at every start of a
// pod without a --tls-cert-file): with no serving certificate given, the
// one in --cert-dir is used, or made there (in memory without a
// --cert-dir). Names: host, then the bind address (or localhost when it
// binds every address), then ips.
func defaultServingCertificate(s *genericoptions.SecureServingOptions, host string, ips []net.IP) error {
	if s == nil || (s.BindPort == 0 && s.Listener == nil) {
		return nil
	}
	files := &s.ServerCert.CertKey
	if files.CertFile != "" || files.KeyFile != "" {
		return nil
	}
	if s.ServerCert.CertDirectory != "" {
		if s.ServerCert.PairName == "" {
			return errors.New("--cert-dir needs a pair name")
		}
		files.CertFile = filepath.Join(s.ServerCert.CertDirectory, s.ServerCert.PairName+".crt")
		files.KeyFile = filepath.Join(s.ServerCert.CertDirectory, s.ServerCert.PairName+".key")
		if found, err := certutil.CanReadCertAndKey(files.CertFile, files.KeyFile); err != nil || found {
			return err
		}
	}
	dnsNames := []string{host}
	if s.BindAddress.IsUnspecified() {
		if host != "localhost" {
			dnsNames = append(dnsNames, "localhost")
		}
	} else {
		ips = append(slices.Clip(ips), s.BindAddress)
	}
	certPEM, keyPEM, err := selfSigned(time.Now(), host, dnsNames, ips, servingCertValidity)
	if err != nil {
		return fmt.Errorf("generate a self-signed serving certificate: %w", err)
	}
	if files.CertFile == "" {
		s.ServerCert.GeneratedCert, err = dynamiccertificates.NewStaticCertKeyContent("Generated self signed cert", certPEM, keyPEM)
		return err
	}
	if err := certutil.WriteCert(files.CertFile, certPEM); err != nil {
		return err
	}
	if err := keyutil.WriteKey(files.KeyFile, keyPEM); err != nil {
		return err
	}
	klog.InfoS("Generated a self-signed serving certificate", "cert", files.CertFile, "key", files.KeyFile)
	return nil
}
