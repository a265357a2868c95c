package certificate

import (
	"crypto/rsa"
	"encoding/asn1"
	"math/big"
)

// rsaPublicFromPrivate reads the public half of an RSA private key from its
// PKCS#1 or PKCS#8 DER without building the private key: Go's parsers check
// and precompute the whole key, which was a fifth of the time to analyse a
// Secret. Matching a key to a certificate only needs the modulus and exponent
// (what `openssl rsa -modulus` compares); ok is false for anything that is not
// a well-formed RSA key, which then takes the full parsers' path.
func rsaPublicFromPrivate(der []byte) (*rsa.PublicKey, bool) {
	if public, ok := rsaPublicFromPKCS1(der); ok {
		return public, true
	}
	var info struct {
		Version    int
		Algorithm  struct{ Algorithm asn1.ObjectIdentifier }
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 || !info.Algorithm.Algorithm.Equal(oidRSAEncryption) {
		return nil, false
	}
	return rsaPublicFromPKCS1(info.PrivateKey)
}

var oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

func rsaPublicFromPKCS1(der []byte) (*rsa.PublicKey, bool) {
	var key struct {
		Version               int
		N                     *big.Int
		E                     int
		D, P, Q, Dp, Dq, Qinv *big.Int
		AdditionalPrimes      []asn1.RawValue `asn1:"optional"`
	}
	rest, err := asn1.Unmarshal(der, &key)
	if err != nil || len(rest) > 0 || key.Version != 0 || len(key.AdditionalPrimes) > 0 || key.E < 2 ||
		key.N == nil || key.D == nil || key.P == nil || key.Q == nil || key.D.Sign() <= 0 || key.P.Cmp(big.NewInt(1)) <= 0 {
		return nil, false
	}
	// One multiplication tells a real key from a made-up one with the right
	// modulus, at a tiny fraction of the full check's cost.
	if new(big.Int).Mul(key.P, key.Q).Cmp(key.N) != 0 {
		return nil, false
	}
	return &rsa.PublicKey{N: key.N, E: key.E}, true
}
