package certificatestatus

import (
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/registry/generic"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// fieldSet is what field selectors see of an object. The apiserver has
// already refused any other field (see v1alpha1's field label conversion).
func fieldSet(object *certstatus.CertificateStatus) fields.Set {
	set := generic.ObjectMetaFieldsSet(&object.ObjectMeta, true)
	set["status.state"] = string(object.Status.State)
	set["status.secretType"] = object.Status.SecretType
	return set
}

// matcher turns the request's selectors into one predicate, the same for list and watch.
func matcher(options *metainternalversion.ListOptions) func(*certstatus.CertificateStatus) bool {
	labelSelector, fieldSelector := labels.Everything(), fields.Everything()
	if options != nil && options.LabelSelector != nil {
		labelSelector = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		fieldSelector = options.FieldSelector
	}
	if labelSelector.Empty() && fieldSelector.Empty() {
		return nil
	}
	return func(object *certstatus.CertificateStatus) bool {
		return labelSelector.Matches(labels.Set(object.Labels)) && fieldSelector.Matches(fieldSet(object))
	}
}
