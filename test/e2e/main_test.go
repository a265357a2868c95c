// Package e2e drives certstatus through a real etcd, kube-apiserver (RBAC,
// aggregation layer) and kube-controller-manager, with the real kubectl and
// the generated typed client. One stack and one certstatus server are shared
// by the tests; each test works in namespaces of its own.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/test/stack"
)

// env is the shared real stack.
var env struct {
	stack  *stack.Stack
	server *stack.Server
	// binary is the certstatus-apiserver under test.
	binary string
	kube   kubernetes.Interface
	certs  versioned.Interface
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	binary, err := serverBinary(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	env.binary = binary
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start the control plane:", err)
		return 1
	}
	release := st.StopOnSignal()
	defer release()
	defer func() { _ = st.Stop() }()
	env.stack = st
	env.server, err = st.StartServer(ctx, binary, "-v=2")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start certstatus:", err)
		st.WriteLogTails(os.Stderr, 40)
		return 1
	}
	env.kube = st.Client()
	env.certs = versioned.NewForConfigOrDie(st.RESTConfig())
	code := m.Run()
	if code != 0 {
		st.WriteLogTails(os.Stderr, 60)
	}
	return code
}

// serverBinary is $CERTSTATUS_SERVER (make e2e sets it), or a fresh build.
func serverBinary(ctx context.Context) (string, error) {
	if path := os.Getenv("CERTSTATUS_SERVER"); path != "" {
		return path, nil
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(root, "_output", "bin", "certstatus-apiserver")
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/certstatus-apiserver")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build certstatus-apiserver: %w", err)
	}
	return out, nil
}
