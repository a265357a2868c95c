package app

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
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
	if err := options.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
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
	block, _ := pem.Decode(loopback.TLSClientConfig.CAData)
	if block == nil {
		t.Fatal("the loopback client trusts no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("loopback key %T, want ECDSA", cert.PublicKey)
	}
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
