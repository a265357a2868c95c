package deploy

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The chart and artifacts/deploy (kustomize) are written separately; this
// test keeps them from drifting. With the chart's defaults and the release
// and namespace the kustomize install uses, both must install the same
// objects, except for what differs on purpose:
//   - the serving pair: kustomize lets each pod make a self-signed certificate
//     (--cert-dir, a writable /tmp, insecureSkipTLSVerify); the chart ships a
//     verified pair (a Secret mounted at /etc/certstatus/serving, caBundle);
//   - the Namespace: Helm installs into one (--create-namespace);
//   - Helm's release labels and the image tag (latest vs the chart's appVersion).
func TestChartMatchesKustomize(t *testing.T) {
	chart := normalize(t, decodeAll(t, render(t, "certstatus", "certstatus")))
	kustomize := normalize(t, decodeAll(t, kubectl(t, "", "kustomize", filepath.Join(env.root, "artifacts", "deploy"))))

	for _, key := range sortedKeys(chart, kustomize) {
		c, inChart := chart[key]
		k, inKustomize := kustomize[key]
		switch {
		case !inChart:
			t.Errorf("%s is installed by artifacts/deploy but not by the chart", key)
		case !inKustomize:
			t.Errorf("%s is installed by the chart but not by artifacts/deploy", key)
		case c != k:
			t.Errorf("%s differs\n--- chart:\n%s\n--- artifacts/deploy:\n%s", key, c, k)
		}
	}
	if len(chart) < 10 {
		t.Errorf("the chart renders only %d comparable objects; the comparison is not looking at the install", len(chart))
	}
}

func decodeAll(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	decoder := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var objects []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := decoder.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return objects
			}
			t.Fatalf("decode manifest: %v", err)
		}
		if obj != nil {
			objects = append(objects, &unstructured.Unstructured{Object: obj})
		}
	}
}

// normalize drops what differs on purpose (see above) and returns each
// object as YAML keyed by kind/namespace/name.
func normalize(t *testing.T, objects []*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, obj := range objects {
		switch obj.GetKind() {
		case "Namespace", "Secret":
			continue
		case "APIService":
			unstructured.RemoveNestedField(obj.Object, "spec", "caBundle")
			unstructured.RemoveNestedField(obj.Object, "spec", "insecureSkipTLSVerify")
		case "Deployment":
			normalizeDeployment(t, obj)
		}
		obj.SetLabels(withoutReleaseLabels(obj.GetLabels()))
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatalf("marshal %s: %v", obj.GetName(), err)
		}
		out[obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName()] = string(data)
	}
	return out
}

func normalizeDeployment(t *testing.T, obj *unstructured.Unstructured) {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	for i := range containers {
		c := containers[i].(map[string]any)
		var args []any
		for _, arg := range c["args"].([]any) {
			s := arg.(string)
			if !strings.HasPrefix(s, "--cert-dir=") && !strings.HasPrefix(s, "--tls-cert-file=") && !strings.HasPrefix(s, "--tls-private-key-file=") {
				args = append(args, arg)
			}
		}
		c["args"] = args
		if image, ok := c["image"].(string); ok {
			c["image"] = image[:strings.LastIndex(image, ":")]
		}
		c["volumeMounts"] = withoutServingVolumes(c["volumeMounts"])
		if len(c["volumeMounts"].([]any)) == 0 {
			delete(c, "volumeMounts")
		}
	}
	must(t, unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers"))
	volumes, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "volumes")
	if volumes = withoutServingVolumes(volumes).([]any); len(volumes) == 0 {
		unstructured.RemoveNestedField(obj.Object, "spec", "template", "spec", "volumes")
	} else {
		must(t, unstructured.SetNestedSlice(obj.Object, volumes, "spec", "template", "spec", "volumes"))
	}
}

// withoutServingVolumes drops the volumes (and mounts) that hold the serving
// pair: "serving-cert" (chart) and "tmp" (kustomize's --cert-dir).
func withoutServingVolumes(list any) any {
	items, _ := list.([]any)
	kept := []any{}
	for _, item := range items {
		if name := item.(map[string]any)["name"]; name != "serving-cert" && name != "tmp" {
			kept = append(kept, item)
		}
	}
	return kept
}

func withoutReleaseLabels(labels map[string]string) map[string]string {
	for _, key := range []string{"app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart"} {
		delete(labels, key)
	}
	return labels
}

func sortedKeys(maps ...map[string]string) []string {
	var keys []string
	for _, m := range maps {
		for key := range m {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The chart's monitoring objects carry the same rules and grants as
// artifacts/monitoring (the chart holds copies of the generated files, which
// hack/verify-monitoring.sh keeps current).
func TestChartMonitoringMatchesArtifacts(t *testing.T) {
	chart := map[string]*unstructured.Unstructured{}
	for _, obj := range decodeAll(t, render(t, "certstatus", "certstatus", "--set", "metrics.prometheusRule.enabled=true",
		"--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.readers[0].name=prometheus",
		"--set", "metrics.readers[0].namespace=monitoring")) {
		if obj.GetKind() != "ClusterRole" || strings.HasSuffix(obj.GetName(), "-metrics-reader") {
			chart[obj.GetKind()] = obj
		}
	}
	artifacts := map[string]*unstructured.Unstructured{}
	for _, obj := range decodeAll(t, kubectl(t, "", "kustomize", filepath.Join(env.root, "artifacts", "monitoring"))) {
		artifacts[obj.GetKind()] = obj
	}
	for _, field := range [][]string{
		{"PrometheusRule", "spec"},
		{"ClusterRole", "rules"},
		{"ServiceMonitor", "spec", "endpoints"},
	} {
		kind, path := field[0], field[1:]
		c, a := chart[kind], artifacts[kind]
		if c == nil || a == nil {
			t.Errorf("%s: in the chart %v, in artifacts/monitoring %v", kind, c != nil, a != nil)
			continue
		}
		if kind == "ServiceMonitor" {
			// The CA Secret differs on purpose: the chart's serving Secret holds it.
			for _, obj := range []*unstructured.Unstructured{c, a} {
				endpoints, _, _ := unstructured.NestedSlice(obj.Object, path...)
				for _, e := range endpoints {
					unstructured.RemoveNestedField(e.(map[string]any), "tlsConfig", "ca")
				}
				must(t, unstructured.SetNestedSlice(obj.Object, endpoints, path...))
			}
		}
		cv, _, _ := unstructured.NestedFieldNoCopy(c.Object, path...)
		av, _, _ := unstructured.NestedFieldNoCopy(a.Object, path...)
		cy, _ := yaml.Marshal(cv)
		ay, _ := yaml.Marshal(av)
		if string(cy) != string(ay) || len(cy) < 20 {
			t.Errorf("%s %v differs\n--- chart:\n%s\n--- artifacts/monitoring:\n%s", kind, path, cy, ay)
		}
	}
}

// events.enabled grants what artifacts/events grants (create on
// events.k8s.io events, nothing else) and turns --events on; the default
// install (TestChartMatchesKustomize) has neither.
func TestChartEventsMatchArtifacts(t *testing.T) {
	chart := normalize(t, decodeAll(t, render(t, "certstatus", "certstatus", "--set", "events.enabled=true", "--set", "events.maxAge=30m")))
	artifacts := normalize(t, decodeAll(t, kubectl(t, "", "kustomize", filepath.Join(env.root, "artifacts", "events"))))
	if len(artifacts) != 2 {
		t.Fatalf("artifacts/events installs %d objects, want a ClusterRole and its binding", len(artifacts))
	}
	for key, a := range artifacts {
		if c := chart[key]; c != a {
			t.Errorf("%s differs\n--- chart:\n%s\n--- artifacts/events:\n%s", key, c, a)
		}
	}
	deployment := chart["Deployment certstatus/certstatus-apiserver"]
	for _, arg := range []string{"- --events\n", "- --events-max-age=30m\n"} {
		if !strings.Contains(deployment, arg) {
			t.Errorf("with events.enabled the Deployment has no %q:\n%s", arg, deployment)
		}
	}
	defaults := render(t, "certstatus", "certstatus")
	if strings.Contains(defaults, "--events") || strings.Contains(defaults, "events.k8s.io") {
		t.Error("the default rendering enables Events or grants them")
	}
}
