package metrics

import (
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// decorated stands for usedby.Decorated (which imports this package).
type decorated struct {
	statuscache.Analysis
	notCovered int
}

func (d decorated) Unwrap() statuscache.Analysis { return d.Analysis }
func (d decorated) HostsNotCovered() int         { return d.notCovered }
func (d decorated) Used() bool                   { return true }
func (d decorated) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	status := d.Analysis.StatusAt(now)
	status.UsedBy = []certstatus.UsedBy{{Kind: "Ingress", Namespace: "demo", Name: "x", HostsNotCovered: make([]string, d.notCovered)}}
	return status
}

// statusOnly hides the analysis's fast paths, as a test fake would.
type statusOnly struct{ decorated }

func (s statusOnly) Unwrap() statuscache.Analysis { return nil }

func TestHostsNotCoveredAndCertificateLabel(t *testing.T) {
	now := time.Now()
	ca := certtest.Must(certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: "Demo CA"}}))
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "web.example.com", DNSNames: []string{"web.example.com"}}))
	secret := tlsSecret("demo", "web", map[string][]byte{"tls.crt": leaf.PEM(), "tls.key": certtest.Must(leaf.KeyPEM(certtest.PKCS8))})
	secret.Annotations = map[string]string{certstatus.CertManagerCertificateNameAnnotation: "web-cert"}
	item := itemOf(t, secret)
	item.Analysis = decorated{Analysis: item.Analysis, notCovered: 2}
	plain := itemOf(t, tlsSecret("demo", "plain", map[string][]byte{"tls.crt": leaf.PEM()}))
	for name, source := range map[string]items{
		"fast path":   {item, plain},
		"from status": {{Meta: item.Meta, SecretType: item.SecretType, Analysis: statusOnly{item.Analysis.(decorated)}}, plain},
	} {
		families := parse(t, scrape(t, source, now, false))
		if v, ok := value(families, "certstatus_secret_hosts_not_covered", map[string]string{"secret": "web"}); !ok || v != 2 {
			t.Errorf("%s: web hosts_not_covered %v (present %v), want 2", name, v, ok)
		}
		if v, ok := value(families, "certstatus_secret_hosts_not_covered", map[string]string{"secret": "plain"}); !ok || v != 0 {
			t.Errorf("%s: plain hosts_not_covered %v (present %v), want 0", name, v, ok)
		}
		if _, ok := value(families, "certstatus_secret_info", map[string]string{"secret": "web", "certificate": "web-cert", "common_name": "web.example.com"}); !ok {
			t.Errorf("%s: no info series with certificate=web-cert in %v", name, families["certstatus_secret_info"])
		}
		if _, ok := value(families, "certstatus_secret_info", map[string]string{"secret": "plain", "certificate": ""}); !ok {
			t.Errorf("%s: no info series with an empty certificate for plain", name)
		}
	}
}

// certstatus_secret_used: absent while usedBy is off or has not synced,
// then 1 for a Secret something uses and 0 for the others, read from the
// decoration (fast path) or from status.usedBy.
func TestUsedSeries(t *testing.T) {
	now := time.Now()
	ca := certtest.Must(certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: "Demo CA"}}))
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "web.example.com", DNSNames: []string{"web.example.com"}}))
	used := itemOf(t, tlsSecret("demo", "used", map[string][]byte{"tls.crt": leaf.PEM()}))
	used.Analysis = decorated{Analysis: used.Analysis}
	unused := itemOf(t, tlsSecret("demo", "unused", map[string][]byte{"tls.crt": leaf.PEM()}))
	synced := false
	for name, source := range map[string]items{
		"fast path":   {used, unused},
		"from status": {{Meta: used.Meta, SecretType: used.SecretType, Analysis: statusOnly{used.Analysis.(decorated)}}, unused},
	} {
		for _, usedBySynced := range []func() bool{nil, func() bool { return synced }} {
			families := parse(t, scrapeWithUsedBy(t, source, now, false, usedBySynced))
			if series, ok := families["certstatus_secret_used"]; ok {
				t.Errorf("%s: certstatus_secret_used before usedBy has synced (or with usedBy off): %v", name, series)
			}
		}
		synced = true
		families := parse(t, scrapeWithUsedBy(t, source, now, false, func() bool { return synced }))
		for secret, want := range map[string]float64{"used": 1, "unused": 0} {
			if v, ok := value(families, "certstatus_secret_used", map[string]string{"secret": secret}); !ok || v != want {
				t.Errorf("%s: %s certstatus_secret_used %v (present %v), want %v", name, secret, v, ok, want)
			}
		}
		synced = false
	}
}

// certstatus_secret_critical_at_seconds is the analysis's criticalAt, and
// certstatus_secret_info's alerts label follows certstatus.dev/alerts.
func TestCriticalAtAndAlertsLabel(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ca := certtest.Must(certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: "Demo CA"}}))
	// 100 days: critical 7 days out, expiring soon 30 days out.
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "web.example.com", NotBefore: now.Add(-50 * 24 * time.Hour), NotAfter: now.Add(50 * 24 * time.Hour)}))
	silenced := tlsSecret("demo", "silenced", map[string][]byte{"tls.crt": leaf.PEM()})
	silenced.Annotations = map[string]string{certstatus.AlertsAnnotation: "off"}
	source := items{itemOf(t, silenced), itemOf(t, tlsSecret("demo", "paged", map[string][]byte{"tls.crt": leaf.PEM()}))}
	families := parse(t, scrape(t, source, now, false))
	want := float64(now.Add(43 * 24 * time.Hour).Unix())
	if v, ok := value(families, "certstatus_secret_critical_at_seconds", map[string]string{"secret": "paged"}); !ok || v != want {
		t.Errorf("critical_at %v (present %v), want %v", v, ok, want)
	}
	for secret, alerts := range map[string]string{"silenced": "off", "paged": "on"} {
		if _, ok := value(families, "certstatus_secret_info", map[string]string{"secret": secret, "alerts": alerts}); !ok {
			t.Errorf("%s: no info series with alerts=%s in %v", secret, alerts, families["certstatus_secret_info"])
		}
	}
}
