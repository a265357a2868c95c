package v1alpha1

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// FieldLabels are the field selectors CertificateStatus supports, for list and watch.
var FieldLabels = []string{"metadata.name", "metadata.namespace", "status.state", "status.secretType"}

// addFieldLabelConversions makes the apiserver accept exactly FieldLabels in a
// field selector and answer 400 naming them for anything else.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("CertificateStatus"),
		func(label, value string) (string, string, error) {
			for _, supported := range FieldLabels {
				if label == supported {
					return label, value, nil
				}
			}
			return "", "", fmt.Errorf("field label %q is not supported for CertificateStatus; supported: %s",
				label, strings.Join(FieldLabels, ", "))
		})
}
