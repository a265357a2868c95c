package certificate

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// annotationErrorKey is the errors[] key of a malformed threshold annotation.
const annotationErrorKey = "metadata.annotations[" + certstatus.ExpiringSoonThresholdAnnotation + "]"

// Analysis is the clock-independent result of parsing one Secret. It keeps
// no Secret data and no key bytes: descriptions, instants and verdicts only.
// The server keeps one per Secret for its lifetime, so it holds only what
// StatusAt cannot cheaply derive: labels, messages, the Secret-level
// instants and a chain's timeline are rebuilt when asked for.
type Analysis struct {
	secretType string
	// createdAt is the Secret's creationTimestamp; with the primary leaf's
	// notBefore it dates non-clock transitions (see writtenAt).
	createdAt    time.Time
	certificates []certificateRecord
	bundle       bool
	// caBundles: every certificate is a bundle member (Input.CABundles).
	caBundles bool
	// served is the DER of the primary chain, kept only when its leaf could
	// serve an API registration (servedchain.go); nil otherwise.
	served *servedChain
	// invalid is set when the state is Invalid whatever the clock, or
	// Unknown when locked is set too.
	invalid *verdict
	// locked: a keystore stayed encrypted and nothing else is readable (state Unknown).
	locked bool
	// privateKey is one of the shared values of privateKeyStatusFor.
	privateKey *certstatus.PrivateKeyStatus
	chain      chainVerdict
	errors     []certstatus.DataError
	// certManager is status.certManager, nil without cert-manager's annotations.
	certManager *certstatus.CertManagerReference
	// alertsOff keeps the value of certstatus.dev/alerts (the annotations
	// themselves are not kept): "off" silences the Secret's alerts.
	alertsOff bool
	// bundleTimeline is the state over time of a bundle, whose members take
	// a sweep to combine; a chain's is computed by StatusAt.
	bundleTimeline timeline
	// configMap is set for a ConfigMap's analysis (8 bytes in a Secret's).
	configMap *configMapFacts
}

// certificateRecord is one certificate as the Analysis keeps it: its
// description, possibly shared, and what depends on this Secret.
type certificateRecord struct {
	desc  *description
	key   string
	alias string
	index int32
	role  role
	// primary marks the certificates of the primary chain; none for a bundle.
	primary bool
	// window is the expiring-soon window, which depends on the Secret's threshold.
	window time.Duration
}

// role is CertificateInfo.Role in a byte.
type role uint8

const (
	roleLeaf role = iota
	roleIntermediate
	roleRoot
	roleCA
)

var roleNames = [...]certstatus.CertificateRole{
	roleLeaf:         certstatus.RoleLeaf,
	roleIntermediate: certstatus.RoleIntermediate,
	roleRoot:         certstatus.RoleRoot,
	roleCA:           certstatus.RoleCA,
}

// validity is the record's three boundaries.
func (r *certificateRecord) validity() validity {
	return validity{
		notBefore:      r.desc.notBefore,
		expiringSoonAt: r.desc.notAfter.Add(-r.window),
		notAfter:       r.desc.notAfter,
	}
}

// fillInfo writes the certificate as StatusAt shows it at now into a zero info.
func (r *certificateRecord) fillInfo(info *certstatus.CertificateInfo, now time.Time) {
	r.desc.fill(info)
	info.Key, info.Index, info.Alias, info.Role = r.key, r.index, r.alias, roleNames[r.role]
	info.State = r.validity().stateAt(now)
}

// label names the certificate in messages: "tls.crt[0] (web.example.com)".
func (r *certificateRecord) label() string {
	alias := ""
	if r.alias != "" {
		alias = " " + r.alias
	}
	return r.key + "[" + strconv.Itoa(int(r.index)) + "]" + alias + " (" + r.desc.displayName() + ")"
}

// chainVerdict is ChainStatus with its message interned: the same message
// ("The chain verifies up to ca.crt[0] (Example Root CA).") recurs in
// every Secret of one CA.
type chainVerdict struct {
	verified certstatus.ChainVerification
	message  unique.Handle[string]
}

func (c chainVerdict) status() certstatus.ChainStatus {
	return certstatus.ChainStatus{Verified: c.verified, Message: c.message.Value()}
}

// Analyze parses the Secret once. listed=false means the Secret does not
// appear at all: it is not kubernetes.io/tls and holds no PEM certificate.
func Analyze(in Input, opts Options) (a *Analysis, listed bool) {
	isTLS := in.Type == secretTypeTLS && !in.CABundles
	if in.CABundles && !holdsPEMCertificate(in.Data) || !isTLS && !mayHoldCertificates(in.Data) {
		return nil, false
	}
	var problems problemLog
	pw := func() passwords { return keystorePasswordsFor(in, &problems) }
	var contents *secretContents
	switch {
	case in.CABundles:
		contents = readCABundles(in.Data)
	case isTLS:
		contents = readTLSSecret(in.Data, pw)
	default:
		contents = readOtherSecret(in.Data, pw, in.configMap)
		if !contents.recognized {
			return nil, false
		}
	}
	contents.passwords, contents.passwordSource = nil, nil
	contents.problems.merge(&problems)
	threshold := thresholdFor(in.Annotations, opts.ExpiringSoonThreshold, &contents.problems)

	a = &Analysis{secretType: in.Type, createdAt: in.CreatedAt, caBundles: in.CABundles}
	if in.configMap != nil {
		a.configMap = &configMapFacts{keys: slices.Clone(contents.certificateKeys)} // read once each, in key order
	}
	if isTLS {
		a.secretType = secretTypeTLS // not the decoded Secret's copy of it
	}
	primaryKey := ""
	if !in.CABundles {
		primaryKey = choosePrimaryKey(contents, isTLS)
	}
	if s := contents.structured[primaryKey]; s != nil && s.key != nil && !isTLS {
		contents.privateKey = s.key // the entry's own key, matched against its leaf
	}
	a.bundle = !isTLS && primaryKey == "" && len(contents.certificates) > 0
	a.describeCertificates(contents, primaryKey, threshold, opts.ExpiringSoonFraction)
	served := a.primaryChain(contents, primaryKey)
	a.served = keepServedChain(served)
	chain := a.verify(contents, primaryKey, served)
	a.chain = chainVerdict{verified: chain.Verified, message: unique.Make(chain.Message)}
	a.privateKey = a.matchPrivateKey(contents, isTLS)
	a.invalid = a.judgeInvalid(contents, in.Data, isTLS, chain)
	a.locked = a.invalid != nil && a.invalid.reason == certstatus.ReasonKeystoreLocked
	if a.bundle && a.invalid == nil {
		a.bundleTimeline = bundleTimeline(a.validities())
	}
	a.errors = contents.problems.dataErrors()
	a.certManager = certManagerFrom(in.Annotations)
	a.alertsOff = strings.EqualFold(strings.TrimSpace(in.Annotations[certstatus.AlertsAnnotation]), certstatus.AlertsOff)
	return a, true
}

// mayHoldCertificates is the cheap first listing test for Secrets other
// than kubernetes.io/tls: a PEM certificate, a keystore, a DER certificate
// or a kubeconfig key name. Reading decides (a "config" key may hold
// anything).
func mayHoldCertificates(data map[string][]byte) bool {
	for key, value := range data {
		if bytes.Contains(value, certificateMarker) || kindByName(key) != kindOther || kindByContent(value) != kindOther {
			return true
		}
	}
	return false
}

// thresholdFor applies the Secret's annotation override. A malformed value
// is reported (without repeating it) and the default applies.
func thresholdFor(annotations map[string]string, fallback time.Duration, problems *problemLog) time.Duration {
	value, ok := annotations[certstatus.ExpiringSoonThresholdAnnotation]
	if !ok {
		return fallback
	}
	threshold, err := time.ParseDuration(strings.TrimSpace(value))
	if err != nil || threshold < 0 {
		problems.add(annotationErrorKey, fmt.Sprintf("The value is not a non-negative Go duration such as 168h, so the default threshold of %s applies.", fallback))
		return fallback
	}
	return threshold
}

// choosePrimaryKey is the key whose certificates a TLS client meets:
// tls.crt, or for other types the first key holding a non-CA certificate.
// "" means there is none (a bundle, or nothing parseable).
func choosePrimaryKey(contents *secretContents, isTLS bool) string {
	if isTLS {
		return keyTLSCert
	}
	for _, key := range contents.certificateKeys {
		if contents.structured[key] != nil {
			continue
		}
		for _, i := range contents.certificatesByKey[key] {
			cert := contents.certificates[i].cert
			if !(cert.BasicConstraintsValid && cert.IsCA) {
				return key
			}
		}
	}
	// A keystore or kubeconfig is the primary chain only where no PEM or DER
	// value holds a leaf: its first private-key entry, or first user.
	for _, key := range contents.certificateKeys {
		if s := contents.structured[key]; s != nil && s.hasChain {
			return key
		}
	}
	return ""
}

// inPrimaryKey reports whether a certificate of the primary key belongs to
// the primary chain: all of a PEM value, a keystore's chosen entry only.
func (c *secretContents) inPrimaryKey(parsed *parsedCertificate, primaryKey string) bool {
	return parsed.key == primaryKey && (c.structured[primaryKey] == nil || parsed.chainPos >= 0)
}

// describeCertificates records every certificate with its role and
// validity, and picks the primary chain: the primary key's certificates,
// plus a ca.crt that holds exactly one certificate. Certificates were read
// in key order, so records[i] describes contents.certificates[i].
func (a *Analysis) describeCertificates(contents *secretContents, primaryKey string, threshold time.Duration, fraction float64) {
	singleCA := primaryKey != "" && primaryKey != keyCACert && len(contents.certificatesByKey[keyCACert]) == 1
	a.certificates = make([]certificateRecord, len(contents.certificates))
	for i, parsed := range contents.certificates {
		cert := parsed.cert
		record := &a.certificates[i]
		record.desc = describeOnce(cert, parsed.fingerprint)
		record.key, record.index, record.alias = parsed.key, int32(parsed.index), parsed.alias
		inPrimary := contents.inPrimaryKey(&contents.certificates[i], primaryKey)
		isFirstOfKey := i == 0 || contents.certificates[i-1].key != parsed.key
		if contents.structured[parsed.key] != nil {
			isFirstOfKey = parsed.chainPos == 0
		}
		switch {
		case inPrimary && isFirstOfKey:
			record.role = roleLeaf
		case inPrimary && record.desc.isCA && isSelfSigned(cert):
			record.role = roleRoot
		case inPrimary:
			record.role = roleIntermediate
		case record.desc.isCA || parsed.key == keyCACert || a.caBundles:
			record.role = roleCA
		default:
			record.role = roleLeaf
		}
		record.primary = inPrimary || parsed.key == keyCACert && singleCA
		v := newValidity(cert.NotBefore, cert.NotAfter, threshold, fraction)
		record.window = v.notAfter.Sub(v.expiringSoonAt)
	}
	a.shareIssuerStrings()
}

// describeOnce describes a certificate, sharing the description of a CA
// certificate with every other Secret that holds it. fingerprint is the
// SHA-256 of cert.Raw.
func describeOnce(cert *x509.Certificate, fingerprint [sha256.Size]byte) *description {
	if isCA(cert) {
		return sharedDescription(cert, fingerprint)
	}
	return newDescription(cert, fingerprint)
}

// shareIssuerStrings points a leaf's issuer and authority key ID at the
// equal subject and subject key ID of a shared CA description in the
// Secret (usually its intermediate), instead of keeping copies. Only
// descriptions of this Secret's own are changed: shared ones are immutable.
func (a *Analysis) shareIssuerStrings() {
	for i := range a.certificates {
		own := a.certificates[i].desc
		if own.isCA {
			continue
		}
		for j := range a.certificates {
			ca := a.certificates[j].desc
			if !ca.isCA {
				continue
			}
			if own.issuer == ca.subject {
				own.issuer = ca.subject
			}
			if own.authorityKeyID == ca.subjectKeyID {
				own.authorityKeyID = ca.subjectKeyID
			}
		}
	}
}

// leaf is the certificate a private key is matched against: the first of
// the primary chain, or of the Secret for a bundle.
func (a *Analysis) leaf() *certificateRecord {
	if i := a.leafIndex(); i >= 0 {
		return &a.certificates[i]
	}
	return nil
}

func (a *Analysis) leafIndex() int {
	if a.bundle {
		return 0
	}
	for i := range a.certificates {
		if a.certificates[i].primary && a.certificates[i].role == roleLeaf {
			return i
		}
	}
	return -1
}

// hasPrimary reports whether the Secret has a primary chain.
func (a *Analysis) hasPrimary() bool {
	for i := range a.certificates {
		if a.certificates[i].primary {
			return true
		}
	}
	return false
}

// validities are every certificate's validity, in order.
func (a *Analysis) validities() []validity {
	out := make([]validity, len(a.certificates))
	for i := range a.certificates {
		out[i] = a.certificates[i].validity()
	}
	return out
}

// verify checks the primary chain (primaryChain) against ca.crt.
func (a *Analysis) verify(contents *secretContents, primaryKey string, chain []chainMember) certstatus.ChainStatus {
	if a.bundle {
		return unknownChain("A CA bundle has no chain to verify.")
	}
	var anchors []chainMember
	structured := contents.structured[primaryKey]
	anchorKey := keyCACert
	if structured != nil && structured.anchorsInValue && len(contents.certificatesByKey[keyCACert]) == 0 {
		anchorKey = primaryKey
	}
	for i := range contents.certificates {
		parsed := &contents.certificates[i]
		switch {
		case contents.inPrimaryKey(parsed, primaryKey):
		case parsed.key == keyCACert, parsed.key == primaryKey && structured != nil && structured.anchorsInValue:
			anchors = append(anchors, chainMember{cert: parsed.cert, label: a.certificates[i].label()})
		}
	}
	if primaryKey == "" {
		primaryKey = keyTLSCert
	}
	return verifyChain(chain, anchors, primaryKey, anchorKey, a.noun())
}

// primaryChain is the served chain in the order a TLS server sends it:
// the primary key's certificates (a keystore's in chain order, not file
// order). Empty for a bundle.
func (a *Analysis) primaryChain(contents *secretContents, primaryKey string) []chainMember {
	if a.bundle {
		return nil
	}
	var chain []chainMember
	var positions []int
	for i := range contents.certificates {
		parsed := &contents.certificates[i]
		if contents.inPrimaryKey(parsed, primaryKey) {
			chain = append(chain, chainMember{cert: parsed.cert, label: a.certificates[i].label()})
			positions = append(positions, parsed.chainPos)
		}
	}
	if contents.structured[primaryKey] != nil {
		sorted := make([]chainMember, len(chain))
		for i, p := range positions {
			sorted[p] = chain[i]
		}
		chain = sorted
	}
	return chain
}
