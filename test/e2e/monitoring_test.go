package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/certstatus/certstatus/pkg/monitoring"
	"github.com/certstatus/certstatus/test/stack"
)

// TestAlertReachesSlack runs a real Prometheus scraping certstatus with the
// shipped rules (generated from the same source with shorter durations) and
// a real Alertmanager with the shipped Slack routing, whose Slack webhook
// is a local receiver. A Secret that becomes ExpiringSoon a few seconds
// after it is created must fire CertificateExpiringSoon in Prometheus and
// arrive in "Slack" as one message naming it.
func TestAlertReachesSlack(t *testing.T) {
	tools := monitoringTools(t)
	dir := t.TempDir()
	ctx := context.Background()

	// Prometheus scrapes as a ServiceAccount bound to the shipped ClusterRole.
	kubectl(t, "apply", "-f", filepath.Join(repoRoot(t), "artifacts/monitoring/rbac.yaml"))
	monitoringNS := newNamespace(t)
	if _, err := env.kube.CoreV1().ServiceAccounts(monitoringNS).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "prometheus"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "certstatus-metrics-" + monitoringNS},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "certstatus-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: monitoringNS}},
	}
	if _, err := env.kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	token, err := env.kube.CoreV1().ServiceAccounts(monitoringNS).CreateToken(ctx, "prometheus",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := writeFile(t, dir, "token", token.Status.Token)

	// "Slack": records every message Alertmanager posts.
	slack := &slackReceiver{}
	slackServer := httptest.NewServer(slack)
	t.Cleanup(slackServer.Close)

	amPort, promPort := freePort(t), freePort(t)
	amOptions := monitoring.DefaultAlertmanagerOptions()
	amOptions.SlackURLFile = writeFile(t, dir, "slack-url", slackServer.URL+"/services/T000/B000/XXXX")
	amOptions.GroupWait, amOptions.GroupInterval = "1s", "2s"
	amConfig, err := yaml.Marshal(monitoring.Alertmanager(amOptions))
	if err != nil {
		t.Fatal(err)
	}
	startTool(t, filepath.Join(tools, "alertmanager"), filepath.Join(dir, "alertmanager.log"),
		"--config.file="+writeFile(t, dir, "alertmanager.yaml", string(amConfig)),
		"--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(amPort),
		"--cluster.listen-address=")

	rules := monitoring.DefaultOptions()
	rules.EvaluationInterval = "1s"
	rules.GapTolerance, rules.InvalidFor, rules.NotYetValidFor, rules.HostNotCoveredFor, rules.DownFor, rules.NotSyncedFor = "30s", "5s", "5s", "5s", "10s", "10s"
	rulesFile, err := yaml.Marshal(map[string]any{"groups": monitoring.Rules(rules)})
	if err != nil {
		t.Fatal(err)
	}
	promConfig := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
  - static_configs:
    - targets: ["127.0.0.1:%d"]
scrape_configs:
- job_name: certstatus-apiserver
  scheme: https
  honor_labels: true
  authorization:
    credentials_file: %q
  tls_config:
    ca_file: %q
    server_name: localhost
  static_configs:
  - targets: ["127.0.0.1:%d"]
`, writeFile(t, dir, "certstatus.rules.yaml", string(rulesFile)), amPort, tokenFile, env.server.CAFile(), env.server.Port())
	startTool(t, filepath.Join(tools, "prometheus"), filepath.Join(dir, "prometheus.log"),
		"--config.file="+writeFile(t, dir, "prometheus.yml", promConfig),
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(promPort))
	prometheus := "http://127.0.0.1:" + strconv.Itoa(promPort)

	// The target is up: the token is authorized and the TLS verified.
	eventually(t, 2*time.Minute, func() error {
		var targets struct {
			Data struct {
				ActiveTargets []struct {
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if err := getJSON(prometheus+"/api/v1/targets", &targets); err != nil {
			return err
		}
		if len(targets.Data.ActiveTargets) != 1 || targets.Data.ActiveTargets[0].Health != "up" {
			return fmt.Errorf("targets %+v", targets.Data.ActiveTargets)
		}
		return nil
	})

	// A Secret that becomes ExpiringSoon 15 seconds from now: a 70-minute
	// certificate whose threshold annotation puts the instant there.
	ns := newNamespace(t)
	now := time.Now().Truncate(time.Second)
	notAfter := now.Add(10 * time.Minute)
	expiringSoonAt := now.Add(15 * time.Second)
	c := newChain(t, "soon.example.com", now.Add(-time.Hour), notAfter)
	secret := c.tlsSecret(ns, "soon", nil)
	secret.Annotations = map[string]string{"certstatus.dev/expiring-soon-threshold": notAfter.Sub(expiringSoonAt).String()}
	createSecret(t, secret)

	var firing alertsResponse
	eventually(t, 3*time.Minute, func() error {
		firing = alertsResponse{}
		if err := getJSON(prometheus+"/api/v1/alerts", &firing); err != nil {
			return err
		}
		for _, a := range firing.Data.Alerts {
			if a.Labels["alertname"] == "CertificateExpiringSoon" && a.Labels["namespace"] == ns && a.State == "firing" {
				return nil
			}
		}
		return fmt.Errorf("CertificateExpiringSoon for %s/soon not firing; alerts: %+v", ns, firing.Data.Alerts)
	})
	if time.Now().Before(expiringSoonAt) {
		t.Errorf("the alert fired before the Secret's expiringSoonAt %v", expiringSoonAt)
	}
	for _, a := range firing.Data.Alerts {
		if a.Labels["namespace"] != ns {
			continue
		}
		if a.Labels["alertname"] != "CertificateExpiringSoon" {
			t.Errorf("unexpected alert %+v", a)
			continue
		}
		if a.Labels["secret"] != "soon" || a.Labels["severity"] != "warning" || a.Labels["instance"] != "" {
			t.Errorf("alert labels %v, want secret=soon, severity=warning and no instance", a.Labels)
		}
		if want := "expires at " + notAfter.UTC().Format("2006-01-02 15:04:05 -0700 MST"); !strings.Contains(a.Annotations["description"], want) {
			t.Errorf("description %q does not say %q", a.Annotations["description"], want)
		}
	}

	// Alertmanager delivers it to "Slack" as one message of the group.
	eventually(t, 2*time.Minute, func() error {
		for _, m := range slack.messages() {
			for _, attachment := range m.Attachments {
				if strings.Contains(attachment.Title, "CertificateExpiringSoon") && strings.Contains(attachment.Title, ns) &&
					strings.Contains(attachment.Text, "Secret "+ns+"/soon") {
					if m.Channel != amOptions.Channel {
						return fmt.Errorf("posted to channel %q, want %q", m.Channel, amOptions.Channel)
					}
					return nil
				}
			}
		}
		return fmt.Errorf("no Slack message about %s/soon yet; got %+v", ns, slack.messages())
	})
	for _, m := range slack.messages() {
		t.Logf("Slack got: channel %s, %+v", m.Channel, m.Attachments)
	}
}

// TestMetricsNeedAuthorization: anonymous and unauthorized scrapes are refused.
func TestMetricsNeedAuthorization(t *testing.T) {
	direct := env.server.DirectRESTConfig(env.stack.RESTConfig())
	anonymous := *direct
	anonymous.TLSClientConfig.CertData, anonymous.TLSClientConfig.KeyData = nil, nil
	anonymous.TLSClientConfig.CertFile, anonymous.TLSClientConfig.KeyFile = "", ""
	anonymous.BearerToken = ""
	if code, _, err := tryGet(&anonymous, "/metrics", ""); err != nil || (code != http.StatusUnauthorized && code != http.StatusForbidden) {
		t.Errorf("anonymous GET /metrics: %d %v, want 401 or 403", code, err)
	}
	kubeconfig, err := env.stack.UserKubeconfig("no-metrics-rights")
	if err != nil {
		t.Fatal(err)
	}
	user := env.server.DirectRESTConfig(restConfigOf(t, kubeconfig))
	if code, _, err := tryGet(user, "/metrics", ""); err != nil || code != http.StatusForbidden {
		t.Errorf("GET /metrics without the ClusterRole: %d %v, want 403", code, err)
	}
	code, body, err := tryGet(direct, "/metrics", "")
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), "certstatus_secret_state{") ||
		!strings.Contains(string(body), "apiserver_request_total") || !strings.Contains(string(body), `certstatus_informer_synced{resource="secrets"} 1`) {
		t.Errorf("admin GET /metrics: %d %v; want the generic, health and certificate families", code, err)
	}
}

type alertsResponse struct {
	Data struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			State       string            `json:"state"`
		} `json:"alerts"`
	} `json:"data"`
}

// slackReceiver stands in for Slack's incoming webhook.
type slackReceiver struct {
	mu       sync.Mutex
	received []slackMessage
}

type slackMessage struct {
	Channel     string `json:"channel"`
	Attachments []struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"attachments"`
}

func (s *slackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m slackMessage
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.received = append(s.received, m)
	s.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

func (s *slackReceiver) messages() []slackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackMessage(nil), s.received...)
}

// monitoringTools builds (once) and returns the Prometheus/Alertmanager tools directory.
func monitoringTools(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("CERTSTATUS_MONITORING_TOOLS_DIR"); dir != "" {
		return dir
	}
	script := exec.Command(filepath.Join(repoRoot(t), "hack/build-monitoring-tools.sh"))
	script.Stderr = os.Stderr
	out, err := script.Output()
	if err != nil {
		t.Fatalf("build the monitoring tools: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// startTool starts a process that the test stops, by PID, when it ends.
func startTool(t *testing.T, binary, logPath string, args ...string) {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			lines := strings.Split(string(log), "\n")
			t.Logf("%s (pid %d) log tail:\n%s", filepath.Base(binary), cmd.Process.Pid, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func getJSON(url string, into any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
