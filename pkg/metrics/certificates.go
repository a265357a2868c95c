package metrics

import (
	"math/big"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// MaxX509SeriesPerSecret bounds the x509 exporter series of one Secret or
// ConfigMap (per family): a huge bundle cannot flood a scrape.
const MaxX509SeriesPerSecret = 1000

// States of an object, in the order their series are written.
var secretStates = [...]certstatus.State{
	certstatus.StateValid, certstatus.StateExpiringSoon, certstatus.StateExpired,
	certstatus.StateNotYetValid, certstatus.StateInvalid, certstatus.StateUnknown,
}

// States of a single certificate (a certificate is never Invalid on its own).
var certificateStates = [...]certstatus.State{
	certstatus.StateValid, certstatus.StateExpiringSoon, certstatus.StateExpired, certstatus.StateNotYetValid,
}

// Kind is one kind's certificate families: how the series of its objects
// (Secrets, ConfigMaps, API registrations) are named and labelled. The
// families are the same for every kind: <Prefix>_state, _not_after_seconds,
// _not_before_seconds, _expiring_soon_at_seconds, _critical_at_seconds,
// _info, _certificates, _hosts_not_covered (HostsNotCovered), _used (once
// usedBy has synced), then Extra.
type Kind struct {
	// Prefix starts every family name, e.g. "certstatus_secret".
	Prefix string
	// Noun names one object in help texts, e.g. "Secret".
	Noun string
	// Labels name one object, e.g. namespace and secret; Names appends
	// their values for an item. Kubernetes names: never escaped.
	Labels []string
	Names  func(item *statuscache.Item, values []string) []string
	// InfoLabels are the info family's labels after Labels, and Info
	// appends their values.
	InfoLabels []string
	InfoHelp   string
	Info       func(f *ObjectFacts, values []string) []string
	// HostsNotCovered writes <Prefix>_hosts_not_covered.
	HostsNotCovered bool
	// X509Labels are the x509 exporter's labels naming the object and its
	// key (e.g. secret_namespace, secret_name, secret_key), and X509Names
	// appends their first two values; nil: no x509 series.
	X509Labels []string
	// Extra are the kind's own families, written after the others.
	Extra []ExtraFamily
}

// ExtraFamily is a family one kind adds (e.g. a registration's trust).
type ExtraFamily struct {
	// Suffix follows the kind's Prefix and "_"; Labels follow the kind's.
	Suffix, Help string
	Labels       []string
	// Samples calls sample for each series of one object, with the values
	// of Labels.
	Samples func(f *ObjectFacts, sample func(value float64, values ...string))
}

// SecretKind is the families of certificatestatuses.
var SecretKind = &Kind{
	Prefix: "certstatus_secret", Noun: "Secret",
	Labels:     []string{"namespace", "secret"},
	Names:      namespaceAndName,
	InfoLabels: []string{"secret_type", "common_name", "issuer", "chain", "key_pair", "certificate", "alerts"},
	InfoHelp:   "Always 1: what the Secret's leaf certificate is (issuer is the issuer's common name; chain Verified|Broken|Unknown; key_pair Match|Mismatch|Absent; certificate is the cert-manager Certificate; alerts is off when the Secret is annotated certstatus.dev/alerts: \"off\", else on).",
	Info: func(f *ObjectFacts, v []string) []string {
		return append(v, f.Item.SecretType, f.CommonName, f.Issuer, certstatus.ChainWord(f.Facts.Chain),
			certstatus.KeyPairWord(f.Facts.PrivateKey), f.Certificate, alertsWord(f.Facts.AlertsOff))
	},
	HostsNotCovered: true,
	X509Labels:      []string{"secret_namespace", "secret_name", "secret_key"},
}

// ConfigMapKind is the families of configmapcertificatestatuses. A
// ConfigMap holds no private key and no cert-manager Certificate: its info
// has neither label.
var ConfigMapKind = &Kind{
	Prefix: "certstatus_configmap", Noun: "ConfigMap",
	Labels:     []string{"namespace", "configmap"},
	Names:      namespaceAndName,
	InfoLabels: []string{"common_name", "issuer", "chain", "alerts"},
	InfoHelp:   "Always 1: what the ConfigMap's leaf (or first) certificate is (issuer is the issuer's common name; chain Verified|Broken|Unknown; alerts is off when the ConfigMap is annotated certstatus.dev/alerts: \"off\", else on).",
	Info: func(f *ObjectFacts, v []string) []string {
		return append(v, f.CommonName, f.Issuer, certstatus.ChainWord(f.Facts.Chain), alertsWord(f.Facts.AlertsOff))
	},
	X509Labels: []string{"configmap_namespace", "configmap_name", "configmap_key"},
}

// RegistrationKind is the families of clustercertificatestatuses, named by
// the registration (status.source: kind and name), not by the object's own
// name. There is no _used family: every registration's caBundle is used
// (kube-apiserver calls with it), so the rules treat each as used. A
// registration with a Trusted condition adds _trusted.
var RegistrationKind = &Kind{
	Prefix: "certstatus_registration", Noun: "registration",
	Labels:     []string{"kind", "name"},
	Names:      registrationName,
	InfoLabels: []string{"common_name", "issuer", "chain"},
	InfoHelp:   "Always 1: what the registration's caBundle holds first (issuer is the issuer's common name; chain Verified|Broken|Unknown).",
	Info: func(f *ObjectFacts, v []string) []string {
		return append(v, f.CommonName, f.Issuer, certstatus.ChainWord(f.Facts.Chain))
	},
	Extra: []ExtraFamily{{
		Suffix: "trusted", Labels: []string{"status"},
		Help: "Whether the registration's caBundle trusts the certificate its service serves (the Trusted condition): 1 for the current status (true|false|unknown), 0 for the others; no series without the condition (a ClusterTrustBundle).",
		Samples: func(f *ObjectFacts, sample func(float64, ...string)) {
			decided, ok := f.Item.Analysis.(TrustDecided)
			if !ok {
				return
			}
			current := decided.TrustedStatus()
			for _, status := range [...]metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown} {
				sample(boolValue(current == status), strings.ToLower(string(status)))
			}
		},
	}},
}

// SourceNamer is an analysis that names the object it was computed from by
// kind and name (a registration's status.source).
type SourceNamer interface {
	SourceKindName() (kind, name string)
}

// TrustDecided is an analysis with a Trusted condition.
type TrustDecided interface {
	TrustedStatus() metav1.ConditionStatus
}

// FactsDecorator is a decoration that changes the facts of the analysis it
// wraps (a registration's Trusted changes its state and instants), where
// usedBy's decoration changes none.
type FactsDecorator interface {
	DecorateFacts(now time.Time, own certificate.Facts) certificate.Facts
}

// registrationName is status.source's kind and name; an analysis that
// does not know them (never in the server) falls back to the object name.
func registrationName(item *statuscache.Item, values []string) []string {
	if n, ok := item.Analysis.(SourceNamer); ok {
		kind, name := n.SourceKindName()
		return append(values, kind, name)
	}
	return append(values, "", item.Meta.Name)
}

func namespaceAndName(item *statuscache.Item, values []string) []string {
	return append(values, item.Meta.Namespace, item.Meta.Name)
}

// kindFamilies are a Kind's families, named.
type kindFamilies struct {
	state, notAfter, notBefore, expiringSoonAt, criticalAt, info, certificates, hostsNotCovered, used *family
	extra                                                                                             []*family
	x509NotAfter, x509NotBefore, x509Expired                                                          *family
}

func (k *Kind) families() *kindFamilies {
	with := func(extra ...string) []string { return append(append([]string(nil), k.Labels...), extra...) }
	n := len(k.Labels)
	name := func(suffix string) string { return k.Prefix + "_" + suffix }
	f := &kindFamilies{
		state: &family{name("state"), "The " + k.Noun + "'s certificate state: 1 for the current one, 0 for the others.", with("state"), n + 1},
		notAfter: &family{name("not_after_seconds"),
			"The earliest notAfter of the " + k.Noun + "'s primary chain (for a CA bundle, as its state uses it), in Unix seconds.", k.Labels, n},
		notBefore: &family{name("not_before_seconds"), "The latest notBefore of the " + k.Noun + "'s primary chain, in Unix seconds.", k.Labels, n},
		expiringSoonAt: &family{name("expiring_soon_at_seconds"),
			"The instant the " + k.Noun + " becomes ExpiringSoon (its threshold annotation and the lifetime fraction applied), in Unix seconds.", k.Labels, n},
		criticalAt: &family{name("critical_at_seconds"),
			"The instant from which a used " + k.Noun + " pages critical: the later of expiringSoonAt and notAfter - min(7 days, a tenth of the lifetime of the certificate that expires first), in Unix seconds.", k.Labels, n},
		info:         &family{name("info"), k.InfoHelp, with(k.InfoLabels...), n},
		certificates: &family{name("certificates"), "How many certificates the " + k.Noun + " holds in each state (for bundles).", with("state"), n + 1},
		used: &family{name("used"),
			"1 when something uses the " + k.Noun + " (status.usedBy is not empty), else 0; absent until usedBy has synced, and when usedBy is off.", k.Labels, n},
	}
	if k.HostsNotCovered {
		f.hostsNotCovered = &family{name("hosts_not_covered"), "How many hosts of the objects using the " + k.Noun + " its leaf certificate does not cover.", k.Labels, n}
	}
	for _, e := range k.Extra {
		f.extra = append(f.extra, &family{name(e.Suffix), e.Help, with(e.Labels...), n})
	}
	if k.X509Labels != nil {
		// The x509-certificate-exporter's per-certificate label names, so
		// that its dashboards and alert rules work unchanged. It fills the
		// labels of its other sources (filepath, configmap_*, ...) with "",
		// which Prometheus does not distinguish from an absent label.
		labels := append(append([]string(nil), k.X509Labels...), x509NameLabels...)
		f.x509NotAfter = &family{"x509_cert_not_after", "Unix timestamp of the certificate's notAfter (x509-certificate-exporter compatible).", labels, 3}
		f.x509NotBefore = &family{"x509_cert_not_before", "Unix timestamp of the certificate's notBefore (x509-certificate-exporter compatible).", labels, 3}
		f.x509Expired = &family{"x509_cert_expired", "1 if the certificate is expired, 0 otherwise (x509-certificate-exporter compatible).", labels, 3}
	}
	return f
}

// ordered are the families in the order they are written.
func (f *kindFamilies) ordered(x509 bool) []*family {
	out := []*family{f.state, f.notAfter, f.notBefore, f.expiringSoonAt, f.criticalAt, f.info, f.certificates}
	if f.hostsNotCovered != nil {
		out = append(out, f.hostsNotCovered)
	}
	out = append(out, f.used)
	out = append(out, f.extra...)
	if x509 && f.x509NotAfter != nil {
		out = append(out, f.x509NotAfter, f.x509NotBefore, f.x509Expired)
	}
	return out
}

var x509NameLabels = []string{
	"subject_C", "subject_ST", "subject_L", "subject_O", "subject_OU", "subject_CN",
	"issuer_C", "issuer_ST", "issuer_L", "issuer_O", "issuer_OU", "issuer_CN",
	"serial_number",
}

// Families lists the certificate families' names of kinds, in the order
// they are written: each kind's own, then the x509 ones (shared by kinds).
func Families(x509 bool, kinds ...*Kind) []string {
	var names []string
	for _, k := range kinds {
		for _, f := range k.families().ordered(false) {
			names = append(names, f.name)
		}
	}
	if x509 {
		names = append(names, "x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired")
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

// ObjectFacts is one object as the certificate families need it.
type ObjectFacts struct {
	Item       *statuscache.Item
	Facts      certificate.Facts
	CommonName string
	Issuer     string
	// Certificate is the cert-manager Certificate, or empty.
	Certificate     string
	hostsNotCovered int
	used            bool
}

// writeKind sends every series of one kind's items at now to s, except the
// x509 ones; <Prefix>_used only when usedKnown.
// Every series of one family carries a distinct label set by construction:
// the cache holds one item per namespace/name and the state labels are fixed.
func writeKind(s sink, k *Kind, families *kindFamilies, items []statuscache.Item, now time.Time, usedKnown bool) {
	objects := make([]ObjectFacts, len(items))
	for i := range items {
		objects[i] = factsOf(&items[i], now)
	}
	var values [16]string
	labels := func(f *ObjectFacts, extra ...string) []string {
		return append(k.Names(f.Item, values[:0]), extra...)
	}

	s.begin(families.state)
	for i := range objects {
		f := &objects[i]
		for _, state := range secretStates {
			s.sample(families.state, boolValue(f.Facts.State == state), labels(f, string(state)))
		}
	}
	for _, instant := range []struct {
		family *family
		at     func(*certificate.Facts) time.Time
	}{
		{families.notAfter, func(f *certificate.Facts) time.Time { return f.NotAfter }},
		{families.notBefore, func(f *certificate.Facts) time.Time { return f.NotBefore }},
		{families.expiringSoonAt, func(f *certificate.Facts) time.Time { return f.ExpiringSoonAt }},
		{families.criticalAt, func(f *certificate.Facts) time.Time { return f.CriticalAt }},
	} {
		s.begin(instant.family)
		for i := range objects {
			f := &objects[i]
			// A status (test fakes) has no critical_at: no series rather than 0.
			if at := instant.at(&f.Facts); f.Facts.HasInstants && !at.IsZero() {
				s.sample(instant.family, unixSeconds(at), labels(f))
			}
		}
	}
	s.begin(families.info)
	for i := range objects {
		f := &objects[i]
		s.sample(families.info, 1, k.Info(f, labels(f)))
	}
	s.begin(families.certificates)
	for i := range objects {
		f := &objects[i]
		counts := f.Facts.Certificates
		for j, n := range [...]int{counts.Valid, counts.ExpiringSoon, counts.Expired, counts.NotYetValid} {
			s.sample(families.certificates, float64(n), labels(f, string(certificateStates[j])))
		}
	}
	if families.hostsNotCovered != nil {
		s.begin(families.hostsNotCovered)
		for i := range objects {
			// 0 too when nothing uses the object, so that rules and
			// dashboards see every one.
			s.sample(families.hostsNotCovered, float64(objects[i].hostsNotCovered), labels(&objects[i]))
		}
	}
	if usedKnown {
		s.begin(families.used)
		for i := range objects {
			s.sample(families.used, boolValue(objects[i].used), labels(&objects[i]))
		}
	}
	for j, extra := range k.Extra {
		family := families.extra[j]
		s.begin(family)
		for i := range objects {
			f := &objects[i]
			extra.Samples(f, func(value float64, extraValues ...string) {
				s.sample(family, value, labels(f, extraValues...))
			})
		}
	}
}

// factsOf evaluates one item at now.
func factsOf(item *statuscache.Item, now time.Time) ObjectFacts {
	f := ObjectFacts{Item: item}
	own := ownAnalysis(item)
	if source, ok := own.(factsSource); ok {
		f.Facts = source.FactsAt(now)
		if d, ok := item.Analysis.(FactsDecorator); ok {
			f.Facts = d.DecorateFacts(now, f.Facts)
		}
		if hosts, ok := item.Analysis.(hostsSource); ok {
			f.hostsNotCovered = hosts.HostsNotCovered()
		}
		if users, ok := item.Analysis.(usersSource); ok {
			f.used = users.Used()
		}
		if c, ok := own.(certManagerSource); ok && c.CertManager() != nil {
			f.Certificate = c.CertManager().Certificate
		}
	} else {
		status := item.Analysis.StatusAt(now)
		f.Facts = factsFromStatus(&status)
		for _, u := range status.UsedBy {
			f.hostsNotCovered += len(u.HostsNotCovered)
		}
		f.used = len(status.UsedBy) > 0
		if status.CertManager != nil {
			f.Certificate = status.CertManager.Certificate
		}
	}
	if leaf := f.Facts.Leaf; leaf != nil {
		f.CommonName = leaf.CommonName
		if f.CommonName == "" {
			f.CommonName = leaf.DNSName
		}
		f.Issuer = leaf.IssuerCommonName
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

// x509Source is one kind's items and families for the x509 families.
type x509Source struct {
	kind     *Kind
	families *kindFamilies
	items    []statuscache.Item
}

// writeX509 writes the x509-certificate-exporter families of every kind,
// each family once (its series carry each kind's own label names, as the
// exporter's do), at most MaxX509SeriesPerSecret series per object and
// family. A certificate repeated within a key (a pasted-twice
// intermediate) would repeat its label set, so only its first occurrence
// is written.
func writeX509(s sink, sources []x509Source, now time.Time) {
	if len(sources) == 0 {
		return
	}
	x := x509Writer{serials: map[string]string{}}
	for _, f := range []struct {
		family func(*kindFamilies) *family
		value  func(*x509Row) float64
	}{
		{func(k *kindFamilies) *family { return k.x509NotAfter }, func(r *x509Row) float64 { return unixSeconds(r.notAfter) }},
		{func(k *kindFamilies) *family { return k.x509NotBefore }, func(r *x509Row) float64 { return unixSeconds(r.notBefore) }},
		{func(k *kindFamilies) *family { return k.x509Expired }, func(r *x509Row) float64 { return boolValue(!now.Before(r.notAfter)) }},
	} {
		s.begin(f.family(sources[0].families))
		for _, source := range sources {
			family := f.family(source.families)
			for i := range source.items {
				for j := range x.rowsOf(source.kind, &source.items[i], now) {
					s.sample(family, f.value(&x.rows[j]), x.rows[j].values[:])
				}
			}
		}
	}
}

// x509Writer keeps what one scrape reuses: the rows of the current object
// and the decimal form of every serial seen (a CA's recurs in every Secret).
type x509Writer struct {
	rows    []x509Row
	serials map[string]string
	scratch big.Int
}

// rowsOf fills x.rows with the item's distinct rows and returns them.
func (x *x509Writer) rowsOf(k *Kind, item *statuscache.Item, now time.Time) []x509Row {
	x.rows = x.rows[:0]
	if source, ok := ownAnalysis(item).(factsSource); ok {
		for i := range min(source.NumCertificates(), MaxX509SeriesPerSecret) {
			c := source.CertificateAt(i)
			x.add(k, item, &c)
		}
		return x.rows
	}
	status := item.Analysis.StatusAt(now)
	for i := range min(len(status.Certificates), MaxX509SeriesPerSecret) {
		x.add(k, item, certificateFactsFromInfo(&status.Certificates[i]))
	}
	return x.rows
}

func (x *x509Writer) add(k *Kind, item *statuscache.Item, c *certificate.CertificateFacts) {
	x.rows = append(x.rows, x509Row{notBefore: c.NotBefore, notAfter: c.NotAfter})
	row := &x.rows[len(x.rows)-1]
	k.Names(item, row.values[:0])
	row.values[2] = c.Key
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
