package certificatestatus

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// List is what REST.List answers: CertificateStatuses whose statuses may
// still have to be built (see computed.List).
type List = computed.List[certstatus.CertificateStatus, *certstatus.CertificateStatus]

// lists is the kind's list: its name, and its registered list type.
var lists = computed.ListDescriptor[certstatus.CertificateStatus, *certstatus.CertificateStatus]{
	Kind:   "CertificateStatusList",
	Status: func(o *certstatus.CertificateStatus) *certstatus.CertificateStatusStatus { return &o.Status },
	Registered: func(meta metav1.ListMeta, items []certstatus.CertificateStatus) runtime.Object {
		return &certstatus.CertificateStatusList{ListMeta: meta, Items: items}
	},
}

// NewList is a List of items that hold their statuses.
func NewList(list *certstatus.CertificateStatusList) *List {
	return lists.Of(list.ListMeta, list.Items)
}
