package certificate

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// chainMember is a certificate of the chain and how messages name it.
type chainMember struct {
	cert  *x509.Certificate
	label string
}

// verifyChain judges signatures, issuer links, order and CA constraints of
// chain (leaf first), as `openssl verify -untrusted` would find a path: from
// the leaf through the served certificates in order, up to the first one
// that is in anchors (ca.crt), issued by one of them, or self-signed.
// Certificates served after that point (a cross-signed root) are allowed.
// False is kept for what is provably wrong among the certificates present;
// when the last served certificate's issuer is nowhere in the Secret the
// chain is Unknown (ca.crt may be the CA of client certificates, the
// mutual-TLS layout). Exact repeats are skipped and named. Validity periods
// are left to the state, so an expired chain is Expired, not broken.
func verifyChain(chain, anchors []chainMember, chainKey, anchorKey, noun string) certstatus.ChainStatus {
	if len(chain) == 0 {
		return unknownChain("There is no certificate to verify.")
	}
	chain, repeats := skipRepeats(chain)
	status := walkChain(chain, anchors, chainKey, anchorKey, noun)
	if repeats != "" {
		status.Message += " " + repeats
	}
	return status
}

// skipRepeats drops exact repeats of an earlier certificate (a pasted-twice
// intermediate, which TLS clients accept) and says which were dropped.
func skipRepeats(chain []chainMember) ([]chainMember, string) {
	var kept []chainMember
	var skipped []string
	for _, member := range chain {
		repeatOf := -1
		for j := range kept {
			if bytes.Equal(kept[j].cert.Raw, member.cert.Raw) {
				repeatOf = j
				break
			}
		}
		if repeatOf < 0 {
			kept = append(kept, member)
			continue
		}
		skipped = append(skipped, fmt.Sprintf("%s repeats %s", member.label, kept[repeatOf].label))
	}
	if len(skipped) == 0 {
		return chain, ""
	}
	return kept, "Exact repeats were skipped for verification: " + strings.Join(skipped, "; ") + "."
}

// walkChain follows the served chain (without repeats) from the leaf.
func walkChain(chain, anchors []chainMember, chainKey, anchorKey, noun string) certstatus.ChainStatus {
	for k := range chain {
		current := chain[k]
		// When the next served certificate is itself in ca.crt, the path
		// goes on to it, so the message names the certificate served.
		nextIsAnchor := k+1 < len(chain) && inAnchors(chain[k+1], anchors)
		if !nextIsAnchor {
			if status, found := anchoredAt(current, k, anchors, anchorKey); found {
				return endOfPath(status, chain[:k+1], chain[k+1:], chainKey)
			}
		}
		if isSelfSigned(current.cert) {
			message := fmt.Sprintf("The chain ends at %s, which is self-signed with a valid signature.", current.label)
			if len(anchors) > 0 {
				message += fmt.Sprintf(" %s does not issue it.", anchorKey)
			}
			return endOfPath(verifiedChain(message), chain[:k+1], chain[k+1:], chainKey)
		}
		if k+1 == len(chain) {
			return unanchoredTop(chain, anchors, chainKey, anchorKey, noun)
		}
		parent := chain[k+1]
		if err := checkIssued(current.cert, parent.cert, k); err != nil {
			if message, misordered := orderProblem(chain, k, chainKey); misordered {
				return brokenChain(message)
			}
			return brokenChain(fmt.Sprintf("%s is not issued by %s, which follows it in %s: %v.", current.label, parent.label, chainKey, err))
		}
	}
	return unknownChain("There is no certificate to verify.") // not reached: the loop returns
}

// anchoredAt reports whether the path ends at current through anchors:
// current is one of them, or one of them issued it. intermediatesBelow is
// the number of CA certificates between the leaf and the anchor.
func anchoredAt(current chainMember, intermediatesBelow int, anchors []chainMember, anchorKey string) (certstatus.ChainStatus, bool) {
	for _, anchor := range anchors {
		if bytes.Equal(anchor.cert.Raw, current.cert.Raw) {
			return verifiedChain(fmt.Sprintf("The chain ends at %s, which is also in %s.", current.label, anchorKey)), true
		}
	}
	for _, anchor := range anchors {
		if checkIssued(current.cert, anchor.cert, intermediatesBelow) == nil {
			return verifiedChain(fmt.Sprintf("The chain verifies up to %s.", anchor.label)), true
		}
	}
	return certstatus.ChainStatus{}, false
}

// maxOrderChecks bounds the signature checks spent looking for misordered
// certificates after the path, so a hostile tls.crt costs little.
const maxOrderChecks = 100

// endOfPath finishes a verified path: a certificate served after it that
// the path issued belongs before it (wrong order, False); others (a
// cross-signed root) are allowed and named.
func endOfPath(status certstatus.ChainStatus, path, rest []chainMember, chainKey string) certstatus.ChainStatus {
	if len(rest) == 0 {
		return status
	}
	checks := 0
	for _, later := range rest {
		for _, earlier := range path {
			if checks >= maxOrderChecks {
				break
			}
			if !bytes.Equal(later.cert.RawIssuer, earlier.cert.RawSubject) || bytes.Equal(later.cert.RawSubject, earlier.cert.RawSubject) {
				continue
			}
			checks++
			if checkIssued(later.cert, earlier.cert, 0) == nil {
				return brokenChain(fmt.Sprintf("The certificates in %s are in the wrong order: %s issued %s, which must come before it.", chainKey, earlier.label, later.label))
			}
		}
	}
	labels := make([]string, len(rest))
	for i := range rest {
		labels[i] = rest[i].label
	}
	status.Message += fmt.Sprintf(" %s, served after the path, is not needed to verify it.", strings.Join(labels, ", "))
	return status
}

// inAnchors reports whether member is one of anchors, byte for byte.
func inAnchors(member chainMember, anchors []chainMember) bool {
	for _, anchor := range anchors {
		if bytes.Equal(anchor.cert.Raw, member.cert.Raw) {
			return true
		}
	}
	return false
}

// unanchoredTop judges a chain whose links hold but whose last certificate
// is neither self-signed nor anchored in ca.crt.
func unanchoredTop(chain, anchors []chainMember, chainKey, anchorKey, noun string) certstatus.ChainStatus {
	top := chain[len(chain)-1]
	if bytes.Equal(top.cert.RawIssuer, top.cert.RawSubject) {
		return brokenChain(fmt.Sprintf("%s names itself as issuer, but its self-signature does not verify.", top.label))
	}
	for _, anchor := range anchors {
		if bytes.Equal(top.cert.RawIssuer, anchor.cert.RawSubject) {
			err := checkIssued(top.cert, anchor.cert, len(chain)-1)
			return brokenChain(fmt.Sprintf("%s is not issued by %s: %v.", top.label, anchor.label, err))
		}
	}
	issuer := issuerName(top.cert)
	var message string
	if len(anchors) > 0 {
		message = fmt.Sprintf("%s does not issue the served chain: %s is issued by %s, which is in neither %s nor %s, so the chain cannot be verified here (in the mutual-TLS layout %s is the CA of client certificates).",
			anchorKey, top.label, issuer, chainKey, anchorKey, anchorKey)
	} else {
		message = fmt.Sprintf("%s is issued by %s, which is not in the %s, so there is nothing to verify the chain against.", top.label, issuer, noun)
	}
	if len(chain) == 1 {
		message += fmt.Sprintf(" %s holds only the leaf: clients that do not already have its issuer %s fail to verify it, so serve the intermediate certificate after the leaf.", chainKey, issuer)
	}
	return unknownChain(message)
}

// issuerName is the issuer's common name, else its whole name, for messages.
func issuerName(cert *x509.Certificate) string {
	if cert.Issuer.CommonName != "" {
		return cert.Issuer.CommonName
	}
	if name, _, err := formatName(cert.RawIssuer); err == nil && name != "" {
		return name
	}
	return "a certificate"
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
	if !signatureVerifies(child, parent) {
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
	return bytes.Equal(cert.RawIssuer, cert.RawSubject) && signatureVerifies(cert, cert)
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
