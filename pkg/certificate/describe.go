package certificate

import (
	"crypto/dsa" //nolint:staticcheck // DSA certificates still exist; they are described, not used.
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// description is what a certificate says about itself: every
// clock-independent field of CertificateInfo except those that depend on
// where the Secret holds it (key, index, role). It is immutable once
// built, so descriptions of CA certificates are shared between Secrets.
type description struct {
	subject, commonName, issuer string
	// issuerCommonName is the issuer's CN as decoded, for the table and
	// metrics, which would otherwise parse it back out of issuer.
	issuerCommonName string
	serialNumber     string
	// notBefore and notAfter are as parsed; the API shows them in UTC.
	notBefore, notAfter time.Time
	dnsNames            []string
	// otherNames are the rarer alternative names, nil when there are none.
	otherNames                   *otherNames
	keyUsages, extKeyUsages      []string
	signatureAlgorithm           string
	publicKeyAlgorithm           string
	publicKeySize                int32
	isCA                         bool
	sha256Fingerprint            string
	subjectKeyID, authorityKeyID string
}

// otherNames are the IP, URI and email alternative names.
type otherNames struct {
	ipAddresses, uris, emailAddresses []string
}

// newDescription describes cert; fingerprint is the SHA-256 of its DER.
func newDescription(cert *x509.Certificate, fingerprint [sha256.Size]byte) *description {
	d := &description{
		serialNumber:       formatSerial(cert),
		notBefore:          cert.NotBefore,
		notAfter:           cert.NotAfter,
		dnsNames:           cert.DNSNames,
		isCA:               cert.BasicConstraintsValid && cert.IsCA,
		signatureAlgorithm: signatureAlgorithmName(cert),
		keyUsages:          keyUsageNames(cert.KeyUsage),
		extKeyUsages:       extKeyUsageNames(cert),
		sha256Fingerprint:  colonHex(fingerprint[:]),
		subjectKeyID:       colonHex(cert.SubjectKeyId),
		authorityKeyID:     colonHex(cert.AuthorityKeyId),
	}
	d.subject, d.commonName = nameOrFallback(cert.RawSubject, cert.Subject)
	d.commonName = reuseBytes(d.commonName, d.dnsNames, d.subject)
	d.issuer, d.issuerCommonName = formattedIssuer(cert)
	d.publicKeyAlgorithm, d.publicKeySize = publicKeyDescription(cert)
	var other otherNames
	for _, ip := range cert.IPAddresses {
		other.ipAddresses = append(other.ipAddresses, ip.String())
	}
	for _, uri := range cert.URIs {
		other.uris = append(other.uris, uri.String())
	}
	other.emailAddresses = cert.EmailAddresses
	if other.ipAddresses != nil || other.uris != nil || other.emailAddresses != nil {
		d.otherNames = &other
	}
	return d
}

// fill writes the description into a zero CertificateInfo, as the API
// shows it; the caller sets key, index, role and state. It writes in place
// because a large bundle's status holds many, and copying each whole costs.
func (d *description) fill(info *certstatus.CertificateInfo) {
	info.Subject = d.subject
	info.CommonName = d.commonName
	info.Issuer = d.issuer
	info.IssuerCommonName = d.issuerCommonName
	info.SerialNumber = d.serialNumber
	info.NotBefore = metav1.NewTime(d.notBefore.UTC())
	info.NotAfter = metav1.NewTime(d.notAfter.UTC())
	info.DNSNames = d.dnsNames
	info.IsCA = d.isCA
	info.PublicKeyAlgorithm = d.publicKeyAlgorithm
	info.PublicKeySize = d.publicKeySize
	info.SignatureAlgorithm = d.signatureAlgorithm
	info.KeyUsages = d.keyUsages
	info.ExtKeyUsages = d.extKeyUsages
	info.SHA256Fingerprint = d.sha256Fingerprint
	info.SubjectKeyID = d.subjectKeyID
	info.AuthorityKeyID = d.authorityKeyID
	if d.otherNames != nil {
		info.IPAddresses = d.otherNames.ipAddresses
		info.URIs = d.otherNames.uris
		info.EmailAddresses = d.otherNames.emailAddresses
	}
}

// displayName is the common name, else the first DNS name, else the subject.
func (d *description) displayName() string {
	switch {
	case d.commonName != "":
		return d.commonName
	case len(d.dnsNames) > 0:
		return d.dnsNames[0]
	case d.subject != "":
		return d.subject
	default:
		return "no subject"
	}
}

// reuseBytes returns s backed by the memory of an equal DNS name or of a
// substring of subject when there is one, so a common name costs no copy
// of its own for as long as the description is kept.
func reuseBytes(s string, dnsNames []string, subject string) string {
	if s == "" {
		return s
	}
	for _, name := range dnsNames {
		if name == s {
			return name
		}
	}
	if i := strings.Index(subject, s); i >= 0 {
		return subject[i : i+len(s)]
	}
	return s
}

// nameOrFallback uses Go's rendering only for names our decoder rejects,
// which x509.ParseCertificate has accepted, so something still shows.
func nameOrFallback(der []byte, parsed pkix.Name) (string, string) {
	name, commonName, err := formatName(der)
	if err != nil {
		return parsed.String(), parsed.CommonName
	}
	return name, commonName
}

// formatSerial prints the serial as `openssl x509 -serial` does: two
// uppercase hex digits per byte of the magnitude, "00" for zero.
func formatSerial(cert *x509.Certificate) string {
	if cert.SerialNumber == nil {
		return ""
	}
	magnitude := cert.SerialNumber.Bytes()
	if len(magnitude) == 0 {
		return "00"
	}
	var out strings.Builder
	if cert.SerialNumber.Sign() < 0 {
		out.WriteByte('-')
	}
	writeUpperHex(&out, magnitude)
	return out.String()
}

// colonHex is "AB:CD:..." as openssl prints fingerprints and key IDs.
func colonHex(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	var out strings.Builder
	out.Grow(len(data) * 3)
	for i, b := range data {
		if i > 0 {
			out.WriteByte(':')
		}
		writeUpperHex(&out, []byte{b})
	}
	return out.String()
}

// Public key algorithms Go does not parse, by their SubjectPublicKeyInfo OID.
var (
	oidPublicKeyEd448  = asn1.ObjectIdentifier{1, 3, 101, 113}
	oidPublicKeyRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidPublicKeyDSA    = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
)

// publicKeyDescription names the key and its size in bits: a name, never a
// number, "Unknown" for what neither Go nor this list knows (size 0, omitted).
func publicKeyDescription(cert *x509.Certificate) (string, int32) {
	switch key := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", int32(key.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA", int32(key.Curve.Params().BitSize)
	case ed25519.PublicKey:
		return "Ed25519", 256
	case *dsa.PublicKey:
		return "DSA", int32(key.P.BitLen())
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil || len(rest) > 0 {
		return "Unknown", 0
	}
	switch algorithm := spki.Algorithm.Algorithm; {
	case algorithm.Equal(oidPublicKeyEd448):
		return "Ed448", int32(spki.PublicKey.BitLength) // 456: a 57-byte key, as 256 for Ed25519
	case algorithm.Equal(oidPublicKeyRSAPSS):
		// The key is a PKCS#1 RSAPublicKey; only the parameters differ from RSA's.
		var key struct{ N, E *big.Int }
		if rest, err := asn1.Unmarshal(spki.PublicKey.Bytes, &key); err == nil && len(rest) == 0 && key.N != nil {
			return "RSA-PSS", int32(key.N.BitLen())
		}
		return "RSA-PSS", 0
	case algorithm.Equal(oidPublicKeyDSA):
		return "DSA", 0
	}
	return "Unknown", 0
}

// signatureAlgorithmName is Go's name for the signature algorithm, or, for
// one Go does not know (Ed448, RSASSA-PSS with parameters Go does not
// support, DSA with SHA-384), the name `openssl x509 -text` prints, or Unknown.
func signatureAlgorithmName(cert *x509.Certificate) string {
	if cert.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return cert.SignatureAlgorithm.String()
	}
	var outer struct {
		TBSCertificate     asn1.RawValue
		SignatureAlgorithm pkix.AlgorithmIdentifier
		SignatureValue     asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.Raw, &outer); err != nil {
		return "Unknown"
	}
	oid := outer.SignatureAlgorithm.Algorithm.String()
	if name, ok := openSSLObjectLongNames[oid]; ok {
		return name
	}
	if name, ok := openSSLObjectNames[oid]; ok {
		return name
	}
	return "Unknown"
}

var keyUsageBits = []struct {
	usage x509.KeyUsage
	name  string
}{
	{x509.KeyUsageDigitalSignature, "DigitalSignature"},
	{x509.KeyUsageContentCommitment, "ContentCommitment"},
	{x509.KeyUsageKeyEncipherment, "KeyEncipherment"},
	{x509.KeyUsageDataEncipherment, "DataEncipherment"},
	{x509.KeyUsageKeyAgreement, "KeyAgreement"},
	{x509.KeyUsageCertSign, "CertSign"},
	{x509.KeyUsageCRLSign, "CRLSign"},
	{x509.KeyUsageEncipherOnly, "EncipherOnly"},
	{x509.KeyUsageDecipherOnly, "DecipherOnly"},
}

func keyUsageNames(usage x509.KeyUsage) []string {
	var names []string
	for _, bit := range keyUsageBits {
		if usage&bit.usage != 0 {
			names = append(names, bit.name)
		}
	}
	return names
}

var extKeyUsageNamesByUsage = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:                            "Any",
	x509.ExtKeyUsageServerAuth:                     "ServerAuth",
	x509.ExtKeyUsageClientAuth:                     "ClientAuth",
	x509.ExtKeyUsageCodeSigning:                    "CodeSigning",
	x509.ExtKeyUsageEmailProtection:                "EmailProtection",
	x509.ExtKeyUsageIPSECEndSystem:                 "IPSECEndSystem",
	x509.ExtKeyUsageIPSECTunnel:                    "IPSECTunnel",
	x509.ExtKeyUsageIPSECUser:                      "IPSECUser",
	x509.ExtKeyUsageTimeStamping:                   "TimeStamping",
	x509.ExtKeyUsageOCSPSigning:                    "OCSPSigning",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     "MicrosoftServerGatedCrypto",
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      "NetscapeServerGatedCrypto",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "MicrosoftCommercialCodeSigning",
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     "MicrosoftKernelCodeSigning",
}

// extKeyUsageNames lists known usages by name and unknown ones as dotted OIDs.
func extKeyUsageNames(cert *x509.Certificate) []string {
	var names []string
	for _, usage := range cert.ExtKeyUsage {
		if name, ok := extKeyUsageNamesByUsage[usage]; ok {
			names = append(names, name)
		}
	}
	for _, oid := range cert.UnknownExtKeyUsage {
		names = append(names, oid.String())
	}
	return names
}
