package certificate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// A ConfigMap is analysed as a Secret of no type: every key is read and
// the primary-chain rules of "other types" apply (mostly these are
// bundles). Its data holds text, so a data value is read for PEM and,
// under a kubeconfig key name, as a kubeconfig (kube-public/cluster-info);
// binaryData is read like a Secret's values: PEM, one DER certificate, a
// PKCS#12, JKS or JCEKS keystore, or a kubeconfig. Keystores are tried with
// the empty password and changeit only (trust-manager's defaults): a
// ConfigMap is readable by anyone who may read the namespace, so it is no
// place for a password, and nothing is looked up in other objects.

// configMapSource marks an Input as a ConfigMap's.
type configMapSource struct {
	// text is the ConfigMap's data (not binaryData): its keys are read as
	// PEM or kubeconfigs only, never as DER or keystores.
	text map[string]string
}

// configMapFacts is what an Analysis keeps of a ConfigMap beyond a
// Secret's: a pointer, so that a Secret's Analysis does not grow.
type configMapFacts struct {
	// keys are the keys read as holding certificates, sorted.
	keys []string
}

// configMapAnnotations are the annotations read from a ConfigMap: the
// expiring-soon threshold and the alerts switch. Password annotations and
// cert-manager's are not read (see above).
var configMapAnnotations = [...]string{certstatus.ExpiringSoonThresholdAnnotation, certstatus.AlertsAnnotation}

// InputFromConfigMap builds an Input from a ConfigMap: data and binaryData
// are merged into one value map (the API server refuses a key present in
// both), and only the annotations the analysis reads are copied. The
// result is read by Analyze and must not be kept.
func InputFromConfigMap(cm *corev1.ConfigMap) Input {
	in := Input{
		Data:      make(map[string][]byte, len(cm.Data)+len(cm.BinaryData)),
		CreatedAt: cm.CreationTimestamp.Time,
		configMap: &configMapSource{text: cm.Data},
	}
	for key, value := range cm.BinaryData {
		in.Data[key] = value
	}
	for key, value := range cm.Data {
		in.Data[key] = []byte(value)
	}
	for _, name := range configMapAnnotations {
		if value, ok := cm.Annotations[name]; ok {
			if in.Annotations == nil {
				in.Annotations = map[string]string{}
			}
			in.Annotations[name] = value
		}
	}
	return in
}

// ConfigMapMayHoldCertificates is the cheap test run on every ConfigMap
// before anything is allocated for it: a PEM certificate marker in data, a
// kubeconfig key name in data, or a binaryData value that may be PEM, a
// keystore, a DER certificate or a kubeconfig. false means Analyze would
// not list it; true means it may.
func ConfigMapMayHoldCertificates(cm *corev1.ConfigMap) bool {
	for key, value := range cm.Data {
		if strings.Contains(value, certificateMarkerText) || isKubeconfigName(key) {
			return true
		}
	}
	return len(cm.BinaryData) > 0 && mayHoldCertificates(cm.BinaryData)
}

// certificateMarkerText is certificateMarker as a string, so that testing a
// data value allocates nothing.
const certificateMarkerText = "-----BEGIN CERTIFICATE-----"

// isText reports whether key is a ConfigMap data (text) key.
func (s *configMapSource) isText(key string) bool {
	if s == nil {
		return false
	}
	_, ok := s.text[key]
	return ok
}

// ConfigMapKeys are the keys of a ConfigMap's data and binaryData read as
// holding certificates (PEM CERTIFICATE blocks, a DER certificate, a
// keystore, or a kubeconfig with certificates; readable or not, as
// errors[] says), sorted: status.configMapKeys. nil for a Secret's
// analysis. Callers must not modify the slice.
func (a *Analysis) ConfigMapKeys() []string {
	if a.configMap == nil {
		return nil
	}
	return a.configMap.keys
}

// noun names the analysed object in messages.
func (a *Analysis) noun() string {
	switch {
	case a.configMap != nil:
		return "ConfigMap"
	case a.caBundles:
		return "caBundle"
	}
	return "Secret"
}

// Messages whose advice (a password annotation) does not apply to a ConfigMap.
const (
	configMapLockedMessage = "The keystore is locked: neither the empty password nor changeit opens it, so its encrypted certificates cannot be read. A ConfigMap is no place for a password: store a truststore with the empty password or changeit, or keep it in a Secret and use " + certstatus.KeystorePasswordKeyAnnotation + "."
	configMapJKSUnchecked  = "The keystore's integrity was not checked: neither the empty password nor changeit verifies it (its certificates, stored in clear, are listed)."
)

// forConfigMap rewrites a keystore reader's message for a ConfigMap.
func forConfigMap(message string) string {
	switch message {
	case lockedMessage:
		return configMapLockedMessage
	case jksIntegrityUnchecked:
		return configMapJKSUnchecked
	}
	return message
}
