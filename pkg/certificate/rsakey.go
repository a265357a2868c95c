package certificate

import (
	"crypto/rsa"
	"encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cryptobyteasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// rsaPublicFromPrivate reads the public half of an RSA private key from its
// PKCS#1 or PKCS#8 DER without building the private key: Go's parsers check
// and precompute the whole key, which was a fifth of the time to analyse a
// Secret. Matching a key to a certificate only needs the modulus and exponent
// (what `openssl rsa -modulus` compares); ok is false for anything that is not
// a well-formed RSA key, which then takes the full parsers' path. The DER is
// read with cryptobyte, as crypto/x509 does: encoding/asn1's reflection was
// most of what remained.
func rsaPublicFromPrivate(der []byte) (*rsa.PublicKey, bool) {
	if public, ok := rsaPublicFromPKCS1(der); ok {
		return public, true
	}
	// PKCS#8: SEQUENCE { version, AlgorithmIdentifier, OCTET STRING, ... }.
	input := cryptobyte.String(der)
	var info, algorithm cryptobyte.String
	var version int
	var oid asn1.ObjectIdentifier
	var private []byte
	if !input.ReadASN1(&info, cryptobyteasn1.SEQUENCE) || !input.Empty() ||
		!info.ReadASN1Integer(&version) ||
		!info.ReadASN1(&algorithm, cryptobyteasn1.SEQUENCE) || !algorithm.ReadASN1ObjectIdentifier(&oid) ||
		!info.ReadASN1Bytes(&private, cryptobyteasn1.OCTET_STRING) || !oid.Equal(oidRSAEncryption) {
		return nil, false
	}
	return rsaPublicFromPKCS1(private)
}

var oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// rsaPublicFromPKCS1 reads RSAPrivateKey (RFC 8017, two primes): version 0,
// n, e, d, p, q, dp, dq, qinv, and nothing after.
func rsaPublicFromPKCS1(der []byte) (*rsa.PublicKey, bool) {
	input := cryptobyte.String(der)
	var key cryptobyte.String
	var version, e int
	n, d, p, q := new(big.Int), new(big.Int), new(big.Int), new(big.Int)
	if !input.ReadASN1(&key, cryptobyteasn1.SEQUENCE) || !input.Empty() ||
		!key.ReadASN1Integer(&version) || version != 0 ||
		!key.ReadASN1Integer(n) || !key.ReadASN1Integer(&e) || !key.ReadASN1Integer(d) ||
		!key.ReadASN1Integer(p) || !key.ReadASN1Integer(q) {
		return nil, false
	}
	for range 3 { // dp, dq, qinv: not needed, but must be there
		if !key.SkipASN1(cryptobyteasn1.INTEGER) {
			return nil, false
		}
	}
	if !key.Empty() || e < 2 || d.Sign() <= 0 || p.Cmp(big.NewInt(1)) <= 0 {
		return nil, false
	}
	// One multiplication tells a real key from a made-up one with the right
	// modulus, at a tiny fraction of the full check's cost.
	if new(big.Int).Mul(p, q).Cmp(n) != 0 {
		return nil, false
	}
	return &rsa.PublicKey{N: n, E: e}, true
}
