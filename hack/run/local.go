package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/certstatus/certstatus/test/stack"
)

// localAccess is what a shell outside the process needs: a kubeconfig at a
// stable path and the matching kubectl next to it.
type localAccess struct {
	dir        string
	kubeconfig string
	kubectl    string
}

// writeLocalAccess copies the admin kubeconfig (self-contained) to
// _output/local/kubeconfig and links kubectl to _output/local/kubectl.
func writeLocalAccess(st *stack.Stack) (*localAccess, error) {
	root, err := stack.RepoRoot()
	if err != nil {
		return nil, err
	}
	l := &localAccess{dir: filepath.Join(root, "_output", "local")}
	l.kubeconfig = filepath.Join(l.dir, "kubeconfig")
	l.kubectl = filepath.Join(l.dir, "kubectl")
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", l.dir, err)
	}
	data, err := os.ReadFile(st.AdminKubeconfig())
	if err != nil {
		return nil, fmt.Errorf("read admin kubeconfig: %w", err)
	}
	if err := os.WriteFile(l.kubeconfig, data, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", l.kubeconfig, err)
	}
	if err := os.Remove(l.kubectl); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("replace %s: %w", l.kubectl, err)
	}
	if err := os.Symlink(st.KubectlPath(), l.kubectl); err != nil {
		return nil, fmt.Errorf("link kubectl: %w", err)
	}
	return l, nil
}

// remove deletes the kubeconfig and the link: they point at a control plane
// that no longer exists.
func (l *localAccess) remove() error {
	var errs []error
	for _, path := range []string{l.kubeconfig, l.kubectl} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

func printBanner(w io.Writer, st *stack.Stack, srv *stack.Server, l *localAccess, took time.Duration) {
	fmt.Fprintf(w, `
certstatus is running on a local control plane (started in %v).

  kube-apiserver  %s
  certstatus      %s (direct, CA %s)
  logs            %s
  demo Secrets namespace %s

Paste into another shell:

  export KUBECONFIG=%s PATH=%s:$PATH; kubectl get cst -A -o wide; kubectl get cmcst -A

Ctrl-C stops everything.

`, took.Round(100*time.Millisecond), st.APIServerURL(), srv.URL(), srv.CAFile(), st.Dir(), demoNamespace, l.kubeconfig, l.dir)
}
