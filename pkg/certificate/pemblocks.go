package certificate

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"iter"
)

// The PEM markers the analysis looks for: block boundaries, and the quick
// tests of whether a value holds a certificate or a private key.
var (
	pemBegin          = []byte("-----BEGIN ")
	pemEnd            = []byte("-----END ")
	certificateMarker = []byte("-----BEGIN CERTIFICATE-----")
	privateKeyMarker  = []byte("PRIVATE KEY-----")
)

// pemBlock is one PEM block of a data value, or the reason it could not be decoded.
type pemBlock struct {
	block *pem.Block
	// problem is set when the block is truncated or malformed; block is then nil.
	problem string
	// end is the offset just after the block in the scanned data.
	end int
	// text is the block's PEM text in the scanned data, END line included.
	text []byte
	// known is set when block came from scanPEMKnown's known.
	known *knownCertificate
}

// knownCertificate is a certificate's PEM block decoded before, with its
// parse and the SHA-256 of its DER.
type knownCertificate struct {
	block       *pem.Block
	cert        *x509.Certificate
	fingerprint [sha256.Size]byte
}

const truncatedBlock = "A PEM block is truncated: it has no END line."

// scanPEM yields the PEM blocks of data in order, including broken ones,
// which encoding/pem would skip silently. Text around blocks and CRLF line
// ends are tolerated. The scan is linear in len(data) whatever the input.
func scanPEM(data []byte) iter.Seq[pemBlock] { return scanPEMKnown(data, nil) }

// scanPEMKnown is scanPEM that asks known (when not nil) for the decoded
// block of each block's exact text first, and decodes only what it does not
// know: the same bytes decode the same way, and base64-decoding the same
// CA certificates in every Secret was a tenth of the start-up's CPU.
func scanPEMKnown(data []byte, known func(text []byte) *knownCertificate) iter.Seq[pemBlock] {
	return func(yield func(pemBlock) bool) {
		position := 0
		nextEnd := -1 // cached: the first END marker after the current BEGIN
		for position < len(data) {
			begin := indexFrom(data, pemBegin, position)
			if begin < 0 {
				return
			}
			if nextEnd < begin+len(pemBegin) {
				nextEnd = indexFrom(data, pemEnd, begin+len(pemBegin))
			}
			if nextEnd < 0 {
				yield(pemBlock{problem: truncatedBlock, end: len(data)})
				return
			}
			// Another BEGIN before this block's END means this block was cut short.
			if nextBegin := indexFrom(data[:nextEnd], pemBegin, begin+len(pemBegin)); nextBegin >= 0 {
				if !yield(pemBlock{problem: truncatedBlock, end: nextBegin}) {
					return
				}
				position = nextBegin
				continue
			}
			lineEnd := len(data)
			if newline := bytes.IndexByte(data[nextEnd:], '\n'); newline >= 0 {
				lineEnd = nextEnd + newline + 1
			}
			found := pemBlock{end: lineEnd, text: data[begin:lineEnd]}
			if known != nil {
				if found.known = known(found.text); found.known != nil {
					found.block = found.known.block
				}
			}
			if found.block == nil {
				found.block, _ = pem.Decode(found.text)
			}
			if found.block == nil {
				found.problem = "A PEM block is malformed: its END line, headers or base64 body cannot be decoded."
			}
			if !yield(found) {
				return
			}
			position = lineEnd
		}
	}
}

// indexFrom is bytes.Index starting at from, returning an absolute position or -1.
func indexFrom(data, marker []byte, from int) int {
	if from > len(data) {
		return -1
	}
	i := bytes.Index(data[from:], marker)
	if i < 0 {
		return -1
	}
	return i + from
}
