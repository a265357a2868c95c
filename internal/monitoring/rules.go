// Package monitoring is a build-time generator, never imported by the
// server: the one source of certstatus's alert rules, its
// Alertmanager example and its Grafana dashboard. hack/update-monitoring.sh
// writes them into artifacts/monitoring; hack/verify-monitoring.sh checks
// that the committed files are what this package generates; the
// monitoring e2e test generates them with shorter durations.
package monitoring

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Options are what a deployment (or a test) may change in the rules.
// Nothing in them names an install: the rules select on metric names only
// (no job, release, namespace or Service), so the plain rules file works
// for any scrape configuration.
type Options struct {
	// OutageTolerance is how long a vanished certificate series still
	// counts (a lookback, last_over_time): a certstatus outage that short
	// neither resolves nor re-fires a certificate alert, while a renewal,
	// which changes the series, resolves at the next evaluation.
	OutageTolerance string
	// UsedWindow: a Secret used at any time within it counts as used.
	UsedWindow string
	// UnknownUsageGrace is how long a Secret first seen without
	// certstatus_secret_used waits before its unknown usage counts as used:
	// on a fresh install usedBy syncs within it, so an unused Secret's
	// alert is a warning from the start, never a critical that resolves.
	UnknownUsageGrace string
	// RenewalGrace after expiringSoonAt before anything fires, so that a
	// certificate renewed on time (cert-manager renews at the same point)
	// gives no notification at all.
	RenewalGrace time.Duration
	// InvalidFor, NotYetValidFor, HostNotCoveredFor, UntrustedFor, DownFor,
	// NotSyncedFor and APIServiceUnavailableFor are the alerts' `for:`.
	InvalidFor, NotYetValidFor, HostNotCoveredFor, UntrustedFor, DownFor, NotSyncedFor, APIServiceUnavailableFor string
	// EvaluationInterval of the rule group; empty uses Prometheus's global one.
	EvaluationInterval string
	// RunbookBase is the URL of docs/operations.md; the alert's name is the anchor.
	RunbookBase string
}

// DefaultOptions are what artifacts/monitoring ships.
func DefaultOptions() Options {
	return Options{
		OutageTolerance:          "1h",
		UsedWindow:               "24h",
		UnknownUsageGrace:        "5m",
		RenewalGrace:             time.Hour,
		InvalidFor:               "10m",
		NotYetValidFor:           "5m",
		HostNotCoveredFor:        "10m",
		UntrustedFor:             "5m",
		DownFor:                  "5m",
		NotSyncedFor:             "10m",
		APIServiceUnavailableFor: "5m",
		RunbookBase:              "https://github.com/certstatus/certstatus/blob/main/docs/operations.md",
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

// InstallLabels are the labels that tell replicas, installs and scrape
// configurations apart. Every rule aggregates them away, so two replicas,
// or two installs scraped under different jobs, make one alert.
const InstallLabels = "instance, pod, job, service, endpoint, container"

// APIServiceName is certstatus's APIService, as kube-apiserver's
// aggregator_unavailable_apiservice names it.
const APIServiceName = "v1alpha1.certstatus.dev"

// Kind is one kind's certificate families as the rules read them: the
// same rules (expiring soon, about to expire, expired, invalid, unknown,
// not yet valid, host not covered) for every kind, under the same alert
// names, labelled with the kind's object labels.
type Kind struct {
	// Family is the families' prefix, e.g. certstatus_secret.
	Family string
	// Labels name one object (namespace, secret): the rules join on them.
	Labels []string
	// Object is how descriptions name one, e.g. "Secret {{ $labels.namespace }}/{{ $labels.secret }}".
	Object string
	// Noun names the kind of source object ("Secret").
	Noun string
	// Kubectl is how kubectl names one (after get or describe):
	// "certificatestatus -n {{ $labels.namespace }} {{ $labels.secret }}".
	Kubectl string
	// Level names its recorded series (level:metric:operation), e.g. secret.
	Level string
	// HostsNotCovered: the kind has <Family>_hosts_not_covered.
	HostsNotCovered bool
	// KeystoreHint ends the description of a locked keystore.
	KeystoreHint string
	// Resources are the informers (certstatus_informer_synced's resource
	// label) of the kind's source; Secrets have their own alert.
	Resources []string
	// Served is the resource a kind other than the Secrets' serves: its
	// alerts carry it as the label resource, so that they are told apart
	// from the Secrets' alerts of the same name (which carry none, as
	// before there were other kinds), for Alertmanager routes and for
	// promtool, which refuses two rules of one name and one label set.
	Served string
	// AlwaysUsed: the kind has no <Family>_used, every object is used
	// (kube-apiserver calls with every registration's caBundle). Its rules
	// page critical as a used object's do, and have no unused variants.
	AlwaysUsed bool
	// Trusted: the kind has <Family>_trusted{status}, and a caBundle that
	// does not trust what is served pages critical (CertificateCABundleMismatch)
	// instead of CertificateInvalid.
	Trusted bool
}

// SecretKind and ConfigMapKind are the kinds the rules cover. A
// registration kind is one more value (with AlwaysUsed rules to add).
var (
	SecretKind = &Kind{
		Family: "certstatus_secret", Labels: []string{"namespace", "secret"}, Noun: "Secret",
		Object:  "Secret {{ $labels.namespace }}/{{ $labels.secret }}",
		Kubectl: "certificatestatus -n {{ $labels.namespace }} {{ $labels.secret }}",
		Level:   "secret", HostsNotCovered: true,
		KeystoreHint: "names the annotation that gives the password",
	}
	ConfigMapKind = &Kind{
		Family: "certstatus_configmap", Labels: []string{"namespace", "configmap"}, Noun: "ConfigMap",
		Object:       "ConfigMap {{ $labels.namespace }}/{{ $labels.configmap }}",
		Kubectl:      "configmapcertificatestatus -n {{ $labels.namespace }} {{ $labels.configmap }}",
		Level:        "configmap",
		KeystoreHint: "says why",
		Resources:    []string{"configmaps"},
		Served:       "configmapcertificatestatuses",
	}
	// RegistrationKind is clustercertificatestatuses, named by the
	// registration's kind and name (status.source); the ClusterCertificateStatus
	// is its lowercase kind, a dot and its name.
	RegistrationKind = &Kind{
		Family: "certstatus_registration", Labels: []string{"kind", "name"}, Noun: "registration",
		Object:       "{{ $labels.kind }} {{ $labels.name }}",
		Kubectl:      "clustercertificatestatus {{ $labels.kind | toLower }}.{{ $labels.name }}",
		Level:        "registration",
		KeystoreHint: "says why",
		Resources:    []string{"registrations"},
		AlwaysUsed:   true, Trusted: true,
		Served: "clustercertificatestatuses",
	}
	// Kinds are every kind the shipped rules cover, Secrets first.
	Kinds = []*Kind{SecretKind, ConfigMapKind, RegistrationKind}
)

// series is one of the kind's families, e.g. series("used").
func (k *Kind) series(suffix string) string { return k.Family + "_" + suffix }

// on joins on the object; by aggregates to it.
func (k *Kind) on() string { return "on (" + k.by() + ")" }
func (k *Kind) by() string { return strings.Join(k.Labels, ", ") }

// UsedLastHour is the kind's recorded series (at every evaluation):
// whether something used each object within the last hour, across
// replicas. The alerts read the used window through it, one sample per
// hour (a subquery), instead of reading 24 hours of raw samples in every
// rule.
func (k *Kind) UsedLastHour() string { return k.Level + ":" + k.series("used") + ":max1h" }

// expressions builds the PromQL of one kind's certificate rules.
type expressions struct {
	o Options
	k *Kind
}

// aggregate removes the install labels (and extra ones) from expr.
func aggregate(expr string, extra ...string) string {
	labels := InstallLabels
	if len(extra) > 0 {
		labels += ", " + strings.Join(extra, ", ")
	}
	return fmt.Sprintf("max without (%s) (%s)", labels, expr)
}

// held is an object's series across replicas, still there for the outage
// tolerance after it vanished. A renewal changes the value, and the
// latest sample is what counts, so it resolves at once. Across replicas
// (and a restarted Pod's old series) the maximum wins: a later instant is
// the renewed certificate.
func (e expressions) held(series string, extra ...string) string {
	return aggregate(fmt.Sprintf("last_over_time(%s[%s])", series, e.o.OutageTolerance), extra...)
}

// UsedLastHour is the Secrets' recorded usage (SecretKind.UsedLastHour()).
const UsedLastHour = "secret:certstatus_secret_used:max1h"

// usedLastHour is the kind's UsedLastHour expression.
func (k *Kind) usedLastHour() string {
	return aggregate("max_over_time(" + k.series("used") + "[1h])")
}

// usedEvidence is, per object, whether it was used within the used
// window: UsedLastHour at each hour of the window, and now (which covers
// the time since the last full hour). Absent when certstatus never said.
func (e expressions) usedEvidence() string {
	return fmt.Sprintf("max without () (max_over_time(%s[%s:1h]) or %s)", e.k.UsedLastHour(), e.o.UsedWindow, e.k.UsedLastHour())
}

// knownUnused are the objects that nothing used during the used window.
// An object without <Family>_used in that window (usedBy off or not
// synced yet) is unknown, and unknown counts as used (after the
// unknown-usage grace): when certstatus cannot tell, it pages. A replica
// that restarts with usedBy not synced yet changes nothing: the window
// still holds the earlier samples.
func (e expressions) knownUnused() string {
	return e.usedEvidence() + " == 0"
}

// newAndUnknown are the objects certstatus has exported for less than the
// unknown-usage grace (no info sample that old) and whose usage it has not
// told yet: a fresh install whose usedBy has not synced.
func (e expressions) newAndUnknown() string {
	info, on, by := e.k.series("info"), e.k.on(), e.k.by()
	return fmt.Sprintf("max by (%s) (%s)\n  unless %s %s\n  unless %s max by (%s) (last_over_time(%s[%s] offset %s))",
		by, info, on, e.usedEvidence(),
		on, by, info, e.o.OutageTolerance, e.o.UnknownUsageGrace)
}

// silenced are the objects annotated certstatus.dev/alerts: "off", by
// their current info series, or by the held one while none is current
// (so that turning alerts back on takes effect at once).
func (e expressions) silenced() string {
	info, by := e.k.series("info"), e.k.by()
	current := fmt.Sprintf(`max by (%s) (%s{alerts="off"})`, by, info)
	held := fmt.Sprintf(`max by (%s) (last_over_time(%s{alerts="off"}[%s]))`, by, info, e.o.OutageTolerance)
	return fmt.Sprintf("(%s or (%s unless %s max by (%s) (%s)))", current, held, e.k.on(), by, info)
}

// issuer is each object's issuer (its info series'), current or held.
func (e expressions) issuer() string {
	info, by := e.k.series("info"), e.k.by()
	return fmt.Sprintf("(max by (%s, issuer) (%s) or %s max by (%s, issuer) (last_over_time(%s[%s])))",
		by, info, e.k.on(), by, info, e.o.OutageTolerance)
}

// certificateAlert finishes a certificate condition: silenced objects
// removed, restricted to objects used (or not known to be unused) or to
// those known to be unused, and labelled with the issuer, so that
// Alertmanager groups a CA's objects into one message. The value stays
// the condition's.
// An always used kind has no unused objects: "" for those.
func (e expressions) certificateAlert(condition string, used *bool) string {
	if used != nil && !*used && e.k.AlwaysUsed {
		return ""
	}
	on := e.k.on()
	expr := "(\n  " + strings.ReplaceAll(condition, "\n", "\n  ") + "\n)\nunless " + on + " " + e.silenced()
	switch {
	case used == nil, *used && e.k.AlwaysUsed:
	case *used:
		expr += "\nunless " + on + " (" + e.knownUnused() + ")" +
			"\nunless " + on + " (\n  " + e.newAndUnknown() + "\n)"
	default:
		expr += "\nand " + on + " (" + e.knownUnused() + ")"
	}
	return "(\n" + expr + "\n)\n* " + on + " group_left (issuer) " + e.issuer()
}

// certificateRules are one kind's certificate alerts.
func certificateRules(o Options, k *Kind) []Rule {
	e := expressions{o, k}
	rule := alertRule(o)
	on, object := k.on(), k.Object
	used, unused := true, false
	notAfter := e.held(k.series("not_after_seconds"))
	expired := notAfter + " <= time()"
	// The values of these conditions are notAfter (and, for the others,
	// notBefore or the count of hosts), which the descriptions show.
	pastRenewal := fmt.Sprintf("%s + %d <= time()", e.held(k.series("expiring_soon_at_seconds")), int64(o.RenewalGrace.Seconds()))
	expiringSoon := notAfter + "\nand " + on + " " + pastRenewal + "\nunless " + on + " " + expired
	aboutToExpire := notAfter + "\nand " + on + " " + e.held(k.series("critical_at_seconds")) + " <= time()" +
		"\nand " + on + " " + pastRenewal + "\nunless " + on + " " + expired
	invalid := e.held(k.series("state")+`{state="Invalid"}`, "state") + " == 1"
	untrusted := e.held(k.series("trusted")+`{status="false"}`, "status") + " == 1"
	if k.Trusted {
		// An untrusted caBundle is Invalid too: it pages once, as
		// CertificateCABundleMismatch.
		invalid += "\nunless " + on + " " + untrusted
	}
	describe := func(text string) string {
		return text + " kubectl get " + k.Kubectl + " -o wide"
	}

	rules := []Rule{
		// From the instants rather than the state series, so that the
		// per-Secret threshold annotation and the lifetime fraction decide,
		// and the alert starts at that instant whatever the scrape timing.
		rule("CertificateExpiringSoon", "warning", e.certificateAlert(expiringSoon, nil), "",
			"A certificate in "+object+" expires soon.",
			describe("The certificate in "+object+" (issuer {{ $labels.issuer }}) expires at {{ $value | humanizeTimestamp }} and was not renewed on time. Renew it, or find out why its issuer has not:")),
		rule("CertificateAboutToExpire", "critical", e.certificateAlert(aboutToExpire, &used), "",
			"A used certificate in "+object+" expires within days.",
			describe("The certificate in "+object+" (issuer {{ $labels.issuer }}) is in use and expires at {{ $value | humanizeTimestamp }}; then its clients fail. Renew it now:")),
		rule("CertificateExpired", "critical", e.certificateAlert(expired, &used), "",
			"A used certificate in "+object+" has expired.",
			describe("The certificate in "+object+" (issuer {{ $labels.issuer }}) expired at {{ $value | humanizeTimestamp }} and is in use (or certstatus cannot tell); TLS clients reject it. Renew it now:")),
		rule("CertificateExpired", "warning", e.certificateAlert(expired, &unused), "",
			"An unused certificate in "+object+" has expired.",
			describe("The certificate in "+object+" (issuer {{ $labels.issuer }}) expired at {{ $value | humanizeTimestamp }}; certstatus saw nothing use the "+k.Noun+" in the last "+o.UsedWindow+". Renew or delete it:")),
		rule("CertificateInvalid", "critical", e.certificateAlert(invalid, &used), o.InvalidFor,
			object+" holds no usable certificate.",
			object+" is Invalid (no readable certificate, a key that does not match, or a broken chain) and is in use (or certstatus cannot tell). "+
				"kubectl describe "+k.Kubectl+" says why."),
		rule("CertificateInvalid", "warning", e.certificateAlert(invalid, &unused), o.InvalidFor,
			"Unused "+object+" holds no usable certificate.",
			object+" is Invalid; certstatus saw nothing use it in the last "+o.UsedWindow+". "+
				"kubectl describe "+k.Kubectl+" says why."),
		// Never critical, used or not: certstatus cannot read the keystore,
		// which says nothing about whether its certificates work.
		rule("CertificateUnknown", "warning", e.certificateAlert(e.held(k.series("state")+`{state="Unknown"}`, "state")+" == 1", nil), o.InvalidFor,
			"certstatus cannot read the keystore in "+object+".",
			object+" holds only a keystore certstatus cannot open (no password it was given works), so its expiry is not watched. "+
				"kubectl describe "+k.Kubectl+" "+k.KeystoreHint+"."),
		rule("CertificateNotYetValid", "warning", e.certificateAlert(e.held(k.series("not_before_seconds"))+" > time()", nil), o.NotYetValidFor,
			"A certificate in "+object+" is not valid yet.",
			"The certificate in "+object+" becomes valid only at {{ $value | humanizeTimestamp }}; TLS clients reject it until then."),
	}
	// No object of an always used kind is known to be unused: no
	// unused variants.
	rules = slices.DeleteFunc(rules, func(r Rule) bool { return r.Expr == "" })
	if k.Trusted {
		rules = append(rules,
			rule("CertificateCABundleMismatch", "critical", e.certificateAlert(untrusted, &used), o.UntrustedFor,
				"The caBundle of "+object+" does not trust the certificate its service serves.",
				"kube-apiserver's calls through "+object+" fail TLS verification: its caBundle does not anchor the chain the serving Secret serves "+
					"(an admission webhook with failurePolicy Fail rejects every matching request; an APIService is unavailable). "+
					"kubectl describe "+k.Kubectl+" names the caBundle, the Secret and the missing issuer."))
	}
	if k.HostsNotCovered {
		rules = append(rules,
			rule("CertificateHostNotCovered", "warning", e.certificateAlert(e.held(k.series("hosts_not_covered"))+" > 0", nil), o.HostNotCoveredFor,
				object+" is served for hosts its certificate does not cover.",
				"{{ $value }} host(s) served with "+object+" are not among the certificate's names; clients of those hosts fail. "+
					"kubectl get "+k.Kubectl+" -o yaml shows usedBy."))
	}
	if k.Served != "" {
		for i := range rules {
			rules[i].Labels["resource"] = k.Served
		}
	}
	return rules
}

// alertRule makes an alert with its severity and runbook.
func alertRule(o Options) func(name, severity, expr, forDuration, summary, description string) Rule {
	return func(name, severity, expr, forDuration, summary, description string) Rule {
		return Rule{
			Alert: name, Expr: expr, For: forDuration,
			Labels: map[string]string{"severity": severity},
			Annotations: map[string]string{
				"summary":     summary,
				"description": description,
				"runbook_url": o.RunbookBase + "#" + strings.ToLower(name),
			},
		}
	}
}

// Rules are certstatus's alert rules.
func Rules(o Options) []RuleGroup {
	certificates := RuleGroup{Name: "certstatus-certificates", Interval: o.EvaluationInterval}
	for _, k := range Kinds {
		if k.AlwaysUsed {
			continue // no usage to record
		}
		// First: the alerts below read it in the same evaluation.
		certificates.Rules = append(certificates.Rules, Rule{Record: k.UsedLastHour(), Expr: k.usedLastHour()})
	}
	for _, k := range Kinds {
		certificates.Rules = append(certificates.Rules, certificateRules(o, k)...)
	}
	rule := alertRule(o)
	// The informers of the sources other than Secrets (which have their
	// own alert): every other informer is usedBy's.
	var sources []string
	for _, k := range Kinds {
		sources = append(sources, k.Resources...)
	}
	server := RuleGroup{Name: "certstatus-server", Interval: o.EvaluationInterval, Rules: []Rule{
		// A certstatus-specific series rather than up{job=...}: whatever
		// the scrape job is called, it is there while a replica is scraped.
		rule("CertstatusDown", "critical",
			`absent(certstatus_informer_synced)`, o.DownFor,
			"certstatus is down: no certificate alert can fire.",
			"No replica of certstatus has been scraped successfully for "+o.DownFor+", so certificate alerts are blind (they hold their state for "+o.OutageTolerance+")."),
		rule("CertstatusSecretsNotSynced", "warning",
			fmt.Sprintf(`min without (%s) (certstatus_informer_synced{resource="secrets"}) == 0`, InstallLabels), o.NotSyncedFor,
			"A certstatus replica has not synced its Secret cache.",
			"A replica of certstatus has not finished listing Secrets for "+o.NotSyncedFor+": it is not ready and its metrics are incomplete. "+
				"Look for RBAC errors in its log and at certstatus_forbidden_reads_total."),
		rule("CertstatusSourceNotSynced", "warning",
			fmt.Sprintf(`min without (%s) (certstatus_informer_synced{resource=~%q}) == 0`, InstallLabels, strings.Join(sources, "|")), o.NotSyncedFor,
			"A certstatus replica has not synced its {{ $labels.resource }} source.",
			"A replica of certstatus has not finished listing {{ $labels.resource }} for "+o.NotSyncedFor+": the resource computed from them answers 503, "+
				"and their certificate alerts are blind. Look for RBAC errors in its log and at certstatus_forbidden_reads_total, or leave the source out of --sources."),
		rule("CertstatusUsedByNotSynced", "warning",
			fmt.Sprintf(`min without (%s) (certstatus_informer_synced{resource!~%q}) == 0`, InstallLabels, strings.Join(append([]string{"secrets"}, sources...), "|")), o.NotSyncedFor,
			"A certstatus replica has not synced its {{ $labels.resource }} informer.",
			"A replica of certstatus has not listed {{ $labels.resource }} for "+o.NotSyncedFor+", so it cannot tell which Secrets are used: "+
				"certificate alerts treat Secrets as used and page critical. Look for RBAC errors in its log and at certstatus_forbidden_reads_total."),
		rule("CertstatusAPIServiceUnavailable", "critical",
			aggregate(fmt.Sprintf(`aggregator_unavailable_apiservice{name=%q}`, APIServiceName))+" == 1", o.APIServiceUnavailableFor,
			"The APIService "+APIServiceName+" is unavailable: namespace deletion and API discovery stall.",
			"kube-apiserver cannot reach certstatus through the APIService "+APIServiceName+" for "+o.APIServiceUnavailableFor+
				": namespaces being deleted stay Terminating, and discovery (kubectl, Helm, Argo CD) reports errors. kubectl get apiservice "+APIServiceName+" -o yaml says why."),
	}}
	return []RuleGroup{certificates, server, recordingGroup(o)}
}
