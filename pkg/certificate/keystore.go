package certificate

import (
	"crypto/x509"
	"path"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// maxKDFIterations refuses key derivations that would let one Secret stall
// the analysis of the others (JDK and openssl defaults are 10 000 and 2 048).
const maxKDFIterations = 100_000

// maxPasswords is how many passwords a keystore is tried with.
const maxPasswords = 4

// lockedMessage is the errors[] entry of a keystore no password opens.
const lockedMessage = "The keystore is locked: none of the passwords certstatus tried opens it, so its encrypted certificates cannot be read. Store its password in a key of this Secret and name that key in the annotation " + certstatus.KeystorePasswordKeyAnnotation + "."

// storeCert is one certificate of a keystore or kubeconfig, in file order.
type storeCert struct {
	der   []byte
	alias string
	// key is the public half of the entry's private key, on the entry's
	// leaf only, when the key could be read.
	key *foundKey
}

// storeContents is what a keystore or kubeconfig reader found in one value.
type storeContents struct {
	certs []storeCert
	// chain is the primary chain if the value is the Secret's only holder:
	// positions in certs, leaf first (the first private-key entry, or the
	// first user with a client certificate). Empty: the value is a bundle.
	chain []int
	// walkChain asks the caller to complete chain from its leaf through
	// the value's other certificates by issuer (PKCS#12 has no entries,
	// only bags linked by localKeyId).
	walkChain bool
	// anchorsInValue: the value's certificates outside chain anchor it
	// (a kubeconfig's cluster CAs).
	anchorsInValue bool
	problems       []string
	// locked is true when some encrypted part stayed unreadable.
	locked bool
}

func (s *storeContents) fail(message string) { s.problems = append(s.problems, message) }

// passwords are the keystore passwords to try, in api.md's order.
type passwords []string

// keystorePasswords builds the list: the ones the annotations give, then
// the empty password and changeit, each once; at most maxPasswords.
func keystorePasswords(given []string) passwords {
	list := passwords{}
	for _, p := range append(given, "", "changeit") {
		if !slices.Contains(list, p) && len(list) < maxPasswords {
			list = append(list, p)
		}
	}
	return list
}

// bmpPassword is a password as PKCS#12's key derivation wants it: UTF-16
// big-endian with a two-byte terminator.
func bmpPassword(password string) []byte {
	units := utf16.Encode([]rune(password))
	out := make([]byte, 0, 2*len(units)+2)
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return append(out, 0, 0)
}

// Value kinds beyond PEM, chosen by data key name or content.
type valueKind uint8

const (
	kindOther valueKind = iota
	kindPKCS12
	kindJKS
	kindDER
	kindKubeconfig
)

// maxKubeconfigSize is the largest value parsed as a kubeconfig.
const maxKubeconfigSize = 1 << 20

// kindByName recognises the data key names api.md lists.
func kindByName(key string) valueKind {
	lower := strings.ToLower(key)
	switch ext := path.Ext(lower); {
	case lower == "keystore.p12" || lower == "truststore.p12" || ext == ".p12" || ext == ".pfx":
		return kindPKCS12
	case lower == "keystore.jks" || lower == "truststore.jks" || ext == ".jks" || ext == ".jceks":
		return kindJKS
	case ext == ".der" || ext == ".cer":
		return kindDER
	case isKubeconfigName(key):
		return kindKubeconfig
	}
	return kindOther
}

// isKubeconfigName recognises the data key names of kubeconfigs api.md lists.
func isKubeconfigName(key string) bool {
	return key == "value" || key == "kubeconfig" || key == "config" || key == "admin.conf" || strings.HasSuffix(key, ".kubeconfig")
}

// kindByContent recognises a keystore or DER certificate under any key;
// it is cheap, since it runs on every value of every Secret.
func kindByContent(value []byte) valueKind {
	switch {
	case hasJKSMagic(value):
		return kindJKS
	case len(value) < 4 || value[0] != 0x30:
		return kindOther
	case looksLikePKCS12(value):
		return kindPKCS12
	case isOneDERCertificate(value):
		return kindDER
	}
	return kindOther
}

// isOneDERCertificate reports whether value is exactly one DER certificate.
func isOneDERCertificate(value []byte) bool {
	if !isOneDERSequence(value) {
		return false
	}
	_, err := x509.ParseCertificate(value)
	return err == nil
}
