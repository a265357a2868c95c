package stack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// serverReadyTimeout bounds the wait for a certstatus server's /readyz
// (which includes its first Secret list).
const serverReadyTimeout = 60 * time.Second

// Server is one certstatus-apiserver process.
type Server struct {
	stack   *Stack
	binary  string
	args    []string
	port    int
	logPath string
	pair    ServingPair

	mu      sync.Mutex
	proc    *process
	history []*process // every process this server ran, for PID checks
}

// StartServer starts a certstatus server (LaunchServer) and registers it as
// the backend of the APIService (RegisterAPIService), waiting until the
// APIService is Available.
func (s *Stack) StartServer(ctx context.Context, binary string, extraArgs ...string) (*Server, error) {
	srv, err := s.LaunchServer(ctx, binary, extraArgs...)
	if err != nil {
		return nil, err
	}
	if err := s.RegisterAPIService(ctx, srv.Port()); err != nil {
		return nil, err
	}
	return srv, nil
}

// LaunchServer applies the namespace and RBAC manifests (once per stack),
// then starts a certstatus server on a free loopback port with the identity
// of ServiceAccount certstatus/certstatus-apiserver, and waits for its
// /readyz. It does not register the APIService: use it for a second replica.
func (s *Stack) LaunchServer(ctx context.Context, binary string, extraArgs ...string) (*Server, error) {
	c := s.certs
	return s.LaunchServerWithPair(ctx, binary, ServingPair{CertFile: c.ServerCertFile, KeyFile: c.ServerKeyFile, CAPEM: c.ServingCAPEM}, extraArgs...)
}

// ServingPair is a serving certificate and key (files the server reloads
// when they change), the CA that signed them, and the name the certificate
// is verified for (empty: 127.0.0.1, which the stack's own certificate names).
type ServingPair struct {
	CertFile, KeyFile string
	CAPEM             []byte
	ServerName        string
}

// LaunchServerWithPair is LaunchServer with a serving pair of the caller's
// instead of the stack's; register it with RegisterAPIServiceWithCA.
func (s *Stack) LaunchServerWithPair(ctx context.Context, binary string, pair ServingPair, extraArgs ...string) (*Server, error) {
	return s.launch(ctx, binary, pair, true, extraArgs...)
}

// LaunchServerUnready is LaunchServer without the wait for /readyz, for a
// server that is not meant to become ready (its Secret reads forbidden, say).
// A port already in use is not detected.
func (s *Stack) LaunchServerUnready(ctx context.Context, binary string, extraArgs ...string) (*Server, error) {
	c := s.certs
	return s.launch(ctx, binary, ServingPair{CertFile: c.ServerCertFile, KeyFile: c.ServerKeyFile, CAPEM: c.ServingCAPEM}, false, extraArgs...)
}

func (s *Stack) launch(ctx context.Context, binary string, pair ServingPair, waitReady bool, extraArgs ...string) (*Server, error) {
	if err := s.applyServerRBAC(ctx); err != nil {
		return nil, fmt.Errorf("start certstatus: %w", err)
	}
	var srv *Server
	err := startOnFreePort(func(port int) error {
		args := []string{
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--tls-cert-file=" + pair.CertFile,
			"--tls-private-key-file=" + pair.KeyFile,
			"--kubeconfig=" + s.serverKubeconfig,
			"--authentication-kubeconfig=" + s.serverKubeconfig,
			"--authorization-kubeconfig=" + s.serverKubeconfig,
		}
		srv = &Server{
			stack:   s,
			binary:  binary,
			args:    append(args, extraArgs...),
			port:    port,
			logPath: filepath.Join(s.dir, fmt.Sprintf("certstatus-%d.log", port)),
			pair:    pair,
		}
		if err := s.addServer(srv); err != nil {
			return err
		}
		if !waitReady {
			_, err := srv.startProcess()
			return err
		}
		return srv.Start(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("start certstatus: %w", err)
	}
	return srv, nil
}

// addServer records srv so Stop stops it; it refuses once Stop has begun.
func (s *Stack) addServer(srv *Server) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("stack is stopping")
	}
	s.servers = append(s.servers, srv)
	return nil
}

// Start starts the server's process again with the same arguments and port
// (after Stop or Kill) and waits for /readyz.
func (srv *Server) Start(ctx context.Context) error {
	p, err := srv.startProcess()
	if err != nil {
		return err
	}
	// Not under srv.mu: Stack.Stop (say from a signal handler) must be able
	// to stop the process while this waits.
	ctx, cancel := context.WithTimeout(ctx, serverReadyTimeout)
	defer cancel()
	tlsConfig, err := clientTLS(srv.pair.CAPEM, srv.stack.certs.admin)
	if err != nil {
		return err
	}
	tlsConfig.ServerName = srv.pair.ServerName
	if err := waitReady(ctx, p, srv.URL()+"/readyz", tlsConfig); err != nil {
		_ = p.stop()
		return err
	}
	return nil
}

func (srv *Server) startProcess() (*process, error) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.proc != nil && !srv.proc.exited() {
		return nil, fmt.Errorf("certstatus on port %d is already running (pid %d)", srv.port, srv.proc.PID())
	}
	p, err := startProcess("certstatus-apiserver", srv.logPath, srv.binary, srv.args...)
	if err != nil {
		return nil, err
	}
	srv.proc = p
	srv.history = append(srv.history, p)
	return p, nil
}

// Stop stops the process (SIGTERM, then SIGKILL after 10 s). The server can
// be started again with Start.
func (srv *Server) Stop() error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.proc.stop()
}

// Kill ends the process with SIGKILL at once, as a crash would.
func (srv *Server) Kill() error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.proc.kill()
}

// Restart stops the process and starts it again on the same port.
func (srv *Server) Restart(ctx context.Context) error {
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("restart certstatus: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("restart certstatus: %w", err)
	}
	return nil
}

// Running reports whether the process is alive.
func (srv *Server) Running() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.proc != nil && !srv.proc.exited()
}

// PID of the current process (0 if never started).
func (srv *Server) PID() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.proc == nil {
		return 0
	}
	return srv.proc.PID()
}

func (srv *Server) allProcesses() []*process {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]*process(nil), srv.history...)
}

// Port is the server's loopback HTTPS port.
func (srv *Server) Port() int { return srv.port }

// URL is https://127.0.0.1:<port>, to call the server directly, bypassing
// the aggregator.
func (srv *Server) URL() string { return "https://127.0.0.1:" + strconv.Itoa(srv.port) }

// CAFile is the stack's serving CA, which signed the serving certificate
// (also the APIService's caBundle) unless LaunchServerWithPair gave another.
func (srv *Server) CAFile() string { return srv.stack.certs.ServingCAFile }

// CAPEM is the CA that signed the serving certificate.
func (srv *Server) CAPEM() []byte { return srv.pair.CAPEM }

// LogPath is the server's log (appended to across restarts).
func (srv *Server) LogPath() string { return srv.logPath }

// Args are the server's command-line arguments.
func (srv *Server) Args() []string { return append([]string(nil), srv.args...) }

// DirectRESTConfig returns a copy of base (e.g. a user's config) that talks to
// this server directly instead of through kube-apiserver. The server
// authenticates the client certificate against the cluster CA it reads from
// kube-system/extension-apiserver-authentication.
func (srv *Server) DirectRESTConfig(base *rest.Config) *rest.Config {
	cfg := rest.CopyConfig(base)
	cfg.Host = srv.URL()
	cfg.TLSClientConfig.CAFile = ""
	cfg.TLSClientConfig.CAData = srv.CAPEM()
	cfg.TLSClientConfig.ServerName = ""
	return cfg
}
