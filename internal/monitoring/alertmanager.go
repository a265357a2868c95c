package monitoring

// AlertmanagerOptions shape the Slack routing example.
type AlertmanagerOptions struct {
	// SlackURLFile holds the Slack incoming-webhook URL (mounted from a Secret).
	SlackURLFile string
	Channel      string
	// GroupWait, GroupInterval and RepeatInterval are Alertmanager's; tests shorten them.
	GroupWait, GroupInterval, RepeatInterval string
}

// DefaultAlertmanagerOptions are what artifacts/monitoring ships.
func DefaultAlertmanagerOptions() AlertmanagerOptions {
	return AlertmanagerOptions{
		SlackURLFile:   "/etc/alertmanager/secrets/certstatus-slack/webhook-url",
		Channel:        "#certificates",
		GroupWait:      "30s",
		GroupInterval:  "5m",
		RepeatInterval: "4h",
	}
}

// slackTitle and slackText render one message per group: one alert name
// and severity under one issuer, however many Secrets and namespaces (an intermediate
// CA expiring under a thousand Secrets is one message naming the first 20
// and the count).
const (
	slackTitle = `[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}{{ with .CommonLabels.severity }} ({{ . }}){{ end }}{{ with .CommonLabels.issuer }}, issuer {{ . }}{{ end }}`
	slackText  = `{{ with (index .Alerts 0).Annotations.summary }}{{ . }}{{ end }}
{{ range $i, $alert := .Alerts }}{{ if lt $i 20 }}• {{ $alert.Annotations.description }}
{{ end }}{{ end }}{{ if gt (len .Alerts) 20 }}… {{ len .Alerts }} alerts in all.
{{ end }}Runbook: {{ (index .Alerts 0).Annotations.runbook_url }}`
)

// GroupBy is how the Slack route groups alerts: by alert, severity and
// issuer, so that what one CA breaks is one message whatever the
// namespaces, and a critical message lists only what pages.
var GroupBy = []string{"alertname", "severity", "issuer"}

// Alertmanager is an Alertmanager configuration that sends certstatus's
// alerts to Slack, grouped by alert, severity and issuer.
func Alertmanager(o AlertmanagerOptions) map[string]any {
	return map[string]any{
		"route": map[string]any{
			"receiver": "default",
			"routes": []any{map[string]any{
				"receiver":        "certstatus-slack",
				"matchers":        []string{`alertname=~"Certificate.+|Certstatus.+"`},
				"group_by":        GroupBy,
				"group_wait":      o.GroupWait,
				"group_interval":  o.GroupInterval,
				"repeat_interval": o.RepeatInterval,
			}},
		},
		// A used certificate about to expire also still counts as expiring
		// soon; the critical message is enough.
		"inhibit_rules": []any{map[string]any{
			"source_matchers": []string{`alertname="CertificateAboutToExpire"`},
			"target_matchers": []string{`alertname="CertificateExpiringSoon"`},
			"equal":           []string{"namespace", "secret"},
		}},
		"receivers": []any{
			map[string]any{"name": "default"},
			map[string]any{
				"name": "certstatus-slack",
				"slack_configs": []any{map[string]any{
					"api_url_file":  o.SlackURLFile,
					"channel":       o.Channel,
					"send_resolved": true,
					"title":         slackTitle,
					"text":          slackText,
				}},
			},
		},
	}
}
