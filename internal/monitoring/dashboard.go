package monitoring

import "strings"

// The Grafana dashboard, generated from these few types rather than a
// dashboard SDK: the JSON model it needs is small, and Grafana's
// foundation SDK would add a large dependency for a dozen panels.
//
// At 10 000 Secrets every query must stay cheap (hack/bench's dashboard
// figure times each one against 30 days of backfilled series): time series
// panels and variables read the recorded series of recording.go, and the
// tables that list Secrets are instant queries. No query names a job,
// release or namespace of the install, and the per-Secret series are
// collapsed over replicas with oneReplica.

// Grafana is a dashboard in Grafana's JSON model.
type Grafana struct {
	Title         string     `json:"title"`
	UID           string     `json:"uid"`
	Tags          []string   `json:"tags"`
	SchemaVersion int        `json:"schemaVersion"`
	Time          timeRange  `json:"time"`
	Refresh       string     `json:"refresh"`
	Templating    templating `json:"templating"`
	Panels        []Panel    `json:"panels"`
}

type timeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type templating struct {
	List []variable `json:"list"`
}

type variable struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	Type       string `json:"type"`
	Query      string `json:"query"`
	Datasource *ref   `json:"datasource,omitempty"`
	AllValue   string `json:"allValue,omitempty"`
	IncludeAll bool   `json:"includeAll,omitempty"`
	Multi      bool   `json:"multi,omitempty"`
	Refresh    int    `json:"refresh,omitempty"`
}

type ref struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one panel of the dashboard.
type Panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	GridPos     gridPos        `json:"gridPos"`
	Datasource  ref            `json:"datasource"`
	Targets     []Target       `json:"targets"`
	FieldConfig map[string]any `json:"fieldConfig,omitempty"`
	Options     map[string]any `json:"options,omitempty"`
	Transforms  []any          `json:"transformations,omitempty"`
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one query of a panel.
type Target struct {
	RefID        string `json:"refId"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat,omitempty"`
	Instant      bool   `json:"instant,omitempty"`
	Format       string `json:"format,omitempty"`
}

var prometheus = ref{Type: "prometheus", UID: "${datasource}"}

// selected filters every query by the $cluster and $namespace variables.
// Both are "All" as ".*", which also matches a series without the label,
// so a Prometheus that adds no cluster label still shows everything.
const selected = `cluster=~"$cluster",namespace=~"$namespace"`

// DefaultRange is the dashboard's default time range, which hack/bench
// times its queries over.
const DefaultRange = "7d"

// raw is a per-Secret family collapsed over replicas, filtered by the
// variables and by more matchers if given.
func raw(family string, matchers ...string) string {
	return oneReplica + "(" + family + "{" + strings.Join(append(matchers, selected), ",") + "})"
}

// recorded is a recorded series of recording.go, filtered by the variables.
func recorded(series string) string { return series + "{" + selected + "}" }

// column configures one column of a table: its header and unit, and value mappings.
func column(name, header, unit string, mappings ...any) any {
	properties := []any{map[string]any{"id": "displayName", "value": header}}
	if unit != "" {
		properties = append(properties, map[string]any{"id": "unit", "value": unit})
	}
	if len(mappings) > 0 {
		properties = append(properties, map[string]any{"id": "mappings", "value": mappings})
	}
	return map[string]any{"matcher": map[string]any{"id": "byName", "options": name}, "properties": properties}
}

// copyColumn adds a copy of a column under another name, so that one
// query shows as two columns with different units (a date, and the time
// from now) instead of being sent twice.
func copyColumn(from, alias string) any {
	return map[string]any{"id": "calculateField", "options": map[string]any{
		"mode": "binary", "binary": map[string]any{"left": from, "operator": "*", "right": "1"}, "alias": alias, "replaceFields": false}}
}

// usedMapping shows certstatus_secret_used as words; an empty cell means unknown (usedBy not synced).
var usedMapping = map[string]any{"type": "value", "options": map[string]any{
	"0": map[string]any{"text": "no", "index": 0}, "1": map[string]any{"text": "yes", "index": 1}}}

// Dashboard is certstatus's Grafana dashboard.
func Dashboard() Grafana {
	// table lists Secrets: instant queries, one column per target (merged
	// on the labels), in the order given; columns names the value
	// columns, "Value" for one target, "Value #A", "Value #B"... for more.
	table := func(id int, title, description string, pos gridPos, columns, extraTransforms []any, sortBy string, targets ...Target) Panel {
		exclude := map[string]bool{"Time": true, "__name__": true}
		for _, label := range []string{"instance", "pod", "job", "service", "endpoint", "container"} {
			exclude[label] = true
		}
		transforms := []any{}
		if len(targets) > 1 {
			transforms = append(transforms, map[string]any{"id": "merge", "options": map[string]any{}})
		}
		transforms = append(transforms, extraTransforms...)
		transforms = append(transforms, map[string]any{"id": "organize", "options": map[string]any{"excludeByName": exclude}})
		for i := range targets {
			targets[i].Instant, targets[i].Format = true, "table"
		}
		if columns == nil {
			columns = []any{}
		}
		options := map[string]any{"showHeader": true}
		if sortBy != "" {
			options["sortBy"] = []any{map[string]any{"displayName": sortBy, "desc": false}}
		}
		return Panel{ID: id, Type: "table", Title: title, Description: description, GridPos: pos, Datasource: prometheus,
			Targets: targets, Transforms: transforms, Options: options,
			FieldConfig: map[string]any{"defaults": map[string]any{}, "overrides": columns}}
	}
	series := func(id int, title, description string, pos gridPos, unit string, targets ...Target) Panel {
		return Panel{ID: id, Type: "timeseries", Title: title, Description: description, GridPos: pos, Datasource: prometheus,
			Targets: targets, FieldConfig: map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}}}
	}
	notAfter := raw("certstatus_secret_not_after_seconds")
	// Grafana's date units take milliseconds.
	upcoming := `bottomk(20, ` + notAfter + ` > time()) * 1000`
	expired := `topk(100, ` + notAfter + ` <= time())`
	health := func(family string, matchers ...string) string {
		return family + "{" + strings.Join(append(matchers, `cluster=~"$cluster"`), ",") + "}"
	}
	// ConfigMap bundles, as the Secrets' tables show Secrets.
	bundleNotAfter := raw("certstatus_configmap_not_after_seconds")
	bundlesNotValid := raw("certstatus_configmap_state", `state!="Valid"`) + ` == 1`
	// Registrations are cluster-scoped (no namespace to select) and few:
	// every one is listed, the least trusted and soonest to expire first.
	registration := func(family string, matchers ...string) string {
		return oneReplica + "(" + health(family, matchers...) + ")"
	}
	return Grafana{
		Title: "certstatus: certificates", UID: "certstatus", Tags: []string{"certstatus", "certificates"},
		SchemaVersion: 39, Time: timeRange{From: "now-" + DefaultRange, To: "now"}, Refresh: "1m",
		Templating: templating{List: []variable{
			{Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus"},
			{Name: "cluster", Label: "Cluster", Type: "query", Datasource: &prometheus, IncludeAll: true, Multi: true, Refresh: 2, AllValue: ".*",
				Query: "label_values(" + recordedSecretStates + ", cluster)"},
			{Name: "namespace", Label: "Namespace", Type: "query", Datasource: &prometheus, IncludeAll: true, Multi: true, Refresh: 2, AllValue: ".*",
				Query: "label_values(" + recordedSecretStates + `{cluster=~"$cluster"}, namespace)`},
		}},
		Panels: []Panel{
			table(1, "Soonest expiries", "The 20 Secrets whose certificates expire next (expired ones are in their own panel): when, and how long from now.",
				gridPos{H: 10, W: 12, X: 0, Y: 0},
				[]any{column("Value", "Expires", "dateTimeAsIso"), column("In", "In", "dateTimeFromNow")},
				[]any{copyColumn("Value", "In")}, "Expires",
				Target{RefID: "A", Expr: upcoming}),
			table(2, "Expired", "The 100 Secrets that expired most recently: when, how long ago, and whether anything uses them (empty: not known yet).",
				gridPos{H: 10, W: 12, X: 12, Y: 0},
				[]any{column("Value #A", "Expired", "dateTimeAsIso"), column("Ago", "Ago", "dateTimeFromNow"), column("Value #B", "Used", "", usedMapping)},
				[]any{copyColumn("Value #A", "Ago")}, "",
				Target{RefID: "A", Expr: expired + ` * 1000`},
				Target{RefID: "B", Expr: raw("certstatus_secret_used") + ` and ` + expired}),
			series(3, "Secrets by state", "How many Secrets are in each state over time.", gridPos{H: 8, W: 12, X: 0, Y: 10}, "short",
				Target{RefID: "A", Expr: `sum by (state) (` + recorded(recordedSecretStates) + `)`, LegendFormat: "{{state}}"}),
			series(4, "Used and unused Secrets", "Secrets something uses (usedBy not empty), Secrets nothing uses, and Secrets whose usage is not known yet (usedBy not synced, or off).",
				gridPos{H: 8, W: 12, X: 12, Y: 10}, "short",
				Target{RefID: "A", Expr: `sum(` + recorded(recordedUsed) + `)`, LegendFormat: "used"},
				Target{RefID: "B", Expr: `sum(` + recorded(recordedUsageKnown) + `) - sum(` + recorded(recordedUsed) + `)`, LegendFormat: "unused"},
				Target{RefID: "C", Expr: `sum(` + recorded(recordedSecretStates) + `) - (sum(` + recorded(recordedUsageKnown) + `) or vector(0))`, LegendFormat: "not known"}),
			table(5, "Invalid Secrets", "Secrets in state Invalid, with what is wrong: chain Broken, key_pair Mismatch, or neither (no readable certificate).",
				gridPos{H: 8, W: 12, X: 0, Y: 18}, nil, nil, "",
				Target{RefID: "A", Expr: raw("certstatus_secret_info") + ` and on (cluster, namespace, secret) (` + raw("certstatus_secret_state", `state="Invalid"`) + ` == 1)`}),
			table(6, "Hosts not covered", "Secrets served for hosts (usedBy) that their certificate does not cover, and how many.",
				gridPos{H: 8, W: 12, X: 12, Y: 18}, []any{column("Value", "Hosts not covered", "short")}, nil, "",
				Target{RefID: "A", Expr: raw("certstatus_secret_hosts_not_covered") + ` > 0`}),
			table(7, "Per namespace", "Secrets per namespace and state.",
				gridPos{H: 8, W: 12, X: 0, Y: 26}, []any{column("Value", "Secrets", "short")}, nil, "",
				Target{RefID: "A", Expr: recorded(recordedSecretStates) + ` > 0`}),
			series(8, "Certificates by state, hosts not covered", "Every certificate found (chains and bundles) by its own state, and the hosts served with a certificate that does not cover them.",
				gridPos{H: 8, W: 12, X: 12, Y: 26}, "short",
				Target{RefID: "A", Expr: `sum by (state) (` + recorded(recordedCertificateStates) + `)`, LegendFormat: "{{state}}"},
				Target{RefID: "B", Expr: `sum(` + recorded(recordedHostsNotCovered) + `)`, LegendFormat: "hosts not covered"}),
			series(9, "Server: replicas reporting, Secrets cached, watchers", "Replicas whose metrics Prometheus has, Secrets in the cache and open watches per replica.",
				gridPos{H: 8, W: 12, X: 0, Y: 34}, "short",
				Target{RefID: "A", Expr: `count(` + health("certstatus_informer_synced", `resource="secrets"`) + `)`, LegendFormat: "replicas reporting"},
				Target{RefID: "B", Expr: health(`certstatus_cached_secrets`), LegendFormat: "Secrets cached {{instance}}"},
				Target{RefID: "C", Expr: health(`certstatus_watchers`), LegendFormat: "watchers {{instance}}"}),
			series(10, "Server: analysis time (p99) and Secrets analysed", "How long one Secret's analysis takes, and how many are analysed per second.",
				gridPos{H: 8, W: 12, X: 12, Y: 34}, "s",
				Target{RefID: "A", Expr: `histogram_quantile(0.99, sum by (le, instance) (rate(` + health(`certstatus_secret_analysis_duration_seconds_bucket`) + `[5m])))`, LegendFormat: "p99 {{instance}}"},
				Target{RefID: "B", Expr: `sum by (instance) (rate(` + health(`certstatus_secret_analyses_total`) + `[5m]))`, LegendFormat: "analyses/s {{instance}}"}),
			series(11, "Server: trouble", "Informers not synced, reads refused by RBAC, watchers closed for falling behind, clock queue.",
				gridPos{H: 8, W: 12, X: 0, Y: 42}, "short",
				Target{RefID: "A", Expr: `1 - ` + health(`certstatus_informer_synced`), LegendFormat: "not synced {{resource}} {{instance}}"},
				Target{RefID: "B", Expr: `sum by (resource) (increase(` + health(`certstatus_forbidden_reads_total`) + `[15m]))`, LegendFormat: "forbidden {{resource}}"},
				Target{RefID: "C", Expr: `increase(` + health(`certstatus_watchers_closed_behind_total`) + `[15m])`, LegendFormat: "watchers closed {{instance}}"},
				Target{RefID: "D", Expr: health(`certstatus_clock_queue_length`), LegendFormat: "clock queue {{instance}}"}),
			table(12, "ConfigMap bundles: soonest expiries", "The 20 ConfigMap trust bundles (configmapcertificatestatuses) whose certificates expire next: when, and how long from now.",
				gridPos{H: 8, W: 12, X: 12, Y: 42},
				[]any{column("Value", "Expires", "dateTimeAsIso"), column("In", "In", "dateTimeFromNow")},
				[]any{copyColumn("Value", "In")}, "Expires",
				Target{RefID: "A", Expr: `bottomk(20, ` + bundleNotAfter + ` > time()) * 1000`}),
			table(13, "ConfigMap bundles not Valid", "ConfigMap trust bundles in any state but Valid (expiring soon, expired, not yet valid, invalid), with the earliest notAfter of their certificates.",
				gridPos{H: 8, W: 12, X: 0, Y: 50},
				[]any{column("Value #B", "Expires", "dateTimeAsIso")}, nil, "",
				Target{RefID: "A", Expr: `topk(100, ` + bundlesNotValid + `)`},
				Target{RefID: "B", Expr: bundleNotAfter + ` * 1000 and on (cluster, namespace, configmap) (` + bundlesNotValid + `)`}),
			series(14, "ConfigMap bundles by state", "How many ConfigMaps that hold certificates are in each state over time.",
				gridPos{H: 8, W: 12, X: 12, Y: 50}, "short",
				Target{RefID: "A", Expr: `sum by (state) (namespace_state:certstatus_configmap_state:sum{` + selected + `})`, LegendFormat: "{{state}}"}),
			table(15, "API registrations", "Every webhook configuration, APIService and CRD conversion webhook with a caBundle (clustercertificatestatuses): "+
				"whether the caBundle trusts the certificate served (false: kube-apiserver's calls to it fail), its state, and when the trusted path expires.",
				gridPos{H: 10, W: 24, X: 0, Y: 58},
				[]any{column("Value #A", "Expires", "dateTimeAsIso"), column("In", "In", "dateTimeFromNow"), column("status", "Trusted", ""), column("state", "State", "")},
				[]any{copyColumn("Value #A", "In"), map[string]any{"id": "filterFieldsByName", "options": map[string]any{"exclude": map[string]any{"names": []any{"Value #B", "Value #C"}}}}}, "Expires",
				Target{RefID: "A", Expr: registration("certstatus_registration_not_after_seconds") + ` * 1000`},
				Target{RefID: "B", Expr: registration("certstatus_registration_trusted") + ` == 1`},
				Target{RefID: "C", Expr: registration("certstatus_registration_state") + ` == 1`}),
		},
	}
}
