package certificate

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Trust answers whether a registration's caBundle trusts a served chain.
type Trust struct {
	// Status is True when a path leads from the leaf to a caBundle member,
	// False when none does, Unknown when there is no served chain.
	Status metav1.ConditionStatus
	// Path (True only) runs from the leaf to the anchoring caBundle
	// member, its last element; among several paths, the one valid the
	// longest (an old and a new CA both in the bundle).
	Path []*x509.Certificate
	// Anchor is the index in the caBundle of Path's last element, -1
	// unless True.
	Anchor int
	// MissingIssuer (False only) is the subject, RFC 2253 as the API shows
	// names, of the issuer no caBundle member provides: the issuer of the
	// last certificate the served chain links to, or that certificate
	// itself when it is a self-signed root.
	MissingIssuer string
	// Message is one sentence on the verdict, naming certificates by subject.
	Message string
}

// Bounds against hostile input: a served chain of 1000 certificates all
// naming each other as issuer must not cost 1000² signature checks.
const (
	maxTrustChecks = 200
	maxTrustDepth  = 10
)

// VerifyTrust verifies served (leaf first, then the rest of the served
// chain in any order) against the caBundle members, as
// `openssl verify -partial_chain -CAfile caBundle -untrusted served leaf`
// does, dates aside: any bundle member is an anchor, self-signed or not,
// as for Go's crypto/x509, which kube-apiserver calls registrations with
// (openssl without -partial_chain would insist on a self-signed root).
// A served certificate that is itself a bundle member ends the path there.
// Signatures, issuer names and CA constraints are checked as for chains
// (checkIssued); validity periods are left to PathValidity.
func VerifyTrust(served, bundle []*x509.Certificate) Trust {
	if len(served) == 0 {
		return Trust{Status: metav1.ConditionUnknown, Anchor: -1, Message: "There is no served certificate to verify."}
	}
	search := trustSearch{served: served, bundle: bundle, anchor: -1}
	search.from([]*x509.Certificate{served[0]})
	if search.best != nil {
		anchor := search.best[len(search.best)-1]
		return Trust{Status: metav1.ConditionTrue, Path: search.best, Anchor: search.anchor,
			Message: fmt.Sprintf("The served chain of %s verifies up to the caBundle's %s.", subjectOf(served[0]), subjectOf(anchor))}
	}
	top := search.deepest[len(search.deepest)-1]
	missing := issuerOf(top)
	if bytes.Equal(top.RawIssuer, top.RawSubject) && signatureVerifies(top, top) {
		missing = subjectOf(top)
	}
	message := fmt.Sprintf("No certificate of the caBundle issued %s: its issuer %s is not in the caBundle.", subjectOf(top), missing)
	if search.sameNameMember {
		message = fmt.Sprintf("The caBundle holds a certificate named %s, but not the one that issued %s (the CA was replaced, or the caBundle is out of date).", missing, subjectOf(top))
	}
	return Trust{Status: metav1.ConditionFalse, Anchor: -1, MissingIssuer: missing, Message: message}
}

// trustSearch walks every path from the leaf, depth first, bundle members
// before served certificates (openssl's trusted-first).
type trustSearch struct {
	served, bundle []*x509.Certificate
	checks         int
	best           []*x509.Certificate
	anchor         int
	// deepest is the longest unanchored path, for the missing issuer.
	deepest []*x509.Certificate
	// sameNameMember: a bundle member has the missing issuer's name but did not verify.
	sameNameMember bool
}

func (s *trustSearch) issued(child, parent *x509.Certificate, below int) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) || s.checks >= maxTrustChecks {
		return false
	}
	s.checks++
	return checkIssued(child, parent, below) == nil
}

func (s *trustSearch) from(path []*x509.Certificate) {
	current := path[len(path)-1]
	below := len(path) - 1 // CA certificates between the leaf and current's issuer
	for i, member := range s.bundle {
		if bytes.Equal(member.Raw, current.Raw) {
			s.found(path, i)
			return
		}
	}
	anchored := false
	for i, member := range s.bundle {
		if s.issued(current, member, below) {
			s.found(append(path[:len(path):len(path)], member), i)
			anchored = true
		}
	}
	if anchored {
		return
	}
	if len(path) > len(s.deepest) {
		s.deepest = path
		s.sameNameMember = false
		for _, member := range s.bundle {
			if bytes.Equal(current.RawIssuer, member.RawSubject) && !bytes.Equal(current.RawIssuer, current.RawSubject) {
				s.sameNameMember = true
			}
		}
	}
	if len(path) >= maxTrustDepth {
		return
	}
	for _, next := range s.served[1:] {
		if !onPath(path, next) && s.issued(current, next, below) {
			s.from(append(path[:len(path):len(path)], next))
		}
	}
}

// found keeps path if it stays valid longer than the best so far.
func (s *trustSearch) found(path []*x509.Certificate, anchor int) {
	if s.best == nil || pathNotAfter(path).After(pathNotAfter(s.best)) {
		s.best, s.anchor = path, anchor
	}
}

func onPath(path []*x509.Certificate, cert *x509.Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, cert.Raw) {
			return true
		}
	}
	return false
}

func pathNotAfter(path []*x509.Certificate) time.Time {
	notAfter := path[0].NotAfter
	for _, cert := range path[1:] {
		notAfter = earliest(notAfter, cert.NotAfter)
	}
	return notAfter
}

func subjectOf(cert *x509.Certificate) string {
	name, _ := nameOrFallback(cert.RawSubject, cert.Subject)
	return name
}

func issuerOf(cert *x509.Certificate) string {
	name, _ := nameOrFallback(cert.RawIssuer, cert.Issuer)
	return name
}

// PathValidity is the validity of a trusted path (Trust.Path), which
// serves only while every member does: the latest notBefore, the earliest
// expiringSoonAt (each member's window by opts) and the earliest notAfter.
// ok is false for an empty path.
func PathValidity(path []*x509.Certificate, opts Options) (notBefore, expiringSoonAt, notAfter time.Time, ok bool) {
	if len(path) == 0 {
		return time.Time{}, time.Time{}, time.Time{}, false
	}
	combined := newValidity(path[0].NotBefore, path[0].NotAfter, opts.ExpiringSoonThreshold, opts.ExpiringSoonFraction)
	for _, cert := range path[1:] {
		combined = chainValidity(combined, newValidity(cert.NotBefore, cert.NotAfter, opts.ExpiringSoonThreshold, opts.ExpiringSoonFraction))
	}
	return combined.notBefore, combined.expiringSoonAt, combined.notAfter, true
}
