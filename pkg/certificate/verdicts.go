package certificate

import (
	"bytes"
	"fmt"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// verdict is a clock-independent Ready reason with its message.
type verdict struct {
	reason  string
	message string
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
	case len(a.certificates) == 0 && contents.locked:
		// certstatus cannot see: Unknown, never Invalid.
		if a.configMap != nil {
			return &verdict{certstatus.ReasonKeystoreLocked, "A keystore is locked and nothing else in the ConfigMap is readable; errors says why."}
		}
		return &verdict{certstatus.ReasonKeystoreLocked, "A keystore is locked and nothing else in the Secret is readable; errors says which annotation to set."}
	case len(a.certificates) == 0:
		return &verdict{certstatus.ReasonInvalidData, "No certificate in the " + a.noun() + " could be read; errors says why."}
	case isTLS && len(bytes.TrimSpace(data[keyTLSKey])) > 0 && !a.privateKey.Present:
		// A key that is there but unreadable breaks the TLS server that loads it.
		return &verdict{certstatus.ReasonInvalidData, "The private key in tls.key could not be read; errors says why."}
	case a.privateKey != nil && a.privateKey.Present && !a.privateKey.MatchesCertificate && a.leaf() != nil:
		return &verdict{certstatus.ReasonKeyPairMismatch, fmt.Sprintf("The private key in %s does not match the public key of %s.", contents.privateKey.dataKey, a.leaf().label())}
	case chain.Verified == certstatus.ChainBroken:
		return &verdict{certstatus.ReasonChainInvalid, chain.Message}
	case !a.bundle && !a.hasPrimary():
		return &verdict{certstatus.ReasonInvalidData, "No certificate in the " + a.noun() + " could be read; errors says why."}
	}
	return nil
}
