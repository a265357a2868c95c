package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// controllerManagerTimeout bounds the wait for the first aggregation.
const controllerManagerTimeout = 60 * time.Second

// startControllerManager runs kube-controller-manager with only the
// clusterrole-aggregation-controller, which folds ClusterRoles labelled
// aggregate-to-view/edit/admin into view/edit/admin. It serves nothing
// (--secure-port=0), so readiness is proven by its effect: the built-in
// `view` ClusterRole gaining rules.
func (s *Stack) startControllerManager(ctx context.Context) error {
	p, err := startProcess("kube-controller-manager", filepath.Join(s.dir, "kube-controller-manager.log"),
		filepath.Join(s.toolsDir, "kube-controller-manager"),
		"--kubeconfig="+s.controllerManagerKubeconfig,
		"--controllers=clusterrole-aggregation-controller",
		"--use-service-account-credentials=true",
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
	)
	if err != nil {
		return err
	}
	s.controllerManager = p
	ctx, cancel := context.WithTimeout(ctx, controllerManagerTimeout)
	defer cancel()
	err = poll(ctx, pollInterval, "ClusterRole view to be aggregated by kube-controller-manager", func(ctx context.Context) (bool, error) {
		if err := p.failure(); err != nil {
			return false, fatal{err}
		}
		role, err := s.client.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return len(role.Rules) > 0, nil
	})
	if err != nil {
		return fmt.Errorf("start kube-controller-manager: %w\n%s", err, tail(p.logPath, 30))
	}
	return nil
}
