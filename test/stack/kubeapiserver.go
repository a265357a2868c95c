package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strconv"
)

// startAPIServer starts kube-apiserver with RBAC and the aggregation layer
// (design/local-control-plane.md) and waits for /readyz, which includes the
// RBAC bootstrap of the default ClusterRoles.
func (s *Stack) startAPIServer(ctx context.Context) error {
	return startOnFreePort(func(port int) error {
		c := s.certs
		args := []string{
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			// A loopback advertise address is refused by the default
			// endpoint reconciler; nothing here needs the kubernetes Endpoints.
			"--advertise-address=127.0.0.1",
			"--endpoint-reconciler-type=none",
			"--etcd-servers=" + s.etcdURL,
			"--service-cluster-ip-range=10.0.0.0/24",
			// The default is AlwaysAllow: RBAC tests would pass silently.
			"--authorization-mode=RBAC",
			"--client-ca-file=" + c.ClusterCAFile,
			"--tls-cert-file=" + c.APIServerCertFile,
			"--tls-private-key-file=" + c.APIServerKeyFile,
			"--service-account-issuer=https://kubernetes.default.svc",
			"--service-account-key-file=" + c.SAPublicKeyFile,
			"--service-account-signing-key-file=" + c.SAPrivateKeyFile,
			// No service-account token controller runs.
			"--disable-admission-plugins=ServiceAccount",
			// Aggregation layer: the front-proxy identity the aggregator
			// presents to extension servers, and the headers it sets.
			"--requestheader-client-ca-file=" + c.FrontProxyCAFile,
			"--requestheader-allowed-names=" + frontProxyClientName,
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--proxy-client-cert-file=" + c.FrontProxyClientCert,
			"--proxy-client-key-file=" + c.FrontProxyClientKey,
			// Dial the ExternalName host (localhost:<port>) instead of
			// endpoints, which cannot hold loopback addresses.
			"--enable-aggregator-routing=false",
		}
		args = append(args, s.opts.APIServerArgs...)
		p, err := startProcess("kube-apiserver", filepath.Join(s.dir, "kube-apiserver.log"),
			filepath.Join(s.toolsDir, "kube-apiserver"), args...)
		if err != nil {
			return err
		}
		s.apiserver = p
		s.apiserverURL = fmt.Sprintf("https://127.0.0.1:%d", port)
		tlsConfig, err := clientTLS(c.clusterCA.CertPEM, c.admin)
		if err != nil {
			return err
		}
		if err := waitReady(ctx, p, s.apiserverURL+"/readyz", tlsConfig); err != nil {
			_ = p.stop()
			return fmt.Errorf("start kube-apiserver: %w", err)
		}
		return nil
	})
}

// clientTLS trusts caPEM and presents client, if any.
func clientTLS(caPEM []byte, client *keyPair) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in CA bundle")
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if client != nil {
		pair, err := tls.X509KeyPair(client.CertPEM, client.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
