package registrations

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Name bounds: a name is at most 253 characters (a DNS subdomain, as
// every object name); a longer one keeps its first 236, then "-" and 16
// hex digits of a hash: 236 + 1 + 16 = 253.
const (
	maxNameLength = 253
	keptPrefix    = 236
)

// ObjectName is the ClusterCertificateStatus name of a registration:
// "<lowercase kind>.<object name>". Over 253 characters the hash is the
// SHA-256 of that whole untruncated name, so two long names differing only
// after character 236, or in their kind, stay distinct.
func ObjectName(kind, name string) string {
	full := strings.ToLower(kind) + "." + name
	if len(full) <= maxNameLength {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	return full[:keptPrefix] + "-" + hex.EncodeToString(sum[:8])
}

// ObjectName is the registration's ClusterCertificateStatus name.
func (r *Registration) ObjectName() string { return ObjectName(r.Kind, r.Name) }
