package certificate

import (
	"crypto/sha256"
	"crypto/x509"
	"runtime"
	"sync"
	"weak"
)

// sharedDescriptions holds the descriptions of CA certificates by SHA-256
// of their DER: thousands of Secrets carry the same intermediate and root,
// and each would otherwise keep its own copy. The table holds them weakly,
// so a description lives only as long as some Analysis uses it. Leaves are
// not shared: they are rarely in more than one Secret, and an entry costs
// memory too.
var sharedDescriptions = struct {
	sync.Mutex
	byFingerprint map[[sha256.Size]byte]weak.Pointer[description]
}{byFingerprint: map[[sha256.Size]byte]weak.Pointer[description]{}}

// sharedDescription returns the description of a CA certificate, made by
// the first Secret that holds it and alive as long as one does.
func sharedDescription(cert *x509.Certificate, fingerprint [sha256.Size]byte) *description {
	if d := lookupShared(fingerprint); d != nil {
		return d
	}
	// Described outside the lock, so concurrent analyses do not queue behind it.
	fresh := newDescription(cert, fingerprint)
	table := &sharedDescriptions
	table.Lock()
	defer table.Unlock()
	if d := table.byFingerprint[fingerprint].Value(); d != nil {
		return d // another analysis stored it meanwhile
	}
	table.byFingerprint[fingerprint] = weak.Make(fresh)
	runtime.AddCleanup(fresh, forgetShared, fingerprint)
	return fresh
}

func lookupShared(fingerprint [sha256.Size]byte) *description {
	table := &sharedDescriptions
	table.Lock()
	defer table.Unlock()
	return table.byFingerprint[fingerprint].Value()
}

// forgetShared drops the entry of a collected description, unless a newer
// description of the same certificate has replaced it.
func forgetShared(fingerprint [sha256.Size]byte) {
	table := &sharedDescriptions
	table.Lock()
	defer table.Unlock()
	if table.byFingerprint[fingerprint].Value() == nil {
		delete(table.byFingerprint, fingerprint)
	}
}
