package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/certstatus/certstatus/internal/monitoring"
	"github.com/certstatus/certstatus/test/stack"
)

// startMonitoring runs Prometheus (the shipped rules, 5 s scrapes) and
// Alertmanager (the shipped Slack routing) beside the stack. Slack is a
// local receiver that prints each message: nothing leaves the machine.
func startMonitoring(ctx context.Context, st *stack.Stack, srv *stack.Server) (stop func(), err error) {
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var message struct {
			Channel     string `json:"channel"`
			Attachments []struct {
				Title string `json:"title"`
				Text  string `json:"text"`
			} `json:"attachments"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &message); err == nil {
			for _, a := range message.Attachments {
				log.Printf("Slack %s: %s\n%s", message.Channel, a.Title, a.Text)
			}
		}
		_, _ = w.Write([]byte("ok"))
	}))
	urlFile := filepath.Join(st.Dir(), "slack-webhook-url")
	if err := os.WriteFile(urlFile, []byte(slack.URL+"/services/local"), 0o600); err != nil {
		slack.Close()
		return nil, err
	}
	alertmanager := monitoring.DefaultAlertmanagerOptions()
	alertmanager.SlackURLFile = urlFile
	alertmanager.GroupWait = "5s"
	log.Print("starting Prometheus and Alertmanager (built once by hack/build-monitoring-tools.sh) ...")
	m, err := st.StartMonitoring(ctx, srv, stack.MonitoringOptions{Rules: monitoring.DefaultOptions(), Alertmanager: alertmanager})
	if err != nil {
		slack.Close()
		return nil, err
	}
	fmt.Printf(`Prometheus scrapes certstatus every 5s with the shipped rules; Alertmanager routes to a
local Slack stand-in whose messages appear in this log. Firing alerts:

  curl -s %[1]s/api/v1/alerts | jq '.data.alerts[] | {alert: .labels.alertname, namespace: .labels.namespace, secret: .labels.secret, state}'
  curl -s %[2]s/api/v2/alerts/groups | jq '.[] | {labels, alerts: [.alerts[].labels.secret]}'
  curl -s %[1]s/api/v1/query --data-urlencode 'query=certstatus_secret_state == 1' | jq '.data.result[].metric'

(CertificateInvalid waits 10 minutes, as shipped.)

`, m.PrometheusURL, m.AlertmanagerURL)
	return slack.Close, nil
}
