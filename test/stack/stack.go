// Package stack runs a real local control plane for certstatus's end-to-end
// tests, `make run` and benchmarks: etcd, kube-apiserver (RBAC and the
// aggregation layer on), kube-controller-manager (ClusterRole aggregation
// only) and any number of certstatus servers registered through an
// APIService. Everything listens on 127.0.0.1; every process is stopped by
// its own PID. See /work/shared/design/local-control-plane.md.
package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options configure Start. The zero value is ready to use.
type Options struct {
	// RepoRoot is the checkout; default: found from the working directory.
	RepoRoot string
	// ToolsDir holds etcd, kube-apiserver, kube-controller-manager and
	// kubectl; default: ToolsDir(RepoRoot).
	ToolsDir string
	// ManifestsDir holds rbac.yaml and aggregated-clusterroles.yaml applied
	// by StartServer; default: <RepoRoot>/artifacts/deploy.
	ManifestsDir string
	// TempDir is where the stack's own directory is created; default:
	// os.TempDir().
	TempDir string
	// APIServerArgs are appended to kube-apiserver's flags.
	APIServerArgs []string
	// StartTimeout bounds Start; default 2 minutes.
	StartTimeout time.Duration
	// Logf, if set, receives progress lines (what started, how long it took).
	Logf func(format string, args ...any)
}

// Stack is a running control plane. Stop it with Stop.
type Stack struct {
	opts     Options
	dir      string
	toolsDir string
	certs    *certs

	etcd, apiserver, controllerManager *process
	etcdURL                            string
	apiserverURL                       string

	adminKubeconfig             string
	controllerManagerKubeconfig string
	serverKubeconfig            string
	restConfig                  *rest.Config
	client                      kubernetes.Interface
	dynamic                     dynamic.Interface

	mu        sync.Mutex // guards servers, extra, userCount, stopped, etcd, apiserver, retired
	servers   []*Server
	userCount int
	stopped   bool
	retired   []*process // control-plane processes replaced by a restart
	extra     []*process // Prometheus and Alertmanager (StartMonitoring)

	restartMu sync.Mutex // serialises RestartAPIServer and RestartEtcd

	rbacMu      sync.Mutex // held while applying RBAC, not to block Stop
	rbacApplied bool

	stopOnce sync.Once
	stopErr  error
}

// Start creates the PKI and starts etcd, kube-apiserver and
// kube-controller-manager, each ready when it returns. On error everything
// already started is stopped again.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.RepoRoot == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		opts.RepoRoot = root
	}
	if opts.ManifestsDir == "" {
		opts.ManifestsDir = filepath.Join(opts.RepoRoot, "artifacts", "deploy")
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	toolsDir := opts.ToolsDir
	if toolsDir == "" {
		dir, err := ToolsDir(opts.RepoRoot)
		if err != nil {
			return nil, err
		}
		toolsDir = dir
	}
	dir, err := os.MkdirTemp(opts.TempDir, "certstatus-stack-")
	if err != nil {
		return nil, fmt.Errorf("create stack dir: %w", err)
	}
	s := &Stack{opts: opts, dir: dir, toolsDir: toolsDir}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("start stack: %w", err), s.Stop())
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	var err error
	if err := s.timed("PKI", func() error {
		s.certs, err = newCerts(filepath.Join(s.dir, "pki"))
		return err
	}); err != nil {
		return err
	}
	if err := s.timed("etcd", func() error { return s.startEtcd(ctx) }); err != nil {
		return err
	}
	if err := s.timed("kube-apiserver", func() error { return s.startAPIServer(ctx) }); err != nil {
		return err
	}
	if err := s.writeKubeconfigs(); err != nil {
		return err
	}
	if s.restConfig, err = restConfigFromFile(s.adminKubeconfig); err != nil {
		return err
	}
	if s.client, err = kubernetes.NewForConfig(s.restConfig); err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	if s.dynamic, err = dynamic.NewForConfig(s.restConfig); err != nil {
		return fmt.Errorf("admin dynamic client: %w", err)
	}
	return s.timed("kube-controller-manager", func() error { return s.startControllerManager(ctx) })
}

// timed runs step and reports its duration through Options.Logf.
func (s *Stack) timed(what string, step func() error) error {
	begin := time.Now()
	err := step()
	if err == nil {
		s.logf("%s ready in %v", what, time.Since(begin).Round(time.Millisecond))
	}
	return err
}

func (s *Stack) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Stack) writeKubeconfigs() error {
	s.adminKubeconfig = filepath.Join(s.dir, "admin.kubeconfig")
	s.controllerManagerKubeconfig = filepath.Join(s.dir, "kube-controller-manager.kubeconfig")
	s.serverKubeconfig = filepath.Join(s.dir, "certstatus-apiserver.kubeconfig")
	for path, identity := range map[string]*keyPair{
		s.adminKubeconfig:             s.certs.admin,
		s.controllerManagerKubeconfig: s.certs.controllerManager,
		s.serverKubeconfig:            s.certs.serverIdentity,
	} {
		if err := writeKubeconfig(path, s.apiserverURL, s.certs.clusterCA.CertPEM, identity); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every process by its PID, in the order certstatus servers,
// kube-controller-manager, kube-apiserver, etcd (kube-apiserver hangs on
// shutdown without etcd), then removes the stack's directory. It is
// idempotent and safe to call concurrently, from t.Cleanup or a signal
// handler; later calls wait for the first and return its result.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		servers, extra := slices.Clone(s.servers), slices.Clone(s.extra)
		// Read under mu: a restart swaps these, and refuses to start a new
		// process once stopped is set, so these are the last ones.
		controllerManager, apiserver, etcd := s.controllerManager, s.apiserver, s.etcd
		s.mu.Unlock()
		var errs []error
		for _, p := range extra {
			errs = append(errs, p.stop())
		}
		for _, srv := range servers {
			errs = append(errs, srv.Stop())
		}
		errs = append(errs, controllerManager.stop(), apiserver.stop(), etcd.stop())
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove stack dir: %w", err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// PIDs returns the PIDs of every process started so far, for checking that
// Stop left nothing behind.
func (s *Stack) PIDs() []int {
	var pids []int
	for _, p := range s.processes() {
		pids = append(pids, p.PID())
	}
	return pids
}

// processes lists every started process, servers first.
func (s *Stack) processes() []*process {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := slices.Clone(s.extra)
	for _, srv := range s.servers {
		ps = append(ps, srv.allProcesses()...)
	}
	for _, p := range []*process{s.controllerManager, s.apiserver, s.etcd} {
		if p != nil {
			ps = append(ps, p)
		}
	}
	ps = append(ps, s.retired...)
	return ps
}

// Dir is the stack's temporary directory (PKI, kubeconfigs, logs, etcd data);
// Stop removes it.
func (s *Stack) Dir() string { return s.dir }

// ToolsDir is where etcd, kube-apiserver, kube-controller-manager and kubectl are.
func (s *Stack) ToolsDir() string { return s.toolsDir }

// KubectlPath is the kubectl binary matching the control plane.
func (s *Stack) KubectlPath() string { return filepath.Join(s.toolsDir, "kubectl") }

// AdminKubeconfig is a self-contained kubeconfig for a system:masters user.
func (s *Stack) AdminKubeconfig() string { return s.adminKubeconfig }

// ServerKubeconfig is the kubeconfig certstatus servers run with: the
// identity of ServiceAccount certstatus/certstatus-apiserver, so tests can
// check what that identity may and may not do.
func (s *Stack) ServerKubeconfig() string { return s.serverKubeconfig }

// RESTConfig returns a copy of the admin client configuration.
func (s *Stack) RESTConfig() *rest.Config { return rest.CopyConfig(s.restConfig) }

// Client is an admin clientset.
func (s *Stack) Client() kubernetes.Interface { return s.client }

// APIServerURL is kube-apiserver's https://127.0.0.1:<port>.
func (s *Stack) APIServerURL() string { return s.apiserverURL }

// ClusterCAFile is the CA kube-apiserver's serving and all client
// certificates are signed by.
func (s *Stack) ClusterCAFile() string { return s.certs.ClusterCAFile }

// LogPaths lists the log file of every process started so far.
func (s *Stack) LogPaths() []string {
	var paths []string
	for _, p := range s.processes() {
		if !slices.Contains(paths, p.logPath) {
			paths = append(paths, p.logPath)
		}
	}
	return paths
}
