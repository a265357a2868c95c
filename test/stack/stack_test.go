package stack

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

func TestStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real control plane")
	}
	ctx := t.Context()
	begin := time.Now()
	s, err := Start(ctx, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack started in %v (dir %s)", time.Since(begin).Round(time.Millisecond), s.Dir())
	stopped := false
	t.Cleanup(func() {
		if t.Failed() && !stopped {
			s.DumpLogs(t)
		}
		_ = s.Stop()
	})

	t.Run("admin can list namespaces", func(t *testing.T) {
		out, _, err := s.Kubectl(ctx, "get", "ns", "-o", "name")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "namespace/kube-system") {
			t.Errorf("kubectl get ns: no kube-system in\n%s", out)
		}
	})

	t.Run("RBAC is enforced", func(t *testing.T) {
		kubeconfig, err := s.UserKubeconfig("alice", "developers")
		if err != nil {
			t.Fatal(err)
		}
		_, stderr, err := s.KubectlAs(ctx, kubeconfig, "get", "secrets", "-A")
		if err == nil || !strings.Contains(stderr, "Forbidden") {
			t.Errorf("a user with no bindings listed secrets: err=%v stderr=%s", err, stderr)
		}
		out, _, err := s.KubectlAs(ctx, kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if err != nil {
			t.Fatal(err)
		}
		if out != "alice" {
			t.Errorf("whoami = %q, want alice", out)
		}
	})

	t.Run("ClusterRole aggregation into view", func(t *testing.T) {
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{
				Name:   "stack-test-aggregate-to-view",
				Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"},
			},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"stack-test.example"}, Resources: []string{"widgets"}, Verbs: []string{"get"}}},
		}
		if _, err := s.Client().RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		err := poll(ctx, 100*time.Millisecond, "widgets in view", func(ctx context.Context) (bool, error) {
			view, err := s.Client().RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, r := range view.Rules {
				if len(r.Resources) > 0 && r.Resources[0] == "widgets" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("servers start, register, restart and serve directly", func(t *testing.T) {
		fake := buildFakeServer(t)
		first, err := s.StartServer(ctx, fake)
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.LaunchServer(ctx, fake, "--ignored-flag=1")
		if err != nil {
			t.Fatal(err)
		}
		if first.Port() == second.Port() {
			t.Fatalf("both servers on port %d", first.Port())
		}
		if err := s.RegisterAPIService(ctx, second.Port()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Kubectl(ctx, "get", "--raw", "/apis/certstatus.dev/v1alpha1"); err != nil {
			t.Error(err)
		}
		if err := first.Kill(); err != nil {
			t.Fatal(err)
		}
		if first.Running() {
			t.Error("first server still running after Kill")
		}
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := second.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		user, err := s.UserRESTConfig("bob")
		if err != nil {
			t.Fatal(err)
		}
		direct, err := rest.UnversionedRESTClientFor(setDefaults(second.DirectRESTConfig(user)))
		if err != nil {
			t.Fatal(err)
		}
		if err := direct.Get().AbsPath("/apis/certstatus.dev/v1alpha1").Do(ctx).Error(); err != nil {
			t.Errorf("direct discovery request: %v", err)
		}
		for _, srv := range []*Server{first, second} {
			if err := srv.Stop(); err != nil {
				t.Error(err)
			}
		}
	})

	if binary := os.Getenv("CERTSTATUS_SERVER"); binary != "" {
		t.Run("certstatus APIService becomes Available", func(t *testing.T) {
			if _, err := os.Stat(binary); err != nil {
				t.Skipf("CERTSTATUS_SERVER: %v", err)
			}
			begin := time.Now()
			srv, err := s.StartServer(ctx, binary)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("certstatus started and registered in %v", time.Since(begin).Round(time.Millisecond))
			if _, _, err := s.Kubectl(ctx, "get", "certificatestatuses.certstatus.dev", "-A"); err != nil {
				t.Error(err)
			}
			begin = time.Now()
			if err := srv.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("certstatus restarted in %v", time.Since(begin).Round(time.Millisecond))
		})
	}

	t.Run("kube-apiserver and etcd restart with their data", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "stack-test-restart"}}
		if _, err := s.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what    string
			pid     func() int
			restart func(context.Context) error
		}{
			{"kube-apiserver", func() int { return s.apiserver.PID() }, s.RestartAPIServer},
			{"etcd", func() int { return s.etcd.PID() }, s.RestartEtcd},
		} {
			before := c.pid()
			begin := time.Now()
			if err := c.restart(ctx); err != nil {
				t.Fatalf("restart %s: %v", c.what, err)
			}
			after := c.pid()
			t.Logf("%s restarted in %v (pid %d → %d)", c.what, time.Since(begin).Round(time.Millisecond), before, after)
			if after == before {
				t.Errorf("%s: same pid %d after a restart", c.what, after)
			}
			if err := syscall.Kill(before, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("%s: old pid %d still exists after the restart (kill -0: %v)", c.what, before, err)
			}
			if _, err := s.Client().CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); err != nil {
				t.Errorf("after restarting %s, the namespace created before is gone: %v", c.what, err)
			}
		}
	})

	t.Run("Stop leaves nothing behind", func(t *testing.T) {
		pids := s.PIDs()
		begin := time.Now()
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		stopped = true
		t.Logf("stack stopped in %v", time.Since(begin).Round(time.Millisecond))
		if err := s.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		for _, pid := range pids {
			// Signal 0 only checks existence; the processes were reaped, so
			// their PIDs must be gone (barring reuse within milliseconds).
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("pid %d still exists after Stop (kill -0: %v)", pid, err)
			}
		}
		if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stack dir %s still exists after Stop (%v)", s.Dir(), err)
		}
	})
}

// buildFakeServer builds internal/fakeserver, a stand-in for
// certstatus-apiserver, into a temporary directory.
func buildFakeServer(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "fakeserver")
	out, err := exec.Command("go", "build", "-o", binary, "./internal/fakeserver").CombinedOutput()
	if err != nil {
		t.Fatalf("build fake server: %v\n%s", err, out)
	}
	return binary
}

// setDefaults makes cfg usable for an unversioned REST client.
func setDefaults(cfg *rest.Config) *rest.Config {
	cfg.NegotiatedSerializer = serializer.WithoutConversionCodecFactory{CodecFactory: scheme.Codecs}
	return cfg
}
