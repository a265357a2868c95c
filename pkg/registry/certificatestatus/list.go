package certificatestatus

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// A list of all objects used to build every object before anything was
// written: ≈ 2.2 KiB each, 22 MB for 10 000, held until the response was
// written, and the garbage collector lets the heap grow to about twice what
// is live, so a few lists at once cost hundreds of MiB. An unfiltered list
// now carries each object's metadata only, and the list itself carries the
// builder of the statuses: whoever writes it (the encoders in pkg/apiserver,
// the table) asks the list for its items, one at a time (Each) or all at once
// (Built). A list with a selector is built in full by the cache (the
// selector may need the status).
//
// List is not registered in the scheme: an encoder that does not know it
// fails ("no kind is registered") instead of writing empty statuses, so no
// reader can forget the builder. Deep copies keep it, so the audit log (which
// encodes a copy of the response) writes the statuses too.

// List is what REST.List answers: a CertificateStatusList whose statuses
// may still have to be built.
type List struct {
	certstatus.CertificateStatusList
	// status builds the status of Items[i] (the cache's, as of the list);
	// nil when the items hold theirs.
	status func(i int) certstatus.CertificateStatusStatus
}

var _ runtime.Object = &List{}

// DeepCopyObject copies the list with its builder.
func (l *List) DeepCopyObject() runtime.Object {
	return &List{CertificateStatusList: *l.CertificateStatusList.DeepCopy(), status: l.status}
}

// Each calls write for each item with its status built, one at a time,
// without storing it in the list, and returns write's first error. The item
// passed may be reused for the next one.
func (l *List) Each(write func(*certstatus.CertificateStatus) error) error {
	var scratch certstatus.CertificateStatus
	for i := range l.Items {
		item := &l.Items[i]
		if l.status != nil {
			scratch = *item
			scratch.Status = l.status(i)
			item = &scratch
		}
		if err := write(item); err != nil {
			return err
		}
	}
	return nil
}

// Built is the list with every status built, for encoders that convert a
// whole list at once. The list itself is left as it is: several encoders
// (the response and its audit) may read it at the same time.
func (l *List) Built() *certstatus.CertificateStatusList {
	if l.status == nil {
		return &l.CertificateStatusList
	}
	built := l.CertificateStatusList
	built.Items = make([]certstatus.CertificateStatus, len(l.Items))
	for i := range l.Items {
		built.Items[i] = l.Items[i]
		built.Items[i].Status = l.status(i)
	}
	return &built
}
