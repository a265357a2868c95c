package e2e

import (
	"cmp"
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
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/internal/monitoring"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// TestAlertReachesSlack runs a real Prometheus scraping certstatus under a
// job name that is not the default, with the shipped rules (generated from
// the same source with shorter durations), and a real Alertmanager with the
// shipped Slack routing, whose Slack webhook is a local receiver that counts
// posts. It checks that
//   - CertstatusDown stays silent while the replica is up;
//   - 1000 unused Secrets in 50 namespaces under one intermediate CA that
//     becomes expiring soon are one Slack message (grouped by issuer);
//   - 1000 unused expired Secrets page nothing critical, while an expired
//     Secret a Pod reads into its environment does;
//   - once certstatus stops, CertstatusDown fires, kube-apiserver (scraped
//     too) reports the APIService unavailable and
//     CertstatusAPIServiceUnavailable fires, and the certificate alerts
//     keep firing (an outage is not a resolution).
func TestAlertReachesSlack(t *testing.T) {
	tools := monitoringTools(t)
	// A stack of its own: Prometheus and Alertmanager live as long as it.
	st := ownStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
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
		Alertmanager: monitoring.DefaultAlertmanagerOptions(), ScrapeInterval: "1s", Job: "platform-certs", ScrapeKubeAPIServer: true}
	options.Alertmanager.SlackURLFile = writeFile(t, dir, "slack-url", slackServer.URL+"/services/T000/B000/XXXX")
	// Long enough for Prometheus to deliver a thousand alerts before the
	// first message; short enough for a test.
	options.Alertmanager.GroupWait, options.Alertmanager.GroupInterval = "10s", "10s"
	options.Rules.EvaluationInterval = "1s"
	options.Rules.RenewalGrace = 5 * time.Second
	options.Rules.InvalidFor, options.Rules.NotYetValidFor, options.Rules.HostNotCoveredFor = "5s", "5s", "5s"
	options.Rules.DownFor, options.Rules.NotSyncedFor, options.Rules.APIServiceUnavailableFor = "10s", "10s", "10s"
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

	// The target is up under its job name: the token is authorized and the TLS verified.
	eventually(t, 2*time.Minute, func() error {
		var targets struct {
			Data struct {
				ActiveTargets []struct {
					Health    string            `json:"health"`
					LastError string            `json:"lastError"`
					Labels    map[string]string `json:"labels"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if err := getJSON(prometheus+"/api/v1/targets", &targets); err != nil {
			return err
		}
		up := map[string]bool{}
		for _, target := range targets.Data.ActiveTargets {
			up[target.Labels["job"]] = target.Health == "up"
		}
		if len(up) != 2 || !up[options.Job] || !up["apiserver"] {
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

	// usedBy has synced: certstatus_secret_used is there, so Secrets nothing
	// uses are known to be unused.
	eventually(t, 2*time.Minute, func() error {
		return queryHas(prometheus, `certstatus_informer_synced{resource="pods"} == 1`, 1)
	})
	// A replica is up under a job name the rules never heard of, for longer
	// than CertstatusDown's `for`: it stays silent.
	time.Sleep(12 * time.Second)
	for _, name := range []string{"CertstatusDown", "CertstatusAPIServiceUnavailable"} {
		if a := alertsNamed(t, prometheus, name); len(a) > 0 {
			t.Errorf("%s is %s while the replica is up", name, a[0].State)
		}
	}
	if err := queryHas(prometheus, `aggregator_unavailable_apiservice{name="v1alpha1.certstatus.dev"} == 0`, 1); err != nil {
		t.Errorf("kube-apiserver's view of the APIService: %v", err)
	}

	// 1000 Secrets in 50 namespaces whose intermediate CA becomes expiring
	// soon in 90 seconds (its threshold annotation puts the instant there).
	now := time.Now().Truncate(time.Second)
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Root CA", KeyAlgorithm: certtest.ECDSA}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{CommonName: "Expiring Intermediate CA", KeyAlgorithm: certtest.ECDSA,
		NotBefore: now.Add(-100 * 24 * time.Hour), NotAfter: now.Add(20 * time.Minute)}))
	leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{CommonName: "many.example.com", KeyAlgorithm: certtest.ECDSA,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(2 * time.Hour)}))
	expiring := chain{root: root, intermediate: intermediate, leaf: leaf}
	expiringSoonAt := now.Add(90 * time.Second)
	threshold := intermediate.Certificate.NotAfter.Sub(expiringSoonAt).String()
	createMany(t, kube, "many", 50, 20, func(namespace, name string) *corev1.Secret {
		secret := expiring.tlsSecret(namespace, name, nil)
		secret.Annotations = map[string]string{"certstatus.dev/expiring-soon-threshold": threshold}
		return secret
	})
	if time.Now().After(expiringSoonAt) {
		t.Fatalf("creating 1000 Secrets took past their expiringSoonAt %v", expiringSoonAt)
	}
	group := "CertificateExpiringSoon (warning), issuer Expiring Intermediate CA"
	eventually(t, 4*time.Minute, func() error {
		if n := slack.count(group); n == 0 {
			return fmt.Errorf("no Slack message %q yet; got %d messages", group, len(slack.messages()))
		}
		return nil
	})
	if time.Now().Before(expiringSoonAt.Add(options.Rules.RenewalGrace)) {
		t.Errorf("the alert fired before expiringSoonAt %v and its renewal grace", expiringSoonAt)
	}
	// Two more group intervals: still one message, naming them all.
	time.Sleep(25 * time.Second)
	if n := slack.count(group); n != 1 {
		t.Errorf("%d Slack messages %q, want 1 for 1000 Secrets of one CA", n, group)
	}
	for _, m := range slack.messages() {
		for _, a := range m.Attachments {
			if strings.Contains(a.Title, group) {
				if !strings.HasPrefix(a.Title, "[FIRING:1000] ") || !strings.Contains(a.Text, "… 1000 alerts in all.") || m.Channel != options.Alertmanager.Channel {
					t.Errorf("message in %s: %q\n%s", m.Channel, a.Title, a.Text)
				}
				if want := "expires at " + intermediate.Certificate.NotAfter.UTC().Format("2006-01-02 15:04:05 -0700 MST"); !strings.Contains(a.Text, want) {
					t.Errorf("message %q does not say %q", a.Text, want)
				}
			}
		}
	}
	// Nothing uses them: nothing critical.
	for _, a := range alertsNamed(t, prometheus, "CertificateAboutToExpire") {
		t.Errorf("unused Secrets page critical: %v", a.Labels)
		break
	}

	// 1000 expired Secrets nothing uses are a warning each, never critical;
	// an expired Secret a Pod reads into its environment pages critical.
	expired := newChain(t, "expired.example.com", now.Add(-48*time.Hour), now.Add(-time.Hour))
	createMany(t, kube, "old", 50, 20, func(namespace, name string) *corev1.Secret {
		return expired.tlsSecret(namespace, name, nil)
	})
	// The Pod first, so that the Secret is used from its first scrape.
	createNamespace(t, kube, "in-use")
	if _, err := kube.CoreV1().Pods("in-use").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Spec: corev1.PodSpec{AutomountServiceAccountToken: ptr.To(false), Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1",
			Env: []corev1.EnvVar{{Name: "CERT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "env-cert"}, Key: "tls.crt"}}}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Secrets("in-use").Create(ctx, expired.tlsSecret("in-use", "env-cert", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Minute, func() error {
		var warnings, critical int
		for _, a := range alertsNamed(t, prometheus, "CertificateExpired") {
			switch {
			case a.State != "firing":
			case a.Labels["severity"] == "warning" && strings.HasPrefix(a.Labels["namespace"], "old-"):
				warnings++
			case a.Labels["severity"] == "critical" && a.Labels["namespace"] == "in-use" && a.Labels["secret"] == "env-cert":
				critical++
			default:
				return fmt.Errorf("unexpected alert %v", a.Labels)
			}
		}
		if warnings != 1000 || critical != 1 {
			return fmt.Errorf("CertificateExpired: %d warnings (want 1000), %d critical for in-use/env-cert (want 1)", warnings, critical)
		}
		return nil
	})
	eventually(t, time.Minute, func() error {
		if slack.count("CertificateExpired (critical), issuer E2E Intermediate CA") != 1 || slack.count("CertificateExpired (warning), issuer E2E Intermediate CA") == 0 {
			return fmt.Errorf("want one critical message (the used Secret) and warnings (the 1000 others); got %s", slack.titles())
		}
		return nil
	})
	for _, m := range slack.messages() {
		for _, a := range m.Attachments {
			if strings.Contains(a.Title, "(critical)") && !strings.HasPrefix(a.Title, "[FIRING:1] CertificateExpired (critical)") {
				t.Errorf("critical message %q: only in-use/env-cert should page", a.Title)
			}
		}
	}

	logRuleEvaluationTimes(t, prometheus)

	// certstatus stops: CertstatusDown and CertstatusAPIServiceUnavailable
	// fire, and the certificate alerts keep firing through the outage:
	// nothing is resolved.
	resolved := slack.count("[RESOLVED]")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, func() error {
		for _, a := range alertsNamed(t, prometheus, "CertstatusDown") {
			if a.State == "firing" && a.Labels["severity"] == "critical" {
				return nil
			}
		}
		return fmt.Errorf("CertstatusDown not firing")
	})
	eventually(t, 3*time.Minute, func() error {
		for _, a := range alertsNamed(t, prometheus, "CertstatusAPIServiceUnavailable") {
			if a.State == "firing" && a.Labels["severity"] == "critical" && a.Labels["name"] == "v1alpha1.certstatus.dev" {
				return nil
			}
		}
		return fmt.Errorf("CertstatusAPIServiceUnavailable not firing")
	})
	time.Sleep(15 * time.Second) // more than a group interval
	if n := len(alertsNamed(t, prometheus, "CertificateExpired")); n != 1001 {
		t.Errorf("%d CertificateExpired alerts while certstatus is down, want the 1001 that fired", n)
	}
	if n := len(alertsNamed(t, prometheus, "CertificateExpiringSoon")); n != 1000 {
		t.Errorf("%d CertificateExpiringSoon alerts while certstatus is down, want the 1000 that fired", n)
	}
	if n := slack.count("[RESOLVED]"); n != resolved {
		t.Errorf("%d RESOLVED messages during the outage: %s", n-resolved, slack.titles())
	}
}

// createMany creates namespaces prefix-0..prefix-(namespaces-1), each with
// perNamespace Secrets made by secret, ten at a time.
func createMany(t *testing.T, kube kubernetes.Interface, prefix string, namespaces, perNamespace int, secret func(namespace, name string) *corev1.Secret) {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		work     = make(chan *corev1.Secret)
	)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if _, err := kube.CoreV1().Secrets(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range namespaces {
		namespace := fmt.Sprintf("%s-%d", prefix, i)
		createNamespace(t, kube, namespace)
		for j := range perNamespace {
			work <- secret(namespace, fmt.Sprintf("tls-%d", j))
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func createNamespace(t *testing.T, kube kubernetes.Interface, name string) {
	t.Helper()
	if _, err := kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

// alertsNamed are Prometheus's pending and firing alerts of one name.
func alertsNamed(t *testing.T, prometheus, name string) []promAlert {
	t.Helper()
	var response alertsResponse
	if err := getJSON(prometheus+"/api/v1/alerts", &response); err != nil {
		t.Fatal(err)
	}
	var named []promAlert
	for _, a := range response.Data.Alerts {
		if a.Labels["alertname"] == name {
			named = append(named, a)
		}
	}
	return named
}

// logRuleEvaluationTimes logs how long Prometheus took to evaluate each rule.
func logRuleEvaluationTimes(t *testing.T, prometheus string) {
	var rules struct {
		Data struct {
			Groups []struct {
				Name           string  `json:"name"`
				EvaluationTime float64 `json:"evaluationTime"`
				Rules          []struct {
					Name           string            `json:"name"`
					Labels         map[string]string `json:"labels"`
					EvaluationTime float64           `json:"evaluationTime"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON(prometheus+"/api/v1/rules", &rules); err != nil {
		t.Error(err)
		return
	}
	for _, g := range rules.Data.Groups {
		t.Logf("rule group %s: %.1f ms", g.Name, g.EvaluationTime*1000)
		for _, r := range g.Rules {
			t.Logf("  %s (%s): %.1f ms", r.Name, r.Labels["severity"], r.EvaluationTime*1000)
		}
	}
}

// queryHas checks that an instant query returns want series.
func queryHas(prometheus, query string, want int) error {
	var result struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(prometheus+"/api/v1/query?query="+url.QueryEscape(query), &result); err != nil {
		return err
	}
	if len(result.Data.Result) != want {
		return fmt.Errorf("%s: %d series, want %d", query, len(result.Data.Result), want)
	}
	return nil
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
		Alerts []promAlert `json:"alerts"`
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

// count is how many messages have an attachment whose title contains title.
func (s *slackReceiver) count(title string) int {
	n := 0
	for _, m := range s.messages() {
		for _, a := range m.Attachments {
			if strings.Contains(a.Title, title) {
				n++
			}
		}
	}
	return n
}

// titles lists every message's titles, for failure messages.
func (s *slackReceiver) titles() string {
	var titles []string
	for _, m := range s.messages() {
		for _, a := range m.Attachments {
			titles = append(titles, a.Title)
		}
	}
	return strings.Join(titles, "; ")
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
