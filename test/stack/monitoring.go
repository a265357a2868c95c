package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/certstatus/certstatus/internal/monitoring"
)

// MonitoringOptions configure StartMonitoring.
type MonitoringOptions struct {
	// ToolsDir holds prometheus and alertmanager; default: built by
	// hack/build-monitoring-tools.sh (once) into its cache.
	ToolsDir string
	// Rules and Alertmanager are the shipped configuration's options;
	// tests shorten durations and point the Slack URL file at a stand-in.
	Rules        monitoring.Options
	Alertmanager monitoring.AlertmanagerOptions
	// ScrapeInterval of certstatus (and the rules' evaluation interval).
	ScrapeInterval string
	// Job is the scrape job's name (default "certstatus"); the rules must
	// not depend on it.
	Job string
	// ScrapeKubeAPIServer adds a job "apiserver" scraping kube-apiserver
	// (with the same token), for aggregator_unavailable_apiservice.
	ScrapeKubeAPIServer bool
}

// Monitoring is a Prometheus scraping a certstatus server with the shipped
// rules, and an Alertmanager with the shipped Slack routing, both on
// loopback and stopped (by PID) with the stack.
type Monitoring struct {
	PrometheusURL, AlertmanagerURL string
	Dir                            string
}

// StartMonitoring applies artifacts/monitoring/rbac.yaml, binds its
// ClusterRole to a ServiceAccount monitoring/prometheus, and starts
// Alertmanager and Prometheus, which scrapes srv with that ServiceAccount's
// token and verifies its serving certificate.
func (s *Stack) StartMonitoring(ctx context.Context, srv *Server, o MonitoringOptions) (*Monitoring, error) {
	if o.ToolsDir == "" {
		dir, err := MonitoringToolsDir(s.opts.RepoRoot)
		if err != nil {
			return nil, err
		}
		o.ToolsDir = dir
	}
	if o.ScrapeInterval == "" {
		o.ScrapeInterval = "5s"
	}
	if o.Job == "" {
		o.Job = "certstatus"
	}
	m := &Monitoring{Dir: filepath.Join(s.dir, "monitoring")}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return nil, err
	}
	token, err := s.monitoringToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("monitoring ServiceAccount: %w", err)
	}
	write := func(name string, content []byte) (string, error) {
		path := filepath.Join(m.Dir, name)
		return path, os.WriteFile(path, content, 0o600)
	}
	tokenFile, err := write("token", []byte(token))
	if err != nil {
		return nil, err
	}
	amConfig, err := yaml.Marshal(monitoring.Alertmanager(o.Alertmanager))
	if err != nil {
		return nil, err
	}
	amConfigFile, err := write("alertmanager.yaml", amConfig)
	if err != nil {
		return nil, err
	}
	rules, err := yaml.Marshal(map[string]any{"groups": monitoring.Rules(o.Rules)})
	if err != nil {
		return nil, err
	}
	rulesFile, err := write("certstatus.rules.yaml", rules)
	if err != nil {
		return nil, err
	}

	m.AlertmanagerURL, err = s.startExtra(ctx, "alertmanager", filepath.Join(o.ToolsDir, "alertmanager"),
		"--config.file="+amConfigFile,
		"--storage.path="+filepath.Join(m.Dir, "alertmanager-data"),
		"--cluster.listen-address=")
	if err != nil {
		return nil, err
	}
	promConfig := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
rule_files: [%[2]q]
alerting:
  alertmanagers:
  - static_configs:
    - targets: [%[3]q]
scrape_configs:
- job_name: %[4]q
  scheme: https
  honor_labels: true
  authorization:
    credentials_file: %[5]q
  tls_config:
    ca_file: %[6]q
    server_name: localhost
  static_configs:
  - targets: ["127.0.0.1:%[7]d"]
`, o.ScrapeInterval, rulesFile, strings.TrimPrefix(m.AlertmanagerURL, "http://"), o.Job, tokenFile, srv.CAFile(), srv.Port())
	if o.ScrapeKubeAPIServer {
		// The shipped metrics ClusterRole grants get on /metrics, which
		// kube-apiserver authorizes the same way.
		promConfig += fmt.Sprintf(`- job_name: apiserver
  scheme: https
  authorization:
    credentials_file: %q
  tls_config:
    ca_file: %q
  static_configs:
  - targets: [%q]
`, tokenFile, s.certs.ClusterCAFile, strings.TrimPrefix(s.apiserverURL, "https://"))
	}
	promConfigFile, err := write("prometheus.yml", []byte(promConfig))
	if err != nil {
		return nil, err
	}
	m.PrometheusURL, err = s.startExtra(ctx, "prometheus", filepath.Join(o.ToolsDir, "prometheus"),
		"--config.file="+promConfigFile,
		"--storage.tsdb.path="+filepath.Join(m.Dir, "prometheus-data"))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// monitoringToken creates the ServiceAccount monitoring/prometheus, binds
// the shipped metrics ClusterRole to it and returns a token for it.
func (s *Stack) monitoringToken(ctx context.Context) (string, error) {
	root := s.opts.RepoRoot
	if _, stderr, err := s.Kubectl(ctx, "apply", "-f", filepath.Join(root, "artifacts", "monitoring", "rbac.yaml")); err != nil {
		return "", fmt.Errorf("apply rbac.yaml: %v: %s", err, stderr)
	}
	create := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if err := create(func() error {
		_, err := s.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return "", err
	}
	if err := create(func() error {
		_, err := s.client.CoreV1().ServiceAccounts("monitoring").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus"}}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return "", err
	}
	if err := create(func() error {
		_, err := s.client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "certstatus-metrics-reader-local"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "certstatus-metrics-reader"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: "monitoring"}},
		}, metav1.CreateOptions{})
		return err
	}()); err != nil {
		return "", err
	}
	token, err := s.client.CoreV1().ServiceAccounts("monitoring").CreateToken(ctx, "prometheus",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return token.Status.Token, nil
}

// startExtra starts a Prometheus-style tool that lives as long as the stack
// on a free loopback port (its --web.listen-address), waits until its
// /-/ready answers 200 and returns its URL.
func (s *Stack) startExtra(ctx context.Context, name, binary string, args ...string) (url string, err error) {
	err = startOnFreePort(func(port int) error {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return fmt.Errorf("stack is stopping")
		}
		s.mu.Unlock()
		listen := "127.0.0.1:" + strconv.Itoa(port)
		p, err := startProcess(name, filepath.Join(s.dir, name+".log"), binary, append(args, "--web.listen-address="+listen)...)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.extra = append(s.extra, p)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(ctx, serverReadyTimeout)
		defer cancel()
		url = "http://" + listen
		if err := waitReady(ctx, p, url+"/-/ready", nil); err != nil {
			_ = p.stop()
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	return url, err
}

// MonitoringToolsDir runs hack/build-monitoring-tools.sh (which builds
// prometheus, promtool and alertmanager once) and returns their directory,
// or $CERTSTATUS_MONITORING_TOOLS_DIR when set.
func MonitoringToolsDir(repoRoot string) (string, error) {
	if dir := os.Getenv("CERTSTATUS_MONITORING_TOOLS_DIR"); dir != "" {
		return dir, nil
	}
	if repoRoot == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		repoRoot = root
	}
	script := exec.Command(filepath.Join(repoRoot, "hack", "build-monitoring-tools.sh"))
	script.Stderr = os.Stderr
	out, err := script.Output()
	if err != nil {
		return "", fmt.Errorf("build the monitoring tools: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}
