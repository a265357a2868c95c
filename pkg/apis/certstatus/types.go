package certstatus

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// State is the health of a Secret's certificates at one instant.
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
	// and nothing else in the Secret is readable. Never used for anything else.
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
)

// ExpiringSoonThresholdAnnotation on a Secret overrides --expiring-soon-threshold
// for that Secret (a Go duration such as "168h").
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

// AlertsAnnotation "off" on a Secret silences the shipped alert rules for
// it: certstatus_secret_info carries alerts="off".
const (
	AlertsAnnotation = "certstatus.dev/alerts"
	AlertsOff        = "off"
)

// cert-manager's annotations on the Secrets it manages: the only other
// annotation values the server reads (status.certManager).
const (
	CertManagerCertificateNameAnnotation = "cert-manager.io/certificate-name"
	CertManagerIssuerNameAnnotation      = "cert-manager.io/issuer-name"
	CertManagerIssuerKindAnnotation      = "cert-manager.io/issuer-kind"
	CertManagerIssuerGroupAnnotation     = "cert-manager.io/issuer-group"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// CertificateStatus is the health of the X.509 certificates held in one Secret,
// computed from the Secret and the clock on every read. It has the Secret's
// name, namespace, uid, labels and creationTimestamp. It is read-only: it is
// never stored, and it never holds Secret data or private keys.
type CertificateStatus struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata, taken from the Secret (no annotations).
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is the analysis of the Secret's certificates at the time of the read.
	// +optional
	Status CertificateStatusStatus `json:"status,omitempty"`
}

// CertificateStatusStatus is the computed health of a Secret's certificates.
type CertificateStatusStatus struct {
	// SecretType is the type of the Secret, e.g. kubernetes.io/tls.
	// +optional
	SecretType string `json:"secretType,omitempty"`

	// State is the overall health: Valid, ExpiringSoon, Expired, NotYetValid, Invalid, or
	// Unknown when a locked keystore is all the Secret holds (reason KeystoreLocked).
	// +optional
	State State `json:"state,omitempty"`

	// NotBefore is the latest notBefore of the primary chain.
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty"`

	// NotAfter is the earliest notAfter of the primary chain.
	// +optional
	NotAfter *metav1.Time `json:"notAfter,omitempty"`

	// ExpiringSoonAt is the instant the state becomes ExpiringSoon:
	// notAfter minus min(threshold, fraction × lifetime).
	// +optional
	ExpiringSoonAt *metav1.Time `json:"expiringSoonAt,omitempty"`

	// Summary counts the certificates found, by state.
	// +optional
	Summary CertificateSummary `json:"summary"`

	// Conditions are Ready and ExpiringSoon, usable with `kubectl wait --for=condition=Ready`.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// PrivateKey describes the private key found in the Secret, if any. Key bytes are never returned.
	// +optional
	PrivateKey *PrivateKeyStatus `json:"privateKey,omitempty"`

	// Chain is the result of verifying the primary chain.
	// +optional
	Chain ChainStatus `json:"chain"`

	// Certificates lists every certificate found, in data-key order, then position in the key.
	// +optional
	// +listType=atomic
	Certificates []CertificateInfo `json:"certificates,omitempty"`

	// CertManager names the cert-manager Certificate and issuer that manage the Secret,
	// from cert-manager's annotations; absent when the Secret carries none.
	// +optional
	CertManager *CertManagerReference `json:"certManager,omitempty"`

	// UsedBy lists who serves or mounts the Secret (Ingresses, Gateways, ListenerSets,
	// workloads by their controller, Pods without one), sorted by kind, namespace and name:
	// what its expiry breaks.
	// +optional
	// +listType=atomic
	UsedBy []UsedBy `json:"usedBy,omitempty"`

	// Errors has one entry per data key that could not be read; the rest of the Secret still shows.
	// +optional
	// +listType=atomic
	Errors []DataError `json:"errors,omitempty"`
}

// CertManagerReference links the Secret to cert-manager.
type CertManagerReference struct {
	// Certificate is the cert-manager Certificate in the Secret's namespace (cert-manager.io/certificate-name).
	// +optional
	Certificate string `json:"certificate,omitempty"`
	// Issuer is the issuer the Certificate names.
	// +optional
	Issuer *CertManagerIssuer `json:"issuer,omitempty"`
}

// CertManagerIssuer names a cert-manager issuer.
type CertManagerIssuer struct {
	// Name is the issuer's name (cert-manager.io/issuer-name).
	// +optional
	Name string `json:"name,omitempty"`
	// Kind is Issuer, ClusterIssuer or an external issuer's kind (cert-manager.io/issuer-kind).
	// +optional
	Kind string `json:"kind,omitempty"`
	// Group is the issuer's API group, e.g. cert-manager.io (cert-manager.io/issuer-group).
	// +optional
	Group string `json:"group,omitempty"`
}

// UsedBy is one object that serves or mounts the Secret. Only names, hosts and
// counts are kept of it: nothing else of the object is read or served.
type UsedBy struct {
	// Kind is Ingress, Gateway, ListenerSet, Deployment, StatefulSet, DaemonSet, Job, CronJob,
	// Pod, or the kind of another controller of Pods (a bare ReplicaSet, a custom controller).
	Kind string `json:"kind"`
	// Namespace is the object's namespace; it may differ from the Secret's.
	Namespace string `json:"namespace"`
	// Name is the object's name.
	Name string `json:"name"`
	// Hosts are the hosts the object serves with this Secret (Ingress tls[].hosts,
	// listener hostname), lower case without a trailing dot.
	// +optional
	// +listType=atomic
	Hosts []string `json:"hosts,omitempty"`
	// HostsNotCovered are those of Hosts that no DNS name (or IP address) of the leaf
	// certificate covers, by RFC 6125 rules: clients fail TLS for them today.
	// +optional
	// +listType=atomic
	HostsNotCovered []string `json:"hostsNotCovered,omitempty"`
	// Pods is, for workloads and Pods, how many of its running or pending Pods mount
	// the Secret (a secret volume or a projected source).
	// +optional
	Pods int32 `json:"pods,omitempty"`
}

// CertificateSummary counts certificates by their own state.
type CertificateSummary struct {
	// Certificates is the number of certificates found.
	Certificates int32 `json:"certificates"`
	// Valid is the number of certificates valid now and not expiring soon.
	Valid int32 `json:"valid"`
	// ExpiringSoon is the number of certificates valid now but expiring soon.
	ExpiringSoon int32 `json:"expiringSoon"`
	// Expired is the number of certificates past their notAfter.
	Expired int32 `json:"expired"`
	// NotYetValid is the number of certificates before their notBefore.
	NotYetValid int32 `json:"notYetValid"`
}

// PrivateKeyStatus describes a private key without revealing it.
type PrivateKeyStatus struct {
	// Present is true when the Secret holds a parseable private key.
	Present bool `json:"present"`
	// Type is the key algorithm: RSA, ECDSA or Ed25519.
	// +optional
	Type string `json:"type,omitempty"`
	// MatchesCertificate is true when the key's public half equals the leaf certificate's public key.
	MatchesCertificate bool `json:"matchesCertificate"`
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
	Verified ChainVerification `json:"verified,omitempty"`
	// Message says which certificate and why.
	// +optional
	Message string `json:"message,omitempty"`
}

// CertificateRole is where a certificate stands in the Secret.
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
	// Key is the Secret data key that holds the certificate.
	Key string `json:"key"`
	// Index is the certificate's position among the certificates of that key, from 0: PEM
	// CERTIFICATE blocks, or a keystore's or kubeconfig's certificates across its entries.
	Index int32 `json:"index"`
	// Alias names the certificate's entry inside the value: a keystore entry's alias or
	// friendlyName, or users[name] / clusters[name] in a kubeconfig; absent for PEM and DER.
	// +optional
	Alias string `json:"alias,omitempty"`
	// Role is Leaf, Intermediate, Root (self-signed CA in the chain) or CA (from ca.crt or a bundle).
	Role CertificateRole `json:"role"`
	// Subject is the subject name in RFC 2253 form, as `openssl x509 -subject -nameopt RFC2253,-esc_msb` prints it.
	Subject string `json:"subject"`
	// CommonName is the subject's common name.
	// +optional
	CommonName string `json:"commonName,omitempty"`
	// Issuer is the issuer name in RFC 2253 form.
	Issuer string `json:"issuer"`
	// IssuerCommonName is the issuer's common name as the analysis decoded it, for the
	// table; internal only (not served), so the table need not parse Issuer back.
	IssuerCommonName string `json:"-"`
	// SerialNumber is the serial in uppercase hex, as `openssl x509 -serial` prints it.
	SerialNumber string `json:"serialNumber"`
	// NotBefore is the start of the validity period.
	NotBefore metav1.Time `json:"notBefore"`
	// NotAfter is the end of the validity period.
	NotAfter metav1.Time `json:"notAfter"`
	// DNSNames are the DNS subject alternative names.
	// +optional
	// +listType=atomic
	DNSNames []string `json:"dnsNames,omitempty"`
	// IPAddresses are the IP address subject alternative names.
	// +optional
	// +listType=atomic
	IPAddresses []string `json:"ipAddresses,omitempty"`
	// URIs are the URI subject alternative names.
	// +optional
	// +listType=atomic
	URIs []string `json:"uris,omitempty"`
	// EmailAddresses are the email subject alternative names.
	// +optional
	// +listType=atomic
	EmailAddresses []string `json:"emailAddresses,omitempty"`
	// IsCA is true when basic constraints mark the certificate as a CA.
	IsCA bool `json:"isCA"`
	// State is this certificate's own state: Valid, ExpiringSoon, Expired or NotYetValid.
	State State `json:"state"`
	// PublicKeyAlgorithm is RSA, ECDSA, Ed25519, Ed448, RSA-PSS, DSA or Unknown: a name, never a number.
	PublicKeyAlgorithm string `json:"publicKeyAlgorithm"`
	// PublicKeySize is the key size in bits: modulus size for RSA and RSA-PSS, curve size for ECDSA,
	// 256 for Ed25519, 456 for Ed448, the size of p for DSA; omitted when unknown.
	// +optional
	PublicKeySize int32 `json:"publicKeySize,omitempty"`
	// SignatureAlgorithm is the signature algorithm as Go names it, e.g. SHA256-RSA; one Go does not
	// know as `openssl x509 -text` prints it (ED448, rsassaPss, dsa_with_SHA384), else Unknown.
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	// KeyUsages are the key usages, e.g. DigitalSignature, KeyEncipherment.
	// +optional
	// +listType=atomic
	KeyUsages []string `json:"keyUsages,omitempty"`
	// ExtKeyUsages are the extended key usages, e.g. ServerAuth, ClientAuth.
	// +optional
	// +listType=atomic
	ExtKeyUsages []string `json:"extKeyUsages,omitempty"`
	// SHA256Fingerprint is the SHA-256 digest of the DER certificate, uppercase colon-separated hex.
	SHA256Fingerprint string `json:"sha256Fingerprint"`
	// SubjectKeyID is the subject key identifier, uppercase colon-separated hex.
	// +optional
	SubjectKeyID string `json:"subjectKeyId,omitempty"`
	// AuthorityKeyID is the authority key identifier, uppercase colon-separated hex.
	// +optional
	AuthorityKeyID string `json:"authorityKeyId,omitempty"`
}

// DataError says why one data key of the Secret could not be read.
type DataError struct {
	// Key is the Secret data key (or the annotation) the error is about.
	Key string `json:"key"`
	// Message says what is wrong, in a sentence. It never contains Secret data.
	Message string `json:"message"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// CertificateStatusList is a list of CertificateStatus objects.
type CertificateStatusList struct {
	metav1.TypeMeta `json:",inline"`
	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of CertificateStatus objects.
	Items []CertificateStatus `json:"items"`
}
