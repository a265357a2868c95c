// Package deploy tests what users install: the Helm chart (lint, renderings
// accepted by a real kube-apiserver, install/upgrade/uninstall with helm)
// and that it installs the same objects as the kustomize manifests.
package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certstatus/certstatus/test/stack"
)

var env struct {
	root     string
	toolsDir string
	stack    *stack.Stack
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	if env.root, err = stack.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		return 1
	}
	if env.toolsDir, err = stack.ToolsDir(env.root); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		return 1
	}
	// A control plane of its own: installing the chart replaces the
	// cluster's one APIService v1alpha1.certstatus.dev, which the e2e
	// suite's stack needs for its own server.
	st, err := stack.Start(ctx, stack.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy: start the control plane:", err)
		return 1
	}
	release := st.StopOnSignal()
	defer release()
	defer func() { _ = st.Stop() }()
	env.stack = st
	return m.Run()
}

func chartDir() string { return filepath.Join(env.root, "charts", "certstatus") }
