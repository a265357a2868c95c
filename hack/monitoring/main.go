// Command monitoring writes the generated monitoring artifacts (alert rules
// as a plain rules file and as a PrometheusRule, the Alertmanager Slack
// example, the Grafana dashboard) from internal/monitoring into a directory.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certstatus/certstatus/internal/monitoring"
)

func main() {
	dir := flag.String("out", "artifacts/monitoring", "directory to write into")
	flag.Parse()
	files, err := monitoring.Files(monitoring.DefaultOptions(), monitoring.DefaultAlertmanagerOptions())
	if err == nil {
		err = os.MkdirAll(*dir, 0o755)
	}
	for name, content := range files {
		if err != nil {
			break
		}
		err = os.WriteFile(filepath.Join(*dir, name), content, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
