package certificate

import (
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Facts are what metrics show of a Secret at an instant. FactsAt computes
// them without building the status (no conditions, messages or
// certificate list), so a scrape of every Secret allocates next to nothing.
// They agree with StatusAt at the same instant.
type Facts struct {
	State certstatus.State
	// HasInstants is false when no certificate could be read; the instants are then zero.
	HasInstants                         bool
	NotBefore, ExpiringSoonAt, NotAfter time.Time
	// CriticalAt is the instant from which a used certificate pages
	// critical (see criticalAt); zero without instants.
	CriticalAt time.Time
	// Certificates counts every certificate found by its own state.
	Certificates CertificateCounts
	// Leaf is the primary chain's leaf, or a bundle's first certificate; nil when there is none.
	Leaf  *CertificateFacts
	Chain certstatus.ChainVerification
	// PrivateKey is as in the status; nil when the Secret has no key and is not kubernetes.io/tls.
	PrivateKey *certstatus.PrivateKeyStatus
	// AlertsOff is set when the Secret is annotated certstatus.dev/alerts: "off".
	AlertsOff bool
}

// CertificateCounts are certificates by state.
type CertificateCounts struct {
	Valid, ExpiringSoon, Expired, NotYetValid int
}

// CertificateFacts describe one certificate as metrics name it. The strings
// are shared with the Analysis: callers must not keep them beyond a scrape
// if they care about memory, and never mutate them.
type CertificateFacts struct {
	Key                 string
	Subject, CommonName string
	// DNSName is the first DNS name, for certificates without a common name.
	DNSName string
	// Issuer is in RFC 2253 form, like Subject.
	Issuer string
	// IssuerCommonName is the issuer's common name, or "".
	IssuerCommonName string
	// SerialNumber is uppercase hex, as `openssl x509 -serial` prints it.
	SerialNumber        string
	NotBefore, NotAfter time.Time
}

// FactsAt evaluates the analysis at now for metrics.
func (a *Analysis) FactsAt(now time.Time) Facts {
	secret, hasInstants := a.secretValidity()
	facts := Facts{
		State:       a.segmentAt(now, secret, hasInstants).state,
		HasInstants: hasInstants,
		Chain:       a.chain.verified,
		PrivateKey:  a.privateKey,
		AlertsOff:   a.alertsOff,
	}
	if hasInstants {
		facts.NotBefore, facts.ExpiringSoonAt, facts.NotAfter = secret.notBefore, secret.expiringSoonAt, secret.notAfter
		facts.CriticalAt = a.criticalAt(secret)
	}
	for i := range a.certificates {
		switch a.certificates[i].validity().stateAt(now) {
		case certstatus.StateValid:
			facts.Certificates.Valid++
		case certstatus.StateExpiringSoon:
			facts.Certificates.ExpiringSoon++
		case certstatus.StateExpired:
			facts.Certificates.Expired++
		case certstatus.StateNotYetValid:
			facts.Certificates.NotYetValid++
		}
	}
	if leaf := a.leaf(); leaf != nil {
		facts.Leaf = leaf.facts()
	} else if len(a.certificates) > 0 {
		facts.Leaf = a.certificates[0].facts()
	}
	return facts
}

// NumCertificates is how many certificates the Secret holds (at most the
// analysis bound).
func (a *Analysis) NumCertificates() int { return len(a.certificates) }

// CertificateAt describes the i-th certificate, in status order.
func (a *Analysis) CertificateAt(i int) CertificateFacts {
	var facts CertificateFacts
	a.certificates[i].fillFacts(&facts)
	return facts
}

func (r *certificateRecord) facts() *CertificateFacts {
	facts := &CertificateFacts{}
	r.fillFacts(facts)
	return facts
}

func (r *certificateRecord) fillFacts(facts *CertificateFacts) {
	d := r.desc
	*facts = CertificateFacts{
		Key: r.key, Subject: d.subject, CommonName: d.commonName, Issuer: d.issuer, IssuerCommonName: d.issuerCommonName,
		SerialNumber: d.serialNumber, NotBefore: d.notBefore, NotAfter: d.notAfter,
	}
	if len(d.dnsNames) > 0 {
		facts.DNSName = d.dnsNames[0]
	}
}

// criticalWindowMax and criticalWindowFraction bound the critical window:
// the last 7 days of a certificate, or the last tenth of its lifetime when
// that is shorter (a 47-day certificate pages 4.7 days out, a one-hour
// one 6 minutes out).
const (
	criticalWindowMax      = 7 * 24 * time.Hour
	criticalWindowFraction = 0.1
)

// criticalAt is the later of the Secret's expiringSoonAt and notAfter −
// min(7 days, a tenth of the lifetime) of the certificate whose notAfter
// is the Secret's: the primary chain's certificate that expires first, or
// the bundle member that expires last (a bundle serves while any member
// does). Never before expiringSoonAt: a Secret is not critical before it
// is even expiring soon (a threshold annotation moves both).
func (a *Analysis) criticalAt(secret validity) time.Time {
	for i := range a.certificates {
		r := &a.certificates[i]
		if !a.bundle && !r.primary || !r.desc.notAfter.Equal(secret.notAfter) {
			continue
		}
		return CriticalAt(r.desc.notBefore, secret.expiringSoonAt, secret.notAfter)
	}
	return secret.expiringSoonAt
}

// CriticalAt is the later of expiringSoonAt and notAfter − min(7 days, a
// tenth of the lifetime from notBefore to notAfter): criticalAt for
// instants that do not come from one Analysis (a registration's trusted
// path).
func CriticalAt(notBefore, expiringSoonAt, notAfter time.Time) time.Time {
	window := min(criticalWindowMax, time.Duration(criticalWindowFraction*float64(notAfter.Sub(notBefore))))
	window = max(window.Truncate(time.Second), 0)
	return latest(expiringSoonAt, notAfter.Add(-window))
}
