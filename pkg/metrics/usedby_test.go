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
