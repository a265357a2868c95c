package certificate

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Input is everything the analysis reads of a Secret.
type Input struct {
	// Type is the Secret type, e.g. "kubernetes.io/tls".
	Type string
	// Data is the Secret's data; it is read, never kept.
	Data map[string][]byte
	// Annotations: only certstatus.dev/expiring-soon-threshold,
	// certstatus.dev/keystore-password-key and -secret, certstatus.dev/alerts and the
	// four cert-manager.io annotations of status.certManager are read.
	Annotations map[string]string
	// PasswordFromSecret reads a key of another Secret of the namespace for
	// certstatus.dev/keystore-password-secret; nil when the server offers
	// none. Its errors are shown as they are: they must hold no data.
	PasswordFromSecret func(secret, key string) ([]byte, error)
	// PasswordsFromCertificate reads the keystore passwords of the
	// cert-manager Certificate named by cert-manager.io/certificate-name
	// (pkcs12, then jks); none when cert-manager's CRDs, the Certificate or
	// its passwords do not exist. nil when the server offers none.
	PasswordsFromCertificate func(certificate string) ([][]byte, error)
	// CABundles reads every Data value as a CA bundle, as an API
	// registration's caBundle fields are (the keys are their field paths):
	// every certificate is a bundle member whatever its CA flag, there is no
	// primary chain and no private key, and a non-empty value without a
	// PEM certificate is an errors[] entry. Listed when some value holds a
	// PEM CERTIFICATE block (even a broken one), as for Secrets.
	CABundles bool
	// CreatedAt is the Secret's creationTimestamp. Non-clock transitions are
	// dated with the later of it and the primary leaf's notBefore, so that
	// nothing but a new certificate moves them (not managedFields, which
	// every metadata write changes).
	CreatedAt time.Time
	// configMap is set by InputFromConfigMap; nil for a Secret.
	configMap *configMapSource
}

// InputFromSecret builds an Input from a Secret. It copies only the
// annotations the analysis reads, so nothing else of the metadata leaks in.
func InputFromSecret(s *corev1.Secret) Input {
	in := Input{
		Type:      string(s.Type),
		Data:      s.Data,
		CreatedAt: s.CreationTimestamp.Time,
	}
	for _, name := range append([]string{certstatus.ExpiringSoonThresholdAnnotation, certstatus.KeystorePasswordKeyAnnotation, certstatus.KeystorePasswordSecretAnnotation, certstatus.AlertsAnnotation}, certManagerAnnotations[:]...) {
		if value, ok := s.Annotations[name]; ok {
			if in.Annotations == nil {
				in.Annotations = map[string]string{}
			}
			in.Annotations[name] = value
		}
	}
	return in
}
