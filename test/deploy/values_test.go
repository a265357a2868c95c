package deploy

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Bad values are refused by `helm template` (values.schema.json, or the
// templates where a schema cannot know), with a message naming what is
// wrong, so nothing broken is ever installed.
func TestChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want []string // each must appear in helm's error
	}{
		{"a typo at the top", []string{"replicaCont=3"}, []string{"replicaCont"}},
		{"a typo deep down", []string{"metrics.serviceMonitor.intervall=10s"}, []string{"intervall"}},
		{"the removed servingCert.validityDays", []string{"servingCert.validityDays=10"}, []string{"validityDays"}},
		{"an unknown servingCert.mode", []string{"servingCert.mode=insecure"}, []string{"servingCert", "selfSigned"}},
		{"an unknown source", []string{"sources={secrets,crds}"}, []string{"sources"}},
		{"an unknown usedBy kind", []string{"usedBy={Ingress,Service}"}, []string{"usedBy"}},
		{"a rule override's expression", []string{"metrics.prometheusRule.overrides.CertificateExpired.expr=vector(1)"}, []string{"expr"}},
		{"a rule override's for that is no duration", []string{"metrics.prometheusRule.overrides.CertificateExpired.for=5 minutes"}, []string{"for"}},
		{"a rule override's unknown severity", []string{"metrics.prometheusRule.overrides.CertificateExpired.severity=page"}, []string{"severity"}},
		{"severity through a rule override's labels", []string{"metrics.prometheusRule.overrides.CertificateExpired.labels.severity=info"}, []string{"severity"}},
		{"an override of an alert the rules do not hold", []string{"metrics.prometheusRule.enabled=true", "metrics.prometheusRule.overrides.CertificateExpird.enabled=false"},
			[]string{"overrides.CertificateExpird", "no alert of that name", "CertificateExpired"}},
		{"a scrapeTimeout that is no duration", []string{"metrics.serviceMonitor.scrapeTimeout=10 s"}, []string{"scrapeTimeout"}},
		{"a NetworkPolicy without apiserverSources", []string{"networkPolicy.enabled=true"}, []string{"apiserverSources"}},
		{"no ServiceAccount to create and none named", []string{"serviceAccount.create=false"}, []string{"name"}},
		{"renewBeforeDays not below validityDays", []string{"servingCert.selfSigned.renewBeforeDays=365"}, []string{"renewBeforeDays", "validityDays"}},
		{"the server's own memory variable in extraEnv", []string{"extraEnv[0].name=CERTSTATUS_MEMORY_LIMIT", "extraEnv[0].value=1"}, []string{"extraEnv"}},
		{"a probe period of zero", []string{"readinessProbe.periodSeconds=0"}, []string{"periodSeconds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", "certstatus", chartDir(), "--namespace", "certstatus", "--kube-version", kubeVersion}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, err := helmCommand(t, args...)
			if err == nil {
				t.Fatalf("helm template --set %v succeeded; want it refused", tc.set)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("helm's error does not name %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "kind: Deployment") {
				t.Errorf("helm printed a rendering:\n%s", out)
			}
		})
	}
}

// The overrides change exactly what they name, on the rules file as it is
// (whatever rules it holds), and never an expression.
func TestChartRuleOverrides(t *testing.T) {
	var file struct {
		Groups []struct {
			Name  string           `json:"name"`
			Rules []map[string]any `json:"rules"`
		} `json:"groups"`
	}
	data, err := os.ReadFile(filepath.Join(chartDir(), "files", "certstatus.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, yaml.Unmarshal(data, &file))
	shipped := map[string]map[string]any{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if name, ok := r["alert"].(string); ok {
				shipped[name] = r
			}
		}
	}
	// Two alerts the file has, whatever they are called today.
	names := slices.Sorted(maps.Keys(shipped))
	if len(names) < 2 {
		t.Fatalf("the rules file holds %d alerts; want at least two", len(shipped))
	}
	disabled, changed := names[0], names[1]

	manifest := render(t, "certstatus", "certstatus", "--set", "metrics.prometheusRule.enabled=true",
		"--set", "metrics.prometheusRule.ruleLabels.team=platform",
		"--set", "metrics.prometheusRule.overrides."+disabled+".enabled=false",
		"--set", "metrics.prometheusRule.overrides."+changed+".for=42m",
		"--set", "metrics.prometheusRule.overrides."+changed+".severity=info",
		"--set", "metrics.prometheusRule.overrides."+changed+".labels.routing=tickets")
	rendered := map[string]map[string]any{}
	for _, obj := range decodeAll(t, manifest) {
		if obj.GetKind() != "PrometheusRule" {
			continue
		}
		groups, _, _ := unstructured.NestedSlice(obj.Object, "spec", "groups")
		for _, g := range groups {
			for _, r := range g.(map[string]any)["rules"].([]any) {
				rule := r.(map[string]any)
				if name, ok := rule["alert"].(string); ok {
					rendered[name] = rule
				}
			}
		}
	}
	if _, ok := rendered[disabled]; ok {
		t.Errorf("%s is rendered although its override disables it", disabled)
	}
	if len(rendered) != len(shipped)-1 {
		t.Errorf("rendered %d alerts, want the %d shipped minus one", len(rendered), len(shipped))
	}
	for name, rule := range rendered {
		want := shipped[name]
		labels, _ := rule["labels"].(map[string]any)
		if labels["team"] != "platform" {
			t.Errorf("%s: labels %v lack ruleLabels' team=platform", name, labels)
		}
		if rule["expr"] != want["expr"] {
			t.Errorf("%s: expr changed:\n%v\nwant\n%v", name, rule["expr"], want["expr"])
		}
		if name == changed {
			if rule["for"] != "42m" || labels["severity"] != "info" || labels["routing"] != "tickets" {
				t.Errorf("%s: for %v, labels %v; want for 42m, severity info, routing tickets", name, rule["for"], labels)
			}
			continue
		}
		wantLabels, _ := want["labels"].(map[string]any)
		delete(labels, "team")
		if rule["for"] != want["for"] || !reflect.DeepEqual(labels, wantLabels) || !reflect.DeepEqual(rule["annotations"], want["annotations"]) {
			t.Errorf("%s changed without an override:\n%v\nwant\n%v", name, rule, want)
		}
	}
}

// cert-manager mode renews only the serving certificate: the chart's own CA
// never rotates its key and lives long, the serving certificate is signed by
// it, and the caBundle is injected from the serving certificate's Secret
// (whose ca.crt is that CA).
func TestChartCertManagerKeepsTheCA(t *testing.T) {
	objects := map[string]*unstructured.Unstructured{}
	for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus", "--set", "servingCert.mode=certManager")) {
		objects[obj.GetKind()+"/"+obj.GetName()] = obj
	}
	field := func(key string, path ...string) any {
		t.Helper()
		obj := objects[key]
		if obj == nil {
			t.Fatalf("no %s in the rendering", key)
		}
		v, _, _ := unstructured.NestedFieldCopy(obj.Object, path...)
		return v
	}
	const ca, leaf = "Certificate/certstatus-apiserver-serving-ca", "Certificate/certstatus-apiserver-serving-cert"
	if field(ca, "spec", "isCA") != true || field(ca, "spec", "privateKey", "rotationPolicy") != "Never" {
		t.Errorf("the CA Certificate: isCA %v, rotationPolicy %v; want true, Never", field(ca, "spec", "isCA"), field(ca, "spec", "privateKey", "rotationPolicy"))
	}
	if field(ca, "spec", "duration") != "87600h" || field(ca, "spec", "issuerRef", "name") != "certstatus-apiserver-selfsigned" {
		t.Errorf("the CA Certificate: duration %v, issuer %v; want 87600h from the self-signed Issuer",
			field(ca, "spec", "duration"), field(ca, "spec", "issuerRef", "name"))
	}
	if field("Issuer/certstatus-apiserver-selfsigned", "spec", "selfSigned") == nil {
		t.Errorf("Issuer certstatus-apiserver-selfsigned is not self-signed")
	}
	if got := field("Issuer/certstatus-apiserver-ca", "spec", "ca", "secretName"); got != field(ca, "spec", "secretName") {
		t.Errorf("the CA Issuer signs with Secret %v, not the CA Certificate's", got)
	}
	if field(leaf, "spec", "issuerRef", "name") != "certstatus-apiserver-ca" || field(leaf, "spec", "isCA") != nil {
		t.Errorf("the serving Certificate is issued by %v (isCA %v); want the CA Issuer", field(leaf, "spec", "issuerRef", "name"), field(leaf, "spec", "isCA"))
	}
	if field(leaf, "spec", "privateKey", "rotationPolicy") != "Always" || field(leaf, "spec", "renewBefore") != "720h" {
		t.Errorf("the serving Certificate: rotationPolicy %v, renewBefore %v; want Always, 720h",
			field(leaf, "spec", "privateKey", "rotationPolicy"), field(leaf, "spec", "renewBefore"))
	}
	if got := field("APIService/v1alpha1.certstatus.dev", "metadata", "annotations", "cert-manager.io/inject-ca-from"); got != "certstatus/certstatus-apiserver-serving-cert" {
		t.Errorf("the APIService's caBundle is injected from %v", got)
	}
	// With an issuer of the user's, the chart runs no CA of its own.
	for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus", "--set", "servingCert.mode=certManager",
		"--set", "servingCert.certManager.issuerRef.name=cluster-ca", "--set", "servingCert.certManager.issuerRef.kind=ClusterIssuer")) {
		if obj.GetKind() == "Issuer" || (obj.GetKind() == "Certificate" && obj.GetName() != "certstatus-apiserver-serving-cert") {
			t.Errorf("with issuerRef the chart renders %s %s", obj.GetKind(), obj.GetName())
		}
	}
}

// The options that change the pod: spread over zones and nodes, security
// contexts and probes from values, extra environment, names.
func TestChartPodOptions(t *testing.T) {
	deployment := func(args ...string) *unstructured.Unstructured {
		t.Helper()
		for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus", args...)) {
			if obj.GetKind() == "Deployment" {
				return obj
			}
		}
		t.Fatal("no Deployment")
		return nil
	}
	d := deployment()
	spread, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "topologySpreadConstraints")
	var keys []string
	for _, c := range spread {
		keys = append(keys, c.(map[string]any)["topologyKey"].(string))
	}
	if !reflect.DeepEqual(keys, []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"}) {
		t.Errorf("topology spread keys %v; want zone, then hostname", keys)
	}
	if v, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "priorityClassName"); v != "" {
		t.Errorf("priorityClassName %q by default; want none", v)
	}

	d = deployment("-f", allOptions())
	spec := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	container := spec["containers"].([]any)[0].(map[string]any)
	if got := spec["securityContext"].(map[string]any)["runAsUser"]; got != int64(10001) && got != float64(10001) {
		t.Errorf("pod securityContext.runAsUser %v; want podSecurityContext's 10001", got)
	}
	if got := spec["serviceAccountName"]; got != "certstatus-sa" {
		t.Errorf("serviceAccountName %v; want serviceAccount.name", got)
	}
	if probe := container["readinessProbe"].(map[string]any); probe["periodSeconds"] != int64(10) && probe["periodSeconds"] != float64(10) {
		t.Errorf("readinessProbe %v; want readinessProbe.periodSeconds 10", probe)
	}
	env, _ := yaml.Marshal(container["env"])
	if !strings.Contains(string(env), "name: GOGC") || !strings.Contains(string(env), "CERTSTATUS_MEMORY_LIMIT") {
		t.Errorf("env lacks extraEnv's GOGC or the memory limit:\n%s", env)
	}
	if labels := d.GetLabels(); labels["app.kubernetes.io/name"] != "certstatus-server" {
		t.Errorf("labels %v; want nameOverride in app.kubernetes.io/name", labels)
	}

	// serviceAccount.create=false: no ServiceAccount, RBAC bound to the named one.
	manifest := render(t, "certstatus", "certstatus", "--set", "serviceAccount.create=false", "--set", "serviceAccount.name=existing")
	for _, obj := range decodeAll(t, manifest) {
		if obj.GetKind() == "ServiceAccount" {
			t.Errorf("serviceAccount.create=false renders ServiceAccount %s", obj.GetName())
		}
	}
	if !strings.Contains(manifest, "serviceAccountName: existing") || strings.Count(manifest, "name: existing\n") < 3 {
		t.Errorf("the Deployment and the bindings do not all name ServiceAccount existing:\n%s", manifest)
	}
}

// The ServiceMonitor reads no file in Prometheus's pod: it names the token
// Secret of a scraper ServiceAccount of its own, which may read /metrics.
func TestChartServiceMonitorUsesAScraperToken(t *testing.T) {
	objects := map[string]*unstructured.Unstructured{}
	for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus", "--set", "metrics.serviceMonitor.enabled=true")) {
		objects[obj.GetKind()+"/"+obj.GetName()] = obj
	}
	sm := objects["ServiceMonitor/certstatus-apiserver"]
	secret := objects["Secret/certstatus-apiserver-scraper-token"]
	binding := objects["ClusterRoleBinding/certstatus-apiserver-metrics-reader"]
	if sm == nil || secret == nil || binding == nil || objects["ServiceAccount/certstatus-apiserver-scraper"] == nil {
		t.Fatalf("want a ServiceMonitor, the scraper ServiceAccount, its token Secret and the metrics-reader binding; have %v", keysOf(objects))
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	endpoint := endpoints[0].(map[string]any)
	if _, ok := endpoint["bearerTokenFile"]; ok {
		t.Errorf("the ServiceMonitor still reads bearerTokenFile")
	}
	name, _, _ := unstructured.NestedString(endpoint, "authorization", "credentials", "name")
	key, _, _ := unstructured.NestedString(endpoint, "authorization", "credentials", "key")
	if name != secret.GetName() || key != "token" {
		t.Errorf("authorization.credentials %s/%s; want %s/token", name, key, secret.GetName())
	}
	if typ, _, _ := unstructured.NestedString(secret.Object, "type"); typ != "kubernetes.io/service-account-token" ||
		secret.GetAnnotations()["kubernetes.io/service-account.name"] != "certstatus-apiserver-scraper" {
		t.Errorf("the token Secret is %s for %q", typ, secret.GetAnnotations()["kubernetes.io/service-account.name"])
	}
	subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
	bound := false
	for _, s := range subjects {
		if s.(map[string]any)["name"] == "certstatus-apiserver-scraper" {
			bound = true
		}
	}
	if !bound {
		t.Errorf("the scraper is not bound to the metrics reader role: %v", subjects)
	}
}

// The NetworkPolicy admits the named sources to the server's port only.
func TestChartNetworkPolicy(t *testing.T) {
	for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus")) {
		if obj.GetKind() == "NetworkPolicy" {
			t.Fatalf("a NetworkPolicy by default")
		}
	}
	var policy *unstructured.Unstructured
	for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus", "-f", allOptions())) {
		if obj.GetKind() == "NetworkPolicy" {
			policy = obj
		}
	}
	if policy == nil {
		t.Fatal("no NetworkPolicy with networkPolicy.enabled")
	}
	got, _ := yaml.Marshal(policy.Object["spec"])
	want := `ingress:
- from:
  - ipBlock:
      cidr: 10.0.0.0/24
  ports:
  - port: https
    protocol: TCP
- from:
  - namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: monitoring
    podSelector:
      matchLabels:
        app.kubernetes.io/name: prometheus
  ports:
  - port: https
    protocol: TCP
podSelector:
  matchLabels:
    app.kubernetes.io/component: apiserver
    app.kubernetes.io/name: certstatus-server
policyTypes:
- Ingress
`
	if string(got) != want {
		t.Errorf("NetworkPolicy spec:\n%s\nwant:\n%s", got, want)
	}
}

func keysOf[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
