package certificate

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// annotationErrorKey is the errors[] key of a malformed threshold annotation.
const annotationErrorKey = "metadata.annotations[" + certstatus.ExpiringSoonThresholdAnnotation + "]"

// Analysis is the clock-independent result of parsing one Secret. It keeps
// no Secret data and no key bytes: descriptions, instants and verdicts only.
type Analysis struct {
	secretType   string
	changedAt    time.Time
	certificates []certificateRecord
	// primary indexes certificates of the primary chain; empty for a bundle.
	primary []int
	bundle  bool
	// invalid is set when the state is Invalid whatever the clock.
	invalid    *verdict
	privateKey *certstatus.PrivateKeyStatus
	chain      certstatus.ChainStatus
	errors     []certstatus.DataError
	// notBefore, expiringSoonAt and notAfter are the Secret-level instants,
	// nil without a certificate to take them from.
	notBefore, expiringSoonAt, notAfter *metav1.Time
	// subjectName names the Secret's certificate in messages.
	subjectName string
	timeline    timeline
	// boundaries are the sorted instants at which any certificate's state changes.
	boundaries []time.Time
}

// certificateRecord is one certificate as the Analysis keeps it.
type certificateRecord struct {
	info     certstatus.CertificateInfo // State is filled in by StatusAt
	label    string                     // "tls.crt[0] (web.example.com)"
	validity validity
}

// verdict is a clock-independent Ready reason with its message.
type verdict struct {
	reason  string
	message string
}

// Analyze parses the Secret once. listed=false means the Secret does not
// appear at all: it is not kubernetes.io/tls and holds no PEM certificate.
func Analyze(in Input, opts Options) (a *Analysis, listed bool) {
	isTLS := in.Type == secretTypeTLS
	if !isTLS && !holdsCertificateBlock(in.Data) {
		return nil, false
	}
	var contents *secretContents
	if isTLS {
		contents = readTLSSecret(in.Data)
	} else {
		contents = readOtherSecret(in.Data)
	}
	threshold := thresholdFor(in.Annotations, opts.ExpiringSoonThreshold, &contents.problems)

	a = &Analysis{secretType: in.Type, changedAt: in.ChangedAt}
	primaryKey := choosePrimaryKey(contents, isTLS)
	a.bundle = !isTLS && primaryKey == "" && len(contents.certificates) > 0
	a.describeCertificates(contents, primaryKey, threshold, opts.ExpiringSoonFraction)
	a.chain = a.verify(contents, primaryKey)
	a.privateKey = a.matchPrivateKey(contents, isTLS)
	a.invalid = a.judgeInvalid(contents, in.Data, isTLS)
	a.setSecretValidity()
	a.errors = contents.problems.dataErrors()
	return a, true
}

// holdsCertificateBlock is the listing rule for Secrets other than kubernetes.io/tls.
func holdsCertificateBlock(data map[string][]byte) bool {
	for _, value := range data {
		if bytes.Contains(value, certificateMarker) {
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
		for _, i := range contents.certificatesByKey[key] {
			cert := contents.certificates[i].cert
			if !(cert.BasicConstraintsValid && cert.IsCA) {
				return key
			}
		}
	}
	return ""
}

// describeCertificates records every certificate with its role and
// validity, and picks the primary chain: the primary key's certificates,
// plus a ca.crt that holds exactly one certificate. Certificates were read
// in key order, so records[i] describes contents.certificates[i].
func (a *Analysis) describeCertificates(contents *secretContents, primaryKey string, threshold time.Duration, fraction float64) {
	singleCA := primaryKey != "" && primaryKey != keyCACert && len(contents.certificatesByKey[keyCACert]) == 1
	a.certificates = make([]certificateRecord, 0, len(contents.certificates))
	for i, parsed := range contents.certificates {
		info := describe(parsed.cert, parsed.key, parsed.index)
		isFirstOfKey := i == 0 || contents.certificates[i-1].key != parsed.key
		switch {
		case parsed.key == primaryKey && isFirstOfKey:
			info.Role = certstatus.RoleLeaf
		case parsed.key == primaryKey && info.IsCA && isSelfSigned(parsed.cert):
			info.Role = certstatus.RoleRoot
		case parsed.key == primaryKey:
			info.Role = certstatus.RoleIntermediate
		case info.IsCA || parsed.key == keyCACert:
			info.Role = certstatus.RoleCA
		default:
			info.Role = certstatus.RoleLeaf
		}
		if parsed.key == primaryKey || parsed.key == keyCACert && singleCA {
			a.primary = append(a.primary, i)
		}
		v := newValidity(parsed.cert.NotBefore, parsed.cert.NotAfter, threshold, fraction)
		a.certificates = append(a.certificates, certificateRecord{
			info:     info,
			label:    fmt.Sprintf("%s[%d] (%s)", parsed.key, parsed.index, displayName(info)),
			validity: v,
		})
		a.boundaries = append(a.boundaries, v.notBefore, v.expiringSoonAt, v.notAfter)
	}
	a.boundaries = sortedUnique(a.boundaries)
	if leaf := a.leaf(); leaf != nil {
		a.subjectName = displayName(leaf.info)
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
	for _, i := range a.primary {
		if a.certificates[i].info.Role == certstatus.RoleLeaf {
			return i
		}
	}
	return -1
}

// displayName is the common name, else the first DNS name, else the subject.
func displayName(info certstatus.CertificateInfo) string {
	switch {
	case info.CommonName != "":
		return info.CommonName
	case len(info.DNSNames) > 0:
		return info.DNSNames[0]
	case info.Subject != "":
		return info.Subject
	default:
		return "no subject"
	}
}

// verify checks the primary chain against ca.crt.
func (a *Analysis) verify(contents *secretContents, primaryKey string) certstatus.ChainStatus {
	if a.bundle {
		return unknownChain("A CA bundle has no chain to verify.")
	}
	var chain, anchors []chainMember
	for i, parsed := range contents.certificates {
		member := chainMember{cert: parsed.cert, label: a.certificates[i].label}
		switch parsed.key {
		case primaryKey:
			chain = append(chain, member)
		case keyCACert:
			anchors = append(anchors, member)
		}
	}
	if primaryKey == "" {
		primaryKey = keyTLSCert
	}
	return verifyChain(chain, anchors, primaryKey, keyCACert)
}
