package stack

import (
	"context"
	"fmt"
	"path/filepath"
)

// startEtcd starts a single-member etcd on loopback ports and waits for
// /health.
func (s *Stack) startEtcd(ctx context.Context) error {
	return startOnFreePort(func(clientPort int) error {
		peerPort, err := freePort()
		if err != nil {
			return err
		}
		clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
		p, err := startProcess("etcd", filepath.Join(s.dir, "etcd.log"), filepath.Join(s.toolsDir, "etcd"),
			"--name=certstatus-test",
			"--data-dir="+filepath.Join(s.dir, "etcd-data"),
			"--listen-client-urls="+clientURL,
			"--advertise-client-urls="+clientURL,
			"--listen-peer-urls="+peerURL,
			"--initial-advertise-peer-urls="+peerURL,
			"--initial-cluster=certstatus-test="+peerURL,
			// Test data is thrown away: durability only costs time.
			"--unsafe-no-fsync",
			"--log-level=warn",
		)
		if err != nil {
			return err
		}
		s.etcd = p
		s.etcdURL = clientURL
		if err := waitReady(ctx, p, clientURL+"/health", nil); err != nil {
			_ = p.stop()
			return fmt.Errorf("start etcd: %w", err)
		}
		return nil
	})
}
