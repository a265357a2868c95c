package certificate

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// describe fills every clock-independent field of CertificateInfo; the
// state and role are set by the caller.
func describe(cert *x509.Certificate, key string, index int) certstatus.CertificateInfo {
	info := certstatus.CertificateInfo{
		Key:                key,
		Index:              int32(index),
		SerialNumber:       formatSerial(cert),
		NotBefore:          metav1.NewTime(cert.NotBefore.UTC()),
		NotAfter:           metav1.NewTime(cert.NotAfter.UTC()),
		DNSNames:           cert.DNSNames,
		EmailAddresses:     cert.EmailAddresses,
		IsCA:               cert.BasicConstraintsValid && cert.IsCA,
		SignatureAlgorithm: cert.SignatureAlgorithm.String(),
		KeyUsages:          keyUsageNames(cert.KeyUsage),
		ExtKeyUsages:       extKeyUsageNames(cert),
		SHA256Fingerprint:  colonHex(sha256Sum(cert.Raw)),
		SubjectKeyID:       colonHex(cert.SubjectKeyId),
		AuthorityKeyID:     colonHex(cert.AuthorityKeyId),
	}
	info.Subject, info.CommonName = nameOrFallback(cert.RawSubject, cert.Subject.String(), cert.Subject.CommonName)
	info.Issuer, _ = nameOrFallback(cert.RawIssuer, cert.Issuer.String(), cert.Issuer.CommonName)
	info.PublicKeyAlgorithm, info.PublicKeySize = publicKeyDescription(cert)
	for _, ip := range cert.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	for _, uri := range cert.URIs {
		info.URIs = append(info.URIs, uri.String())
	}
	return info
}

// nameOrFallback uses Go's rendering only for names our decoder rejects,
// which x509.ParseCertificate has accepted, so something still shows.
func nameOrFallback(der []byte, goString, goCommonName string) (string, string) {
	name, commonName, err := formatName(der)
	if err != nil {
		return goString, goCommonName
	}
	return name, commonName
}

func sha256Sum(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
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

func publicKeyDescription(cert *x509.Certificate) (string, int32) {
	switch key := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", int32(key.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA", int32(key.Curve.Params().BitSize)
	case ed25519.PublicKey:
		return "Ed25519", 256
	default:
		return cert.PublicKeyAlgorithm.String(), 0
	}
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
