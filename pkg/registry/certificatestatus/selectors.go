package certificatestatus

import (
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// getAttrs is what selectors see of an object. The apiserver has already
// refused any field a field selector cannot name (v1alpha1's field label
// conversion, from the same certstatus.FieldLabels).
func getAttrs(object runtime.Object) (labels.Set, fields.Set, error) {
	status := object.(*certstatus.CertificateStatus)
	return labels.Set(status.Labels), certstatus.FieldSet(status), nil
}

// matcher turns the request's selectors into one predicate, the same for
// list and watch; nil when they select everything.
func matcher(options *metainternalversion.ListOptions) func(*certstatus.CertificateStatus) bool {
	predicate := storage.SelectionPredicate{Label: labels.Everything(), Field: fields.Everything(), GetAttrs: getAttrs}
	if options != nil && options.LabelSelector != nil {
		predicate.Label = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		predicate.Field = options.FieldSelector
	}
	if predicate.Empty() {
		return nil
	}
	return func(object *certstatus.CertificateStatus) bool {
		matches, _ := predicate.Matches(object) // getAttrs never fails
		return matches
	}
}
