// Package monitoring is a build-time generator, never imported by the
// server: the one source of certstatus's alert rules, its
// Alertmanager example and its Grafana dashboard. hack/update-monitoring.sh
// writes them into artifacts/monitoring; hack/verify-monitoring.sh checks
// that the committed files are what this package generates; the
// monitoring e2e test generates them with shorter durations.
package monitoring

import (
	"fmt"
	"strings"
)

// Options are what a deployment (or a test) may change in the rules.
type Options struct {
	// Job is the scrape job of certstatus (the Service name with a ServiceMonitor).
	Job string
	// GapTolerance bridges scrape gaps: alerts keep firing that long after
	// their series stop (keep_firing_for), and the expiry alerts look back
	// that far for the latest instants.
	GapTolerance string
	// InvalidFor, NotYetValidFor, HostNotCoveredFor, DownFor and NotSyncedFor are the alerts' `for:`.
	InvalidFor, NotYetValidFor, HostNotCoveredFor, DownFor, NotSyncedFor string
	// EvaluationInterval of the rule group; empty uses Prometheus's global one.
	EvaluationInterval string
	// RunbookBase is the URL of docs/operations.md; the alert's name is the anchor.
	RunbookBase string
}

// DefaultOptions are what artifacts/monitoring ships.
func DefaultOptions() Options {
	return Options{
		Job:               "certstatus-apiserver",
		GapTolerance:      "5m",
		InvalidFor:        "10m",
		NotYetValidFor:    "5m",
		HostNotCoveredFor: "10m",
		DownFor:           "5m",
		NotSyncedFor:      "10m",
		RunbookBase:       "https://github.com/certstatus/certstatus/blob/main/docs/operations.md",
	}
}

// RuleGroup and Rule are the Prometheus rules file format.
type RuleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []Rule `json:"rules"`
}

type Rule struct {
	Alert         string            `json:"alert,omitempty"`
	Record        string            `json:"record,omitempty"`
	Expr          string            `json:"expr"`
	For           string            `json:"for,omitempty"`
	KeepFiringFor string            `json:"keep_firing_for,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// replicas removes the labels that tell replicas apart, so that two
// replicas make one alert.
const replicas = "max without (instance, pod) "

// secretName is how descriptions name a Secret.
const secretName = "Secret {{ $labels.namespace }}/{{ $labels.secret }}"

// instant formats the Secret's value of a series as a date, for annotations.
func instant(series string) string {
	return fmt.Sprintf(`{{ with printf "%s{namespace=%%q,secret=%%q}" $labels.namespace $labels.secret | query }}{{ . | first | value | humanizeTimestamp }}{{ end }}`, series)
}

// Rules are certstatus's alert rules.
func Rules(o Options) []RuleGroup {
	lookBack := func(series string) string {
		return fmt.Sprintf("%s(last_over_time(%s[%s]))", replicas, series, o.GapTolerance)
	}
	rule := func(name, severity, expr, forDuration, keepFiring, summary, description string) Rule {
		return Rule{
			Alert: name, Expr: expr, For: forDuration, KeepFiringFor: keepFiring,
			Labels: map[string]string{"severity": severity},
			Annotations: map[string]string{
				"summary":     summary,
				"description": description,
				"runbook_url": o.RunbookBase + "#" + strings.ToLower(name),
			},
		}
	}
	certificates := RuleGroup{Name: "certstatus-certificates", Interval: o.EvaluationInterval, Rules: []Rule{
		// From the instant rather than the state series, so that the
		// per-Secret threshold annotation and the lifetime fraction decide,
		// and the alert starts at that instant whatever the scrape timing.
		// No keep_firing_for: it would keep this alert firing after expiry,
		// next to CertificateExpired; the look-back bridges scrape gaps instead.
		rule("CertificateExpiringSoon", "warning",
			lookBack("certstatus_secret_expiring_soon_at_seconds")+" <= time()\nunless on (namespace, secret)\n"+
				lookBack("certstatus_secret_not_after_seconds")+" <= time()",
			"", "",
			"A certificate in "+secretName+" expires soon.",
			"The certificate in "+secretName+" expires at "+instant("certstatus_secret_not_after_seconds")+
				". Renew it (or find out why its issuer has not): kubectl get certificatestatus -n {{ $labels.namespace }} {{ $labels.secret }} -o wide"),
		rule("CertificateExpired", "critical",
			replicas+"(certstatus_secret_not_after_seconds) <= time()",
			"", o.GapTolerance,
			"A certificate in "+secretName+" has expired.",
			"The certificate in "+secretName+" expired at "+instant("certstatus_secret_not_after_seconds")+
				"; TLS clients reject it. Renew it now: kubectl get certificatestatus -n {{ $labels.namespace }} {{ $labels.secret }} -o wide"),
		rule("CertificateInvalid", "critical",
			replicas+`(certstatus_secret_state{state="Invalid"}) == 1`,
			o.InvalidFor, o.GapTolerance,
			secretName+" holds no usable certificate.",
			secretName+" is Invalid (no readable certificate, a key that does not match, or a broken chain). "+
				"kubectl describe certificatestatus -n {{ $labels.namespace }} {{ $labels.secret }} says why."),
		rule("CertificateNotYetValid", "warning",
			replicas+"(certstatus_secret_not_before_seconds) > time()",
			o.NotYetValidFor, o.GapTolerance,
			"A certificate in "+secretName+" is not valid yet.",
			"The certificate in "+secretName+" becomes valid only at "+instant("certstatus_secret_not_before_seconds")+
				"; TLS clients reject it until then."),
		rule("CertificateHostNotCovered", "warning",
			replicas+"(certstatus_secret_hosts_not_covered) > 0",
			o.HostNotCoveredFor, o.GapTolerance,
			secretName+" is served for hosts its certificate does not cover.",
			"{{ $value }} host(s) served with "+secretName+" are not among the certificate's names; clients of those hosts fail. "+
				"kubectl get certificatestatus -n {{ $labels.namespace }} {{ $labels.secret }} -o yaml shows usedBy."),
	}}
	server := RuleGroup{Name: "certstatus-server", Interval: o.EvaluationInterval, Rules: []Rule{
		rule("CertstatusDown", "critical",
			fmt.Sprintf(`absent(up{job=%q} == 1)`, o.Job),
			o.DownFor, "",
			"certstatus is down: no certificate alert can fire.",
			fmt.Sprintf("No replica of certstatus (scrape job %s) has been scraped successfully for %s, so certificate alerts are blind.", o.Job, o.DownFor)),
		rule("CertstatusSecretsNotSynced", "warning",
			`min without (instance, pod) (certstatus_informer_synced{resource="secrets"}) == 0`,
			o.NotSyncedFor, "",
			"A certstatus replica has not synced its Secret cache.",
			"A replica of certstatus has not finished listing Secrets for "+o.NotSyncedFor+": it is not ready and its metrics are incomplete. "+
				"Look for RBAC errors in its log and at certstatus_forbidden_reads_total."),
	}}
	return []RuleGroup{certificates, server, recordingGroup(o)}
}
