package app

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	certutil "k8s.io/client-go/util/cert"
	netutils "k8s.io/utils/net"

	"github.com/certstatus/certstatus/pkg/apiserver"
)

// The server's in-process client trusts a P-256 certificate made at start,
// served first for its name, and the expiry check k8s.io/apiserver adds for
// its own loopback certificate is still there.
func TestLoopbackCertificateIsECDSA(t *testing.T) {
	options := genericoptions.NewSecureServingOptions().WithLoopback()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	options.Listener = listener
	options.BindPort = listener.Addr().(*net.TCPAddr).Port
	options.ServerCert.CertDirectory = t.TempDir()
	if err := defaultServingCertificate(options.SecureServingOptions, "localhost", []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		t.Fatal(err)
	}
	config := genericapiserver.NewConfig(apiserver.Codecs)
	if err := applySecureServing(options, config); err != nil {
		t.Fatal(err)
	}
	defer listener.Close()

	loopback := config.LoopbackClientConfig
	if loopback == nil || loopback.TLSClientConfig.ServerName != genericapiserver.LoopbackClientServerNameOverride || loopback.BearerToken == "" {
		t.Fatalf("loopback client %+v", loopback)
	}
	cert := ecdsaCertificate(t, loopback.TLSClientConfig.CAData)
	if err := cert.VerifyHostname(genericapiserver.LoopbackClientServerNameOverride); err != nil {
		t.Error(err)
	}
	if valid := cert.NotAfter.Sub(time.Now()); valid < loopbackMaxAge-2*time.Hour || valid > loopbackMaxAge {
		t.Errorf("valid for %v more, want about %v", valid, loopbackMaxAge)
	}
	if names := config.SecureServing.SNICerts; len(names) == 0 || names[0].SNINames()[0] != genericapiserver.LoopbackClientServerNameOverride {
		t.Error("the loopback certificate is not the first SNI certificate")
	}
	has := func(checks []healthz.HealthChecker) bool {
		for _, c := range checks {
			if c.Name() == "loopback-serving-certificate" {
				return c.Check(nil) == nil
			}
		}
		return false
	}
	if !has(config.HealthzChecks) || !has(config.LivezChecks) {
		t.Error("/healthz and /livez do not check the loopback certificate")
	}
}

func ecdsaCertificate(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil || len(certs) != 1 {
		t.Fatalf("%d certificates, err %v; want one", len(certs), err)
	}
	cert := certs[0]
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key %T, want ECDSA", cert.PublicKey)
	}
	return cert
}

// Without --tls-cert-file a serving certificate is made once in --cert-dir
// (P-256, for localhost and 127.0.0.1) and found there on the next start;
// given files are left alone.
func TestDefaultServingCertificate(t *testing.T) {
	newOptions := func(dir string) *genericoptions.SecureServingOptions {
		options := genericoptions.NewSecureServingOptions()
		options.BindAddress = netutils.ParseIPSloppy("0.0.0.0")
		options.BindPort = 8443
		options.ServerCert.CertDirectory = dir
		return options
	}
	ips := []net.IP{netutils.ParseIPSloppy("127.0.0.1")}
	dir := t.TempDir()
	first := newOptions(dir)
	if err := defaultServingCertificate(first, "localhost", ips); err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile(first.ServerCert.CertKey.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	cert := ecdsaCertificate(t, certPEM)
	if cert.SerialNumber == nil || cert.SerialNumber.Sign() <= 0 {
		t.Errorf("serial number %v, want a positive random one", cert.SerialNumber)
	}
	if len(cert.DNSNames) != 1 || cert.DNSNames[0] != "localhost" {
		t.Errorf("DNS names %v, want localhost once", cert.DNSNames)
	}
	if err := cert.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if _, err := tls.LoadX509KeyPair(first.ServerCert.CertKey.CertFile, first.ServerCert.CertKey.KeyFile); err != nil {
		t.Errorf("the written pair does not load: %v", err)
	}

	again := newOptions(dir)
	if err := defaultServingCertificate(again, "localhost", ips); err != nil {
		t.Fatal(err)
	}
	if reread, _ := os.ReadFile(again.ServerCert.CertKey.CertFile); !bytes.Equal(reread, certPEM) {
		t.Error("a restart made a new certificate instead of using the one in --cert-dir")
	}

	given := newOptions(dir)
	given.ServerCert.CertKey.CertFile, given.ServerCert.CertKey.KeyFile = "/given/tls.crt", "/given/tls.key"
	if err := defaultServingCertificate(given, "localhost", ips); err != nil || given.ServerCert.CertKey.CertFile != "/given/tls.crt" {
		t.Errorf("given files replaced (%v): %+v", err, given.ServerCert.CertKey)
	}

	inMemory := newOptions("")
	if err := defaultServingCertificate(inMemory, "localhost", ips); err != nil || inMemory.ServerCert.GeneratedCert == nil {
		t.Errorf("no --cert-dir: generated %v, err %v", inMemory.ServerCert.GeneratedCert, err)
	}
}
