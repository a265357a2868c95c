package metrics

import (
	"math/big"
	"strings"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// MaxX509SeriesPerSecret bounds the x509 exporter series of one Secret
// (per family): a Secret with a huge bundle cannot flood a scrape.
const MaxX509SeriesPerSecret = 1000

// States of a Secret, in the order their series are written.
var secretStates = [...]certstatus.State{
	certstatus.StateValid, certstatus.StateExpiringSoon, certstatus.StateExpired,
	certstatus.StateNotYetValid, certstatus.StateInvalid, certstatus.StateUnknown,
}

// States of a single certificate (a certificate is never Invalid on its own).
var certificateStates = [...]certstatus.State{
	certstatus.StateValid, certstatus.StateExpiringSoon, certstatus.StateExpired, certstatus.StateNotYetValid,
}

var (
	secretLabels = []string{"namespace", "secret"}

	stateFamily = &family{"certstatus_secret_state",
		"The Secret's certificate state: 1 for the current one, 0 for the others.",
		[]string{"namespace", "secret", "state"}, 3}
	notAfterFamily = &family{"certstatus_secret_not_after_seconds",
		"The earliest notAfter of the Secret's primary chain (for a CA bundle, as its state uses it), in Unix seconds.", secretLabels, 2}
	notBeforeFamily = &family{"certstatus_secret_not_before_seconds",
		"The latest notBefore of the Secret's primary chain, in Unix seconds.", secretLabels, 2}
	expiringSoonAtFamily = &family{"certstatus_secret_expiring_soon_at_seconds",
		"The instant the Secret becomes ExpiringSoon (its threshold annotation and the lifetime fraction applied), in Unix seconds.", secretLabels, 2}
	criticalAtFamily = &family{"certstatus_secret_critical_at_seconds",
		"The instant from which a used Secret pages critical: the later of expiringSoonAt and notAfter - min(7 days, a tenth of the lifetime of the certificate that expires first), in Unix seconds.", secretLabels, 2}
	infoFamily = &family{"certstatus_secret_info",
		"Always 1: what the Secret's leaf certificate is (issuer is the issuer's common name; chain Verified|Broken|Unknown; key_pair Match|Mismatch|Absent; certificate is the cert-manager Certificate; alerts is off when the Secret is annotated certstatus.dev/alerts: \"off\", else on).",
		[]string{"namespace", "secret", "secret_type", "common_name", "issuer", "chain", "key_pair", "certificate", "alerts"}, 2}
	certificatesFamily = &family{"certstatus_secret_certificates",
		"How many certificates the Secret holds in each state (for bundles).",
		[]string{"namespace", "secret", "state"}, 3}
	hostsNotCoveredFamily = &family{"certstatus_secret_hosts_not_covered",
		"How many hosts of the objects using the Secret its leaf certificate does not cover.", secretLabels, 2}
	usedFamily = &family{"certstatus_secret_used",
		"1 when something uses the Secret (status.usedBy is not empty), else 0; absent until usedBy has synced, and when usedBy is off.", secretLabels, 2}

	// The x509-certificate-exporter's per-certificate label names, so that
	// its dashboards and alert rules work unchanged. It fills the labels of
	// its other sources (filepath, configmap_*, ...) with "", which
	// Prometheus does not distinguish from an absent label.
	x509Labels = []string{
		"secret_namespace", "secret_name", "secret_key",
		"subject_C", "subject_ST", "subject_L", "subject_O", "subject_OU", "subject_CN",
		"issuer_C", "issuer_ST", "issuer_L", "issuer_O", "issuer_OU", "issuer_CN",
		"serial_number",
	}
	x509NotAfterFamily  = &family{"x509_cert_not_after", "Unix timestamp of the certificate's notAfter (x509-certificate-exporter compatible).", x509Labels, 3}
	x509NotBeforeFamily = &family{"x509_cert_not_before", "Unix timestamp of the certificate's notBefore (x509-certificate-exporter compatible).", x509Labels, 3}
	x509ExpiredFamily   = &family{"x509_cert_expired", "1 if the certificate is expired, 0 otherwise (x509-certificate-exporter compatible).", x509Labels, 3}
)

// Families lists the certificate families' names, default ones first.
func Families(x509 bool) []string {
	names := []string{stateFamily.name, notAfterFamily.name, notBeforeFamily.name, expiringSoonAtFamily.name, criticalAtFamily.name,
		infoFamily.name, certificatesFamily.name, hostsNotCoveredFamily.name, usedFamily.name}
	if x509 {
		names = append(names, x509NotAfterFamily.name, x509NotBeforeFamily.name, x509ExpiredFamily.name)
	}
	return names
}

// factsSource is what certificate.Analysis offers metrics. Other
// statuscache.Analysis implementations (test fakes) are read through StatusAt.
type factsSource interface {
	FactsAt(now time.Time) certificate.Facts
	NumCertificates() int
	CertificateAt(i int) certificate.CertificateFacts
}

// Analyses with usedBy attached (usedby.Decorated) offer the Secret's own
// analysis and the count of uncovered hosts; certificate.Analysis offers
// status.certManager. Metrics read them without building the status.
type (
	unwrapper interface {
		Unwrap() statuscache.Analysis
	}
	hostsSource interface {
		HostsNotCovered() int
	}
	usersSource interface {
		Used() bool
	}
	certManagerSource interface {
		CertManager() *certstatus.CertManagerReference
	}
)

// ownAnalysis is the Secret's own analysis, without what is attached to it.
func ownAnalysis(item *statuscache.Item) statuscache.Analysis {
	if u, ok := item.Analysis.(unwrapper); ok {
		return u.Unwrap()
	}
	return item.Analysis
}

// secretFacts is one Secret as the certificate families need it.
type secretFacts struct {
	meta       *statuscache.Item
	facts      certificate.Facts
	commonName string
	issuer     string
	// certificate is the cert-manager Certificate, or empty.
	certificate     string
	hostsNotCovered int
	used            bool
}

// writeCertificates sends every certificate series of items at now to s;
// certstatus_secret_used only when usedKnown.
// Every series of one family carries a distinct label set by construction:
// the cache holds one item per namespace/name, the state labels are fixed,
// and duplicate x509 label sets within a Secret are skipped.
func writeCertificates(s sink, items []statuscache.Item, now time.Time, x509, usedKnown bool) {
	secrets := make([]secretFacts, len(items))
	for i := range items {
		secrets[i] = factsOf(&items[i], now)
	}
	var values [9]string
	labels := func(f *secretFacts, extra ...string) []string {
		v := append(values[:0], f.meta.Meta.Namespace, f.meta.Meta.Name)
		return append(v, extra...)
	}

	s.begin(stateFamily)
	for i := range secrets {
		f := &secrets[i]
		for _, state := range secretStates {
			s.sample(stateFamily, boolValue(f.facts.State == state), labels(f, string(state)))
		}
	}
	for _, instant := range []struct {
		family *family
		at     func(*certificate.Facts) time.Time
	}{
		{notAfterFamily, func(f *certificate.Facts) time.Time { return f.NotAfter }},
		{notBeforeFamily, func(f *certificate.Facts) time.Time { return f.NotBefore }},
		{expiringSoonAtFamily, func(f *certificate.Facts) time.Time { return f.ExpiringSoonAt }},
		{criticalAtFamily, func(f *certificate.Facts) time.Time { return f.CriticalAt }},
	} {
		s.begin(instant.family)
		for i := range secrets {
			f := &secrets[i]
			// A status (test fakes) has no critical_at: no series rather than 0.
			if at := instant.at(&f.facts); f.facts.HasInstants && !at.IsZero() {
				s.sample(instant.family, unixSeconds(at), labels(f))
			}
		}
	}
	s.begin(infoFamily)
	for i := range secrets {
		f := &secrets[i]
		s.sample(infoFamily, 1, labels(f, f.meta.SecretType, f.commonName, f.issuer,
			certstatus.ChainWord(f.facts.Chain), certstatus.KeyPairWord(f.facts.PrivateKey), f.certificate, alertsWord(f.facts.AlertsOff)))
	}
	s.begin(certificatesFamily)
	for i := range secrets {
		f := &secrets[i]
		counts := f.facts.Certificates
		for j, n := range [...]int{counts.Valid, counts.ExpiringSoon, counts.Expired, counts.NotYetValid} {
			s.sample(certificatesFamily, float64(n), labels(f, string(certificateStates[j])))
		}
	}
	s.begin(hostsNotCoveredFamily)
	for i := range secrets {
		// 0 too when nothing uses the Secret, so that rules and dashboards
		// see every Secret.
		s.sample(hostsNotCoveredFamily, float64(secrets[i].hostsNotCovered), labels(&secrets[i]))
	}
	if usedKnown {
		s.begin(usedFamily)
		for i := range secrets {
			s.sample(usedFamily, boolValue(secrets[i].used), labels(&secrets[i]))
		}
	}
	if x509 {
		writeX509(s, items, now)
	}
}

// factsOf evaluates one item at now.
func factsOf(item *statuscache.Item, now time.Time) secretFacts {
	f := secretFacts{meta: item}
	own := ownAnalysis(item)
	if source, ok := own.(factsSource); ok {
		f.facts = source.FactsAt(now)
		if hosts, ok := item.Analysis.(hostsSource); ok {
			f.hostsNotCovered = hosts.HostsNotCovered()
		}
		if users, ok := item.Analysis.(usersSource); ok {
			f.used = users.Used()
		}
		if c, ok := own.(certManagerSource); ok && c.CertManager() != nil {
			f.certificate = c.CertManager().Certificate
		}
	} else {
		status := item.Analysis.StatusAt(now)
		f.facts = factsFromStatus(&status)
		for _, u := range status.UsedBy {
			f.hostsNotCovered += len(u.HostsNotCovered)
		}
		f.used = len(status.UsedBy) > 0
		if status.CertManager != nil {
			f.certificate = status.CertManager.Certificate
		}
	}
	if leaf := f.facts.Leaf; leaf != nil {
		f.commonName = leaf.CommonName
		if f.commonName == "" {
			f.commonName = leaf.DNSName
		}
		f.issuer = leaf.IssuerCommonName
	}
	return f
}

// factsFromStatus derives Facts from a full status, as the table reads it.
func factsFromStatus(status *certstatus.CertificateStatusStatus) certificate.Facts {
	facts := certificate.Facts{
		State:      status.State,
		Chain:      status.Chain.Verified,
		PrivateKey: status.PrivateKey,
		Certificates: certificate.CertificateCounts{
			Valid: int(status.Summary.Valid), ExpiringSoon: int(status.Summary.ExpiringSoon),
			Expired: int(status.Summary.Expired), NotYetValid: int(status.Summary.NotYetValid),
		},
	}
	if status.NotAfter != nil && status.NotBefore != nil && status.ExpiringSoonAt != nil {
		facts.HasInstants = true
		facts.NotBefore, facts.NotAfter, facts.ExpiringSoonAt = status.NotBefore.Time, status.NotAfter.Time, status.ExpiringSoonAt.Time
	}
	var leaf *certstatus.CertificateInfo
	for i := range status.Certificates {
		if status.Certificates[i].Role == certstatus.RoleLeaf {
			leaf = &status.Certificates[i]
			break
		}
	}
	if leaf == nil && len(status.Certificates) > 0 {
		leaf = &status.Certificates[0]
	}
	if leaf != nil {
		facts.Leaf = certificateFactsFromInfo(leaf)
	}
	return facts
}

func certificateFactsFromInfo(info *certstatus.CertificateInfo) *certificate.CertificateFacts {
	facts := &certificate.CertificateFacts{
		Key: info.Key, Subject: info.Subject, CommonName: info.CommonName, Issuer: info.Issuer, IssuerCommonName: info.IssuerCommonName,
		SerialNumber: info.SerialNumber, NotBefore: info.NotBefore.Time, NotAfter: info.NotAfter.Time,
	}
	if len(info.DNSNames) > 0 {
		facts.DNSName = info.DNSNames[0]
	}
	return facts
}

// x509Row is one certificate's x509 exporter labels and instants.
type x509Row struct {
	values              [16]string
	notBefore, notAfter time.Time
}

// writeX509 writes the x509-certificate-exporter families, at most
// MaxX509SeriesPerSecret series per Secret and family. A certificate
// repeated within a key (a pasted-twice intermediate) would repeat its
// label set, so only its first occurrence is written.
func writeX509(s sink, items []statuscache.Item, now time.Time) {
	x := x509Writer{serials: map[string]string{}}
	for _, f := range []struct {
		family *family
		value  func(*x509Row) float64
	}{
		{x509NotAfterFamily, func(r *x509Row) float64 { return unixSeconds(r.notAfter) }},
		{x509NotBeforeFamily, func(r *x509Row) float64 { return unixSeconds(r.notBefore) }},
		{x509ExpiredFamily, func(r *x509Row) float64 { return boolValue(!now.Before(r.notAfter)) }},
	} {
		s.begin(f.family)
		for i := range items {
			for j := range x.rowsOf(&items[i], now) {
				s.sample(f.family, f.value(&x.rows[j]), x.rows[j].values[:])
			}
		}
	}
}

// x509Writer keeps what one scrape reuses: the rows of the current Secret
// and the decimal form of every serial seen (a CA's recurs in every Secret).
type x509Writer struct {
	rows    []x509Row
	serials map[string]string
	scratch big.Int
}

// rowsOf fills x.rows with the item's distinct rows and returns them.
func (x *x509Writer) rowsOf(item *statuscache.Item, now time.Time) []x509Row {
	x.rows = x.rows[:0]
	if source, ok := ownAnalysis(item).(factsSource); ok {
		for i := range min(source.NumCertificates(), MaxX509SeriesPerSecret) {
			c := source.CertificateAt(i)
			x.add(item, &c)
		}
		return x.rows
	}
	status := item.Analysis.StatusAt(now)
	for i := range min(len(status.Certificates), MaxX509SeriesPerSecret) {
		x.add(item, certificateFactsFromInfo(&status.Certificates[i]))
	}
	return x.rows
}

func (x *x509Writer) add(item *statuscache.Item, c *certificate.CertificateFacts) {
	x.rows = append(x.rows, x509Row{notBefore: c.NotBefore, notAfter: c.NotAfter})
	row := &x.rows[len(x.rows)-1]
	row.values[0], row.values[1], row.values[2] = item.Meta.Namespace, item.Meta.Name, c.Key
	subject, issuer := parseName(c.Subject), parseName(c.Issuer)
	copy(row.values[3:9], subject[:])
	copy(row.values[9:15], issuer[:])
	decimal, ok := x.serials[c.SerialNumber]
	if !ok {
		decimal = decimalSerial(&x.scratch, c.SerialNumber)
		x.serials[c.SerialNumber] = decimal
	}
	row.values[15] = decimal
	for i := range len(x.rows) - 1 {
		if x.rows[i].values == row.values {
			x.rows = x.rows[:len(x.rows)-1]
			return
		}
	}
}

// decimalSerial turns openssl's uppercase hex serial into the decimal the
// x509 exporter labels with.
func decimalSerial(scratch *big.Int, hex string) string {
	negative := strings.HasPrefix(hex, "-")
	if _, ok := scratch.SetString(strings.TrimPrefix(hex, "-"), 16); !ok {
		return hex
	}
	if negative {
		scratch.Neg(scratch)
	}
	return scratch.String()
}

func unixSeconds(t time.Time) float64 { return float64(t.Unix()) }

// alertsWord is the info series' alerts label.
func alertsWord(off bool) string {
	if off {
		return certstatus.AlertsOff
	}
	return "on"
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
