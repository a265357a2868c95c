package computed

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// A list of all objects used to build every object before anything was
// written: ≈ 2.2 KiB each, 22 MB for 10 000, held until the response was
// written, and the garbage collector lets the heap grow to about twice what
// is live, so a few lists at once cost hundreds of MiB. An unfiltered list
// now carries each object's metadata only, and the list itself carries the
// builder of the statuses: whoever writes it (the encoders in pkg/apiserver,
// the tables) asks the list for its items, one at a time (Each, EachStatus)
// or all at once (Built). A list with a selector is built in full by the
// cache (the selector may need the status).
//
// List is not registered in the scheme: an encoder that does not know it
// fails ("no kind is registered") instead of writing empty statuses, so no
// reader can forget the builder. Deep copies keep it, so the audit log (which
// encodes a copy of the response) writes the statuses too.

// StatusList is any kind's storage list as its writers see it: the one
// interface the hand-written encoders and the generic encoders' wrapper
// (pkg/apiserver) know, whatever the kind.
type StatusList interface {
	ListObject
	// ListKind is the list's kind as served, e.g. "CertificateStatusList".
	ListKind() string
	// Header is the list's metadata (resourceVersion, continue).
	Header() *metav1.ListMeta
	Len() int
	// ItemMeta is the metadata of item i (its status may not be built).
	ItemMeta(i int) *metav1.ObjectMeta
	// EachStatus calls write for each item with its status built, one at
	// a time, and returns write's first error. Neither pointer is kept.
	EachStatus(write func(meta *metav1.ObjectMeta, status *certstatus.CertificateStatusStatus) error) error
	// Built is the kind's registered list with every status built, for the
	// scheme's own encoders.
	Built() runtime.Object
}

// List is what REST.List answers for a kind: its items (metadata only while
// their statuses are deferred) and the builder of their statuses.
type List[T any, P statuscache.Object[T]] struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	// Items are found by apimachinery's list helpers (meta.EachListItem,
	// which the metadata-only lists use) by this field's name.
	Items []T `json:"items"`

	kind *listKind[T, P]
	// status builds the status of Items[i] (the cache's, as of the list);
	// nil when the items hold theirs.
	status func(i int) certstatus.CertificateStatusStatus
}

// listKind is what a List needs of its kind.
type listKind[T any, P statuscache.Object[T]] struct {
	name   string
	status func(P) *certstatus.CertificateStatusStatus
	// registered is the kind's registered list holding items.
	registered func(meta metav1.ListMeta, items []T) runtime.Object
}

// ListDescriptor is a kind's list: its served name, where an item's status
// lives, and how its registered list type is made.
type ListDescriptor[T any, P statuscache.Object[T]] struct {
	// Kind is the list's kind, e.g. "ConfigMapCertificateStatusList".
	Kind       string
	Status     func(P) *certstatus.CertificateStatusStatus
	Registered func(meta metav1.ListMeta, items []T) runtime.Object
}

// Page turns a page of the cache into the kind's List.
func (d ListDescriptor[T, P]) Page(page statuscache.ListResultOf[T, P]) *List[T, P] {
	return &List[T, P]{Items: page.Items, status: page.Status,
		kind: &listKind[T, P]{name: d.Kind, status: d.Status, registered: d.Registered}}
}

// Of is a list of items that hold their statuses (tests, and the
// registered lists the table is given).
func (d ListDescriptor[T, P]) Of(meta metav1.ListMeta, items []T) *List[T, P] {
	list := d.Page(statuscache.ListResultOf[T, P]{Items: items})
	list.ListMeta = meta
	return list
}

var _ StatusList = &List[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}

func (l *List[T, P]) ListKind() string                  { return l.kind.name }
func (l *List[T, P]) Header() *metav1.ListMeta          { return &l.ListMeta }
func (l *List[T, P]) Len() int                          { return len(l.Items) }
func (l *List[T, P]) ItemMeta(i int) *metav1.ObjectMeta { return objectMeta(P(&l.Items[i])) }

// Deferred tells whether the statuses are still to be built (tests).
func (l *List[T, P]) Deferred() bool { return l.status != nil }

// CountBuilds wraps the builder so that each status built calls count (tests).
func (l *List[T, P]) CountBuilds(count func()) {
	if build := l.status; build != nil {
		l.status = func(i int) certstatus.CertificateStatusStatus { count(); return build(i) }
	}
}

// DeepCopyObject copies the list with its builder.
func (l *List[T, P]) DeepCopyObject() runtime.Object {
	copied := &List[T, P]{TypeMeta: l.TypeMeta, kind: l.kind, status: l.status}
	l.ListMeta.DeepCopyInto(&copied.ListMeta)
	if l.Items != nil {
		copied.Items = make([]T, len(l.Items))
		for i := range l.Items {
			copied.Items[i] = *P(&l.Items[i]).DeepCopyObject().(P)
		}
	}
	return copied
}

// Each calls write for each item with its status built, one at a time,
// without storing it in the list, and returns write's first error. The item
// passed may be reused for the next one.
func (l *List[T, P]) Each(write func(P) error) error {
	var scratch T
	for i := range l.Items {
		item := P(&l.Items[i])
		if l.status != nil {
			scratch = l.Items[i]
			*l.kind.status(&scratch) = l.status(i)
			item = &scratch
		}
		if err := write(item); err != nil {
			return err
		}
	}
	return nil
}

func (l *List[T, P]) EachStatus(write func(*metav1.ObjectMeta, *certstatus.CertificateStatusStatus) error) error {
	return l.Each(func(item P) error { return write(objectMeta(item), l.kind.status(item)) })
}

// BuiltItems are the items with every status built. The list itself is left
// as it is: several encoders (the response and its audit) may read it at
// the same time.
func (l *List[T, P]) BuiltItems() []T {
	if l.status == nil {
		return l.Items
	}
	built := make([]T, len(l.Items))
	for i := range l.Items {
		built[i] = l.Items[i]
		*l.kind.status(&built[i]) = l.status(i)
	}
	return built
}

func (l *List[T, P]) Built() runtime.Object { return l.kind.registered(l.ListMeta, l.BuiltItems()) }

// objectMeta is an object's own metadata (every kind embeds ObjectMeta).
func objectMeta[T any, P statuscache.Object[T]](object P) *metav1.ObjectMeta {
	return any(object).(interface{ GetObjectMeta() metav1.Object }).GetObjectMeta().(*metav1.ObjectMeta)
}
