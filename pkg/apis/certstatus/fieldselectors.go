package certstatus

import "k8s.io/apimachinery/pkg/fields"

// selectableFields are the fields a field selector can name, in the order
// the refusal of another lists them, each with how it is read: the one list
// that both the served version's field label conversion and the storage's
// selector read.
var selectableFields = []struct {
	label string
	value func(*CertificateStatus) string
}{
	{"metadata.name", func(o *CertificateStatus) string { return o.Name }},
	{"metadata.namespace", func(o *CertificateStatus) string { return o.Namespace }},
	{"status.state", func(o *CertificateStatus) string { return string(o.Status.State) }},
	{"status.secretType", func(o *CertificateStatus) string { return o.Status.SecretType }},
}

// FieldLabels are the field selectors CertificateStatus supports, for list and watch.
func FieldLabels() []string {
	labels := make([]string, len(selectableFields))
	for i, field := range selectableFields {
		labels[i] = field.label
	}
	return labels
}

// FieldSet is what field selectors see of object.
func FieldSet(object *CertificateStatus) fields.Set {
	set := make(fields.Set, len(selectableFields))
	for _, field := range selectableFields {
		set[field.label] = field.value(object)
	}
	return set
}
