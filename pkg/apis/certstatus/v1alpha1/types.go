package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// State is the health of a source object's certificates at one instant.
type State string

const (
	// StateValid: every certificate of the primary chain is valid and none expires soon.
	StateValid State = "Valid"
	// StateExpiringSoon: valid, but some certificate of the primary chain expires within the threshold.
	StateExpiringSoon State = "ExpiringSoon"
	// StateExpired: some certificate of the primary chain has passed its notAfter.
	StateExpired State = "Expired"
	// StateNotYetValid: some certificate of the primary chain has not reached its notBefore.
	StateNotYetValid State = "NotYetValid"
	// StateInvalid: no parseable certificate, a key that does not match, or a broken chain.
	StateInvalid State = "Invalid"
	// StateUnknown: a keystore is locked (encrypted with a password certstatus does not have)
	// and nothing else in the source object is readable. Never used for anything else.
	StateUnknown State = "Unknown"
)

// Condition types and reasons.
const (
	// ConditionReady is True while the certificate can be served: state Valid or ExpiringSoon.
	ConditionReady = "Ready"
	// ConditionExpiringSoon is True while the state is ExpiringSoon.
	ConditionExpiringSoon = "ExpiringSoon"
	// ConditionHostsCovered is False when the leaf does not cover some host an
	// object using the Secret serves, True when it covers all of them, and
	// absent when no using object declares hosts.
	ConditionHostsCovered = "HostsCovered"

	ReasonValid           = "Valid"
	ReasonExpiringSoon    = "ExpiringSoon"
	ReasonExpired         = "Expired"
	ReasonNotYetValid     = "NotYetValid"
	ReasonInvalidData     = "InvalidData"
	ReasonNoCertificate   = "NoCertificate"
	ReasonKeyPairMismatch = "KeyPairMismatch"
	ReasonChainInvalid    = "ChainInvalid"
	ReasonHostNotCovered  = "HostNotCovered"
	ReasonHostsCovered    = "HostsCovered"
	ReasonKeystoreLocked  = "KeystoreLocked"

	// ConditionTrusted (ClusterCertificateStatus only) is True when every serving
	// Secret's served chain verifies up to a member of the registration's caBundle,
	// False when one does not (the state is then Invalid: kube-apiserver's calls
	// fail), Unknown when no serving Secret can be found.
	ConditionTrusted = "Trusted"

	// ReasonCABundleTrusted: Trusted is True.
	ReasonCABundleTrusted = "CABundleTrusted"
	// ReasonCABundleMismatch: Trusted is False, and Ready too; the message names
	// the serving Secret and the issuer the caBundle lacks.
	ReasonCABundleMismatch = "CABundleMismatch"
	// ReasonServingSecretUnknown: Trusted is Unknown; the message says why no
	// serving Secret was found (a url client config, no Pods, Pods that mount no
	// TLS Secret covering the service's name).
	ReasonServingSecretUnknown = "ServingSecretUnknown"
)

// ExpiringSoonThresholdAnnotation on a Secret overrides --expiring-soon-threshold
// for that Secret (a Go duration such as "168h"). It is the only annotation read.
const ExpiringSoonThresholdAnnotation = "certstatus.dev/expiring-soon-threshold"

// KeystorePasswordKeyAnnotation on a Secret names another data key of the same
// Secret that holds the password of its PKCS#12, JKS or JCEKS keystores. The
// password is used while the Secret is analysed and never kept or shown.
const KeystorePasswordKeyAnnotation = "certstatus.dev/keystore-password-key"

// KeystorePasswordSecretAnnotation names "<secret>/<key>" in the Secret's
// namespace holding its keystores' password. That Secret is read only when it
// carries the label KeystorePasswordLabel="true", so that nobody can use
// certstatus to test password guesses against another team's Secret.
const KeystorePasswordSecretAnnotation = "certstatus.dev/keystore-password-secret"

// KeystorePasswordLabel marks a Secret whose keys may be read as keystore passwords.
const KeystorePasswordLabel = "certstatus.dev/keystore-password"

// cert-manager's annotations on the Secrets it manages: the only other
// annotation values the server reads (status.certManager).
const (
	CertManagerCertificateNameAnnotation = "cert-manager.io/certificate-name"
	CertManagerIssuerNameAnnotation      = "cert-manager.io/issuer-name"
	CertManagerIssuerKindAnnotation      = "cert-manager.io/issuer-kind"
	CertManagerIssuerGroupAnnotation     = "cert-manager.io/issuer-group"
)

// +genclient
// +genclient:readonly
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// CertificateStatus is the health of the X.509 certificates held in one Secret,
// computed from the Secret and the clock on every read. It has the Secret's
// name, namespace, uid, labels and creationTimestamp. It is read-only: it is
// never stored, and it never holds Secret data or private keys.
type CertificateStatus struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata, taken from the Secret (no annotations).
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Status is the analysis of the Secret's certificates at the time of the read.
	// +optional
	Status CertificateStatusStatus `json:"status,omitempty" protobuf:"bytes,2,opt,name=status"`
}

// CertificateStatusStatus is the computed health of the certificates of one
// source object: a Secret (CertificateStatus), a ConfigMap
// (ConfigMapCertificateStatus) or an API registration's caBundle
// (ClusterCertificateStatus). The three kinds share it; a field that applies to
// one kind only says so and is absent from the others.
type CertificateStatusStatus struct {
	// SecretType is the type of the Secret, e.g. kubernetes.io/tls.
	// CertificateStatus only.
	// +optional
	SecretType string `json:"secretType,omitempty" protobuf:"bytes,1,opt,name=secretType"`

	// ConfigMapKeys are the keys of the ConfigMap (data and binaryData) that hold at
	// least one certificate, sorted. ConfigMapCertificateStatus only.
	// ---
	// Field 14: added after the first protobuf release, field numbers never change.
	// +optional
	// +listType=atomic
	ConfigMapKeys []string `json:"configMapKeys,omitempty" protobuf:"bytes,14,rep,name=configMapKeys"`

	// Source is the API registration whose caBundle this is. ClusterCertificateStatus only.
	// ---
	// Field 15: added after the first protobuf release, field numbers never change.
	// +optional
	Source *RegistrationReference `json:"source,omitempty" protobuf:"bytes,15,opt,name=source"`

	// State is the overall health: Valid, ExpiringSoon, Expired, NotYetValid, Invalid, or
	// Unknown when a locked keystore is all the source object holds (reason KeystoreLocked).
	// +optional
	State State `json:"state,omitempty" protobuf:"bytes,2,opt,name=state,casttype=State"`

	// NotBefore is the latest notBefore of the primary chain.
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty" protobuf:"bytes,3,opt,name=notBefore"`

	// NotAfter is the earliest notAfter of the primary chain.
	// +optional
	NotAfter *metav1.Time `json:"notAfter,omitempty" protobuf:"bytes,4,opt,name=notAfter"`

	// ExpiringSoonAt is the instant the state becomes ExpiringSoon:
	// notAfter minus min(threshold, fraction × lifetime).
	// +optional
	ExpiringSoonAt *metav1.Time `json:"expiringSoonAt,omitempty" protobuf:"bytes,5,opt,name=expiringSoonAt"`

	// Summary counts the certificates found, by state.
	// +optional
	Summary CertificateSummary `json:"summary" protobuf:"bytes,6,opt,name=summary"`

	// Conditions are Ready and ExpiringSoon, usable with `kubectl wait --for=condition=Ready`;
	// HostsCovered when some using object declares hosts; Trusted for a ClusterCertificateStatus.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,7,rep,name=conditions"`

	// PrivateKey describes the private key found beside the certificates, if any. Key bytes are never returned.
	// +optional
	PrivateKey *PrivateKeyStatus `json:"privateKey,omitempty" protobuf:"bytes,8,opt,name=privateKey"`

	// Chain is the result of verifying the primary chain.
	// +optional
	Chain ChainStatus `json:"chain" protobuf:"bytes,9,opt,name=chain"`

	// Certificates lists every certificate found, in data-key order, then position in the key.
	// +optional
	// +listType=atomic
	Certificates []CertificateInfo `json:"certificates,omitempty" protobuf:"bytes,10,rep,name=certificates"`

	// CertManager names the cert-manager Certificate and issuer that manage the Secret,
	// from cert-manager's annotations; absent when the Secret carries none.
	// +optional
	CertManager *CertManagerReference `json:"certManager,omitempty" protobuf:"bytes,11,opt,name=certManager"`

	// UsedBy lists who serves or mounts the Secret or ConfigMap (Ingresses, Gateways,
	// ListenerSets, workloads by their controller, Pods without one, and for a Secret
	// that serves an API registration, that registration), sorted by kind, namespace
	// and name: what its expiry breaks.
	// +optional
	// +listType=atomic
	UsedBy []UsedBy `json:"usedBy,omitempty" protobuf:"bytes,12,rep,name=usedBy"`

	// Errors has one entry per data key (or caBundle) that could not be read; the rest still shows.
	// +optional
	// +listType=atomic
	Errors []DataError `json:"errors,omitempty" protobuf:"bytes,13,rep,name=errors"`
}

// CertManagerReference links the Secret to cert-manager.
type CertManagerReference struct {
	// Certificate is the cert-manager Certificate in the Secret's namespace (cert-manager.io/certificate-name).
	// +optional
	Certificate string `json:"certificate,omitempty" protobuf:"bytes,1,opt,name=certificate"`
	// Issuer is the issuer the Certificate names.
	// +optional
	Issuer *CertManagerIssuer `json:"issuer,omitempty" protobuf:"bytes,2,opt,name=issuer"`
}

// CertManagerIssuer names a cert-manager issuer.
type CertManagerIssuer struct {
	// Name is the issuer's name (cert-manager.io/issuer-name).
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
	// Kind is Issuer, ClusterIssuer or an external issuer's kind (cert-manager.io/issuer-kind).
	// +optional
	Kind string `json:"kind,omitempty" protobuf:"bytes,2,opt,name=kind"`
	// Group is the issuer's API group, e.g. cert-manager.io (cert-manager.io/issuer-group).
	// +optional
	Group string `json:"group,omitempty" protobuf:"bytes,3,opt,name=group"`
}

// UsedBy is one object that serves or mounts the Secret or ConfigMap. Only names,
// hosts, counts and webhook names are kept of it: nothing else of the object is
// read or served.
type UsedBy struct {
	// Kind is Ingress, Gateway, ListenerSet, Deployment, StatefulSet, DaemonSet, Job, CronJob,
	// Pod, or the kind of another controller of Pods (a bare ReplicaSet, a custom controller);
	// for a Secret that serves an API registration, ValidatingWebhookConfiguration,
	// MutatingWebhookConfiguration, APIService or CustomResourceDefinition.
	Kind string `json:"kind" protobuf:"bytes,1,opt,name=kind"`
	// Namespace is the object's namespace; it may differ from the Secret's.
	// Absent for cluster-scoped objects (API registrations).
	// +optional
	Namespace string `json:"namespace,omitempty" protobuf:"bytes,2,opt,name=namespace"`
	// Name is the object's name.
	Name string `json:"name" protobuf:"bytes,3,opt,name=name"`
	// Hosts are the hosts the object serves with this Secret (Ingress tls[].hosts,
	// listener hostname), lower case without a trailing dot.
	// +optional
	// +listType=atomic
	Hosts []string `json:"hosts,omitempty" protobuf:"bytes,4,rep,name=hosts"`
	// HostsNotCovered are those of Hosts that no DNS name (or IP address) of the leaf
	// certificate covers, by RFC 6125 rules: clients fail TLS for them today.
	// +optional
	// +listType=atomic
	HostsNotCovered []string `json:"hostsNotCovered,omitempty" protobuf:"bytes,5,rep,name=hostsNotCovered"`
	// Pods is, for workloads and Pods, how many of its running or pending Pods mount
	// the Secret or ConfigMap (a volume or a projected source).
	// +optional
	Pods int32 `json:"pods,omitempty" protobuf:"varint,6,opt,name=pods"`
	// Webhooks are, for a ValidatingWebhookConfiguration or MutatingWebhookConfiguration,
	// those of its webhooks this Secret serves, in the configuration's order.
	// ---
	// Field 7: added after the first protobuf release, field numbers never change.
	// +optional
	// +listType=atomic
	Webhooks []Webhook `json:"webhooks,omitempty" protobuf:"bytes,7,rep,name=webhooks"`
}

// Webhook is one webhook of an admission webhook configuration.
type Webhook struct {
	// Name is the webhook's name, e.g. check.example.com.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// FailurePolicy is the webhook's failurePolicy: Fail (a call that fails rejects the
	// request) or Ignore.
	// +optional
	FailurePolicy string `json:"failurePolicy,omitempty" protobuf:"bytes,2,opt,name=failurePolicy"`
}

// RegistrationReference names the API registration a ClusterCertificateStatus is about.
type RegistrationReference struct {
	// APIVersion is the registration's group and version, e.g. apiregistration.k8s.io/v1.
	APIVersion string `json:"apiVersion" protobuf:"bytes,1,opt,name=apiVersion"`
	// Kind is APIService, ValidatingWebhookConfiguration, MutatingWebhookConfiguration,
	// CustomResourceDefinition or ClusterTrustBundle.
	Kind string `json:"kind" protobuf:"bytes,2,opt,name=kind"`
	// Name is the registration's name.
	Name string `json:"name" protobuf:"bytes,3,opt,name=name"`
}

// CertificateSummary counts certificates by their own state.
type CertificateSummary struct {
	// Certificates is the number of certificates found.
	Certificates int32 `json:"certificates" protobuf:"varint,1,opt,name=certificates"`
	// Valid is the number of certificates valid now and not expiring soon.
	Valid int32 `json:"valid" protobuf:"varint,2,opt,name=valid"`
	// ExpiringSoon is the number of certificates valid now but expiring soon.
	ExpiringSoon int32 `json:"expiringSoon" protobuf:"varint,3,opt,name=expiringSoon"`
	// Expired is the number of certificates past their notAfter.
	Expired int32 `json:"expired" protobuf:"varint,4,opt,name=expired"`
	// NotYetValid is the number of certificates before their notBefore.
	NotYetValid int32 `json:"notYetValid" protobuf:"varint,5,opt,name=notYetValid"`
}

// PrivateKeyStatus describes a private key without revealing it.
type PrivateKeyStatus struct {
	// Present is true when a parseable private key is found beside the certificates.
	Present bool `json:"present" protobuf:"varint,1,opt,name=present"`
	// Type is the key algorithm: RSA, ECDSA or Ed25519.
	// +optional
	Type string `json:"type,omitempty" protobuf:"bytes,2,opt,name=type"`
	// MatchesCertificate is true when the key's public half equals the leaf certificate's public key.
	MatchesCertificate bool `json:"matchesCertificate" protobuf:"varint,3,opt,name=matchesCertificate"`
}

// ChainVerification is the outcome of verifying a chain: "True", "False" or "Unknown".
type ChainVerification string

const (
	ChainVerified   ChainVerification = "True"
	ChainBroken     ChainVerification = "False"
	ChainUnverified ChainVerification = "Unknown"
)

// ChainStatus is the outcome of verifying the primary chain's signatures,
// issuer links, order and CA constraints (not its validity periods).
type ChainStatus struct {
	// Verified is "True" when the leaf chains to a trusted or self-signed root,
	// "False" when a link is wrong or missing, "Unknown" when there is nothing to verify against.
	// +optional
	Verified ChainVerification `json:"verified,omitempty" protobuf:"bytes,1,opt,name=verified,casttype=ChainVerification"`
	// Message says which certificate and why.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,2,opt,name=message"`
}

// CertificateRole is where a certificate stands in its source object.
type CertificateRole string

const (
	RoleLeaf         CertificateRole = "Leaf"
	RoleIntermediate CertificateRole = "Intermediate"
	RoleRoot         CertificateRole = "Root"
	RoleCA           CertificateRole = "CA"
)

// CertificateInfo describes one certificate. Text fields use the forms
// `openssl x509` prints, so they can be compared with it.
type CertificateInfo struct {
	// Key is the data key (Secret, ConfigMap) that holds the certificate, or for an API
	// registration the field path of the caBundle, e.g. spec.caBundle or
	// webhooks[name].clientConfig.caBundle.
	Key string `json:"key" protobuf:"bytes,1,opt,name=key"`
	// Index is the certificate's position among the certificates of that key, from 0: PEM
	// CERTIFICATE blocks, or a keystore's or kubeconfig's certificates across its entries.
	Index int32 `json:"index" protobuf:"varint,2,opt,name=index"`
	// Alias names the certificate's entry inside the value: a keystore entry's alias or
	// friendlyName, or users[name] / clusters[name] in a kubeconfig; absent for PEM and DER.
	// ---
	// Field 24: added after the first protobuf release, field numbers never change.
	// +optional
	Alias string `json:"alias,omitempty" protobuf:"bytes,24,opt,name=alias"`
	// Role is Leaf, Intermediate, Root (self-signed CA in the chain) or CA (from ca.crt or a bundle).
	Role CertificateRole `json:"role" protobuf:"bytes,3,opt,name=role,casttype=CertificateRole"`
	// Subject is the subject name in RFC 2253 form, as `openssl x509 -subject -nameopt RFC2253,-esc_msb` prints it.
	Subject string `json:"subject" protobuf:"bytes,4,opt,name=subject"`
	// CommonName is the subject's common name.
	// +optional
	CommonName string `json:"commonName,omitempty" protobuf:"bytes,5,opt,name=commonName"`
	// Issuer is the issuer name in RFC 2253 form.
	Issuer string `json:"issuer" protobuf:"bytes,6,opt,name=issuer"`
	// SerialNumber is the serial in uppercase hex, as `openssl x509 -serial` prints it.
	SerialNumber string `json:"serialNumber" protobuf:"bytes,7,opt,name=serialNumber"`
	// NotBefore is the start of the validity period.
	NotBefore metav1.Time `json:"notBefore" protobuf:"bytes,8,opt,name=notBefore"`
	// NotAfter is the end of the validity period.
	NotAfter metav1.Time `json:"notAfter" protobuf:"bytes,9,opt,name=notAfter"`
	// DNSNames are the DNS subject alternative names.
	// +optional
	// +listType=atomic
	DNSNames []string `json:"dnsNames,omitempty" protobuf:"bytes,10,rep,name=dnsNames"`
	// IPAddresses are the IP address subject alternative names.
	// +optional
	// +listType=atomic
	IPAddresses []string `json:"ipAddresses,omitempty" protobuf:"bytes,11,rep,name=ipAddresses"`
	// URIs are the URI subject alternative names.
	// +optional
	// +listType=atomic
	URIs []string `json:"uris,omitempty" protobuf:"bytes,12,rep,name=uris"`
	// EmailAddresses are the email subject alternative names.
	// +optional
	// +listType=atomic
	EmailAddresses []string `json:"emailAddresses,omitempty" protobuf:"bytes,13,rep,name=emailAddresses"`
	// IsCA is true when basic constraints mark the certificate as a CA.
	IsCA bool `json:"isCA" protobuf:"varint,14,opt,name=isCA"`
	// State is this certificate's own state: Valid, ExpiringSoon, Expired or NotYetValid.
	State State `json:"state" protobuf:"bytes,15,opt,name=state,casttype=State"`
	// PublicKeyAlgorithm is RSA, ECDSA, Ed25519, Ed448, RSA-PSS, DSA or Unknown: a name, never a number.
	PublicKeyAlgorithm string `json:"publicKeyAlgorithm" protobuf:"bytes,16,opt,name=publicKeyAlgorithm"`
	// PublicKeySize is the key size in bits: modulus size for RSA and RSA-PSS, curve size for ECDSA,
	// 256 for Ed25519, 456 for Ed448, the size of p for DSA; omitted when unknown.
	// +optional
	PublicKeySize int32 `json:"publicKeySize,omitempty" protobuf:"varint,17,opt,name=publicKeySize"`
	// SignatureAlgorithm is the signature algorithm as Go names it, e.g. SHA256-RSA; one Go does not
	// know as `openssl x509 -text` prints it (ED448, rsassaPss, dsa_with_SHA384), else Unknown.
	SignatureAlgorithm string `json:"signatureAlgorithm" protobuf:"bytes,18,opt,name=signatureAlgorithm"`
	// KeyUsages are the key usages, e.g. DigitalSignature, KeyEncipherment.
	// +optional
	// +listType=atomic
	KeyUsages []string `json:"keyUsages,omitempty" protobuf:"bytes,19,rep,name=keyUsages"`
	// ExtKeyUsages are the extended key usages, e.g. ServerAuth, ClientAuth.
	// +optional
	// +listType=atomic
	ExtKeyUsages []string `json:"extKeyUsages,omitempty" protobuf:"bytes,20,rep,name=extKeyUsages"`
	// SHA256Fingerprint is the SHA-256 digest of the DER certificate, uppercase colon-separated hex.
	SHA256Fingerprint string `json:"sha256Fingerprint" protobuf:"bytes,21,opt,name=sha256Fingerprint"`
	// SubjectKeyID is the subject key identifier, uppercase colon-separated hex.
	// +optional
	SubjectKeyID string `json:"subjectKeyId,omitempty" protobuf:"bytes,22,opt,name=subjectKeyId"`
	// AuthorityKeyID is the authority key identifier, uppercase colon-separated hex.
	// +optional
	AuthorityKeyID string `json:"authorityKeyId,omitempty" protobuf:"bytes,23,opt,name=authorityKeyId"`
}

// DataError says why one data key (or caBundle) could not be read.
type DataError struct {
	// Key is the data key, caBundle field path or annotation the error is about.
	Key string `json:"key" protobuf:"bytes,1,opt,name=key"`
	// Message says what is wrong, in a sentence. It never contains Secret or ConfigMap data.
	Message string `json:"message" protobuf:"bytes,2,opt,name=message"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// CertificateStatusList is a list of CertificateStatus objects.
type CertificateStatusList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of CertificateStatus objects.
	Items []CertificateStatus `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// +genclient
// +genclient:readonly
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ConfigMapCertificateStatus is the health of the X.509 certificates held in one
// ConfigMap (trust bundles such as kube-root-ca.crt or trust-manager's), computed
// from the ConfigMap and the clock on every read. It has the ConfigMap's name,
// namespace, uid, labels and creationTimestamp. It is read-only and never holds
// ConfigMap data.
type ConfigMapCertificateStatus struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata, taken from the ConfigMap (no annotations).
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Status is the analysis of the ConfigMap's certificates at the time of the read:
	// configMapKeys instead of secretType.
	// +optional
	Status CertificateStatusStatus `json:"status,omitempty" protobuf:"bytes,2,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ConfigMapCertificateStatusList is a list of ConfigMapCertificateStatus objects.
type ConfigMapCertificateStatusList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of ConfigMapCertificateStatus objects.
	Items []ConfigMapCertificateStatus `json:"items" protobuf:"bytes,2,rep,name=items"`
}

// +genclient
// +genclient:nonNamespaced
// +genclient:readonly
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterCertificateStatus is the health of the caBundle of one API registration
// (APIService, ValidatingWebhookConfiguration, MutatingWebhookConfiguration,
// CustomResourceDefinition conversion webhook, ClusterTrustBundle), computed from
// the registration, the Secret that serves it and the clock on every read, and
// whether that caBundle trusts what is served (condition Trusted). Cluster-scoped;
// named <lowercase kind>.<registration name>. It is read-only.
type ClusterCertificateStatus struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata: the name is <lowercase kind>.<registration name>
	// (over 253 characters: its first 236, "-" and 16 hex digits of its SHA-256);
	// uid, labels and creationTimestamp are the registration's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Status is the analysis of the caBundle at the time of the read: source instead
	// of secretType.
	// +optional
	Status CertificateStatusStatus `json:"status,omitempty" protobuf:"bytes,2,opt,name=status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// ClusterCertificateStatusList is a list of ClusterCertificateStatus objects.
type ClusterCertificateStatusList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Items is the list of ClusterCertificateStatus objects.
	Items []ClusterCertificateStatus `json:"items" protobuf:"bytes,2,rep,name=items"`
}
