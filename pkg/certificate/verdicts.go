package certificate

import (
	"bytes"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// matchPrivateKey describes the Secret's private key against the leaf. A
// TLS Secret always gets a PrivateKey (absent or not); other types only
// when they hold one.
func (a *Analysis) matchPrivateKey(contents *secretContents, isTLS bool) *certstatus.PrivateKeyStatus {
	key := contents.privateKey
	if key == nil {
		if isTLS {
			return privateKeyStatusFor(certstatus.PrivateKeyStatus{})
		}
		return nil
	}
	status := certstatus.PrivateKeyStatus{Present: true, Type: key.algorithm}
	if i := a.leafIndex(); i >= 0 {
		status.MatchesCertificate = publicKeysEqual(key.public, contents.certificates[i].cert.PublicKey)
	}
	return privateKeyStatusFor(status)
}

// privateKeyStatuses are every PrivateKeyStatus parsePrivateKey can lead
// to. Analyses point at these instead of keeping a copy each; nobody
// mutates a status.
var privateKeyStatuses = func() []certstatus.PrivateKeyStatus {
	statuses := []certstatus.PrivateKeyStatus{{}}
	for _, algorithm := range []string{"RSA", "ECDSA", "Ed25519", "X25519"} {
		for _, matches := range []bool{false, true} {
			statuses = append(statuses, certstatus.PrivateKeyStatus{Present: true, Type: algorithm, MatchesCertificate: matches})
		}
	}
	return statuses
}()

func privateKeyStatusFor(status certstatus.PrivateKeyStatus) *certstatus.PrivateKeyStatus {
	for i := range privateKeyStatuses {
		if privateKeyStatuses[i] == status {
			return &privateKeyStatuses[i]
		}
	}
	return &status
}

// judgeInvalid finds what makes the Secret Invalid whatever the clock, in
// precedence order: no certificate, an unreadable or mismatched key, a broken chain.
func (a *Analysis) judgeInvalid(contents *secretContents, data map[string][]byte, isTLS bool, chain certstatus.ChainStatus) *verdict {
	switch {
	case isTLS && len(contents.certificatesByKey[keyTLSCert]) == 0:
		if len(bytes.TrimSpace(data[keyTLSCert])) == 0 {
			return &verdict{certstatus.ReasonNoCertificate, "The Secret holds no certificate in tls.crt yet."}
		}
		return &verdict{certstatus.ReasonInvalidData, "No certificate in tls.crt could be read; errors says why."}
	case len(a.certificates) == 0:
		return &verdict{certstatus.ReasonInvalidData, "No certificate in the Secret could be read; errors says why."}
	case isTLS && len(bytes.TrimSpace(data[keyTLSKey])) > 0 && !a.privateKey.Present:
		// A key that is there but unreadable breaks the TLS server that loads it.
		return &verdict{certstatus.ReasonInvalidData, "The private key in tls.key could not be read; errors says why."}
	case a.privateKey != nil && a.privateKey.Present && !a.privateKey.MatchesCertificate && a.leaf() != nil:
		return &verdict{certstatus.ReasonKeyPairMismatch, fmt.Sprintf("The private key in %s does not match the public key of %s.", contents.privateKey.dataKey, a.leaf().label())}
	case chain.Verified == certstatus.ChainBroken:
		return &verdict{certstatus.ReasonChainInvalid, chain.Message}
	case !a.bundle && !a.hasPrimary():
		return &verdict{certstatus.ReasonInvalidData, "No certificate in the Secret could be read; errors says why."}
	}
	return nil
}

// secretValidity is the Secret-level instants, ok=false without a
// certificate to take them from. A chain combines its members; a bundle
// spans them: earliest notBefore, latest notAfter, and the latest member
// expiringSoonAt, after which no member is valid and not expiring soon.
func (a *Analysis) secretValidity() (v validity, ok bool) {
	first := true
	for i := range a.certificates {
		r := &a.certificates[i]
		if !a.bundle && !r.primary {
			continue
		}
		member := r.validity()
		switch {
		case first:
			v, first = member, false
		case a.bundle:
			v = bundleValidity(v, member)
		default:
			v = chainValidity(v, member)
		}
	}
	return v, !first
}

// bundleValidity widens combined by one more member.
func bundleValidity(combined, v validity) validity {
	if v.notBefore.Before(combined.notBefore) {
		combined.notBefore = v.notBefore
	}
	if v.expiringSoonAt.After(combined.expiringSoonAt) {
		combined.expiringSoonAt = v.expiringSoonAt
	}
	if v.notAfter.After(combined.notAfter) {
		combined.notAfter = v.notAfter
	}
	return combined
}

// apiInstant is an instant as the API shows it: UTC, whole seconds.
func apiInstant(t time.Time) metav1.Time {
	return metav1.NewTime(t.UTC().Truncate(time.Second))
}
