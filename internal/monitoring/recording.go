package monitoring

import "strings"

// Recording rules for the dashboard's heavy panels. At 10 000 Secrets and
// two replicas the per-Secret families hold some 320 000 series; a time
// series panel that aggregates them over the dashboard's seven days would
// read every sample of every one of them on each refresh. These rules
// aggregate once per evaluation to one series per namespace (and state),
// which the dashboard's time series panels and variables read instead.
// Tables that list Secrets stay on the raw series: they are instant
// queries, which read one sample per series.

// oneReplica collapses the replicas of one install, and the labels a
// scrape adds, whatever the job, Service or Pod is called: two replicas
// export the same series. Any other label (a cluster label added by the
// scrape or by relabelling) is kept.
const oneReplica = "max without (instance, pod, job, service, endpoint, container) "

// Recorded series, named level:metric:operation.
const (
	// Secrets per namespace and state.
	recordedSecretStates = "namespace_state:certstatus_secret_state:sum"
	// Certificates per namespace and state (bundles count each certificate).
	recordedCertificateStates = "namespace_state:certstatus_secret_certificates:sum"
	// Secrets used by something (usedBy not empty), per namespace.
	recordedUsed = "namespace:certstatus_secret_used:sum"
	// Secrets whose usage is known (usedBy synced), per namespace.
	recordedUsageKnown = "namespace:certstatus_secret_used:count"
	// Hosts not covered, per namespace.
	recordedHostsNotCovered = "namespace:certstatus_secret_hosts_not_covered:sum"
)

// perNamespace is how each recording aggregates a kind's per-object series
// of a family: without the label that names the object in its namespace.
func perNamespace(k *Kind, operation, family string) string {
	return operation + " without (" + strings.Join(k.Labels[1:], ", ") + ") (" + oneReplica + "(" + family + "))"
}

// recordingGroup is the recording rules of the dashboard, the same for
// every kind (namespace_state:certstatus_configmap_state:sum, ...). A
// cluster-scoped kind has no namespace: its recordings would be per kind
// label instead, and are left out.
func recordingGroup(o Options) RuleGroup {
	group := RuleGroup{Name: "certstatus-dashboard", Interval: o.EvaluationInterval}
	for _, k := range Kinds {
		if k.Labels[0] != "namespace" {
			continue
		}
		record := func(level, suffix, operation string) {
			family := k.series(suffix)
			group.Rules = append(group.Rules, Rule{Record: level + ":" + family + ":" + operation, Expr: perNamespace(k, operation, family)})
		}
		record("namespace_state", "state", "sum")
		record("namespace_state", "certificates", "sum")
		record("namespace", "used", "sum")
		record("namespace", "used", "count")
		if k.HostsNotCovered {
			record("namespace", "hosts_not_covered", "sum")
		}
	}
	return group
}
