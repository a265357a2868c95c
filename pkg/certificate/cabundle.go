package certificate

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"slices"
)

// readCABundles reads every value as a caBundle field (Input.CABundles):
// all of its PEM certificates, any other block reported, and a value with
// no PEM certificate at all reported rather than skipped, since the
// registration's calls fail with it.
func readCABundles(data map[string][]byte) *secretContents {
	contents := &secretContents{certificatesByKey: map[string][]int{}}
	for _, key := range slices.Sorted(maps.Keys(data)) {
		value := data[key]
		switch {
		case len(bytes.TrimSpace(value)) == 0:
		case bytes.Contains(value, certificateMarker):
			contents.recognized = true
			contents.readCertificates(key, value, true)
		default:
			contents.problems.add(key, describeUnreadable(value, "certificate"))
		}
	}
	return contents
}

// holdsPEMCertificate is the listing test of Input.CABundles.
func holdsPEMCertificate(data map[string][]byte) bool {
	for _, value := range data {
		if bytes.Contains(value, certificateMarker) {
			return true
		}
	}
	return false
}

// ParseCABundle returns the certificates of a PEM caBundle that parse, in
// order, for VerifyTrust; what does not parse is the analysis' errors[]
// to report. Parses of CA certificates are shared: callers must not
// modify the certificates.
func ParseCABundle(value []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for len(out) < maxCertificates {
		var block *pem.Block
		block, value = pem.Decode(value)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if cert, err := parseCertificate(block.Bytes); err == nil {
			out = append(out, cert)
		}
	}
	return out
}
