// +k8s:deepcopy-gen=package
// +groupName=certstatus.dev

// Package certstatus is the internal version of the certstatus.dev API. The
// analysis and the storage work on these types; the apiserver converts them
// to the served version (v1alpha1) on the way out.
package certstatus
