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
			return &certstatus.PrivateKeyStatus{}
		}
		return nil
	}
	status := &certstatus.PrivateKeyStatus{Present: true, Type: key.algorithm}
	if i := a.leafIndex(); i >= 0 {
		status.MatchesCertificate = publicKeysEqual(key.public, contents.certificates[i].cert.PublicKey)
	}
	return status
}

// judgeInvalid finds what makes the Secret Invalid whatever the clock, in
// precedence order: no certificate, an unreadable or mismatched key, a broken chain.
func (a *Analysis) judgeInvalid(contents *secretContents, data map[string][]byte, isTLS bool) *verdict {
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
		return &verdict{certstatus.ReasonKeyPairMismatch, fmt.Sprintf("The private key in %s does not match the public key of %s.", contents.privateKey.dataKey, a.leaf().label)}
	case a.chain.Verified == certstatus.ChainBroken:
		return &verdict{certstatus.ReasonChainInvalid, a.chain.Message}
	case !a.bundle && len(a.primary) == 0:
		return &verdict{certstatus.ReasonInvalidData, "No certificate in the Secret could be read; errors says why."}
	}
	return nil
}

// setSecretValidity sets the Secret-level instants and the state timeline.
// A bundle spans its members: earliest notBefore, latest notAfter, and the
// latest member expiringSoonAt, after which no member is valid and not
// expiring soon.
func (a *Analysis) setSecretValidity() {
	var secret validity
	switch {
	case a.bundle:
		members := make([]validity, len(a.certificates))
		for i := range a.certificates {
			members[i] = a.certificates[i].validity
		}
		secret = bundleValidity(members)
		a.timeline = bundleTimeline(members)
	case len(a.primary) > 0:
		members := make([]validity, len(a.primary))
		for i, index := range a.primary {
			members[i] = a.certificates[index].validity
		}
		secret = chainValidity(members)
		a.timeline = chainTimeline(secret)
	default:
		a.timeline = constantTimeline(certstatus.StateInvalid)
		return
	}
	a.notBefore = apiTime(secret.notBefore)
	a.expiringSoonAt = apiTime(secret.expiringSoonAt)
	a.notAfter = apiTime(secret.notAfter)
	if a.invalid != nil {
		a.timeline = constantTimeline(certstatus.StateInvalid)
	}
}

func bundleValidity(members []validity) validity {
	combined := members[0]
	for _, v := range members[1:] {
		if v.notBefore.Before(combined.notBefore) {
			combined.notBefore = v.notBefore
		}
		if v.expiringSoonAt.After(combined.expiringSoonAt) {
			combined.expiringSoonAt = v.expiringSoonAt
		}
		if v.notAfter.After(combined.notAfter) {
			combined.notAfter = v.notAfter
		}
	}
	return combined
}

// apiTime is an instant as the API shows it: UTC, whole seconds.
func apiTime(t time.Time) *metav1.Time {
	at := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &at
}
