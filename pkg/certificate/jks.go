package certificate

import (
	"crypto/des"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// A bounded JKS/JCEKS reader. Certificates are stored in clear, so they
// are read without a password; the password only checks the file's
// keyed digest and decrypts private keys. Every length is checked against
// the bytes left (cryptobyte) and nothing is allocated from a count: a file
// claiming 2^31 entries ends when its bytes do.

const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
	jksDigest  = sha1.Size
)

var (
	oidJKSKeyProtector    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}
	oidPBEWithMD5And3DES  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 19, 1}
	errJKSTruncated       = "The keystore ends in the middle of an entry; the entries before it are listed."
	jksIntegrityUnchecked = "The keystore's integrity was not checked: none of the passwords certstatus tried verifies it (its certificates, stored in clear, are listed). To check it, store its password in a key of this Secret and name that key in the annotation certstatus.dev/keystore-password-key."
)

// hasJKSMagic recognises JKS and JCEKS files by their first four bytes.
func hasJKSMagic(value []byte) bool {
	if len(value) < 4 {
		return false
	}
	magic := binary.BigEndian.Uint32(value)
	return magic == jksMagic || magic == jceksMagic
}

// jksPassword is a password as the JKS digest and key protector use it:
// UTF-16 big-endian, no terminator.
func jksPassword(password string) []byte {
	units := utf16.Encode([]rune(password))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// jksKeyEntry is a private-key entry's encrypted key and where its chain starts.
type jksKeyEntry struct {
	encrypted []byte
	leaf      int
	length    int
}

// readJKS reads every entry's certificates in stored order.
func readJKS(value []byte, candidates passwords) storeContents {
	var out storeContents
	if !hasJKSMagic(value) || len(value) < 12+jksDigest {
		out.fail("The value is not a JKS or JCEKS keystore.")
		return out
	}
	jceks := binary.BigEndian.Uint32(value) == jceksMagic
	body, digest := value[:len(value)-jksDigest], value[len(value)-jksDigest:]
	s := cryptobyte.String(body[4:])
	var version, count uint32
	s.ReadUint32(&version)
	s.ReadUint32(&count)
	if version != 1 && version != 2 {
		out.fail(fmt.Sprintf("The keystore has format version %d, which certstatus does not read.", version))
		return out
	}
	var keys []jksKeyEntry
	complete := true
entries:
	for n := uint32(0); n < count; n++ {
		var tag uint32
		var alias []byte
		var date uint64
		if !s.ReadUint32(&tag) || !s.ReadUint16LengthPrefixed((*cryptobyte.String)(&alias)) || !s.ReadUint64(&date) {
			complete = false
			break
		}
		switch tag {
		case 1: // private key and its chain
			var encrypted []byte
			var chainLength uint32
			if !readUint32Prefixed(&s, &encrypted) || !s.ReadUint32(&chainLength) {
				complete = false
				break entries
			}
			keys = append(keys, jksKeyEntry{encrypted: encrypted, leaf: len(out.certs), length: int(chainLength)})
			for c := uint32(0); c < chainLength; c++ {
				der, ok := readJKSCertificate(&s, version)
				if !ok {
					complete = false
					break entries
				}
				out.certs = append(out.certs, storeCert{der: der, alias: javaString(alias)})
			}
			if chainLength == 0 {
				keys = keys[:len(keys)-1]
			}
		case 2: // trusted certificate
			der, ok := readJKSCertificate(&s, version)
			if !ok {
				complete = false
				break entries
			}
			out.certs = append(out.certs, storeCert{der: der, alias: javaString(alias)})
		case 3:
			// A JCEKS secret key is a serialized Java object with no length
			// in front, so nothing after it can be found.
			if n+1 < count {
				out.fail(fmt.Sprintf("Entry %d is a secret key, after which the keystore cannot be read; the %d entries after it are not listed.", n, count-n-1))
			}
			break entries
		default:
			out.fail(fmt.Sprintf("Entry %d has the unknown tag %d; it and the entries after it are not listed.", n, tag))
			break entries
		}
	}
	if !complete {
		out.fail(errJKSTruncated)
	}
	password, verified := checkJKSDigest(body, digest, candidates)
	if !verified {
		out.fail(jksIntegrityUnchecked)
	}
	for i, k := range keys {
		if i == 0 {
			for p := k.leaf; p < k.leaf+k.length && p < len(out.certs); p++ {
				out.chain = append(out.chain, p)
			}
		}
		if verified && k.leaf < len(out.certs) {
			key, message := decryptJKSKey(k.encrypted, password, jceks)
			out.certs[k.leaf].key = key
			if message != "" {
				out.fail(fmt.Sprintf("The private key of entry %q was not checked against its certificate: %s", out.certs[k.leaf].alias, message))
			}
		}
	}
	return out
}

// readJKSCertificate reads one certificate: its type (version 2) and DER.
func readJKSCertificate(s *cryptobyte.String, version uint32) ([]byte, bool) {
	if version == 2 {
		var certType cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&certType) || string(certType) != "X.509" {
			return nil, false
		}
	}
	var der []byte
	if !readUint32Prefixed(s, &der) {
		return nil, false
	}
	return der, true
}

// readUint32Prefixed reads a 32-bit length and that many bytes, checked
// against the bytes left before anything is sliced.
func readUint32Prefixed(s *cryptobyte.String, out *[]byte) bool {
	var n uint32
	return s.ReadUint32(&n) && s.ReadBytes(out, int(n))
}

// javaString decodes Java's modified UTF-8, which for aliases is UTF-8.
func javaString(b []byte) string { return string(b) }

// checkJKSDigest finds the password whose keyed SHA-1 ends the file.
func checkJKSDigest(body, digest []byte, candidates passwords) (string, bool) {
	for _, password := range candidates {
		h := sha1.New()
		h.Write(jksPassword(password))
		h.Write([]byte("Mighty Aphrodite"))
		h.Write(body)
		if subtle.ConstantTimeCompare(h.Sum(nil), digest) == 1 {
			return password, true
		}
	}
	return "", false
}

// decryptJKSKey opens a private key with the store's password (keytool's
// default key password); an empty foundKey when that does not open it, and
// a message when the protection itself is refused.
func decryptJKSKey(encrypted []byte, password string, jceks bool) (*foundKey, string) {
	s := cryptobyte.String(encrypted)
	var info, algorithm, ciphertext cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1(&algorithm, cbasn1.SEQUENCE) ||
		!algorithm.ReadASN1ObjectIdentifier(&oid) || !info.ReadASN1(&ciphertext, cbasn1.OCTET_STRING) {
		return &foundKey{}, "its protection is malformed."
	}
	var plain []byte
	message := ""
	switch {
	case oid.Equal(oidJKSKeyProtector):
		plain = openJKSKeyProtector(ciphertext, jksPassword(password))
	case jceks && oid.Equal(oidPBEWithMD5And3DES):
		plain, message = openJCEKSKey(algorithm, ciphertext, password)
	default:
		message = fmt.Sprintf("it is protected with %s, which certstatus does not read.", oid)
	}
	if plain == nil {
		return &foundKey{}, message
	}
	return publicFromPKCS8(plain), ""
}

// openJKSKeyProtector undoes Sun's JKS key protection: a SHA-1 keystream
// from the password and a 20-byte salt, checked by a SHA-1 of the result.
func openJKSKeyProtector(data, password []byte) []byte {
	if len(data) < 2*sha1.Size {
		return nil
	}
	salt, encrypted, check := data[:sha1.Size], data[sha1.Size:len(data)-sha1.Size], data[len(data)-sha1.Size:]
	plain := make([]byte, len(encrypted))
	digest := salt
	for i := 0; i < len(encrypted); i += sha1.Size {
		h := sha1.New()
		h.Write(password)
		h.Write(digest)
		digest = h.Sum(nil)
		for j := 0; j < sha1.Size && i+j < len(encrypted); j++ {
			plain[i+j] = encrypted[i+j] ^ digest[j]
		}
	}
	h := sha1.New()
	h.Write(password)
	h.Write(plain)
	if subtle.ConstantTimeCompare(h.Sum(nil), check) != 1 {
		return nil
	}
	return plain
}

// openJCEKSKey undoes Sun's PBEWithMD5AndTripleDES: MD5 iterated over each
// half of an 8-byte salt and the password (one byte per character) gives
// the 3DES key and IV.
func openJCEKSKey(algorithm cryptobyte.String, ciphertext []byte, password string) ([]byte, string) {
	var params, salt cryptobyte.String
	var iterations int64
	if !algorithm.ReadASN1(&params, cbasn1.SEQUENCE) || !params.ReadASN1(&salt, cbasn1.OCTET_STRING) ||
		!params.ReadASN1Integer(&iterations) || len(salt) != 8 {
		return nil, "its protection is malformed."
	}
	if iterations < 1 || iterations > maxKDFIterations {
		// JDK 12 and later protect JCEKS keys with 200 000 iterations.
		return nil, fmt.Sprintf("its protection asks for %d key-derivation iterations, more than the %d certstatus allows.", iterations, maxKDFIterations)
	}
	halves := [2][]byte{append([]byte(nil), salt[:4]...), append([]byte(nil), salt[4:]...)}
	if subtle.ConstantTimeCompare(halves[0], halves[1]) == 1 {
		for i := 0; i < 2; i++ {
			halves[0][i], halves[0][3-i] = halves[0][3-i], halves[0][i]
		}
	}
	pw := make([]byte, 0, len(password))
	for _, r := range password {
		pw = append(pw, byte(r))
	}
	derived := make([]byte, 0, 32)
	for _, half := range halves {
		digest := half
		for i := int64(0); i < iterations; i++ {
			h := md5.New()
			h.Write(digest)
			h.Write(pw)
			digest = h.Sum(nil)
		}
		derived = append(derived, digest...)
	}
	block, err := des.NewTripleDESCipher(derived[:24])
	if err != nil {
		return nil, ""
	}
	return decryptCBC(block, derived[24:], ciphertext), ""
}
