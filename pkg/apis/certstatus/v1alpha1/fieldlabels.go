package v1alpha1

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// addFieldLabelConversions makes the apiserver accept exactly the field labels
// pkg/apis/certstatus lists for each kind in a field selector, and answer 400
// naming them for anything else.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	for kind, supported := range map[string][]string{
		"CertificateStatus":          certstatus.FieldLabels(),
		"ConfigMapCertificateStatus": certstatus.ConfigMapFieldLabels(),
		"ClusterCertificateStatus":   certstatus.ClusterFieldLabels(),
	} {
		err := scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind(kind),
			func(label, value string) (string, string, error) {
				if slices.Contains(supported, label) {
					return label, value, nil
				}
				return "", "", fmt.Errorf("field label %q is not supported for %s; supported: %s",
					label, kind, strings.Join(supported, ", "))
			})
		if err != nil {
			return err
		}
	}
	return nil
}
