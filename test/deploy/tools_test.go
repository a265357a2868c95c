package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helm runs the helm built by hack/build-tools.sh against the test's
// control plane, with its own cache and config directories.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := helmCommand(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func helmCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := filepath.Join(env.stack.Dir(), "helm")
	cmd := exec.CommandContext(ctx, filepath.Join(env.toolsDir, "helm"), args...)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+env.stack.AdminKubeconfig(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// kubectl runs the real kubectl as the cluster admin, with stdin.
func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectlCommand(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlCommand(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return kubectlStdin(ctx, stdin, args...)
}

// kubectlCommandContext runs kubectl until it ends or ctx does.
func kubectlCommandContext(ctx context.Context, args ...string) (string, error) {
	return kubectlStdin(ctx, "", args...)
}

func kubectlStdin(ctx context.Context, stdin string, args ...string) (string, error) {
	full := append([]string{"--kubeconfig=" + env.stack.AdminKubeconfig(),
		"--cache-dir=" + filepath.Join(env.stack.Dir(), "kubectl-cache")}, args...)
	cmd := exec.CommandContext(ctx, env.stack.KubectlPath(), full...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// moduleDir downloads module@version from the Go module proxy (into the Go
// module cache, without touching go.mod) and returns its directory.
func moduleDir(t *testing.T, module, version string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = t.TempDir() // outside the main module: go.mod and go.sum stay as they are
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &info); jsonErr != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s %s", module, version, err, info.Error, out)
	}
	return info.Dir
}

// installCRDs applies every CRD file of dir and waits until they are served.
func installCRDs(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, name := range names {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("CRD %s: %v", path, err)
		}
		// Server-side apply: some CRDs exceed the last-applied annotation's size limit.
		kubectl(t, "", "apply", "--server-side", "-f", path)
	}
	kubectl(t, "", "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
}

func ensureNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if out, err := kubectlCommand("", "create", "namespace", name); err != nil && !strings.Contains(out, "AlreadyExists") {
			t.Fatalf("create namespace %s: %v\n%s", name, err, out)
		}
	}
}

// kubeVersion is the test control plane's Kubernetes version, for `helm
// template` (which otherwise assumes 1.20, below the chart's kubeVersion).
const kubeVersion = "1.37.2"

func render(t *testing.T, release, namespace string, args ...string) string {
	t.Helper()
	return helm(t, append([]string{"template", release, chartDir(), "--namespace", namespace, "--kube-version", kubeVersion}, args...)...)
}
