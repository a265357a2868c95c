package certstatus

import "k8s.io/apimachinery/pkg/fields"

// selectableField is a field a field selector can name, with how it is read.
type selectableField[T any] struct {
	label string
	value func(*T) string
}

// selectableFields are the fields of one kind, in the order the refusal of
// another lists them: the one list that both the served version's field label
// conversion and the storage's selector read.
type selectableFields[T any] []selectableField[T]

func (s selectableFields[T]) labels() []string {
	labels := make([]string, len(s))
	for i, field := range s {
		labels[i] = field.label
	}
	return labels
}

func (s selectableFields[T]) set(object *T) fields.Set {
	set := make(fields.Set, len(s))
	for _, field := range s {
		set[field.label] = field.value(object)
	}
	return set
}

var certificateStatusFields = selectableFields[CertificateStatus]{
	{"metadata.name", func(o *CertificateStatus) string { return o.Name }},
	{"metadata.namespace", func(o *CertificateStatus) string { return o.Namespace }},
	{"status.state", func(o *CertificateStatus) string { return string(o.Status.State) }},
	{"status.secretType", func(o *CertificateStatus) string { return o.Status.SecretType }},
}

// ConfigMap keys are a list, and a field selector compares one value: none is selectable.
var configMapCertificateStatusFields = selectableFields[ConfigMapCertificateStatus]{
	{"metadata.name", func(o *ConfigMapCertificateStatus) string { return o.Name }},
	{"metadata.namespace", func(o *ConfigMapCertificateStatus) string { return o.Namespace }},
	{"status.state", func(o *ConfigMapCertificateStatus) string { return string(o.Status.State) }},
}

// Cluster-scoped: no metadata.namespace, as for kube-apiserver's cluster-scoped resources.
var clusterCertificateStatusFields = selectableFields[ClusterCertificateStatus]{
	{"metadata.name", func(o *ClusterCertificateStatus) string { return o.Name }},
	{"status.state", func(o *ClusterCertificateStatus) string { return string(o.Status.State) }},
	{"status.source.kind", func(o *ClusterCertificateStatus) string {
		if o.Status.Source == nil {
			return ""
		}
		return o.Status.Source.Kind
	}},
}

// FieldLabels are the field selectors CertificateStatus supports, for list and watch.
func FieldLabels() []string { return certificateStatusFields.labels() }

// FieldSet is what field selectors see of object.
func FieldSet(object *CertificateStatus) fields.Set { return certificateStatusFields.set(object) }

// ConfigMapFieldLabels are the field selectors ConfigMapCertificateStatus supports.
func ConfigMapFieldLabels() []string { return configMapCertificateStatusFields.labels() }

// ConfigMapFieldSet is what field selectors see of object.
func ConfigMapFieldSet(object *ConfigMapCertificateStatus) fields.Set {
	return configMapCertificateStatusFields.set(object)
}

// ClusterFieldLabels are the field selectors ClusterCertificateStatus supports.
func ClusterFieldLabels() []string { return clusterCertificateStatusFields.labels() }

// ClusterFieldSet is what field selectors see of object.
func ClusterFieldSet(object *ClusterCertificateStatus) fields.Set {
	return clusterCertificateStatusFields.set(object)
}
