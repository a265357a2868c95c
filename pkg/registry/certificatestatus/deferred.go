package certificatestatus

import (
	"runtime"
	"sync"
	"weak"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// A list of all objects used to build every object before anything was
// written: ≈ 2.2 KiB each, 22 MB for 10 000, held until the response was
// written, and the garbage collector lets the heap grow to about twice what
// is live, so a few lists at once cost hundreds of MiB. An unfiltered list
// now carries each object's metadata only, and the statuses are built one
// at a time as they are used (WriteItems: the JSON encoder in pkg/apiserver,
// table rows), or all at once by FillDeferred before anything else reads
// the list (the other encoders, tables that carry whole objects). Lists
// with selectors, and responses audited with their body (the audit log
// encodes a deep copy), are built in full.
//
// The generic server hands the list object from rest.Lister to the encoder
// with nothing attached, so the builder is found from the list's items: a
// table keyed by a weak pointer to the first item, which never matches
// another list (weak pointers stay distinct after their object is freed),
// and an entry is removed when the items are collected.

// deferred builds the statuses of one list's items.
type deferred struct {
	mu     sync.Mutex
	build  func(i int) certstatus.CertificateStatusStatus
	filled bool
}

var deferredLists sync.Map // weak.Pointer[certstatus.CertificateStatus] → *deferred

func deferredKey(items []certstatus.CertificateStatus) weak.Pointer[certstatus.CertificateStatus] {
	return weak.Make(&items[0])
}

// deferStatuses records that items have empty statuses that build fills.
func deferStatuses(items []certstatus.CertificateStatus, build func(i int) certstatus.CertificateStatusStatus) {
	if len(items) == 0 {
		return
	}
	key := deferredKey(items)
	deferredLists.Store(key, &deferred{build: build})
	runtime.AddCleanup(&items[0], func(key weak.Pointer[certstatus.CertificateStatus]) { deferredLists.Delete(key) }, key)
}

func lookupDeferred(items []certstatus.CertificateStatus) *deferred {
	if len(items) == 0 {
		return nil
	}
	d, ok := deferredLists.Load(deferredKey(items))
	if !ok {
		return nil
	}
	return d.(*deferred)
}

// FillDeferred builds the statuses a list left for later, so that the list
// can be read as any other. Anything that reads statuses of a list other than
// WriteItems calls it first, before converting the list to a version. It is a
// no-op on any other list.
func FillDeferred(items []certstatus.CertificateStatus) {
	d := lookupDeferred(items)
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.filled {
		return
	}
	for i := range items {
		items[i].Status = d.build(i)
	}
	d.filled = true
}

// WriteItems calls write for each item with its status built, one at a
// time, without storing it in the list, and returns write's first error.
func WriteItems(items []certstatus.CertificateStatus, write func(*certstatus.CertificateStatus) error) error {
	d := lookupDeferred(items)
	if d != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.filled {
			d = nil
		}
	}
	var scratch certstatus.CertificateStatus
	for i := range items {
		item := &items[i]
		if d != nil {
			scratch = *item
			scratch.Status = d.build(i)
			item = &scratch
		}
		if err := write(item); err != nil {
			return err
		}
	}
	return nil
}
