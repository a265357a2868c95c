// Package configmapcertificatestatus is the configmapcertificatestatuses
// kind, computed from ConfigMaps: its names, its list, its table and its
// selectable fields. The storage itself is pkg/registry/computed's.
package configmapcertificatestatus

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
	object = certstatus.ConfigMapCertificateStatus
	// REST is the storage of configmapcertificatestatuses.
	REST = computed.REST[object, *object]
	// List is what REST.List answers (see computed.List).
	List = computed.List[object, *object]
)

// lists is the kind's list: its name, and its registered list type.
var lists = computed.ListDescriptor[object, *object]{
	Kind:   "ConfigMapCertificateStatusList",
	Status: func(o *object) *certstatus.CertificateStatusStatus { return &o.Status },
	Registered: func(meta metav1.ListMeta, items []object) runtime.Object {
		return &certstatus.ConfigMapCertificateStatusList{ListMeta: meta, Items: items}
	},
}

// NewList is a List of items that hold their statuses.
func NewList(list *certstatus.ConfigMapCertificateStatusList) *List {
	return lists.Of(list.ListMeta, list.Items)
}

// Kind is configmapcertificatestatuses as the storage serves it.
func Kind() computed.Kind[object, *object] {
	return computed.Kind[object, *object]{
		Resource:   certstatus.Resource("configmapcertificatestatuses"),
		Singular:   "configmapcertificatestatus",
		ShortNames: []string{"cmcst"},
		Namespaced: true,
		New:        func() runtime.Object { return &object{} },
		NewList:    func() runtime.Object { return &certstatus.ConfigMapCertificateStatusList{} },
		List:       lists,
		Fields:     func(o *object) fields.Set { return certstatus.ConfigMapFieldSet(o) },
		Table:      Table(time.Now),
	}
}

// NewREST serves the objects held in cache, once source (the ConfigMaps) has synced.
func NewREST(cache *statuscache.ConfigMapCache, source *sourcesync.State) *REST {
	return computed.New(Kind(), cache, source)
}
