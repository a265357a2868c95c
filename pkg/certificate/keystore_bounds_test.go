package certificate

import (
	"encoding/asn1"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// hostilePKCS12 is a PFX whose MAC and encrypted part ask for iterations
// key-derivation rounds: 10 million would take seconds per password.
func hostilePKCS12(iterations int64, withMAC bool) []byte {
	oid := func(b *cryptobyte.Builder, o asn1.ObjectIdentifier) { b.AddASN1ObjectIdentifier(o) }
	var inner cryptobyte.Builder
	inner.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // AuthenticatedSafe
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
			oid(b, oidEncryptedData)
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(0)
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						oid(b, oidData)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // PBES2
							oid(b, oidPBES2)
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									oid(b, oidPBKDF2)
									b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
										b.AddASN1OctetString(make([]byte, 8))
										b.AddASN1Int64(iterations)
									})
								})
								b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
									oid(b, oidAES256CBC)
									b.AddASN1OctetString(make([]byte, 16))
								})
							})
						})
						b.AddASN1(tagImplicit0, func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 64)) })
					})
				})
			})
		})
	})
	authSafe := inner.BytesOrPanic()
	var outer cryptobyte.Builder
	outer.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			oid(b, oidData)
			b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(authSafe) })
		})
		if withMAC {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { oid(b, oidSHA256); b.AddASN1NULL() })
					b.AddASN1OctetString(make([]byte, 32))
				})
				b.AddASN1OctetString(make([]byte, 8))
				b.AddASN1Int64(iterations)
			})
		}
	})
	return outer.BytesOrPanic()
}

// A PKCS#12 asking for 10 million iterations is refused before any key
// derivation runs, in its MAC or (without a MAC) in its encrypted part:
// an errors[] entry, and the test finishes at once instead of after
// minutes of PBKDF2 for each password.
func TestPKCS12TenMillionIterationsRefused(t *testing.T) {
	for _, withMAC := range []bool{true, false} {
		in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": hostilePKCS12(10_000_000, withMAC)}}
		status := statusAt(t, in, epoch)
		if message := errorsOf(status, "keystore.p12"); !strings.Contains(message, "10000000 key-derivation iterations, more than the 100000") {
			t.Errorf("withMAC=%v: errors %+v, want the iteration count refused", withMAC, status.Errors)
		}
		if status.State != certstatus.StateInvalid {
			t.Errorf("withMAC=%v: state %s: a refused keystore is not locked, nothing is readable", withMAC, status.State)
		}
	}
	// The same file within the bound is tried (and is locked: zero key and MAC).
	status := statusAt(t, Input{Type: "Opaque", Data: map[string][]byte{"keystore.p12": hostilePKCS12(2048, true)}}, epoch)
	if status.State != certstatus.StateUnknown {
		t.Errorf("within the bound: state %s, errors %+v; want Unknown", status.State, status.Errors)
	}
}

// A JKS claiming 2^31 entries costs what its bytes are: nothing is
// allocated from the count, and the truncation is reported.
func TestJKSClaimingBillionsOfEntries(t *testing.T) {
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"truststore.jks": jksClaimingBillionsOfEntries()}}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	status := statusAt(t, in, epoch)
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 1<<20 {
		t.Errorf("reading a 100-byte keystore allocated %d bytes", allocated)
	}
	if message := errorsOf(status, "truststore.jks"); !strings.Contains(message, "ends in the middle of an entry") {
		t.Errorf("errors %+v, want the truncation reported", status.Errors)
	}
}

// jksClaimingBillionsOfEntries is a 100-byte JKS that claims 2^31 entries,
// the first a 2 GiB certificate.
func jksClaimingBillionsOfEntries() []byte {
	value := make([]byte, 12, 12+64+jksDigest)
	binary.BigEndian.PutUint32(value, jksMagic)
	binary.BigEndian.PutUint32(value[4:], 2)
	binary.BigEndian.PutUint32(value[8:], 1<<31)
	// One trusted-certificate entry claiming a 2 GiB certificate.
	value = binary.BigEndian.AppendUint32(value, 2)
	value = binary.BigEndian.AppendUint16(value, 1)
	value = append(value, 'a')
	value = binary.BigEndian.AppendUint64(value, 0)
	value = binary.BigEndian.AppendUint16(value, 5)
	value = append(value, "X.509"...)
	value = binary.BigEndian.AppendUint32(value, 1<<31)
	return append(value, make([]byte, jksDigest)...)
}

// A keystore's certificates count toward the per-Secret bound.
func TestKeystoreCertificatesCountTowardTheBound(t *testing.T) {
	p := newPKI(t)
	pemValue := []byte(strings.Repeat(string(p.root.PEM()), maxCertificates))
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"a.pem": pemValue, "keystore.p12": pkcs12File(t, p.leaf, nil, "web", "", false)}}
	status := statusAt(t, in, epoch)
	if len(status.Certificates) != maxCertificates || !strings.Contains(errorsOf(status, "keystore.p12"), "1 certificates were not analysed") {
		t.Errorf("%d certificates, errors %+v; want the bound applied to the keystore", len(status.Certificates), status.Errors)
	}
}

// A keystore analysed again (a relist) runs no key derivation: the cache
// answers. Another password is another entry.
func TestLockedKeystoreIsNotDecryptedTwice(t *testing.T) {
	p := newPKI(t)
	p12 := pkcs12File(t, p.leaf, nil, "web", randomPassword(t), false)
	in := Input{Type: "Opaque", CreatedAt: changedAt, Data: map[string][]byte{"keystore.p12": p12}}
	before := kdfRuns.Load()
	first := statusAt(t, in, epoch)
	if kdfRuns.Load() == before {
		t.Fatal("the first analysis ran no key derivation")
	}
	before = kdfRuns.Load()
	second := statusAt(t, in, epoch)
	if runs := kdfRuns.Load() - before; runs != 0 || second.State != first.State || second.State != certstatus.StateUnknown {
		t.Errorf("second analysis: %d key derivations, state %s; want 0 and Unknown", runs, second.State)
	}
	in.Data["pw"] = []byte("another")
	in.Annotations = map[string]string{certstatus.KeystorePasswordKeyAnnotation: "pw"}
	before = kdfRuns.Load()
	statusAt(t, in, epoch)
	if kdfRuns.Load() == before {
		t.Error("a new password was not tried")
	}
}
