package monitoring

import (
	"os"
	"strings"
	"testing"
)

// Every alert links to a runbook section that exists in docs/operations.md,
// has a severity, and aggregates replicas.
func TestEveryAlertHasARunbookSectionAndASeverity(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	for _, group := range Rules(o) {
		for _, rule := range group.Rules {
			if rule.Record != "" {
				continue // recording rules (recording.go) do not alert
			}
			if !strings.Contains(string(doc), "\n#### "+rule.Alert+"\n") {
				t.Errorf("%s: docs/operations.md has no section '#### %s' for its runbook_url", rule.Alert, rule.Alert)
			}
			if rule.Annotations["runbook_url"] != o.RunbookBase+"#"+strings.ToLower(rule.Alert) {
				t.Errorf("%s: runbook_url %s", rule.Alert, rule.Annotations["runbook_url"])
			}
			if s := rule.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", rule.Alert, s)
			}
			if !strings.Contains(rule.Expr, "without (instance, pod)") && !strings.HasPrefix(rule.Expr, "absent(") {
				t.Errorf("%s: %s does not aggregate replicas", rule.Alert, rule.Expr)
			}
		}
	}
}

func TestSlackGroupsByAlertAndNamespace(t *testing.T) {
	config := Alertmanager(DefaultAlertmanagerOptions())
	route := config["route"].(map[string]any)["routes"].([]any)[0].(map[string]any)
	if got := strings.Join(route["group_by"].([]string), ","); got != "alertname,namespace" {
		t.Errorf("group_by %s", got)
	}
	receiver := config["receivers"].([]any)[1].(map[string]any)["slack_configs"].([]any)[0].(map[string]any)
	if receiver["api_url_file"] == "" || receiver["api_url"] != nil {
		t.Error("the Slack webhook URL must come from a file (a mounted Secret), never the configuration")
	}
}
