package certificate

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// passwordErrorKey is the errors[] key of a password annotation that names
// no key of the Secret.
const passwordErrorKey = "metadata.annotations[" + certstatus.KeystorePasswordKeyAnnotation + "]"

// certManagerPasswordErrorKey is the errors[] key of a cert-manager keystore password that cannot be read.
const certManagerPasswordErrorKey = "metadata.annotations[" + certstatus.CertManagerCertificateNameAnnotation + "]"

// passwordSecretErrorKey is the errors[] key of a password Secret that cannot be read.
const passwordSecretErrorKey = "metadata.annotations[" + certstatus.KeystorePasswordSecretAnnotation + "]"

// structuredValue is what the analysis keeps of a keystore or kubeconfig
// value while choosing the primary chain.
type structuredValue struct {
	// hasChain: the value has a primary-chain candidate (a private-key
	// entry, or a user with a client certificate).
	hasChain bool
	// key is the public half of that entry's private key, when read.
	key *foundKey
	// anchorsInValue: the value's other certificates anchor the chain.
	anchorsInValue bool
}

// keystorePasswordsFor reads the passwords the annotations name: a key of
// the Secret's own data, then a key of a labelled Secret of the namespace.
// The values are used by this analysis only.
func keystorePasswordsFor(in Input, problems *problemLog) passwords {
	return keystorePasswords(givenPasswords(in, problems))
}

// givenPasswords are the passwords the annotations lead to, in order.
func givenPasswords(in Input, problems *problemLog) (given []string) {
	if name, ok := in.Annotations[certstatus.KeystorePasswordKeyAnnotation]; ok {
		if value, present := in.Data[name]; present {
			given = append(given, trimPassword(value))
		} else {
			problems.add(passwordErrorKey, "The annotation names a data key the Secret does not have, so no keystore password was read from it.")
		}
	}
	defer func() {
		// cert-manager's, after the annotations' (api.md's order).
		name := in.Annotations[certstatus.CertManagerCertificateNameAnnotation]
		if name == "" || in.PasswordsFromCertificate == nil {
			return
		}
		values, err := in.PasswordsFromCertificate(name)
		if err != nil {
			problems.add(certManagerPasswordErrorKey, sentence(err))
		}
		for _, value := range values {
			given = append(given, trimPassword(value))
		}
	}()
	if reference, ok := in.Annotations[certstatus.KeystorePasswordSecretAnnotation]; ok {
		secret, key, found := strings.Cut(reference, "/")
		switch {
		case !found || secret == "" || key == "":
			problems.add(passwordSecretErrorKey, "The annotation is not of the form <secret>/<key>, so no keystore password was read.")
		case in.PasswordFromSecret == nil:
			problems.add(passwordSecretErrorKey, "The password Secret was not read: the server reads none here.")
		default:
			if value, err := in.PasswordFromSecret(secret, key); err != nil {
				problems.add(passwordSecretErrorKey, sentence(err))
			} else {
				given = append(given, trimPassword(value))
			}
		}
	}
	return given
}

// trimPassword drops one trailing newline, which `echo password > file`
// adds and is never meant.
func trimPassword(value []byte) string {
	return string(bytes.TrimSuffix(bytes.TrimSuffix(value, []byte("\n")), []byte("\r")))
}

// readStructured reads a keystore, DER certificate or kubeconfig. It
// reports whether value was one (PEM values are the PEM reader's).
func (c *secretContents) readStructured(key string, value []byte) bool {
	if len(value) == 0 || bytes.Contains(value, certificateMarker) {
		return false
	}
	kind := kindByName(key)
	switch {
	case c.configMap.isText(key):
		// A ConfigMap's data is text: PEM (the caller's) or a kubeconfig.
		if kind != kindKubeconfig {
			return false
		}
	case kind == kindOther || (kind != kindKubeconfig && kindByContent(value) != kindOther):
		kind = kindByContent(value)
	}
	var store storeContents
	switch kind {
	case kindPKCS12:
		store = pkcs12Cache.read(value, c.keystorePasswords(), readPKCS12)
	case kindJKS:
		store = readJKS(value, c.keystorePasswords())
	case kindDER:
		c.readDER(key, value)
		return true
	case kindKubeconfig:
		file, ok := parseKubeconfig(value)
		if !ok {
			return false
		}
		store = readKubeconfig(file)
		if len(store.certs) == 0 && len(store.problems) == 0 {
			return false // a kubeconfig of tokens only holds no certificate
		}
	default:
		return false
	}
	c.addStore(key, store)
	return true
}

// keystorePasswords computes the candidates when the first keystore needs
// them: reading them may cost a get (another Secret, a Certificate), which
// Secrets without keystores never pay.
func (c *secretContents) keystorePasswords() passwords {
	if c.passwords == nil && c.passwordSource != nil {
		c.passwords = c.passwordSource()
		c.passwordSource = nil
	}
	return c.passwords
}

// readDER adds a value that is exactly one DER certificate, or says why a
// .der or .cer value is not.
func (c *secretContents) readDER(key string, value []byte) {
	c.certificateKeys = append(c.certificateKeys, key)
	if !isOneDERCertificate(value) {
		c.problems.add(key, "The value is not one DER certificate (nor PEM).")
		return
	}
	c.addParsed(key, [][]byte{value}, nil)
}

// addParsed parses DER certificates of key against the Secret's bound and
// returns, for each, its index in c.certificates (-1: not read).
func (c *secretContents) addParsed(key string, ders [][]byte, aliases []string) []int {
	positions := make([]int, len(ders))
	for i := range positions {
		positions[i] = -1
	}
	for i, der := range ders {
		if c.seen >= maxCertificates {
			c.problems.add(key, fmt.Sprintf("%d certificates were not analysed: at most %d certificates per %s are.", len(ders)-i, maxCertificates, c.noun()))
			return positions
		}
		c.seen++
		alias := ""
		if aliases != nil {
			alias = aliases[i]
		}
		cert, fingerprint, err := parseFingerprinted(der)
		if err != nil {
			c.problems.add(key, fmt.Sprintf("Certificate %d%s is not a valid X.509 certificate%s.", i, aliasNote(alias), safeReason(err)))
			continue
		}
		positions[i] = len(c.certificates)
		c.certificatesByKey[key] = append(c.certificatesByKey[key], len(c.certificates))
		c.certificates = append(c.certificates, parsedCertificate{cert: cert, key: key, index: i, alias: alias, chainPos: -1, fingerprint: fingerprint})
	}
	return positions
}

func aliasNote(alias string) string {
	if alias == "" {
		return ""
	}
	return " (" + strconv.Quote(alias) + ")"
}

// addStore adds a keystore's or kubeconfig's certificates, marks its
// primary-chain candidate and checks each entry's private key against
// the entry's leaf.
func (c *secretContents) addStore(key string, store storeContents) {
	c.certificateKeys = append(c.certificateKeys, key)
	for _, message := range store.problems {
		if c.configMap != nil {
			message = forConfigMap(message)
		}
		c.problems.add(key, message)
	}
	c.locked = c.locked || store.locked
	ders := make([][]byte, len(store.certs))
	aliases := make([]string, len(store.certs))
	for i, sc := range store.certs {
		ders[i], aliases[i] = sc.der, sc.alias
	}
	positions := c.addParsed(key, ders, aliases)
	for i, sc := range store.certs {
		if sc.key == nil || sc.key.public == nil || positions[i] < 0 {
			continue
		}
		if !publicKeysEqual(sc.key.public, c.certificates[positions[i]].cert.PublicKey) {
			c.problems.add(key, fmt.Sprintf("The private key of entry %s does not match the entry's certificate.", strconv.Quote(sc.alias)))
		}
	}
	info := &structuredValue{anchorsInValue: store.anchorsInValue}
	if c.structured == nil {
		c.structured = map[string]*structuredValue{}
	}
	c.structured[key] = info
	chain := store.chain
	if len(chain) > 0 && store.walkChain {
		chain = c.walkIssuers(chain[0], positions)
	}
	for n, p := range chain {
		if positions[p] < 0 {
			break // an unreadable certificate ends the chain
		}
		c.certificates[positions[p]].chainPos = n
		info.hasChain = true
	}
	if info.hasChain {
		if leafKey := store.certs[chain[0]].key; leafKey != nil && leafKey.public != nil {
			info.key = &foundKey{dataKey: key, public: leafKey.public, algorithm: leafKey.algorithm}
		}
	}
}

// walkIssuers builds a PKCS#12 chain from its leaf through the file's
// certificates by issuer name, the way openssl pkcs12 -chain does.
func (c *secretContents) walkIssuers(leaf int, positions []int) []int {
	chain := []int{leaf}
	used := map[int]bool{leaf: true}
	for len(chain) < len(positions) {
		current := positions[chain[len(chain)-1]]
		if current < 0 {
			break
		}
		cert := c.certificates[current].cert
		if bytes.Equal(cert.RawIssuer, cert.RawSubject) {
			break
		}
		next := -1
		for p, at := range positions {
			if at >= 0 && !used[p] && bytes.Equal(c.certificates[at].cert.RawSubject, cert.RawIssuer) {
				next = p
				break
			}
		}
		if next < 0 {
			break
		}
		chain = append(chain, next)
		used[next] = true
	}
	return chain
}
