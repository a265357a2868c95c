// +k8s:deepcopy-gen=package
// +k8s:protobuf-gen=package
// +k8s:conversion-gen=github.com/certstatus/certstatus/pkg/apis/certstatus
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=dev.certstatus.v1alpha1
// +groupName=certstatus.dev

// Package v1alpha1 is the served version of the certstatus.dev API: a
// read-only view of the health of X.509 certificates kept in Secrets.
package v1alpha1
