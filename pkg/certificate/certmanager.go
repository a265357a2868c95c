package certificate

import (
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// LeafNames are the subject alternative names of the primary chain's leaf
// (a bundle's first certificate), against which the hosts of the objects
// using the Secret are judged. ok is false when there is no leaf. The
// slices are shared with the Analysis: callers must not mutate them.
func (a *Analysis) LeafNames() (dnsNames, ipAddresses []string, ok bool) {
	leaf := a.leaf()
	if leaf == nil {
		return nil, nil, false
	}
	if leaf.desc.otherNames != nil {
		ipAddresses = leaf.desc.otherNames.ipAddresses
	}
	return leaf.desc.dnsNames, ipAddresses, true
}

// CertManager is status.certManager: nil when the Secret carries none of
// cert-manager's annotations.
func (a *Analysis) CertManager() *certstatus.CertManagerReference { return a.certManager }

// certManagerAnnotations are the cert-manager annotations the server reads;
// every other annotation is never read or kept.
var certManagerAnnotations = [...]string{
	certstatus.CertManagerCertificateNameAnnotation,
	certstatus.CertManagerIssuerNameAnnotation,
	certstatus.CertManagerIssuerKindAnnotation,
	certstatus.CertManagerIssuerGroupAnnotation,
}

// certManagerFrom builds status.certManager from cert-manager's annotations.
func certManagerFrom(annotations map[string]string) *certstatus.CertManagerReference {
	name := annotations[certstatus.CertManagerCertificateNameAnnotation]
	issuer := certstatus.CertManagerIssuer{
		Name:  annotations[certstatus.CertManagerIssuerNameAnnotation],
		Kind:  annotations[certstatus.CertManagerIssuerKindAnnotation],
		Group: annotations[certstatus.CertManagerIssuerGroupAnnotation],
	}
	if name == "" && issuer == (certstatus.CertManagerIssuer{}) {
		return nil
	}
	reference := &certstatus.CertManagerReference{Certificate: name}
	if issuer != (certstatus.CertManagerIssuer{}) {
		reference.Issuer = &issuer
	}
	return reference
}

// CreatedAt is the Secret's creationTimestamp, which dates HostsCovered
// with its users' (see usedby.Decorated).
func (a *Analysis) CreatedAt() time.Time { return a.createdAt }
