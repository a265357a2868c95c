package metrics

import (
	"crypto/x509/pkix"
	"fmt"
	"slices"

	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/hack/demo"
	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// parse reads the exposition as Prometheus would, failing on anything it
// would reject, and on a label set that occurs twice in one family.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, text)
	}
	for name, family := range families {
		seen := map[string]bool{}
		for _, m := range family.Metric {
			key := fmt.Sprint(labelsOf(m))
			if seen[key] {
				t.Errorf("%s: label set %s occurs twice", name, key)
			}
			seen[key] = true
		}
	}
	return families
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, pair := range m.Label {
		out[pair.GetName()] = pair.GetValue()
	}
	return out
}

// value returns the sample of family whose labels include want; ok false if none.
func value(families map[string]*dto.MetricFamily, family string, want map[string]string) (float64, bool) {
	f := families[family]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := labelsOf(m)
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func exampleItems(t *testing.T, now time.Time) items {
	var out items
	for _, secret := range demo.Secrets("demo", now) {
		if secret.Name == "no-certificate" {
			continue
		}
		out = append(out, itemOf(t, secret))
	}
	return out
}

func TestEverySecretHasOneStateAndItsInstants(t *testing.T) {
	now := time.Now()
	families := parse(t, scrape(t, exampleItems(t, now), now, false))
	want := map[string]string{
		"valid-chain": "Valid", "expiring-soon": "ExpiringSoon", "expired": "Expired", "not-yet-valid": "NotYetValid",
		"key-mismatch": "Invalid", "garbage": "Invalid", "ca-bundle": "Valid",
	}
	for _, item := range exampleItems(t, now) {
		// Every Secret, including those whose state the analysis decides by
		// rules this test does not restate, shows the state get serves.
		if _, ok := want[item.Meta.Name]; !ok {
			want[item.Meta.Name] = string(item.Analysis.StatusAt(now).State)
		}
	}
	for secret, state := range want {
		for _, s := range secretStates {
			v, ok := value(families, "certstatus_secret_state", map[string]string{"namespace": "demo", "secret": secret, "state": string(s)})
			if !ok || v != boolValue(string(s) == state) {
				t.Errorf("%s state %s = %v (present %v), want %v", secret, s, v, ok, boolValue(string(s) == state))
			}
		}
	}
	// A Secret that cannot be read has its state and no instants.
	if _, ok := value(families, "certstatus_secret_not_after_seconds", map[string]string{"secret": "garbage"}); ok {
		t.Error("garbage has a notAfter")
	}
	notAfter, _ := value(families, "certstatus_secret_not_after_seconds", map[string]string{"secret": "expiring-soon"})
	expiringSoonAt, _ := value(families, "certstatus_secret_expiring_soon_at_seconds", map[string]string{"secret": "expiring-soon"})
	if want := float64(now.UTC().Truncate(time.Second).Add(5 * 24 * time.Hour).Unix()); notAfter != want {
		t.Errorf("expiring-soon notAfter %v, want %v", notAfter, want)
	}
	if expiringSoonAt >= float64(now.Unix()) || expiringSoonAt <= 0 {
		t.Errorf("expiring-soon is ExpiringSoon but expiringSoonAt %v is not before now %v", expiringSoonAt, now.Unix())
	}
	info := map[string]string{"namespace": "demo", "secret": "key-mismatch", "secret_type": "kubernetes.io/tls",
		"common_name": "mismatch.example.com", "issuer": "Example Intermediate CA", "chain": "Verified", "key_pair": "Mismatch"}
	if v, ok := value(families, "certstatus_secret_info", info); !ok || v != 1 {
		t.Errorf("no info series %v in\n%v", info, families["certstatus_secret_info"])
	}
	// The bundle counts its members: three valid roots and one expired.
	for state, n := range map[string]float64{"Valid": 3, "Expired": 1, "ExpiringSoon": 0, "NotYetValid": 0} {
		if v, _ := value(families, "certstatus_secret_certificates", map[string]string{"secret": "ca-bundle", "state": state}); v != n {
			t.Errorf("ca-bundle has %v %s certificates, want %v", v, state, n)
		}
	}
	if len(families["certstatus_secret_hosts_not_covered"].Metric) != len(want) {
		t.Errorf("hosts_not_covered has %d series, want one per Secret", len(families["certstatus_secret_hosts_not_covered"].Metric))
	}
	if families["x509_cert_not_after"] != nil {
		t.Error("x509 exporter series without --x509-exporter-metrics")
	}
}

func TestADeletedSecretsSeriesVanish(t *testing.T) {
	now := time.Now()
	all := exampleItems(t, now)
	without := slices.DeleteFunc(slices.Clone(all), func(i statuscache.Item) bool { return i.Meta.Name == "expired" })
	for _, x509 := range []bool{false, true} {
		text := scrape(t, without, now, x509)
		if strings.Contains(text, `"expired"`) {
			t.Errorf("x509=%v: the deleted Secret still has series", x509)
		}
		if !strings.Contains(scrape(t, all, now, x509), `"expired"`) {
			t.Errorf("x509=%v: the Secret had no series to begin with", x509)
		}
	}
}

// The streaming path must agree with the full status that get and list serve.
func TestFactsAgreeWithTheStatus(t *testing.T) {
	now := time.Now()
	for _, item := range exampleItems(t, now) {
		analysis := item.Analysis.(*certificate.Analysis)
		for _, at := range []time.Time{now, now.Add(-100 * 24 * time.Hour), now.Add(4 * 24 * time.Hour), now.Add(6 * 24 * time.Hour), now.Add(20 * 365 * 24 * time.Hour)} {
			status := analysis.StatusAt(at)
			want := factsFromStatus(&status)
			got := analysis.FactsAt(at)
			if fmt.Sprint(got.Leaf) != fmt.Sprint(want.Leaf) || got.Leaf != nil && *got.Leaf != *want.Leaf {
				t.Errorf("%s at %v: leaf %+v, status says %+v", item.Meta.Name, at, got.Leaf, want.Leaf)
			}
			got.Leaf, want.Leaf = nil, nil
			// The status has no critical_at (metrics alone show it).
			if got.HasInstants && got.CriticalAt.IsZero() {
				t.Errorf("%s at %v: no criticalAt", item.Meta.Name, at)
			}
			got.CriticalAt = time.Time{}
			if got != want {
				t.Errorf("%s at %v: facts %+v, status says %+v", item.Meta.Name, at, got, want)
			}
			if analysis.NumCertificates() != len(status.Certificates) {
				t.Fatalf("%s: %d certificates, status has %d", item.Meta.Name, analysis.NumCertificates(), len(status.Certificates))
			}
			for i := range status.Certificates {
				if got, want := analysis.CertificateAt(i), *certificateFactsFromInfo(&status.Certificates[i]); got != want {
					t.Errorf("%s certificate %d: %+v, status says %+v", item.Meta.Name, i, got, want)
				}
			}
		}
	}
}

func TestX509ExporterSeries(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	root := certtest.Must(certtest.NewCA(certtest.Spec{Subject: pkix.Name{
		CommonName: "Root", Organization: []string{"Org"}, OrganizationalUnit: []string{"Unit A", "Unit B"},
		Country: []string{"FR"}, Province: []string{"IDF"}, Locality: []string{"Paris"}}}))
	leaf := certtest.Must(root.NewLeaf(certtest.Spec{Subject: pkix.Name{CommonName: "web.example.com", Organization: []string{"Web, Inc."}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(-time.Minute)}))
	item := itemOf(t, tlsSecret("web", "tls", map[string][]byte{
		// The leaf pasted twice: the same label set, so written once.
		"tls.crt": certtest.ChainPEM(leaf, leaf), "ca.crt": root.PEM(),
	}))
	families := parse(t, scrape(t, items{item}, now, true))
	leafLabels := map[string]string{
		"secret_namespace": "web", "secret_name": "tls", "secret_key": "tls.crt",
		"subject_CN": "web.example.com", "subject_O": "Web, Inc.", "subject_C": "", "subject_OU": "",
		"issuer_C": "FR", "issuer_ST": "IDF", "issuer_L": "Paris", "issuer_O": "Org", "issuer_OU": "Unit A,Unit B", "issuer_CN": "Root",
		"serial_number": leaf.Certificate.SerialNumber.String(),
	}
	for family, want := range map[string]float64{
		"x509_cert_not_after":  float64(leaf.Certificate.NotAfter.Unix()),
		"x509_cert_not_before": float64(leaf.Certificate.NotBefore.Unix()),
		"x509_cert_expired":    1,
	} {
		if v, ok := value(families, family, leafLabels); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v; series: %v", family, v, ok, want, families[family])
		}
		// The leaf once, the root once.
		if n := len(families[family].Metric); n != 2 {
			t.Errorf("%s has %d series, want 2", family, n)
		}
	}
	rootLabels := map[string]string{"secret_key": "ca.crt", "subject_OU": "Unit A,Unit B", "serial_number": root.Certificate.SerialNumber.String()}
	if v, ok := value(families, "x509_cert_expired", rootLabels); !ok || v != 0 {
		t.Errorf("root: expired %v (present %v)", v, ok)
	}
}

// Label values come from certificates anyone can make: quotes, newlines,
// backslashes, UTF-8 and bytes that are not UTF-8 must neither break the
// exposition nor change what a label says.
func TestHostileNamesAreEscaped(t *testing.T) {
	now := time.Now()
	names := []string{"a \"quoted\" name", "two\nlines", `back\slash`, "zé 証明書 ✓", "comma, plus+ semi; <>#"}
	var all items
	for i, cn := range names {
		cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: cn}))
		all = append(all, itemOf(t, tlsSecret("hostile", fmt.Sprintf("s%d", i), map[string][]byte{"tls.crt": cert.PEM()})))
	}
	families := parse(t, scrape(t, all, now, true))
	for i, cn := range names {
		secret := fmt.Sprintf("s%d", i)
		if _, ok := value(families, "certstatus_secret_info", map[string]string{"secret": secret, "common_name": cn, "issuer": cn}); !ok {
			t.Errorf("info of %q lost its name: %v", cn, families["certstatus_secret_info"])
		}
		if _, ok := value(families, "x509_cert_not_after", map[string]string{"secret_name": secret, "subject_CN": cn, "issuer_CN": cn}); !ok {
			t.Errorf("x509 series of %q lost its name", cn)
		}
	}
	// Invalid UTF-8 (a name the analysis could not decode) becomes U+FFFD instead of failing the scrape.
	bad := statuscache.Item{Meta: &metav1.ObjectMeta{Namespace: "hostile", Name: "bad"}, SecretType: "kubernetes.io/tls",
		Analysis: fakeStatus{certificate.Facts{State: "Valid"}, "CN=\xff\xfe"}}
	if _, ok := value(parse(t, scrape(t, items{bad}, now, true)), "certstatus_secret_info", map[string]string{"common_name": "\uFFFD\uFFFD"}); !ok {
		t.Error("invalid UTF-8 was not replaced")
	}
}

// fakeStatus is an Analysis that is not a certificate.Analysis: it is read through StatusAt.
type fakeStatus struct {
	facts   certificate.Facts
	subject string
}

func (f fakeStatus) StatusAt(time.Time) certstatus.CertificateStatusStatus {
	return certstatus.CertificateStatusStatus{State: f.facts.State, Certificates: []certstatus.CertificateInfo{{
		Key: "tls.crt", Role: certstatus.RoleLeaf, Subject: f.subject, CommonName: strings.TrimPrefix(f.subject, "CN="), Issuer: f.subject,
		IssuerCommonName: strings.TrimPrefix(f.subject, "CN="), SerialNumber: "01",
	}}}
}

func (f fakeStatus) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }

func TestAThousandCertificatesGiveBoundedSeries(t *testing.T) {
	now := time.Now()
	var bundle []*certtest.Certificate
	key := certtest.Must(certtest.NewKey(certtest.ECDSA, 0))
	for i := range 1200 {
		bundle = append(bundle, certtest.Must(certtest.NewCA(certtest.Spec{CommonName: fmt.Sprintf("Root %d", i), Key: key})))
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "big", Name: "bundle"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"ca-bundle.crt": certtest.ChainPEM(bundle...)}}
	families := parse(t, scrape(t, items{itemOf(t, secret)}, now, true))
	for _, family := range []string{"x509_cert_not_after", "x509_cert_not_before", "x509_cert_expired"} {
		if n := len(families[family].Metric); n == 0 || n > MaxX509SeriesPerSecret {
			t.Errorf("%s: %d series for one Secret, want 1..%d", family, n, MaxX509SeriesPerSecret)
		}
	}
	if n := len(families["certstatus_secret_state"].Metric); n != len(secretStates) {
		t.Errorf("%d state series, want %d", n, len(secretStates))
	}
}

func TestParseName(t *testing.T) {
	for name, want := range map[string]nameFields{
		"CN=web.example.com,O=Example":                       {"", "", "", "Example", "", "web.example.com"},
		`CN=a\,b\+c,OU=x+OU=y,O=\"q\",L=l,ST=s,C=FR`:         {"FR", "s", "l", `"q"`, "y,x", "a,b+c"},
		`CN=line\0Abreak,emailAddress=a@b,1.2.3=#0403616263`: {"", "", "", "", "", "line\nbreak"},
		"": {},
	} {
		if got := parseName(name); got != want {
			t.Errorf("parseName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestFamiliesAreListedInOrder(t *testing.T) {
	// The documented family list is what the writer emits, in order.
	text := scrapeWithUsedBy(t, exampleItems(t, time.Now()), time.Now(), true, func() bool { return true })
	var names []string
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	if !slices.Equal(names, Families(true, SecretKind)) {
		t.Errorf("families %v, want %v", names, Families(true, SecretKind))
	}

}
