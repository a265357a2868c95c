package certificate

import (
	"crypto/sha256"
	"crypto/x509"

	"github.com/certstatus/certstatus/pkg/intern"
)

// sharedDescriptions holds the descriptions of CA certificates by SHA-256
// of their DER: thousands of Secrets carry the same intermediate and root,
// and each would otherwise keep its own copy. The table holds them weakly,
// so a description lives only as long as some Analysis uses it. Leaves are
// not shared: they are rarely in more than one Secret, and an entry costs
// memory too.
var sharedDescriptions intern.Table[[sha256.Size]byte, description]

// sharedDescription returns the description of a CA certificate, made by
// the first Secret that holds it and alive as long as one does.
func sharedDescription(cert *x509.Certificate, fingerprint [sha256.Size]byte) *description {
	return sharedDescriptions.Get(fingerprint, func() *description { return newDescription(cert, fingerprint) })
}
