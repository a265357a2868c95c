package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// TestFieldLabelConversions: each kind accepts exactly the field selectors
// docs/api.md lists for it, and refuses any other naming those.
func TestFieldLabelConversions(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	supported := map[string][]string{
		"CertificateStatus":          {"metadata.name", "metadata.namespace", "status.state", "status.secretType"},
		"ConfigMapCertificateStatus": {"metadata.name", "metadata.namespace", "status.state"},
		"ClusterCertificateStatus":   {"metadata.name", "status.state", "status.source.kind"},
	}
	every := []string{"metadata.name", "metadata.namespace", "status.state", "status.secretType",
		"status.source.kind", "status.configMapKeys", "spec.nodeName"}
	for kind, labels := range supported {
		gvk := SchemeGroupVersion.WithKind(kind)
		for _, label := range every {
			gotLabel, gotValue, err := scheme.ConvertFieldLabel(gvk, label, "v")
			want := strings.Contains(","+strings.Join(labels, ",")+",", ","+label+",")
			switch {
			case want && (err != nil || gotLabel != label || gotValue != "v"):
				t.Errorf("%s %s: got %q=%q, %v; want it accepted", kind, label, gotLabel, gotValue, err)
			case !want && err == nil:
				t.Errorf("%s %s: accepted", kind, label)
			case !want && !strings.Contains(err.Error(), "supported: "+strings.Join(labels, ", ")):
				t.Errorf("%s %s: %v does not name the supported labels", kind, label, err)
			}
		}
	}
}
