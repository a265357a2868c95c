// Package clustercertificatestatus is the clustercertificatestatuses kind
// (ccst), computed from the caBundles of API registrations: its names,
// scope, list, table and selectable fields. The storage itself is
// pkg/registry/computed's, the same for every computed kind.
package clustercertificatestatus

import (
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

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

var (
	_ rest.Storage              = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.SingularNameProvider = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.Getter               = &REST{}
	_ rest.Lister               = &REST{}
	_ rest.Watcher              = &REST{}
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
		List:       list,
		Fields:     func(o *object) fields.Set { return certstatus.ClusterFieldSet(o) },
		Table:      tableConvertor{now: time.Now},
	}
}

// list is the page with its statuses built. Registrations are few (tens to
// hundreds), so the list is not deferred as the Secrets' is, and the
// generic encoders write it as they write any registered list.
func list(page statuscache.ListResultOf[object, *object]) computed.ListObject {
	if page.Status != nil {
		for i := range page.Items {
			page.Items[i].Status = page.Status(i)
		}
	}
	return &certstatus.ClusterCertificateStatusList{Items: page.Items}
}

// NewREST serves the objects held in cache, once source (the registrations) has synced.
func NewREST(cache *statuscache.ClusterCache, source *sourcesync.State) *REST {
	return computed.New(Kind(), cache, source)
}
