// Package clustercertificatestatus is the clustercertificatestatuses kind
// (ccst), computed from the caBundles of API registrations: its names,
// scope, list, table and selectable fields. The storage itself is
// pkg/registry/computed's, the same for every computed kind.
package clustercertificatestatus

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

type (
	object = certstatus.ClusterCertificateStatus
	// REST is the storage of clustercertificatestatuses.
	REST = computed.REST[object, *object]
)

// Kind is clustercertificatestatuses as the storage serves it.
func Kind() computed.Kind[object, *object] {
	return computed.Kind[object, *object]{
		Resource:   certstatus.Resource("clustercertificatestatuses"),
		Singular:   "clustercertificatestatus",
		ShortNames: []string{"ccst"},
		Namespaced: false,
		New:        func() runtime.Object { return &certstatus.ClusterCertificateStatus{} },
		NewList:    func() runtime.Object { return &certstatus.ClusterCertificateStatusList{} },
		List:       lists,
		Fields:     func(o *object) fields.Set { return certstatus.ClusterFieldSet(o) },
		Table:      Table(time.Now),
	}
}

// lists is the kind's list: its name, and its registered list type.
var lists = computed.ListDescriptor[object, *object]{
	Kind:   "ClusterCertificateStatusList",
	Status: func(o *object) *certstatus.CertificateStatusStatus { return &o.Status },
	Registered: func(meta metav1.ListMeta, items []object) runtime.Object {
		return &certstatus.ClusterCertificateStatusList{ListMeta: meta, Items: items}
	},
}

// NewREST serves the objects held in cache, once source (the registrations) has synced.
func NewREST(cache *statuscache.ClusterCache, source *sourcesync.State) *REST {
	return computed.New(Kind(), cache, source)
}

// List is what REST.List answers (see computed.List).
type List = computed.List[object, *object]

// NewList is a List of items that hold their statuses.
func NewList(list *certstatus.ClusterCertificateStatusList) *List {
	return lists.Of(list.ListMeta, list.Items)
}
