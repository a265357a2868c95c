package certificate

import (
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// FuzzAnalyze feeds arbitrary bytes as tls.crt, tls.key and ca.crt, and
// store as keystore.p12, truststore.jks and a kubeconfig's value, as a TLS
// and as an Opaque Secret: analysis must never panic, and its status must
// stay well-formed at any instant. The checked-in corpus holds no private
// key; the seeds with keys are generated here.
func FuzzAnalyze(f *testing.F) {
	p := newPKI(f)
	f.Add(certtest.ChainPEM(p.leaf, p.intermediate), p.leafKey, p.root.PEM(), "168h", []byte{})
	f.Add(p.leaf.PEM(), keyPEM(f, p.leaf, certtest.SEC1), []byte{}, "", []byte{})
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA"), []byte("garbage"), []byte("-----END CERTIFICATE-----"), "x", []byte{})
	f.Add(p.leaf.DER, []byte{}, certtest.ChainPEM(p.root, p.intermediate), "-1h", []byte{})
	f.Add([]byte{}, []byte{}, []byte{}, "", pkcs12File(f, p.leaf, []*certtest.Certificate{p.intermediate}, "web", "", false))
	f.Add([]byte{}, []byte{}, []byte{}, "", pkcs12File(f, p.leaf, nil, "web", "changeit", true))
	f.Add([]byte{}, []byte{}, []byte{}, "", kubeconfigYAML(p.root, p.leaf, p.leafKey, "token"))
	f.Fuzz(func(t *testing.T, crt, tlsKey, ca []byte, threshold string, store []byte) {
		annotations := map[string]string{"certstatus.dev/expiring-soon-threshold": threshold, certstatus.KeystorePasswordKeyAnnotation: "tls.key"}
		for _, secretType := range []string{"kubernetes.io/tls", "Opaque"} {
			in := Input{Type: secretType, Annotations: annotations, CreatedAt: changedAt,
				Data: map[string][]byte{"tls.crt": crt, "tls.key": tlsKey, "ca.crt": ca, "keystore.p12": store, "truststore.jks": store, "value": store}}
			a, listed := Analyze(in, DefaultOptions())
			if !listed {
				continue
			}
			now := epoch
			for i := 0; i < 4; i++ {
				status := a.StatusAt(now)
				if len(status.Conditions) != 2 || status.State == "" {
					t.Fatalf("malformed status %+v", status)
				}
				if _, err := json.Marshal(status); err != nil {
					t.Fatal(err)
				}
				next, ok := a.NextTransition(now)
				if !ok {
					break
				}
				if !next.After(now) {
					t.Fatalf("NextTransition(%v) = %v, not after", now, next)
				}
				now = next
			}
		}
	})
}

// FuzzFormatName checks the name formatter on arbitrary DER: whenever it
// renders a name, splitting the output at its unescaped "," and "+" gives
// back exactly the encoded attributes, in openssl's order (RDNs reversed,
// attributes within an RDN reversed), each named as openssl's table names
// its type or by its dotted OID, with a value that is "#hex" or free of
// unescaped separators. Escaping that lets a value's "," or "+" through, or
// a name printed for the wrong OID, fails it. The seeds run in make test;
// longer runs: go test -run '^$' -fuzz FuzzFormatName ./pkg/certificate.
func FuzzFormatName(f *testing.F) {
	p := newPKI(f)
	f.Add(p.leaf.Certificate.RawSubject)
	f.Add(p.root.Certificate.RawIssuer)
	for _, rdns := range [][][]attribute{
		{{utf8Attribute("2.5.4.3", `a,b+c"d\e<f>g;h=i`)}, {utf8Attribute("2.5.4.10", "#lead")}},
		{{utf8Attribute("2.5.4.3", "x"), utf8Attribute("2.5.4.11", "y"), utf8Attribute("1.2.3.4.5", "z")}, {utf8Attribute("0.9.2342.19200300.100.1.3", " a@b ")}},
		{{utf8Attribute("1.2.643.100.1", "1027700132195")}, {{"2.5.4.3", asn1.TagBMPString, []byte{0, ',', 0, '+'}}}},
		{{{"2.5.4.3", asn1.TagT61String, []byte("caf\xe9\x00,")}}},
		{{}, {utf8Attribute("2.5.4.3", "after an empty RDN")}, {}},
	} {
		f.Add(rawName(f, rdns...))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		name, _, err := formatName(der)
		if err != nil {
			return
		}
		var rdns []relativeNameSET
		if _, err := asn1.Unmarshal(der, &rdns); err != nil {
			t.Fatalf("formatName accepted DER that does not decode: %v", err)
		}
		var want []attributeTypeAndValue
		for i := len(rdns) - 1; i >= 0; i-- {
			for j := len(rdns[i]) - 1; j >= 0; j-- {
				want = append(want, rdns[i][j])
			}
		}
		got := splitUnescaped(name)
		if len(want) == 0 {
			if name != "" {
				t.Fatalf("no attributes, but the name is %q", name)
			}
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q splits into %d attributes, the DER has %d", name, len(got), len(want))
		}
		for i, attribute := range want {
			oid := attribute.Type.String()
			typeName, value, ok := strings.Cut(got[i], "=")
			if !ok {
				t.Fatalf("attribute %d of %q has no '='", i, name)
			}
			wantType, known := openSSLObjectNames[oid]
			if !known {
				wantType = oid
			}
			if typeName != wantType {
				t.Fatalf("attribute %d of %q is %q, want %q for %s", i, name, typeName, wantType, oid)
			}
			if !known && value != "#"+strings.ToUpper(hex.EncodeToString(attribute.Value.FullBytes)) {
				t.Fatalf("unknown attribute %s printed as %q, want its DER in hex", oid, value)
			}
		}
	})
}

// splitUnescaped splits an RFC 2253 name at the "," and "+" that are not
// escaped by a backslash.
func splitUnescaped(name string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++ // the escaped character, or the first of two hex digits
		case ',', '+':
			parts = append(parts, name[start:i])
			start = i + 1
		}
	}
	return append(parts, name[start:])
}
