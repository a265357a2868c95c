package metrics

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

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
