package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/internal/monitoring"
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
	// A stack of its own: Prometheus and Alertmanager live as long as it.
	st := ownStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	srv, err := st.StartServer(ctx, env.binary, "-v=2")
	if err != nil {
		t.Fatalf("start certstatus: %v", err)
	}
	kube := st.Client()

	// "Slack": records every message Alertmanager posts.
	slack := &slackReceiver{}
	slackServer := httptest.NewServer(slack)
	t.Cleanup(slackServer.Close)
	dir := t.TempDir()

	options := stack.MonitoringOptions{ToolsDir: tools, Rules: monitoring.DefaultOptions(),
		Alertmanager: monitoring.DefaultAlertmanagerOptions(), ScrapeInterval: "1s"}
	options.Alertmanager.SlackURLFile = writeFile(t, dir, "slack-url", slackServer.URL+"/services/T000/B000/XXXX")
	options.Alertmanager.GroupWait, options.Alertmanager.GroupInterval = "1s", "2s"
	options.Rules.EvaluationInterval = "1s"
	options.Rules.GapTolerance, options.Rules.InvalidFor, options.Rules.NotYetValidFor = "30s", "5s", "5s"
	options.Rules.HostNotCoveredFor, options.Rules.DownFor, options.Rules.NotSyncedFor = "5s", "10s", "10s"
	mon, err := st.StartMonitoring(ctx, srv, options)
	if err != nil {
		t.Fatalf("start Prometheus and Alertmanager: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"prometheus.log", "alertmanager.log"} {
				log, _ := os.ReadFile(filepath.Join(st.Dir(), name))
				lines := strings.Split(string(log), "\n")
				t.Logf("%s tail:\n%s", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
			}
		}
	})
	prometheus := mon.PrometheusURL

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

	// Prometheus loaded every shipped rule, and every dashboard query is
	// valid PromQL it can answer.
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name, Health, LastError string
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON(prometheus+"/api/v1/rules", &rules); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			loaded++
			if r.Health == "err" {
				t.Errorf("rule %s: %s", r.Name, r.LastError)
			}
		}
	}
	want := 0
	for _, g := range monitoring.Rules(options.Rules) {
		want += len(g.Rules)
	}
	if loaded != want {
		t.Errorf("Prometheus loaded %d rules, want %d", loaded, want)
	}
	for _, panel := range monitoring.Dashboard().Panels {
		for _, target := range panel.Targets {
			expr := strings.NewReplacer("$namespace", ".*", "$cluster", ".*").Replace(target.Expr)
			var result struct {
				Status string `json:"status"`
			}
			if err := getJSON(prometheus+"/api/v1/query?query="+url.QueryEscape(expr), &result); err != nil || result.Status != "success" {
				t.Errorf("dashboard panel %q: query %s: %v %+v", panel.Title, expr, err, result)
			}
		}
	}

	// A Secret that becomes ExpiringSoon 15 seconds from now: a 70-minute
	// certificate whose threshold annotation puts the instant there.
	ns := "alerts"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	notAfter := now.Add(10 * time.Minute)
	expiringSoonAt := now.Add(15 * time.Second)
	c := newChain(t, "soon.example.com", now.Add(-time.Hour), notAfter)
	secret := c.tlsSecret(ns, "soon", nil)
	secret.Annotations = map[string]string{"certstatus.dev/expiring-soon-threshold": notAfter.Sub(expiringSoonAt).String()}
	if _, err := kube.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

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
					if m.Channel != options.Alertmanager.Channel {
						return fmt.Errorf("posted to channel %q, want %q", m.Channel, options.Alertmanager.Channel)
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
	// The admin (cluster-admin may get every non-resource URL) sees the
	// generic server's families, certstatus's health and the certificate series.
	ns := newNamespace(t)
	createSecret(t, newChain(t, "metrics.example.com", time.Time{}, time.Time{}).tlsSecret(ns, "web", nil))
	eventually(t, time.Minute, func() error {
		code, body, err := tryGet(direct, "/metrics", "")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("admin GET /metrics: %d %v", code, err)
		}
		for _, want := range []string{
			`certstatus_secret_state{namespace="` + ns + `",secret="web",state="Valid"} 1`,
			"\napiserver_request_total{",
			`certstatus_informer_synced{resource="secrets"} 1`,
		} {
			if !strings.Contains(string(body), want) {
				return fmt.Errorf("/metrics has no %q", want)
			}
		}
		return nil
	})
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
	dir, err := stack.MonitoringToolsDir("")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
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
