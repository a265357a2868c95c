package demo

import (
	"crypto/x509/pkix"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// ConfigMaps returns the demo ConfigMaps (configmapcertificatestatuses):
// a trust-manager style bundle of two roots, a bundle whose only root
// expires in 10 days, and configuration that holds no certificate (not
// listed). All carry PartOfLabel=PartOf.
func ConfigMaps(namespace string, now time.Time) []*corev1.ConfigMap {
	now = now.UTC().Truncate(time.Second)
	org := []string{"certstatus examples"}
	root := func(name string, notAfter time.Time) *certtest.Certificate {
		return certtest.Must(certtest.NewCA(certtest.Spec{
			Subject:   pkix.Name{CommonName: name, Organization: org},
			NotBefore: now.Add(-365 * day), NotAfter: notAfter,
		}))
	}
	configMap := func(name string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{PartOfLabel: PartOf}},
			Data:       data,
		}
	}
	return []*corev1.ConfigMap{
		configMap("trust-bundle", map[string]string{
			"trust-bundle.pem": string(certtest.ChainPEM(root("Example Root CA 2024", now.Add(9*365*day)), root("Example Root CA 2019", now.Add(4*365*day)))),
		}),
		configMap("legacy-ca", map[string]string{"ca.crt": string(root("Example Legacy Root CA", now.Add(10*day)).PEM())}),
		configMap("app-settings", map[string]string{"settings.yaml": "replicas: 3\n"}),
	}
}
