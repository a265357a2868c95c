package stack

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Kubectl runs kubectl as the admin and returns its output.
func (s *Stack) Kubectl(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	return s.KubectlAs(ctx, s.adminKubeconfig, args...)
}

// KubectlAs runs kubectl with the given kubeconfig (see UserKubeconfig).
func (s *Stack) KubectlAs(ctx context.Context, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	// The discovery cache goes into the stack dir: ports differ per run, and
	// ~/.kube/cache would fill up with dead entries.
	full := append([]string{"--kubeconfig=" + kubeconfig, "--cache-dir=" + filepath.Join(s.dir, "kubectl-cache")}, args...)
	cmd := exec.CommandContext(ctx, s.KubectlPath(), full...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// No Setpgid/Pdeathsig needed: kubectl is short-lived and CommandContext
	// kills it when ctx ends.
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), nil
}
