package certificate

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Data keys of a kubernetes.io/tls Secret.
const (
	secretTypeTLS = "kubernetes.io/tls"
	keyTLSCert    = "tls.crt"
	keyTLSKey     = "tls.key"
	keyCACert     = "ca.crt"
)

// maxCertificates bounds the work one Secret can cause.
const maxCertificates = 1000

// parsedCertificate is a certificate while the Secret is analysed; only its
// description outlives Analyze.
type parsedCertificate struct {
	cert  *x509.Certificate
	key   string
	index int
	// alias names the keystore entry or kubeconfig user/cluster; "" for PEM and DER.
	alias string
	// chainPos is the position in its keystore's or kubeconfig's primary-chain
	// candidate, -1 outside it (and for PEM and DER).
	chainPos int
	// fingerprint is the SHA-256 of cert.Raw, which parsing computes anyway.
	fingerprint [sha256.Size]byte
}

// foundKey is the public half of the first private key in the Secret.
type foundKey struct {
	dataKey   string
	public    crypto.PublicKey
	algorithm string
}

// secretContents is what reading the data keys produced.
type secretContents struct {
	certificates []parsedCertificate
	// certificatesByKey maps a data key to indexes into certificates.
	certificatesByKey map[string][]int
	// certificateKeys are the data keys read for certificates, in key order.
	certificateKeys []string
	privateKey      *foundKey
	// privateKeyRead is true when a key was looked for in a place it belongs (tls.key).
	privateKeyRead bool
	problems       problemLog
	// seen counts CERTIFICATE blocks, parsed or not, against maxCertificates.
	seen int
	// structured are the keystore and kubeconfig values, by data key.
	structured map[string]*structuredValue
	// passwords are tried on keystores; never kept beyond Analyze. They are
	// computed by passwordSource when the first keystore is met.
	passwords      passwords
	passwordSource func() passwords
	// locked is true when some keystore stayed encrypted.
	locked bool
	// recognized is true when some value held certificates, PEM or not.
	recognized bool
	// configMap is set when the values are a ConfigMap's.
	configMap *configMapSource
}

// readTLSSecret reads tls.crt, ca.crt and tls.key and nothing else.
func readTLSSecret(data map[string][]byte, pw func() passwords) *secretContents {
	contents := &secretContents{certificatesByKey: map[string][]int{}, privateKeyRead: true, passwordSource: pw}
	// tls.crt first, so that a huge ca.crt cannot spend the bound before the leaf.
	for _, key := range []string{keyTLSCert, keyCACert} {
		value, present := data[key]
		switch {
		case !present && key == keyTLSCert:
			contents.problems.add(key, "The key is missing: a kubernetes.io/tls Secret needs its certificate in tls.crt.")
		case len(bytes.TrimSpace(value)) == 0 && key == keyTLSCert && present:
			contents.problems.add(key, "The value is empty: no certificate has been stored yet.")
		case len(bytes.TrimSpace(value)) > 0:
			contents.readCertificates(key, value, true)
		}
	}
	// Keystores, DER and kubeconfigs beside them (cert-manager's keystore.p12,
	// truststore.jks) are extra keys; other PEM values are not read.
	for _, key := range slices.Sorted(maps.Keys(data)) {
		if key != keyTLSCert && key != keyCACert && key != keyTLSKey {
			contents.readStructured(key, data[key])
		}
	}
	contents.sortByKey()
	value, present := data[keyTLSKey]
	switch {
	case !present:
		contents.problems.add(keyTLSKey, "The key is missing: a kubernetes.io/tls Secret needs its private key in tls.key.")
	case len(bytes.TrimSpace(value)) == 0:
		contents.problems.add(keyTLSKey, "The value is empty: no private key has been stored yet.")
	default:
		if !contents.readPrivateKey(keyTLSKey, value) {
			contents.problems.add(keyTLSKey, describeUnreadable(value, "private key"))
		}
	}
	return contents
}

// readOtherSecret reads every key that holds a PEM certificate, and the
// first private key found; keys without PEM certificates are not ours to judge.
func readOtherSecret(data map[string][]byte, pw func() passwords, configMap *configMapSource) *secretContents {
	contents := &secretContents{certificatesByKey: map[string][]int{}, passwordSource: pw, configMap: configMap}
	keys := slices.Sorted(maps.Keys(data))
	// tls.crt first for the bound, then the other keys in key order.
	if i := slices.Index(keys, keyTLSCert); i > 0 {
		keys = append(append([]string{keyTLSCert}, keys[:i]...), keys[i+1:]...)
	}
	for _, key := range keys {
		switch {
		case contents.readStructured(key, data[key]):
			contents.recognized = true
		case bytes.Contains(data[key], certificateMarker):
			contents.recognized = true
			contents.readCertificates(key, data[key], false)
		}
	}
	contents.sortByKey()
	// The private key is the first one in key order.
	for _, key := range slices.Sorted(maps.Keys(data)) {
		if contents.privateKey == nil && bytes.Contains(data[key], privateKeyMarker) {
			contents.readPrivateKey(key, data[key])
		}
	}
	return contents
}

// sortByKey puts the certificates, read in bound order (tls.crt first), back
// in data-key order, which the status shows and the primary chain is chosen by.
func (c *secretContents) sortByKey() {
	if slices.IsSorted(c.certificateKeys) {
		return
	}
	slices.SortStableFunc(c.certificates, func(a, b parsedCertificate) int { return strings.Compare(a.key, b.key) })
	slices.Sort(c.certificateKeys)
	clear(c.certificatesByKey)
	for i, parsed := range c.certificates {
		c.certificatesByKey[parsed.key] = append(c.certificatesByKey[parsed.key], i)
	}
}

// readCertificates parses the CERTIFICATE blocks of one value. strict means
// the key may hold nothing but certificates (tls.crt, ca.crt of a TLS Secret).
func (c *secretContents) readCertificates(key string, value []byte, strict bool) {
	c.certificateKeys = append(c.certificateKeys, key)
	index, sawPEM := 0, false
	for found := range scanPEMKnown(value, rememberedCABlock) {
		sawPEM = true
		if found.problem != "" {
			c.problems.add(key, found.problem)
			continue
		}
		if isPKCS7Block(found.block) {
			c.problems.add(key, pkcs7Message)
			continue
		}
		if found.block.Type != "CERTIFICATE" {
			if strict {
				c.problems.add(key, fmt.Sprintf("It holds %s, where only CERTIFICATE blocks belong; the block was ignored.", blockKind(found.block)))
			}
			continue
		}
		if c.seen >= maxCertificates {
			skipped := 1 + bytes.Count(value[found.end:], certificateMarker)
			c.problems.add(key, fmt.Sprintf("%d certificates were not analysed: at most %d certificates per %s are.", skipped, maxCertificates, c.noun()))
			return
		}
		c.seen++
		var cert *x509.Certificate
		var fingerprint [sha256.Size]byte
		var err error
		if found.known != nil {
			cert, fingerprint = found.known.cert, found.known.fingerprint
		} else if cert, fingerprint, err = parseFingerprinted(found.block.Bytes); err == nil && isCA(cert) {
			rememberCABlock(found.text, found.block, cert, fingerprint)
		}
		if err != nil {
			c.problems.add(key, fmt.Sprintf("Certificate %d is not a valid X.509 certificate%s.", index, safeReason(err)))
		} else {
			c.certificatesByKey[key] = append(c.certificatesByKey[key], len(c.certificates))
			c.certificates = append(c.certificates, parsedCertificate{cert: cert, key: key, index: index, chainPos: -1, fingerprint: fingerprint})
		}
		index++
	}
	if !sawPEM {
		c.problems.add(key, describeUnreadable(value, "certificate"))
	}
}

// noun names the object being read in messages.
func (c *secretContents) noun() string {
	if c.configMap != nil {
		return "ConfigMap"
	}
	return "Secret"
}

// readPrivateKey keeps the public half of the first private key block in value.
// It reports whether a private key block was found at all.
func (c *secretContents) readPrivateKey(key string, value []byte) bool {
	sawKey := false
	for found := range scanPEM(value) {
		if found.problem != "" {
			if c.privateKeyRead {
				c.problems.add(key, found.problem)
			}
			continue
		}
		if !isPrivateKeyBlock(found.block) {
			continue
		}
		sawKey = true
		public, algorithm, err := parsePrivateKey(found.block)
		if err != nil {
			c.problems.add(key, sentence(err))
			continue
		}
		c.privateKey = &foundKey{dataKey: key, public: public, algorithm: algorithm}
		return true
	}
	return sawKey
}

// describeUnreadable explains a value with no PEM block of the wanted kind,
// recognising the usual mistakes, without quoting the value.
func describeUnreadable(value []byte, wanted string) string {
	trimmed := bytes.TrimSpace(value)
	switch {
	case bytes.Contains(value, pemBegin):
		return fmt.Sprintf("No PEM %s block was found.", wanted)
	case len(trimmed) > 0 && trimmed[0] == 0x30:
		return fmt.Sprintf("The value looks like binary DER, but a PEM %s block (-----BEGIN ...-----) is expected.", wanted)
	case looksBase64(trimmed):
		return fmt.Sprintf("The value looks base64-encoded twice: it is not PEM, but a PEM %s block is expected.", wanted)
	default:
		return fmt.Sprintf("The value is not PEM: a PEM %s block (-----BEGIN ...-----) is expected.", wanted)
	}
}

// looksBase64 recognises "LS0tLS1CRUdJTi" ("-----BEGIN" base64-encoded), a
// common mistake when data is pasted into stringData already encoded.
func looksBase64(value []byte) bool {
	return bytes.HasPrefix(value, []byte("LS0tLS1CRUdJTi"))
}

// pkcs7Message explains a PKCS#7 (.p7b) block, which holds certificates
// that neither Kubernetes nor TLS servers read in that form.
const pkcs7Message = "It holds a PKCS#7 block (a .p7b certificate bundle), which TLS servers do not read: convert it to PEM certificates with `openssl pkcs7 -print_certs -in bundle.p7b -out chain.pem` and store those (leaf first)."

// isPKCS7Block recognises openssl's PKCS7 labels.
func isPKCS7Block(block *pem.Block) bool {
	return block.Type == "PKCS7" || block.Type == "PKCS #7 SIGNED DATA"
}

// knownBlockKinds are PEM labels worth naming; other labels are Secret data
// and are not repeated.
var knownBlockKinds = map[string]string{
	"PRIVATE KEY":             "a private key",
	"RSA PRIVATE KEY":         "a private key",
	"EC PRIVATE KEY":          "a private key",
	"ENCRYPTED PRIVATE KEY":   "an encrypted private key",
	"PUBLIC KEY":              "a public key",
	"RSA PUBLIC KEY":          "a public key",
	"CERTIFICATE REQUEST":     "a certificate request",
	"NEW CERTIFICATE REQUEST": "a certificate request",
	"X509 CRL":                "a certificate revocation list",
	"TRUSTED CERTIFICATE":     "an OpenSSL TRUSTED CERTIFICATE block",
	"EC PARAMETERS":           "EC parameters",
}

func blockKind(block *pem.Block) string {
	if kind, ok := knownBlockKinds[block.Type]; ok {
		return kind
	}
	return "a PEM block of another type"
}

// safeReason adds Go's parse error when it cannot quote the data: errors
// that quote (%q) certificate contents are dropped.
func safeReason(err error) string {
	message := err.Error()
	if strings.ContainsAny(message, "\"'`") || len(message) > 160 {
		return ""
	}
	return " (" + message + ")"
}

// sentence turns an error into a capitalised sentence for errors[].
func sentence(err error) string {
	message := err.Error()
	if message == "" {
		return ""
	}
	return strings.ToUpper(message[:1]) + message[1:] + "."
}
