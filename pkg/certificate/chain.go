package certificate

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// chainMember is a certificate of the chain and how messages name it.
type chainMember struct {
	cert  *x509.Certificate
	label string
}

// verifyChain judges signatures, issuer links, order and CA constraints of
// chain (leaf first), ending at one of anchors (ca.crt) when there are any,
// or at a self-signed certificate otherwise. Validity periods are left to
// the state, so an expired chain is Expired, not broken.
func verifyChain(chain, anchors []chainMember, chainKey, anchorKey string) certstatus.ChainStatus {
	if len(chain) == 0 {
		return unknownChain("There is no certificate to verify.")
	}
	for i := 0; i+1 < len(chain); i++ {
		child, parent := chain[i], chain[i+1]
		err := checkIssued(child.cert, parent.cert, i)
		if err == nil {
			continue
		}
		if message, misordered := orderProblem(chain, i, chainKey); misordered {
			return brokenChain(message)
		}
		return brokenChain(fmt.Sprintf("%s is not issued by %s, which follows it in %s: %v.", child.label, parent.label, chainKey, err))
	}

	top := chain[len(chain)-1]
	selfSigned := isSelfSigned(top.cert)
	if len(anchors) == 0 {
		if selfSigned {
			return verifiedChain(fmt.Sprintf("The chain ends at %s, which is self-signed with a valid signature.", top.label))
		}
		if bytes.Equal(top.cert.RawIssuer, top.cert.RawSubject) {
			return brokenChain(fmt.Sprintf("%s names itself as issuer, but its self-signature does not verify.", top.label))
		}
		return unknownChain(fmt.Sprintf("%s is issued by a certificate that is not in the Secret, so there is nothing to verify the chain against.", top.label))
	}

	var nameMatched *chainMember
	var nameMatchedErr error
	for i := range anchors {
		anchor := anchors[i]
		if bytes.Equal(anchor.cert.Raw, top.cert.Raw) {
			return verifiedChain(fmt.Sprintf("The chain ends at %s, which is also in %s.", top.label, anchorKey))
		}
		err := checkIssued(top.cert, anchor.cert, len(chain)-1)
		if err == nil {
			return verifiedChain(fmt.Sprintf("The chain verifies up to %s.", anchor.label))
		}
		if nameMatched == nil && bytes.Equal(top.cert.RawIssuer, anchor.cert.RawSubject) {
			nameMatched, nameMatchedErr = &anchors[i], err
		}
	}
	switch {
	case nameMatched != nil:
		return brokenChain(fmt.Sprintf("%s is not issued by %s: %v.", top.label, nameMatched.label, nameMatchedErr))
	case selfSigned:
		return brokenChain(fmt.Sprintf("The chain ends at the self-signed %s, which is not in %s.", top.label, anchorKey))
	default:
		return brokenChain(fmt.Sprintf("An intermediate certificate is missing: %s is issued by a certificate that is in neither %s nor %s.", top.label, chainKey, anchorKey))
	}
}

// checkIssued verifies that parent issued child, as crypto/x509 would but
// without dates. intermediatesBelow counts the CA certificates between the
// leaf and parent, for parent's path length constraint. SHA-1 signatures are
// accepted: old roots still use them, and rejecting them is a policy, not a break.
func checkIssued(child, parent *x509.Certificate, intermediatesBelow int) error {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return errors.New("its issuer name differs from that certificate's subject")
	}
	if parent.Version == 3 && !parent.BasicConstraintsValid || parent.BasicConstraintsValid && !parent.IsCA {
		return errors.New("the issuing certificate is not a CA")
	}
	if parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("the issuing certificate may not sign certificates (its key usage lacks CertSign)")
	}
	if parent.BasicConstraintsValid && (parent.MaxPathLen > 0 || parent.MaxPathLen == 0 && parent.MaxPathLenZero) && intermediatesBelow > parent.MaxPathLen {
		return fmt.Errorf("the issuing certificate allows %d intermediate certificates below it, the chain has %d", parent.MaxPathLen, intermediatesBelow)
	}
	if err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature); err != nil {
		return errors.New("its signature does not verify with the issuing certificate's public key")
	}
	return nil
}

// orderProblem explains a failed link at position i when the right issuer is
// elsewhere in the chain, or the certificate issued an earlier one.
func orderProblem(chain []chainMember, i int, chainKey string) (string, bool) {
	child := chain[i]
	for j := range chain {
		if j == i || j == i+1 {
			continue
		}
		if checkIssued(child.cert, chain[j].cert, 0) == nil {
			return fmt.Sprintf("The certificates in %s are in the wrong order: %s is issued by %s, which must directly follow it.", chainKey, child.label, chain[j].label), true
		}
	}
	for j := i + 1; j < len(chain); j++ {
		if checkIssued(chain[j].cert, child.cert, 0) == nil {
			return fmt.Sprintf("The certificates in %s are in the wrong order: %s issued %s, which must come before it.", chainKey, child.label, chain[j].label), true
		}
	}
	return "", false
}

func isSelfSigned(cert *x509.Certificate) bool {
	return bytes.Equal(cert.RawIssuer, cert.RawSubject) &&
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

func verifiedChain(message string) certstatus.ChainStatus {
	return certstatus.ChainStatus{Verified: certstatus.ChainVerified, Message: message}
}

func brokenChain(message string) certstatus.ChainStatus {
	return certstatus.ChainStatus{Verified: certstatus.ChainBroken, Message: message}
}

func unknownChain(message string) certstatus.ChainStatus {
	return certstatus.ChainStatus{Verified: certstatus.ChainUnverified, Message: message}
}
