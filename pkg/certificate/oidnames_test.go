package certificate

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// TestEveryOpenSSLNameMatchesTheBinary walks the whole generated table: a
// certificate per chunk of OIDs, each OID an attribute of its own RDN, and
// compares our subject with what the installed openssl prints. Where the
// binary is the pinned version, every entry must match; an older or newer
// binary may not know some OIDs (it prints them dotted), and only those it
// knows are compared. OIDs absent from the table must print dotted, with
// the value in hex, as the binary prints them.
func TestEveryOpenSSLNameMatchesTheBinary(t *testing.T) {
	oids := make([]string, 0, len(openSSLObjectNames))
	for oid := range openSSLObjectNames {
		oids = append(oids, oid)
	}
	slices.Sort(oids)
	if len(oids) < 1000 {
		t.Fatalf("the table has %d names; openssl 3 knows over a thousand objects", len(oids))
	}
	sameVersion := strings.Contains(openSSLObjectsSource, " "+opensslVersion(t)+"-")
	// A few OIDs no openssl knows: they print dotted.
	unknown := []string{"1.2.3.4.5.6.7.8", "2.25.1234567", "1.3.6.1.4.1.99999.1"}

	const chunk = 120
	type result struct{ ours, theirs string }
	results := make([]result, (len(oids)+len(unknown)+chunk-1)/chunk)
	key := certtest.Must(certtest.NewKey(certtest.ECDSA, 0))
	all := append(slices.Clone(oids), unknown...)
	var wg sync.WaitGroup
	for i := range results {
		batch := all[i*chunk : min((i+1)*chunk, len(all))]
		var rdns [][]attribute
		for j, oid := range batch {
			rdns = append(rdns, []attribute{utf8Attribute(oid, fmt.Sprintf("v%d", j))})
		}
		cert := certtest.Must(certtest.NewSelfSigned(certtest.Spec{RawSubject: rawName(t, rdns...), Key: key}))
		results[i].ours = describe(cert.Certificate, "tls.crt", 0).Subject
		path := writeTemp(t, fmt.Sprintf("chunk%d.pem", i), cert.PEM())
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].theirs = strings.TrimSuffix(strings.TrimPrefix(certtest.OpenSSL(t, "x509", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb", "-in", path), "subject="), "\n")
		}()
	}
	wg.Wait()

	compared, unknownToBinary := 0, 0
	for i, r := range results {
		batch := all[i*chunk : min((i+1)*chunk, len(all))]
		ours, theirs := strings.Split(r.ours, ","), strings.Split(r.theirs, ",")
		if len(ours) != len(batch) || len(theirs) != len(batch) {
			t.Fatalf("chunk %d: %d and %d attributes for %d OIDs:\n ours: %s\nopenssl: %s", i, len(ours), len(theirs), len(batch), r.ours, r.theirs)
		}
		for j, oid := range batch {
			// RDNs print in reverse order.
			got, want := ours[len(batch)-1-j], theirs[len(batch)-1-j]
			if _, inTable := openSSLObjectNames[oid]; inTable && strings.HasPrefix(want, oid+"=") && !sameVersion {
				unknownToBinary++
				continue
			}
			compared++
			if got != want {
				t.Errorf("OID %s: we print %q, openssl prints %q", oid, got, want)
			}
		}
	}
	t.Logf("compared %d attribute names with %s (table from %s); %d not known to this binary", compared, strings.TrimSpace(certtest.OpenSSL(t, "version")), openSSLObjectsSource, unknownToBinary)
	if compared < len(oids)/2 {
		t.Errorf("only %d of %d names could be compared", compared, len(oids))
	}
}

// TestNameTableHasTheReportedNames: the names the issue reported as
// missing, by value, so that the generator cannot silently lose them.
func TestNameTableHasTheReportedNames(t *testing.T) {
	for oid, want := range map[string]string{
		"0.9.2342.19200300.100.1.3": "mail",
		"1.2.643.100.1":             "OGRN",
		"1.2.643.100.3":             "SNILS",
		"1.2.643.3.131.1.1":         "INN",
		"1.3.6.1.4.1.311.60.2.1.3":  "jurisdictionC",
		"1.2.840.113549.1.9.1":      "emailAddress",
		"2.5.4.3":                   "CN",
	} {
		if got := openSSLObjectNames[oid]; got != want {
			t.Errorf("%s: %q, want %q", oid, got, want)
		}
	}
}
