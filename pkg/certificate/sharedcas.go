package certificate

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"

	"k8s.io/utils/lru"
)

// Thousands of Secrets carry the same intermediate and root, and parsing
// them and checking the intermediate's signature every time was half of
// what analysing a Secret cost: the answer never differs. Both are
// remembered for CA certificates only (leaves are rarely in two Secrets),
// keyed by the SHA-256 of the DER, so one key means the same bytes and so
// the same answer. The caches are small and bounded: a cluster with more
// distinct CAs than they hold is analysed as before, only without the
// shortcut, and nothing grows with the number of Secrets.
// A leaf's issuer name is the same few CAs' names in thousands of Secrets,
// and formatting one decodes the whole name: the formatted strings are
// remembered too, by SHA-256 of the name's DER, and so shared.
// Before any of that, the CA certificates' PEM text is base64 the same way
// in every Secret: its decoded blocks are remembered by SHA-256 of the
// exact text.
const (
	caBlocksSize         = 256
	parsedCAsSize        = 256
	caSignaturesSize     = 1024
	formattedIssuersSize = 256
)

var (
	caBlocks         = lru.New(caBlocksSize)         // PEM text fingerprint → *pem.Block, never modified
	parsedCAs        = lru.New(parsedCAsSize)        // DER fingerprint → *x509.Certificate, never modified
	caSignatures     = lru.New(caSignaturesSize)     // [child, issuer] fingerprints → bool
	formattedIssuers = lru.New(formattedIssuersSize) // issuer name fingerprint → [2]string{name, common name}
)

// formattedIssuer is cert's issuer name and common name as the API shows
// them.
func formattedIssuer(cert *x509.Certificate) (name, commonName string) {
	key := sha256.Sum256(cert.RawIssuer)
	if cached, ok := formattedIssuers.Get(key); ok {
		pair := cached.([2]string)
		return pair[0], pair[1]
	}
	name, commonName = nameOrFallback(cert.RawIssuer, cert.Issuer)
	commonName = reuseBytes(commonName, nil, name)
	formattedIssuers.Add(key, [2]string{name, commonName})
	return name, commonName
}

// rememberedCABlock is what was kept of a CA certificate's PEM text seen
// before, or nil. It is shared: nothing of it may be modified.
func rememberedCABlock(text []byte) *knownCertificate {
	if cached, ok := caBlocks.Get(sha256.Sum256(text)); ok {
		return cached.(*knownCertificate)
	}
	return nil
}

// rememberCABlock keeps block, decoded from text, with its parse cert (a
// shared CA parse from parseFingerprinted) and the SHA-256 of its DER, so
// that the next Secret holding the same text neither decodes, hashes nor
// looks up its DER again. Blocks with headers are not kept: nothing
// certstatus reads has them, and a shared map is one more thing that could
// be modified.
func rememberCABlock(text []byte, block *pem.Block, cert *x509.Certificate, fingerprint [sha256.Size]byte) {
	if len(block.Headers) > 0 {
		return
	}
	// pem.Decode copies what it decodes: the block points into no Secret.
	caBlocks.Add(sha256.Sum256(text), &knownCertificate{block: block, cert: cert, fingerprint: fingerprint})
}

// parseCertificate parses DER, reusing the parse of a CA certificate seen
// before. The returned certificate may be shared: it must not be modified.
func parseCertificate(der []byte) (*x509.Certificate, error) {
	cert, _, err := parseFingerprinted(der)
	return cert, err
}

// parseFingerprinted is parseCertificate that also returns the SHA-256 of
// der, which describing the certificate needs too.
func parseFingerprinted(der []byte) (*x509.Certificate, [sha256.Size]byte, error) {
	fingerprint := sha256.Sum256(der)
	if cached, ok := parsedCAs.Get(fingerprint); ok {
		return cached.(*x509.Certificate), fingerprint, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err == nil && isCA(cert) {
		// The cache outlives the object, and a parse points into its
		// bytes: keep a parse of a copy, never a DER value or a JKS file.
		if cert, err = x509.ParseCertificate(bytes.Clone(der)); err == nil {
			parsedCAs.Add(fingerprint, cert)
		}
	}
	return cert, fingerprint, err
}

// signatureVerifies reports whether issuer's key verifies child's
// signature, remembering the answer when child is a CA certificate.
func signatureVerifies(child, issuer *x509.Certificate) bool {
	check := func() bool {
		return issuer.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
	}
	if !isCA(child) {
		return check()
	}
	key := [2][sha256.Size]byte{sha256.Sum256(child.Raw), sha256.Sum256(issuer.Raw)}
	if verified, ok := caSignatures.Get(key); ok {
		return verified.(bool)
	}
	verified := check()
	caSignatures.Add(key, verified)
	return verified
}

func isCA(cert *x509.Certificate) bool { return cert.BasicConstraintsValid && cert.IsCA }
