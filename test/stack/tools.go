package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The binaries hack/build-tools.sh builds (helm is a link into its own cache).
var toolNames = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "helm"}

// ToolsDir returns the directory holding etcd, kube-apiserver,
// kube-controller-manager, kubectl and helm: $CERTSTATUS_TOOLS_DIR if set,
// otherwise the last line printed by hack/build-tools.sh (which builds them
// once into a cache).
func ToolsDir(repoRoot string) (string, error) {
	dir := os.Getenv("CERTSTATUS_TOOLS_DIR")
	if dir == "" {
		script := filepath.Join(repoRoot, "hack", "build-tools.sh")
		cmd := exec.Command(script)
		cmd.Dir = repoRoot
		cmd.Stderr = os.Stderr // a cold build takes minutes; show progress
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("run %s: %w", script, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		dir = strings.TrimSpace(lines[len(lines)-1])
	}
	for _, name := range toolNames {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("tools dir %s: %w (run make tools)", dir, err)
		}
	}
	return dir, nil
}

// RepoRoot finds the checkout by walking up from the working directory to
// the go.mod of github.com/certstatus/certstatus (tests run in their package
// directory, hack/run in the root).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/certstatus/certstatus\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repo root: no go.mod of github.com/certstatus/certstatus above the working directory")
		}
		dir = parent
	}
}
