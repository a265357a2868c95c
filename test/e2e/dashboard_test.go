package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/internal/monitoring"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// TestDashboardShowsTheSecrets runs the shipped dashboard's queries, as
// Grafana sends them, against a real Prometheus that scrapes certstatus
// with the shipped rules (their recording rules included): Soonest
// expiries lists what expires next and nothing expired, Expired the
// expired Secrets, the time series panels read what the recording rules
// record, and the cluster variable filters while it works on series
// without a cluster label.
func TestDashboardShowsTheSecrets(t *testing.T) {
	tools := monitoringTools(t)
	st := ownStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	srv, err := st.StartServer(ctx, env.binary)
	if err != nil {
		t.Fatalf("start certstatus: %v", err)
	}
	kube := st.Client()
	options := stack.MonitoringOptions{ToolsDir: tools, Rules: monitoring.DefaultOptions(),
		Alertmanager: monitoring.DefaultAlertmanagerOptions(), ScrapeInterval: "1s"}
	options.Rules.EvaluationInterval = "1s"
	options.Alertmanager.SlackURLFile = writeFile(t, t.TempDir(), "slack-url", "http://127.0.0.1:9/unused")
	mon, err := st.StartMonitoring(ctx, srv, options)
	if err != nil {
		t.Fatalf("start Prometheus: %v", err)
	}

	ns := "dashboard"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	notAfter := map[string]time.Time{
		"next":   now.Add(40 * 24 * time.Hour),
		"later":  now.Add(80 * 24 * time.Hour),
		"recent": now.Add(-time.Hour),
		"old":    now.Add(-300 * 24 * time.Hour),
	}
	for name, at := range notAfter {
		c := newChain(t, name+".example.com", at.Add(-400*24*time.Hour), at)
		if _, err := kube.CoreV1().Secrets(ns).Create(ctx, c.tlsSecret(ns, name, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// query runs a panel's target with the variables set, instant or over
	// the last minute as the panel asks, and returns its series by Secret
	// (or by state, or "" for a sum) with their last values.
	query := func(panel, refID, cluster string) (map[string]float64, error) {
		var target *monitoring.Target
		for _, p := range monitoring.Dashboard().Panels {
			for i := range p.Targets {
				if p.Title == panel && p.Targets[i].RefID == refID {
					target = &p.Targets[i]
				}
			}
		}
		if target == nil {
			t.Fatalf("the dashboard has no panel %q with a query %s", panel, refID)
		}
		expr := strings.NewReplacer(`"$cluster"`, strconv.Quote(cluster), `"$namespace"`, strconv.Quote(ns)).Replace(target.Expr)
		end := time.Now()
		path := "/api/v1/query?" + url.Values{"query": {expr}, "time": {strconv.FormatInt(end.Unix(), 10)}}.Encode()
		if !target.Instant {
			path = "/api/v1/query_range?" + url.Values{"query": {expr}, "start": {strconv.FormatInt(end.Add(-time.Minute).Unix(), 10)},
				"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {"5"}}.Encode()
		}
		var result struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  []any             `json:"value"`
					Values [][]any           `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := getJSON(mon.PrometheusURL+path, &result); err != nil || result.Status != "success" {
			return nil, fmt.Errorf("%s %s: %s: %v %s", panel, refID, expr, err, result.Status)
		}
		out := map[string]float64{}
		for _, r := range result.Data.Result {
			value := r.Value
			if len(r.Values) > 0 {
				value = r.Values[len(r.Values)-1]
			}
			v, _ := strconv.ParseFloat(value[1].(string), 64)
			// A Secret, a ConfigMap or a registration, with its state if any.
			out[r.Metric["secret"]+r.Metric["configmap"]+r.Metric["name"]+r.Metric["state"]] = v
		}
		return out, nil
	}
	keys := func(m map[string]float64) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		slices.Sort(k)
		return k
	}

	// Two ConfigMap bundles: one expires in 50 days, one has expired.
	for name, at := range map[string]time.Time{"bundle-next": now.Add(50 * 24 * time.Hour), "bundle-expired": now.Add(-2 * time.Hour)} {
		ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: name, KeyAlgorithm: certtest.ECDSA, NotBefore: at.Add(-400 * 24 * time.Hour), NotAfter: at}))
		bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"ca.crt": string(ca.PEM())}}
		if _, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, bundle, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// The recording rules have seen all four Secrets.
	eventually(t, 2*time.Minute, func() error {
		states, err := query("Per namespace", "A", ".*")
		if err != nil {
			return err
		}
		if states["Valid"] != 2 || states["Expired"] != 2 {
			return fmt.Errorf("Per namespace: %v, want Valid 2 and Expired 2", states)
		}
		return nil
	})

	soonest, err := query("Soonest expiries", "A", ".*")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(soonest); !slices.Equal(got, []string{"later", "next"}) {
		t.Errorf("Soonest expiries lists %v, want later and next (nothing expired)", got)
	}
	if soonest["next"] != float64(notAfter["next"].UnixMilli()) {
		t.Errorf("Soonest expiries: next expires at %v ms, want %d (notAfter in ms, for Grafana's date unit)", soonest["next"], notAfter["next"].UnixMilli())
	}
	expired, err := query("Expired", "A", ".*")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(expired); !slices.Equal(got, []string{"old", "recent"}) {
		t.Errorf("Expired lists %v, want old and recent", got)
	}
	byState, err := query("Secrets by state", "A", ".*")
	if err != nil {
		t.Fatal(err)
	}
	if byState["Valid"] != 2 || byState["Expired"] != 2 {
		t.Errorf("Secrets by state: %v", byState)
	}
	// Used, unused and not known add up to the Secrets, whether usedBy has
	// synced or not (an absent sum is 0).
	total := 0.0
	for _, ref := range []string{"A", "B", "C"} {
		v, err := query("Used and unused Secrets", ref, ".*")
		if err != nil {
			t.Fatal(err)
		}
		total += v[""]
	}
	if total != 4 {
		t.Errorf("used + unused + not known = %v, want the 4 Secrets", total)
	}
	// The ConfigMap bundles' panels: the expired bundle is not Valid, with
	// its notAfter; the other one is among the soonest expiries.
	eventually(t, time.Minute, func() error {
		notValid, err := query("ConfigMap bundles not Valid", "B", ".*")
		if err != nil {
			return err
		}
		if notValid["bundle-expired"] != float64(now.Add(-2*time.Hour).UnixMilli()) || len(notValid) != 1 {
			return fmt.Errorf("ConfigMap bundles not Valid: %v, want bundle-expired at %d ms", notValid, now.Add(-2*time.Hour).UnixMilli())
		}
		return nil
	})
	if soonestBundles, err := query("ConfigMap bundles: soonest expiries", "A", ".*"); err != nil || soonestBundles["bundle-next"] != float64(now.Add(50*24*time.Hour).UnixMilli()) || soonestBundles["bundle-expired"] != 0 {
		t.Errorf("ConfigMap bundles: soonest expiries: %v %v, want bundle-next and not bundle-expired", soonestBundles, err)
	}
	// The API registrations' table lists the stack's own APIService with
	// its state and its Trusted status (Unknown: its Service has no Pods).
	own := stack.APIServiceName
	for ref, key := range map[string]string{"A": own, "C": own + "Valid"} {
		got, err := query("API registrations", ref, ".*")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got[key]; !ok {
			t.Errorf("API registrations %s: %v, want %s", ref, keys(got), key)
		}
	}

	// A cluster that does not exist selects nothing.
	if other, err := query("Soonest expiries", "A", "elsewhere"); err != nil || len(other) != 0 {
		t.Errorf("Soonest expiries with cluster elsewhere: %v %v, want nothing", other, err)
	}
	// Every other query is valid PromQL that Prometheus answers.
	for _, p := range monitoring.Dashboard().Panels {
		for _, target := range p.Targets {
			if _, err := query(p.Title, target.RefID, ".*"); err != nil {
				t.Error(err)
			}
		}
	}
}
