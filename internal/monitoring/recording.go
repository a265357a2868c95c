package monitoring

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

// perNamespace is how each recording aggregates the per-Secret series of a family.
func perNamespace(operation, family string) string {
	return operation + " without (secret) (" + oneReplica + "(" + family + "))"
}

// recordingGroup is the recording rules of the dashboard.
func recordingGroup(o Options) RuleGroup {
	record := func(name, expr string) Rule { return Rule{Record: name, Expr: expr} }
	return RuleGroup{Name: "certstatus-dashboard", Interval: o.EvaluationInterval, Rules: []Rule{
		record(recordedSecretStates, perNamespace("sum", "certstatus_secret_state")),
		record(recordedCertificateStates, perNamespace("sum", "certstatus_secret_certificates")),
		record(recordedUsed, perNamespace("sum", "certstatus_secret_used")),
		record(recordedUsageKnown, perNamespace("count", "certstatus_secret_used")),
		record(recordedHostsNotCovered, perNamespace("sum", "certstatus_secret_hosts_not_covered")),
	}}
}
