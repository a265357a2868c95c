package metrics

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// configMapItem analyses a ConfigMap bundle as the server does.
func configMapItem(t *testing.T, namespace, name string, bundle []byte) statuscache.Item {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string]string{"ca.crt": string(bundle)}}
	analysis, listed := certificate.Analyze(certificate.InputFromConfigMap(cm), certificate.DefaultOptions())
	if !listed {
		t.Fatalf("%s/%s is not listed", namespace, name)
	}
	return statuscache.Item{Meta: &cm.ObjectMeta, Analysis: analysis}
}

// Secrets and ConfigMaps side by side: each kind has its own families and
// labels, and the x509 families are written once, with each kind's label
// names (secret_* or configmap_*), as the x509 exporter does.
func TestConfigMapFamiliesBesideSecrets(t *testing.T) {
	now := time.Now()
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Bundle Root", KeyAlgorithm: certtest.ECDSA}))
	other := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Other Root", KeyAlgorithm: certtest.ECDSA}))
	configMaps := items{configMapItem(t, "team", "trust-bundle", certtest.ChainPEM(root, other))}
	certificates := NewCertificates(fixedClock(now), true,
		Source{Kind: SecretKind, Items: exampleItems(t, now), UsedSynced: func() bool { return true }},
		Source{Kind: ConfigMapKind, Items: configMaps, UsedSynced: func() bool { return true }})
	var out bytes.Buffer
	if err := certificates.Write(&out); err != nil {
		t.Fatal(err)
	}
	families := parse(t, out.String())

	if v, ok := value(families, "certstatus_configmap_state", map[string]string{"namespace": "team", "configmap": "trust-bundle", "state": "Valid"}); !ok || v != 1 {
		t.Errorf("configmap state Valid = %v (present %v)", v, ok)
	}
	if v, ok := value(families, "certstatus_configmap_certificates", map[string]string{"configmap": "trust-bundle", "state": "Valid"}); !ok || v != 2 {
		t.Errorf("configmap certificates Valid = %v (present %v), want 2", v, ok)
	}
	if _, ok := value(families, "certstatus_configmap_info", map[string]string{"configmap": "trust-bundle", "common_name": "Bundle Root", "alerts": "on"}); !ok {
		t.Error("no configmap info series naming the first certificate")
	}
	if v, ok := value(families, "certstatus_configmap_used", map[string]string{"configmap": "trust-bundle"}); !ok || v != 0 {
		t.Errorf("configmap used = %v (present %v), want 0", v, ok)
	}
	if _, ok := families["certstatus_configmap_hosts_not_covered"]; ok {
		t.Error("ConfigMaps have no hosts: no hosts_not_covered family")
	}
	for _, family := range []string{"certstatus_configmap_not_after_seconds", "certstatus_configmap_expiring_soon_at_seconds", "certstatus_configmap_critical_at_seconds"} {
		if _, ok := value(families, family, map[string]string{"configmap": "trust-bundle"}); !ok {
			t.Errorf("no %s series", family)
		}
	}
	if _, ok := value(families, "x509_cert_not_after", map[string]string{"configmap_namespace": "team", "configmap_name": "trust-bundle", "configmap_key": "ca.crt", "subject_CN": "Other Root"}); !ok {
		t.Error("no x509 series with the configmap_* labels")
	}
	if _, ok := value(families, "x509_cert_not_after", map[string]string{"secret_namespace": "demo", "secret_name": "expired"}); !ok {
		t.Error("the Secrets' x509 series are gone")
	}
	var typeLines []string
	for _, line := range strings.Split(out.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			typeLines = append(typeLines, strings.Fields(name)[0])
		}
	}
	if want := Families(true, SecretKind, ConfigMapKind); !slices.Equal(typeLines, want) {
		t.Errorf("families %v, want %v", typeLines, want)
	}
}

// registrationAnalysis is a registration's caBundle analysis as the
// registration source decorates it: named by status.source, with a Trusted
// status (none: a ClusterTrustBundle) that makes False Invalid.
type registrationAnalysis struct {
	*certificate.Analysis
	kind, name string
	trusted    metav1.ConditionStatus
}

func (a *registrationAnalysis) SourceKindName() (string, string) { return a.kind, a.name }

type trustedRegistration struct{ *registrationAnalysis }

func (a trustedRegistration) Unwrap() statuscache.Analysis { return a.registrationAnalysis }
func (a trustedRegistration) TrustedStatus() metav1.ConditionStatus {
	return a.trusted
}
func (a trustedRegistration) DecorateFacts(_ time.Time, own certificate.Facts) certificate.Facts {
	if a.trusted == metav1.ConditionFalse {
		own.State = "Invalid"
	}
	return own
}

func registrationItem(t *testing.T, object, kind, name string, bundle []byte, trusted metav1.ConditionStatus) statuscache.Item {
	t.Helper()
	analysis, listed := certificate.Analyze(certificate.Input{CABundles: true, Data: map[string][]byte{"caBundle": bundle}}, certificate.DefaultOptions())
	if !listed {
		t.Fatalf("%s is not listed", object)
	}
	r := &registrationAnalysis{Analysis: analysis, kind: kind, name: name, trusted: trusted}
	item := statuscache.Item{Meta: &metav1.ObjectMeta{Name: object}, Analysis: r}
	if trusted != "" {
		item.Analysis = trustedRegistration{r}
	}
	return item
}

// Registrations are labelled with status.source's kind and name; _trusted
// has one series per status, 1 for the current one, and none without a
// Trusted condition; a False Trusted makes the state Invalid; there is no
// _used family (every registration's caBundle is used).
func TestRegistrationFamilies(t *testing.T) {
	now := time.Now()
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Hook CA", KeyAlgorithm: certtest.ECDSA}))
	registrations := items{
		registrationItem(t, "validatingwebhookconfiguration.hooks", "ValidatingWebhookConfiguration", "hooks", ca.PEM(), metav1.ConditionFalse),
		registrationItem(t, "apiservice.v1.example.com", "APIService", "v1.example.com", ca.PEM(), metav1.ConditionTrue),
		registrationItem(t, "mutatingwebhookconfiguration.mut", "MutatingWebhookConfiguration", "mut", ca.PEM(), metav1.ConditionUnknown),
		registrationItem(t, "clustertrustbundle.roots", "ClusterTrustBundle", "roots", ca.PEM(), ""),
	}
	certificates := NewCertificates(fixedClock(now), true, Source{Kind: RegistrationKind, Items: registrations})
	var out bytes.Buffer
	if err := certificates.Write(&out); err != nil {
		t.Fatal(err)
	}
	families := parse(t, out.String())

	for _, c := range []struct {
		kind, name string
		want       map[string]float64
	}{
		{"ValidatingWebhookConfiguration", "hooks", map[string]float64{"true": 0, "false": 1, "unknown": 0}},
		{"APIService", "v1.example.com", map[string]float64{"true": 1, "false": 0, "unknown": 0}},
		{"MutatingWebhookConfiguration", "mut", map[string]float64{"true": 0, "false": 0, "unknown": 1}},
	} {
		for status, want := range c.want {
			if v, ok := value(families, "certstatus_registration_trusted", map[string]string{"kind": c.kind, "name": c.name, "status": status}); !ok || v != want {
				t.Errorf("%s %s trusted{status=%q} = %v (present %v), want %v", c.kind, c.name, status, v, ok, want)
			}
		}
	}
	if n := countSeries(families, "certstatus_registration_trusted", map[string]string{"kind": "ClusterTrustBundle"}); n != 0 {
		t.Errorf("a ClusterTrustBundle has %d trusted series, want none", n)
	}
	if n := countSeries(families, "certstatus_registration_trusted", map[string]string{"name": "validatingwebhookconfiguration.hooks"}); n != 0 {
		t.Error("series named by the object's own name, not status.source's")
	}
	if v, ok := value(families, "certstatus_registration_state", map[string]string{"kind": "ValidatingWebhookConfiguration", "name": "hooks", "state": "Invalid"}); !ok || v != 1 {
		t.Errorf("untrusted state Invalid = %v (present %v), want 1", v, ok)
	}
	if v, ok := value(families, "certstatus_registration_state", map[string]string{"kind": "APIService", "name": "v1.example.com", "state": "Valid"}); !ok || v != 1 {
		t.Errorf("trusted state Valid = %v (present %v), want 1", v, ok)
	}
	if _, ok := value(families, "certstatus_registration_info", map[string]string{"kind": "ClusterTrustBundle", "name": "roots", "common_name": "Hook CA", "issuer": "Hook CA"}); !ok {
		t.Error("no info series for the ClusterTrustBundle")
	}
	for _, family := range []string{"certstatus_registration_not_after_seconds", "certstatus_registration_not_before_seconds",
		"certstatus_registration_expiring_soon_at_seconds", "certstatus_registration_critical_at_seconds", "certstatus_registration_certificates"} {
		if _, ok := value(families, family, map[string]string{"kind": "APIService", "name": "v1.example.com"}); !ok {
			t.Errorf("no %s series", family)
		}
	}
	if _, ok := families["certstatus_registration_used"]; ok {
		t.Error("registrations have no _used family: every caBundle is used")
	}
	if _, ok := families["x509_cert_not_after"]; ok {
		t.Error("registrations have no x509 exporter series")
	}
}

// countSeries counts the samples of family whose labels include want.
func countSeries(families map[string]*dto.MetricFamily, family string, want map[string]string) int {
	f := families[family]
	if f == nil {
		return 0
	}
	n := 0
next:
	for _, m := range f.Metric {
		labels := labelsOf(m)
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		n++
	}
	return n
}
