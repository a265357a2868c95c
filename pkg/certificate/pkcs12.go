package certificate

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"hash"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// A bounded PKCS#12 (RFC 7292) reader. cryptobyte checks every length
// against the bytes left before anything is sliced, nothing is allocated
// from a length field, and every key derivation's iteration count is
// checked against maxKDFIterations before it runs.

var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidSafeContentsBag   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidX509Certificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidPBES2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC         = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC        = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidPBEWithSHA3DES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHA128RC2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHA40RC2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	tagExplicit0         = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagImplicit0         = cbasn1.Tag(0).ContextSpecific()
	errPKCS12NotDER      = "The value is not a DER-encoded PKCS#12 file."
	maxSafeContentsDepth = 2
)

// looksLikePKCS12 recognises a PFX by its outer structure: a SEQUENCE
// filling the value, version 3, and authSafe of type data.
func looksLikePKCS12(value []byte) bool {
	s := cryptobyte.String(value)
	var pfx, authSafe cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	return s.ReadASN1(&pfx, cbasn1.SEQUENCE) && s.Empty() &&
		pfx.ReadASN1Integer(&version) && version == 3 &&
		pfx.ReadASN1(&authSafe, cbasn1.SEQUENCE) && authSafe.ReadASN1ObjectIdentifier(&oid) && oid.Equal(oidData)
}

// isOneDERSequence reports whether value is one DER SEQUENCE and nothing else.
func isOneDERSequence(value []byte) bool {
	s := cryptobyte.String(value)
	var inner cryptobyte.String
	return s.ReadASN1(&inner, cbasn1.SEQUENCE) && s.Empty()
}

// pkcs12Reader holds the state of one file's reading.
type pkcs12Reader struct {
	out storeContents
	// password is the one the MAC verified (or that decrypted a part when
	// there is no MAC); known says whether there is one.
	password passwords
	known    bool
	// bmp is the password's PKCS#12 encoding that verified (the empty
	// password has two).
	bmp []byte
	// refusedMAC: the MAC's iteration count was refused, so no password is tried.
	refusedMAC bool
	keys       []pkcs12Key
	certIDs    [][]byte
	problems   map[string]bool
}

type pkcs12Key struct {
	localKeyID []byte
	key        *foundKey
}

// readPKCS12 reads every certificate bag of a PKCS#12 file, decrypting
// with the first of candidates that verifies the MAC.
func readPKCS12(value []byte, candidates passwords) storeContents {
	r := &pkcs12Reader{problems: map[string]bool{}}
	s := cryptobyte.String(value)
	var pfx, authSafe, content, authData cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&pfx, cbasn1.SEQUENCE) || !s.Empty() || !pfx.ReadASN1Integer(&version) || version != 3 ||
		!pfx.ReadASN1(&authSafe, cbasn1.SEQUENCE) || !authSafe.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidData) ||
		!authSafe.ReadASN1(&content, tagExplicit0) || !content.ReadASN1(&authData, cbasn1.OCTET_STRING) {
		r.out.fail(errPKCS12NotDER)
		return r.out
	}
	macChecked := r.checkMAC(pfx, authData, candidates)
	var contentInfos cryptobyte.String
	if !authData.ReadASN1(&contentInfos, cbasn1.SEQUENCE) {
		r.out.fail(errPKCS12NotDER)
		return r.out
	}
	for !contentInfos.Empty() {
		var info cryptobyte.String
		if !contentInfos.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1ObjectIdentifier(&oid) || !info.ReadASN1(&content, tagExplicit0) {
			r.problem(errPKCS12NotDER)
			break
		}
		switch {
		case oid.Equal(oidData):
			var safeContents cryptobyte.String
			if !content.ReadASN1(&safeContents, cbasn1.OCTET_STRING) {
				r.problem(errPKCS12NotDER)
				continue
			}
			r.readSafeContents(safeContents, 0)
		case oid.Equal(oidEncryptedData):
			r.readEncryptedData(content, candidates, macChecked)
		default:
			r.problem("A part of the file is of a kind certstatus does not read (public-key encrypted); its certificates are not listed.")
		}
	}
	r.linkKeys()
	return r.out
}

// problem records a message once per file.
func (r *pkcs12Reader) problem(message string) {
	if !r.problems[message] {
		r.problems[message] = true
		r.out.problems = append(r.out.problems, message)
	}
}

// checkMAC finds the password among candidates. It reports whether the MAC
// was checked at all (false: there is none, or it was refused).
func (r *pkcs12Reader) checkMAC(pfx, authData cryptobyte.String, candidates passwords) bool {
	if pfx.Empty() {
		return false
	}
	var macData, digestInfo, algorithm, digest, salt cryptobyte.String
	var oid asn1.ObjectIdentifier
	iterations := int64(1)
	if !pfx.ReadASN1(&macData, cbasn1.SEQUENCE) || !macData.ReadASN1(&digestInfo, cbasn1.SEQUENCE) ||
		!digestInfo.ReadASN1(&algorithm, cbasn1.SEQUENCE) || !algorithm.ReadASN1ObjectIdentifier(&oid) ||
		!digestInfo.ReadASN1(&digest, cbasn1.OCTET_STRING) || !macData.ReadASN1(&salt, cbasn1.OCTET_STRING) ||
		(macData.PeekASN1Tag(cbasn1.INTEGER) && !macData.ReadASN1Integer(&iterations)) {
		r.problem("The integrity check (MAC) of the file is malformed; it was not checked.")
		return false
	}
	newHash := hashByOID(oid)
	switch {
	case newHash == nil:
		r.problem(fmt.Sprintf("The integrity check (MAC) uses the algorithm %s, which certstatus does not read; it was not checked.", oid))
		return false
	case iterations < 1 || iterations > maxKDFIterations:
		r.problem(fmt.Sprintf("The integrity check (MAC) asks for %d key-derivation iterations, more than the %d certstatus allows; the file was not decrypted.", iterations, maxKDFIterations))
		r.refusedMAC = true
		return true
	}
	for _, password := range candidates {
		encodings := [][]byte{bmpPassword(password)}
		if password == "" {
			encodings = append(encodings, nil) // some writers derive from no bytes at all
		}
		for _, bmp := range encodings {
			key := pkcs12KDF(newHash, bmp, salt, int(iterations), 3, newHash().Size())
			mac := hmac.New(newHash, key)
			mac.Write(authData)
			if subtle.ConstantTimeCompare(mac.Sum(nil), digest) == 1 {
				r.password, r.known, r.bmp = passwords{password}, true, bmp
				return true
			}
		}
	}
	return true
}

func hashByOID(oid asn1.ObjectIdentifier) func() hash.Hash {
	switch {
	case oid.Equal(oidSHA1), oid.Equal(oidHMACWithSHA1):
		return sha1.New
	case oid.Equal(oidSHA256), oid.Equal(oidHMACWithSHA256):
		return sha256.New
	case oid.Equal(oidSHA384), oid.Equal(oidHMACWithSHA384):
		return sha512.New384
	case oid.Equal(oidSHA512), oid.Equal(oidHMACWithSHA512):
		return sha512.New
	}
	return nil
}

// readEncryptedData decrypts one EncryptedData part: with the MAC's
// password when the MAC verified, else (no MAC) with each candidate.
func (r *pkcs12Reader) readEncryptedData(content cryptobyte.String, candidates passwords, macChecked bool) {
	var encryptedData, info, algorithm cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !content.ReadASN1(&encryptedData, cbasn1.SEQUENCE) || !encryptedData.ReadASN1Integer(&version) ||
		!encryptedData.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1ObjectIdentifier(&oid) ||
		!info.ReadASN1(&algorithm, cbasn1.SEQUENCE) {
		r.problem(errPKCS12NotDER)
		return
	}
	ciphertext, ok := readImplicitOctets(&info)
	if !ok {
		r.problem(errPKCS12NotDER)
		return
	}
	tries := candidates
	if macChecked {
		tries = r.password
	}
	if r.refusedMAC {
		tries = nil
	}
	for _, password := range tries {
		plain, err := r.decrypt(algorithm, ciphertext, password)
		if err != "" {
			r.problem(err)
			return
		}
		var safeContents cryptobyte.String
		s := cryptobyte.String(plain)
		if plain != nil && s.ReadASN1(&safeContents, cbasn1.SEQUENCE) && s.Empty() {
			if !r.known {
				r.password, r.known = passwords{password}, true
			}
			r.readSafeContents(plain, 0)
			return
		}
	}
	if !r.refusedMAC {
		r.out.locked = true
		r.problem(lockedMessage)
	}
}

// readImplicitOctets reads encryptedContent [0] IMPLICIT OCTET STRING,
// primitive or (BER writers) constructed from OCTET STRINGs.
func readImplicitOctets(s *cryptobyte.String) ([]byte, bool) {
	var primitive, constructed cryptobyte.String
	if s.ReadASN1(&primitive, tagImplicit0) {
		return primitive, true
	}
	if !s.ReadASN1(&constructed, tagExplicit0) {
		return nil, false
	}
	var out []byte
	for !constructed.Empty() {
		var piece cryptobyte.String
		if !constructed.ReadASN1(&piece, cbasn1.OCTET_STRING) {
			return nil, false
		}
		out = append(out, piece...)
	}
	return out, true
}

// decrypt undoes one of PKCS#12's password-based encryptions. A wrong
// password returns nil and no message; a message means the algorithm or
// its parameters are refused, whatever the password.
func (r *pkcs12Reader) decrypt(algorithm cryptobyte.String, ciphertext []byte, password string) ([]byte, string) {
	var oid asn1.ObjectIdentifier
	if !algorithm.ReadASN1ObjectIdentifier(&oid) {
		return nil, errPKCS12NotDER
	}
	switch {
	case oid.Equal(oidPBEWithSHA3DES), oid.Equal(oidPBEWithSHA128RC2), oid.Equal(oidPBEWithSHA40RC2):
		var params, salt cryptobyte.String
		var iterations int64
		if !algorithm.ReadASN1(&params, cbasn1.SEQUENCE) || !params.ReadASN1(&salt, cbasn1.OCTET_STRING) || !params.ReadASN1Integer(&iterations) {
			return nil, errPKCS12NotDER
		}
		if iterations < 1 || iterations > maxKDFIterations {
			return nil, iterationsRefused(iterations)
		}
		bmp := bmpPassword(password)
		if r.known && r.password[0] == password && r.bmp != nil {
			bmp = r.bmp
		}
		var block cipher.Block
		switch {
		case oid.Equal(oidPBEWithSHA3DES):
			key := pkcs12KDF(sha1.New, bmp, salt, int(iterations), 1, 24)
			block, _ = des.NewTripleDESCipher(key)
		case oid.Equal(oidPBEWithSHA128RC2):
			block = newRC2(pkcs12KDF(sha1.New, bmp, salt, int(iterations), 1, 16), 128)
		default:
			block = newRC2(pkcs12KDF(sha1.New, bmp, salt, int(iterations), 1, 5), 40)
		}
		iv := pkcs12KDF(sha1.New, bmp, salt, int(iterations), 2, block.BlockSize())
		return decryptCBC(block, iv, ciphertext), ""
	case oid.Equal(oidPBES2):
		return decryptPBES2(algorithm, ciphertext, []byte(password))
	}
	return nil, fmt.Sprintf("A part of the file is encrypted with the algorithm %s, which certstatus does not read; its certificates are not listed.", oid)
}

func iterationsRefused(iterations int64) string {
	return fmt.Sprintf("A part of the file asks for %d key-derivation iterations, more than the %d certstatus allows; it was not decrypted.", iterations, maxKDFIterations)
}

// decryptPBES2 is PBKDF2 with AES-CBC or 3DES-CBC (RFC 8018).
func decryptPBES2(algorithm cryptobyte.String, ciphertext, password []byte) ([]byte, string) {
	var params, kdf, kdfParams, salt, scheme, iv cryptobyte.String
	var kdfOID, schemeOID asn1.ObjectIdentifier
	var iterations int64
	if !algorithm.ReadASN1(&params, cbasn1.SEQUENCE) || !params.ReadASN1(&kdf, cbasn1.SEQUENCE) ||
		!kdf.ReadASN1ObjectIdentifier(&kdfOID) || !kdf.ReadASN1(&kdfParams, cbasn1.SEQUENCE) ||
		!params.ReadASN1(&scheme, cbasn1.SEQUENCE) || !scheme.ReadASN1ObjectIdentifier(&schemeOID) ||
		!scheme.ReadASN1(&iv, cbasn1.OCTET_STRING) {
		return nil, errPKCS12NotDER
	}
	if !kdfOID.Equal(oidPBKDF2) {
		return nil, fmt.Sprintf("A part of the file derives its key with %s, which certstatus does not read; its certificates are not listed.", kdfOID)
	}
	if !kdfParams.ReadASN1(&salt, cbasn1.OCTET_STRING) || !kdfParams.ReadASN1Integer(&iterations) {
		return nil, errPKCS12NotDER
	}
	var keyLength int64
	if kdfParams.PeekASN1Tag(cbasn1.INTEGER) && !kdfParams.ReadASN1Integer(&keyLength) {
		return nil, errPKCS12NotDER
	}
	newHash := sha1.New
	var prf cryptobyte.String
	var prfOID asn1.ObjectIdentifier
	if kdfParams.ReadASN1(&prf, cbasn1.SEQUENCE) {
		if !prf.ReadASN1ObjectIdentifier(&prfOID) {
			return nil, errPKCS12NotDER
		}
		if newHash = hashByOID(prfOID); newHash == nil {
			return nil, fmt.Sprintf("A part of the file derives its key with the hash %s, which certstatus does not read; its certificates are not listed.", prfOID)
		}
	}
	if iterations < 1 || iterations > maxKDFIterations {
		return nil, iterationsRefused(iterations)
	}
	var size int
	switch {
	case schemeOID.Equal(oidAES128CBC):
		size = 16
	case schemeOID.Equal(oidAES192CBC):
		size = 24
	case schemeOID.Equal(oidAES256CBC):
		size = 32
	case schemeOID.Equal(oidDESEDE3CBC):
		size = 24
	default:
		return nil, fmt.Sprintf("A part of the file is encrypted with %s, which certstatus does not read; its certificates are not listed.", schemeOID)
	}
	kdfRuns.Add(1)
	key, err := pbkdf2.Key(newHash, string(password), salt, int(iterations), size)
	if err != nil {
		return nil, ""
	}
	var block cipher.Block
	if size == 24 && schemeOID.Equal(oidDESEDE3CBC) {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	if err != nil || len(iv) != block.BlockSize() {
		return nil, errPKCS12NotDER
	}
	return decryptCBC(block, iv, ciphertext), ""
}

// decryptCBC decrypts and removes PKCS#7 padding; nil when the padding is
// wrong (usually: a wrong password).
func decryptCBC(block cipher.Block, iv, ciphertext []byte) []byte {
	size := block.BlockSize()
	if len(ciphertext) == 0 || len(ciphertext)%size != 0 || len(iv) != size {
		return nil
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > size {
		return nil
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil
		}
	}
	return plain[:len(plain)-pad]
}

// readSafeContents reads the bags of one SafeContents, in order.
func (r *pkcs12Reader) readSafeContents(data []byte, depth int) {
	s := cryptobyte.String(data)
	var bags cryptobyte.String
	if !s.ReadASN1(&bags, cbasn1.SEQUENCE) {
		r.problem(errPKCS12NotDER)
		return
	}
	for !bags.Empty() {
		var bag, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !bags.ReadASN1(&bag, cbasn1.SEQUENCE) || !bag.ReadASN1ObjectIdentifier(&oid) || !bag.ReadASN1(&value, tagExplicit0) {
			r.problem(errPKCS12NotDER)
			return
		}
		alias, localKeyID := readBagAttributes(bag)
		switch {
		case oid.Equal(oidCertBag):
			var certBag, der cryptobyte.String
			var certType asn1.ObjectIdentifier
			if !value.ReadASN1(&certBag, cbasn1.SEQUENCE) || !certBag.ReadASN1ObjectIdentifier(&certType) ||
				!certBag.ReadASN1(&value, tagExplicit0) || !value.ReadASN1(&der, cbasn1.OCTET_STRING) {
				r.problem(errPKCS12NotDER)
				continue
			}
			if !certType.Equal(oidX509Certificate) {
				continue // SDSI certificates: not X.509
			}
			r.out.certs = append(r.out.certs, storeCert{der: der, alias: alias})
			r.certIDs = append(r.certIDs, localKeyID)
		case oid.Equal(oidKeyBag):
			r.keys = append(r.keys, pkcs12Key{localKeyID: localKeyID, key: publicFromPKCS8(value)})
		case oid.Equal(oidShroudedKeyBag):
			r.keys = append(r.keys, pkcs12Key{localKeyID: localKeyID, key: r.readShroudedKey(value)})
		case oid.Equal(oidSafeContentsBag) && depth < maxSafeContentsDepth:
			r.readSafeContents(value, depth+1)
		}
	}
}

// readBagAttributes returns friendlyName and localKeyId.
func readBagAttributes(bag cryptobyte.String) (alias string, localKeyID []byte) {
	var attributes cryptobyte.String
	if !bag.ReadASN1(&attributes, cbasn1.SET) {
		return "", nil
	}
	for !attributes.Empty() {
		var attribute, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attributes.ReadASN1(&attribute, cbasn1.SEQUENCE) || !attribute.ReadASN1ObjectIdentifier(&oid) || !attribute.ReadASN1(&values, cbasn1.SET) {
			return alias, localKeyID
		}
		switch {
		case oid.Equal(oidFriendlyName):
			var name cryptobyte.String
			if values.ReadASN1(&name, cbasn1.Tag(30)) && len(name)%2 == 0 { // BMPString
				units := make([]uint16, len(name)/2)
				for i := range units {
					units[i] = uint16(name[2*i])<<8 | uint16(name[2*i+1])
				}
				alias = string(utf16.Decode(units))
			}
		case oid.Equal(oidLocalKeyID):
			var id cryptobyte.String
			if values.ReadASN1(&id, cbasn1.OCTET_STRING) {
				localKeyID = id
			}
		}
	}
	return alias, localKeyID
}

// readShroudedKey decrypts an EncryptedPrivateKeyInfo with the file's
// password; nil when it cannot be read.
func (r *pkcs12Reader) readShroudedKey(value cryptobyte.String) *foundKey {
	var info, algorithm, ciphertext cryptobyte.String
	if !value.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1(&algorithm, cbasn1.SEQUENCE) || !info.ReadASN1(&ciphertext, cbasn1.OCTET_STRING) || !r.known {
		return &foundKey{}
	}
	plain, message := r.decrypt(algorithm, ciphertext, r.password[0])
	if message != "" {
		r.problem(message)
	}
	if plain == nil {
		return &foundKey{}
	}
	return publicFromPKCS8(plain)
}

// publicFromPKCS8 keeps the public half of a PKCS#8 key; an empty
// foundKey when it does not parse (a key is there, unreadable).
func publicFromPKCS8(der []byte) *foundKey {
	public, algorithm, err := parsePrivateKey(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err != nil {
		return &foundKey{}
	}
	return &foundKey{public: public, algorithm: algorithm}
}

// linkKeys gives each key to the certificate with its localKeyId; the
// first key's certificate is the leaf of the primary chain.
func (r *pkcs12Reader) linkKeys() {
	for _, k := range r.keys {
		for i, id := range r.certIDs {
			if len(id) == 0 || !bytes.Equal(id, k.localKeyID) {
				continue
			}
			if k.key != nil && k.key.public != nil {
				r.out.certs[i].key = k.key
			}
			if len(r.out.chain) == 0 {
				r.out.chain, r.out.walkChain = []int{i}, true
			}
			break
		}
	}
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2. id is 1 for a
// key, 2 for an IV, 3 for a MAC key.
func pkcs12KDF(newHash func() hash.Hash, password, salt []byte, iterations int, id byte, size int) []byte {
	kdfRuns.Add(1)
	h := newHash()
	u, v := h.Size(), h.BlockSize()
	fill := func(in []byte) []byte {
		if len(in) == 0 {
			return nil
		}
		out := make([]byte, v*((len(in)+v-1)/v))
		for i := range out {
			out[i] = in[i%len(in)]
		}
		return out
	}
	d := bytes.Repeat([]byte{id}, v)
	i := append(fill(salt), fill(password)...)
	out := make([]byte, 0, size+u)
	for len(out) < size {
		h.Reset()
		h.Write(d)
		h.Write(i)
		a := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		b := fill(a)[:v]
		for j := 0; j < len(i); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(i[j+k]) + int(b[k]) + carry
				i[j+k], carry = byte(sum), sum>>8
			}
		}
	}
	return out[:size]
}
