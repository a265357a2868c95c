package statuscache

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Object is a kind's object as a pointer: every kind served (one per
// source: CertificateStatus from Secrets, and in #26 ConfigMaps' and API
// registrations') is {TypeMeta, ObjectMeta, Status CertificateStatusStatus}.
type Object[T any] interface {
	*T
	runtime.Object
	metav1.Object
}

// Kind is what the cache needs of a kind's type to build its objects from
// an item's metadata and status: where those two live in it.
type Kind[T any] struct {
	Meta   func(*T) *metav1.ObjectMeta
	Status func(*T) *certstatus.CertificateStatusStatus
}

// CertificateStatuses is the kind built from Secrets.
var CertificateStatuses = Kind[certstatus.CertificateStatus]{
	Meta:   func(o *certstatus.CertificateStatus) *metav1.ObjectMeta { return &o.ObjectMeta },
	Status: func(o *certstatus.CertificateStatus) *certstatus.CertificateStatusStatus { return &o.Status },
}

// The Secret kind's cache and what it hands out.
type (
	Cache        = CacheOf[certstatus.CertificateStatus, *certstatus.CertificateStatus]
	Change       = ChangeOf[certstatus.CertificateStatus, *certstatus.CertificateStatus]
	ListOptions  = ListOptionsOf[certstatus.CertificateStatus, *certstatus.CertificateStatus]
	ListResult   = ListResultOf[certstatus.CertificateStatus, *certstatus.CertificateStatus]
	WatchOptions = WatchOptionsOf[certstatus.CertificateStatus, *certstatus.CertificateStatus]
)

// ConfigMapCertificateStatuses is the kind built from ConfigMaps.
var ConfigMapCertificateStatuses = Kind[certstatus.ConfigMapCertificateStatus]{
	Meta: func(o *certstatus.ConfigMapCertificateStatus) *metav1.ObjectMeta { return &o.ObjectMeta },
	Status: func(o *certstatus.ConfigMapCertificateStatus) *certstatus.CertificateStatusStatus {
		return &o.Status
	},
}

// ConfigMapCache is the ConfigMap kind's cache.
type ConfigMapCache = CacheOf[certstatus.ConfigMapCertificateStatus, *certstatus.ConfigMapCertificateStatus]

// ClusterCertificateStatuses is the kind built from API registrations' caBundles (cluster-scoped).
var ClusterCertificateStatuses = Kind[certstatus.ClusterCertificateStatus]{
	Meta:   func(o *certstatus.ClusterCertificateStatus) *metav1.ObjectMeta { return &o.ObjectMeta },
	Status: func(o *certstatus.ClusterCertificateStatus) *certstatus.CertificateStatusStatus { return &o.Status },
}

// ClusterCache is the API registrations' cache.
type ClusterCache = CacheOf[certstatus.ClusterCertificateStatus, *certstatus.ClusterCertificateStatus]
