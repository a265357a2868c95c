package monitoring

// The Grafana dashboard, generated from these few types rather than a
// dashboard SDK: the JSON model it needs is small, and Grafana's
// foundation SDK would add a large dependency for eight panels.

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

// namespaces filters every query by the $namespace variable.
const namespaces = `namespace=~"$namespace"`

// Dashboard is certstatus's Grafana dashboard.
func Dashboard() Grafana {
	table := func(id int, title, description, expr string, pos gridPos, hidden ...string) Panel {
		exclude := map[string]bool{"Time": true, "__name__": true, "job": true}
		for _, h := range hidden {
			exclude[h] = true
		}
		return Panel{ID: id, Type: "table", Title: title, Description: description, GridPos: pos, Datasource: prometheus,
			Targets:    []Target{{RefID: "A", Expr: expr, Instant: true, Format: "table"}},
			Transforms: []any{map[string]any{"id": "organize", "options": map[string]any{"excludeByName": exclude}}},
		}
	}
	series := func(id int, title, description string, pos gridPos, unit string, targets ...Target) Panel {
		return Panel{ID: id, Type: "timeseries", Title: title, Description: description, GridPos: pos, Datasource: prometheus,
			Targets: targets, FieldConfig: map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}}}
	}
	return Grafana{
		Title: "certstatus: certificates", UID: "certstatus", Tags: []string{"certstatus", "certificates"},
		SchemaVersion: 39, Time: timeRange{From: "now-7d", To: "now"}, Refresh: "1m",
		Templating: templating{List: []variable{
			{Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus"},
			{Name: "namespace", Label: "Namespace", Type: "query", Datasource: &prometheus, IncludeAll: true, Multi: true, Refresh: 2,
				Query: "label_values(certstatus_secret_state, namespace)"},
		}},
		Panels: []Panel{
			table(1, "Soonest expiries", "The 20 Secrets whose certificates expire first: seconds left (negative: expired).",
				`sort(bottomk(20, max without (instance, pod) (certstatus_secret_not_after_seconds{`+namespaces+`}) - time()))`,
				gridPos{H: 10, W: 12, X: 0, Y: 0}),
			table(2, "Invalid Secrets", "Secrets in state Invalid, with what is wrong: chain Broken, key_pair Mismatch, or neither (no readable certificate).",
				`max without (instance, pod) (certstatus_secret_info{`+namespaces+`}) * on (namespace, secret) group_left () (max without (instance, pod) (certstatus_secret_state{state="Invalid",`+namespaces+`}) == 1)`,
				gridPos{H: 10, W: 12, X: 12, Y: 0}, "Value"),
			series(3, "Secrets by state", "How many Secrets are in each state over time.", gridPos{H: 8, W: 12, X: 0, Y: 10}, "short",
				Target{RefID: "A", Expr: `sum by (state) (max without (instance, pod) (certstatus_secret_state{` + namespaces + `}))`, LegendFormat: "{{state}}"}),
			table(4, "Per namespace", "Secrets per namespace and state.",
				`sum by (namespace, state) (max without (instance, pod) (certstatus_secret_state{`+namespaces+`}) == 1)`,
				gridPos{H: 8, W: 12, X: 12, Y: 10}),
			series(5, "Certificates by state", "Every certificate found (chains and bundles), by its own state.", gridPos{H: 8, W: 12, X: 0, Y: 18}, "short",
				Target{RefID: "A", Expr: `sum by (state) (max without (instance, pod) (certstatus_secret_certificates{` + namespaces + `}))`, LegendFormat: "{{state}}"}),
			series(6, "Server: replicas up, Secrets cached, watchers", "Replicas scraped successfully, Secrets in the cache and open watches per replica.", gridPos{H: 8, W: 12, X: 12, Y: 18}, "short",
				Target{RefID: "A", Expr: `sum(up{job="certstatus-apiserver"})`, LegendFormat: "replicas up"},
				Target{RefID: "B", Expr: `certstatus_cached_secrets`, LegendFormat: "Secrets cached {{instance}}"},
				Target{RefID: "C", Expr: `certstatus_watchers`, LegendFormat: "watchers {{instance}}"}),
			series(7, "Server: analysis time (p99) and Secrets analysed", "How long one Secret's analysis takes, and how many are analysed per second.", gridPos{H: 8, W: 12, X: 0, Y: 26}, "s",
				Target{RefID: "A", Expr: `histogram_quantile(0.99, sum by (le, instance) (rate(certstatus_secret_analysis_duration_seconds_bucket[5m])))`, LegendFormat: "p99 {{instance}}"},
				Target{RefID: "B", Expr: `sum by (instance) (rate(certstatus_secret_analyses_total[5m]))`, LegendFormat: "analyses/s {{instance}}"}),
			series(8, "Server: trouble", "Informers not synced, reads refused by RBAC, watchers closed for falling behind, clock queue.", gridPos{H: 8, W: 12, X: 12, Y: 26}, "short",
				Target{RefID: "A", Expr: `1 - certstatus_informer_synced`, LegendFormat: "not synced {{resource}} {{instance}}"},
				Target{RefID: "B", Expr: `sum by (resource) (increase(certstatus_forbidden_reads_total[15m]))`, LegendFormat: "forbidden {{resource}}"},
				Target{RefID: "C", Expr: `increase(certstatus_watchers_closed_behind_total[15m])`, LegendFormat: "watchers closed {{instance}}"},
				Target{RefID: "D", Expr: `certstatus_clock_queue_length`, LegendFormat: "clock queue {{instance}}"}),
		},
	}
}
