package certificate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// writeTemp writes data into a file of the test's temporary directory.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// opensslVersion is the version openssl reports, e.g. "3.0.19".
func opensslVersion(t testing.TB) string {
	t.Helper()
	fields := strings.Fields(certtest.OpenSSL(t, "version"))
	if len(fields) < 2 {
		t.Fatalf("openssl version printed %q", fields)
	}
	return fields[1]
}

// opensslIdentifiers is what openssl prints for a certificate's serial,
// SHA-256 fingerprint and key identifiers, by name.
func opensslIdentifiers(t testing.TB, certPEM []byte) map[string]string {
	t.Helper()
	path := writeTemp(t, "identifiers.pem", certPEM)
	out := certtest.OpenSSL(t, "x509", "-noout", "-serial", "-fingerprint", "-sha256", "-in", path)
	ids := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, _ := strings.Cut(line, "=")
		switch name {
		case "serial":
			ids["serial"] = value
		case "sha256 Fingerprint", "SHA256 Fingerprint":
			ids["fingerprint"] = value
		}
	}
	ids["subjectKeyId"], ids["authorityKeyId"] = certtest.OpenSSLKeyIDs(t, path)
	for _, name := range []string{"serial", "fingerprint", "subjectKeyId", "authorityKeyId"} {
		if ids[name] == "" {
			t.Fatalf("openssl printed no %s:\n%s", name, out)
		}
	}
	return ids
}
