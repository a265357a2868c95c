package v1alpha1

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// addFieldLabelConversions makes the apiserver accept exactly
// certstatus.FieldLabels in a field selector and answer 400 naming them for
// anything else.
func addFieldLabelConversions(scheme *runtime.Scheme) error {
	supported := certstatus.FieldLabels()
	return scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind("CertificateStatus"),
		func(label, value string) (string, string, error) {
			if slices.Contains(supported, label) {
				return label, value, nil
			}
			return "", "", fmt.Errorf("field label %q is not supported for CertificateStatus; supported: %s",
				label, strings.Join(supported, ", "))
		})
}
