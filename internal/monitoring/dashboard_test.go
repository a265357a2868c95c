package monitoring

import (
	"regexp"
	"strings"
	"testing"
)

// perSecret matches a selector of a per-Secret family (not a recorded series).
var perSecret = regexp.MustCompile(`(^|[^:_a-z])certstatus_(?:secret|configmap)_(state|not_after_seconds|not_before_seconds|expiring_soon_at_seconds|critical_at_seconds|info|certificates|hosts_not_covered|used)\{`)

// The dashboard's queries hold at 10 000 Secrets and in any install: time
// series and variables read recorded series only, per-Secret families are
// collapsed over replicas whatever the scrape calls them, every query
// follows $cluster, and none names a job, release or install namespace.
func TestDashboardQueriesAreCheapAndIndependentOfTheInstall(t *testing.T) {
	recorded := map[string]bool{}
	for _, group := range Rules(DefaultOptions()) {
		for _, rule := range group.Rules {
			if rule.Record != "" {
				recorded[rule.Record] = true
			}
		}
	}
	d := Dashboard()
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if perSecret.MatchString(v.Query) {
			t.Errorf("variable %s reads a per-Secret family: %s", v.Name, v.Query)
		}
		if v.AllValue != ".*" {
			t.Errorf("variable %s: All is %q; .* also matches series without the label", v.Name, v.AllValue)
		}
	}
	for _, panel := range d.Panels {
		for _, target := range panel.Targets {
			expr := target.Expr
			if !strings.Contains(expr, `cluster=~"$cluster"`) {
				t.Errorf("%s: %s does not follow $cluster", panel.Title, expr)
			}
			if strings.Contains(expr, "job=") || strings.Contains(expr, "certstatus-apiserver") {
				t.Errorf("%s: %s depends on the scrape job", panel.Title, expr)
			}
			if !target.Instant && perSecret.MatchString(expr) {
				t.Errorf("%s: the time series query %s reads a per-Secret family over the whole range; read a recorded series", panel.Title, expr)
			}
			for _, m := range perSecret.FindAllStringIndex(expr, -1) {
				if !strings.HasSuffix(expr[:m[0]+1], oneReplica+"(") && !strings.HasSuffix(expr[:m[0]], oneReplica+"(") {
					t.Errorf("%s: %s: a per-Secret family not collapsed over replicas", panel.Title, expr)
				}
			}
			for _, name := range regexp.MustCompile(`[a-z_]+:[a-z_]+:[a-z]+`).FindAllString(expr, -1) {
				if !recorded[name] {
					t.Errorf("%s: %s reads %s, which no recording rule records", panel.Title, expr, name)
				}
			}
		}
	}
}

// Soonest expiries shows what expires next, never what expired, as dates;
// expired Secrets have their own panel.
func TestSoonestExpiriesShowsOnlyWhatIsNotExpiredYet(t *testing.T) {
	var soonest, expired *Panel
	for i, p := range Dashboard().Panels {
		switch p.Title {
		case "Soonest expiries":
			soonest = &Dashboard().Panels[i]
		case "Expired":
			expired = &Dashboard().Panels[i]
		}
	}
	if soonest == nil || expired == nil {
		t.Fatal("no Soonest expiries or Expired panel")
	}
	for _, target := range soonest.Targets {
		if !strings.Contains(target.Expr, "> time()") {
			t.Errorf("Soonest expiries: %s does not leave out expired Secrets", target.Expr)
		}
	}
	for _, target := range expired.Targets {
		if !strings.Contains(target.Expr, "<= time()") {
			t.Errorf("Expired: %s", target.Expr)
		}
	}
	units := map[string]bool{}
	for _, override := range soonest.FieldConfig["overrides"].([]any) {
		for _, property := range override.(map[string]any)["properties"].([]any) {
			if p := property.(map[string]any); p["id"] == "unit" {
				units[p["value"].(string)] = true
			}
		}
	}
	if !units["dateTimeAsIso"] || !units["dateTimeFromNow"] {
		t.Errorf("Soonest expiries shows no date and time left: units %v", units)
	}
}
