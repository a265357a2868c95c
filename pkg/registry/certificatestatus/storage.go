// Package certificatestatus is the certificatestatuses kind, computed from
// Secrets: its names, its list (which builds statuses as they are
// written), its table and its selectable fields. The storage itself is
// pkg/registry/computed's, the same for every computed kind.
package certificatestatus

import (
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// REST is the storage of certificatestatuses.
type REST = computed.REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]

// Kind is certificatestatuses as the storage serves it.
func Kind() computed.Kind[certstatus.CertificateStatus, *certstatus.CertificateStatus] {
	return computed.Kind[certstatus.CertificateStatus, *certstatus.CertificateStatus]{
		Resource:   certstatus.Resource("certificatestatuses"),
		Singular:   "certificatestatus",
		ShortNames: []string{"certstatus", "cst"},
		Namespaced: true,
		New:        func() runtime.Object { return &certstatus.CertificateStatus{} },
		NewList:    func() runtime.Object { return &certstatus.CertificateStatusList{} },
		List:       lists,
		Fields:     func(o *certstatus.CertificateStatus) fields.Set { return certstatus.FieldSet(o) },
		Table:      tableConvertor{now: time.Now},
	}
}

// NewREST serves the objects held in cache, once source (the Secrets) has synced.
func NewREST(cache *statuscache.Cache, source *sourcesync.State) *REST {
	return computed.New(Kind(), cache, source)
}
