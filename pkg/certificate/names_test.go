package certificate

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// attribute is one name attribute with an explicit ASN.1 string tag.
type attribute struct {
	oid   string
	tag   int
	value []byte
}

func utf8Attribute(oid, value string) attribute {
	return attribute{oid: oid, tag: asn1.TagUTF8String, value: []byte(value)}
}

// rawName encodes RDNs, each a set of attributes, exactly as given.
func rawName(t testing.TB, rdns ...[]attribute) []byte {
	t.Helper()
	var sequence []relativeNameSET
	for _, rdn := range rdns {
		var set relativeNameSET
		for _, a := range rdn {
			oid, err := parseOID(a.oid)
			if err != nil {
				t.Fatal(err)
			}
			set = append(set, attributeTypeAndValue{Type: oid, Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: a.tag, Bytes: a.value}})
		}
		sequence = append(sequence, set)
	}
	der, err := asn1.Marshal(sequence)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func parseOID(dotted string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(dotted, ".") {
		n, ok := new(big.Int).SetString(part, 10)
		if !ok {
			return nil, &strconvError{dotted}
		}
		oid = append(oid, int(n.Int64()))
	}
	return oid, nil
}

type strconvError struct{ s string }

func (e *strconvError) Error() string { return "bad OID " + e.s }

// opensslFields runs `openssl x509` on a certificate and returns its
// subject, issuer, serial and SHA-256 fingerprint lines by name.
func opensslFields(t *testing.T, certPEM []byte) map[string]string {
	t.Helper()
	out := certtest.OpenSSL(t, "x509", "-noout", "-subject", "-issuer", "-serial", "-fingerprint", "-sha256",
		"-nameopt", "RFC2253,-esc_msb", "-in", writeTemp(t, "cert.pem", certPEM))
	fields := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		name, value, _ := strings.Cut(line, "=")
		fields[name] = value
	}
	return fields
}

func TestNamesMatchOpenSSL(t *testing.T) {
	const (
		cn    = "2.5.4.3"
		o     = "2.5.4.10"
		ou    = "2.5.4.11"
		c     = "2.5.4.6"
		email = "1.2.840.113549.1.9.1"
		uid   = "0.9.2342.19200300.100.1.1"
		dc    = "0.9.2342.19200300.100.1.25"
	)
	var everyKnownAttribute []attribute
	for _, oid := range []string{cn, o, ou, c, email, uid, dc, "2.5.4.5", "2.5.4.97", "1.3.6.1.4.1.311.60.2.1.3", "0.9.2342.19200300.100.1.3", "1.2.643.100.1", "1.2.643.100.3", "1.2.643.3.131.1.1"} {
		everyKnownAttribute = append(everyKnownAttribute, utf8Attribute(oid, "v"))
	}
	tests := []struct {
		name string
		rdns [][]attribute
	}{
		{"simple", [][]attribute{{{c, asn1.TagPrintableString, []byte("DE")}}, {utf8Attribute(o, "Example")}, {utf8Attribute(cn, "web.example.com")}}},
		{"emailAddress", [][]attribute{{utf8Attribute(cn, "Jane")}, {{email, asn1.TagIA5String, []byte("jane@example.com")}}}},
		{"domain components and UID", [][]attribute{{{dc, asn1.TagIA5String, []byte("com")}}, {{dc, asn1.TagIA5String, []byte("example")}}, {utf8Attribute(uid, "jdoe")}}},
		{"multi-valued RDN", [][]attribute{{utf8Attribute(o, "Org")}, {utf8Attribute(cn, "a"), utf8Attribute(ou, "b"), utf8Attribute(uid, "c")}}},
		{"UTF-8", [][]attribute{{utf8Attribute(cn, "Grüße aus Köln — 日本語 🙂")}}},
		{"T61String as Latin-1", [][]attribute{{{cn, asn1.TagT61String, []byte("caf\xe9")}}}},
		{"BMPString", [][]attribute{{{cn, asn1.TagBMPString, []byte{0x04, 0x16, 0x00, 'x'}}}}},
		{"special characters", [][]attribute{{utf8Attribute(cn, `a,b+c"d\e<f>g;h=i`)}}},
		{"leading hash", [][]attribute{{utf8Attribute(cn, "#hash")}}},
		{"lone hash", [][]attribute{{utf8Attribute(cn, "#")}}},
		{"leading and trailing space", [][]attribute{{utf8Attribute(cn, " padded ")}}},
		{"lone space", [][]attribute{{utf8Attribute(cn, " ")}}},
		{"inner spaces and trailing hash", [][]attribute{{utf8Attribute(cn, "a  b#")}}},
		{"control characters", [][]attribute{{utf8Attribute(cn, "tab\there\x01\x7f")}}},
		{"unknown OID", [][]attribute{{utf8Attribute("1.2.3.4.5.6", "private")}, {utf8Attribute(cn, "x")}}},
		{"well-known attributes in one RDN", [][]attribute{everyKnownAttribute}},
		{"mail, OGRN, SNILS, INN", [][]attribute{{utf8Attribute("0.9.2342.19200300.100.1.3", "a@example.com")}, {{"1.2.643.100.1", asn1.TagNumericString, []byte("1027700132195")}}, {{"1.2.643.100.3", asn1.TagNumericString, []byte("12345678901")}}, {{"1.2.643.3.131.1.1", asn1.TagNumericString, []byte("7707083893")}}}},
		{"empty value", [][]attribute{{utf8Attribute(cn, "")}}},
		{"empty RDNs", [][]attribute{{}, {utf8Attribute(o, "Org")}, {}, {utf8Attribute(cn, "x")}, {}}},
	}
	issuer := certtest.Must(certtest.NewCA(certtest.Spec{
		RawSubject: rawName(t, []attribute{utf8Attribute(cn, "Issuer, Inc.")}, []attribute{{email, asn1.TagIA5String, []byte("ca@example.com")}}),
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := certtest.Must(issuer.NewLeaf(certtest.Spec{RawSubject: rawName(t, tt.rdns...)}))
			want := opensslFields(t, leaf.PEM())
			info := describe(leaf.Certificate, "tls.crt", 0)
			if want["issuer"] == "" {
				t.Fatalf("openssl printed no issuer: %v", want)
			}
			if info.Subject != want["subject"] {
				t.Errorf("subject\n got: %q\nwant: %q", info.Subject, want["subject"])
			}
			if info.Issuer != want["issuer"] {
				t.Errorf("issuer\n got: %q\nwant: %q", info.Issuer, want["issuer"])
			}
		})
	}
}

func TestSerialAndFingerprintMatchOpenSSL(t *testing.T) {
	serials := map[string]*big.Int{
		"zero":            big.NewInt(0),
		"one byte":        big.NewInt(0x0a),
		"high bit set":    big.NewInt(0x80),
		"leading zero":    big.NewInt(0x0102),
		"twenty bytes":    new(big.Int).SetBytes(bytes.Repeat([]byte{0xfe}, 20)),
		"odd digit count": big.NewInt(0xabc),
	}
	for name, serial := range serials {
		t.Run(name, func(t *testing.T) {
			cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "serial", SerialNumber: serial}))
			want := opensslFields(t, cert.PEM())
			info := describe(cert.Certificate, "tls.crt", 0)
			if info.SerialNumber != want["serial"] {
				t.Errorf("serial: got %q, openssl %q", info.SerialNumber, want["serial"])
			}
			if info.SHA256Fingerprint != want["sha256 Fingerprint"] {
				t.Errorf("fingerprint: got %q, openssl %q", info.SHA256Fingerprint, want["sha256 Fingerprint"])
			}
		})
	}
}

// TestCommonNameIsUnescaped: the commonName field is the plain value.
func TestCommonNameIsUnescaped(t *testing.T) {
	cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{Subject: pkix.Name{CommonName: "a, b", Organization: []string{"O"}}}))
	info := describe(cert.Certificate, "tls.crt", 0)
	if info.CommonName != "a, b" || info.Subject != `CN=a\, b,O=O` {
		t.Errorf("got commonName %q subject %q", info.CommonName, info.Subject)
	}
}
