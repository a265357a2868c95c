package certificate

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tests that compare with openssl never skip: openssl is a test
// requirement (README), and a comparison that silently does not run proves
// nothing.

// opensslBinary is the openssl binary, or a failed test saying how to get it.
func opensslBinary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is not installed, but this test compares with its output: install it (Debian: apt-get install openssl) and run again (%v)", err)
	}
	return path
}

// runOpenSSL runs openssl with args and returns its standard output.
func runOpenSSL(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(opensslBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

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
	fields := strings.Fields(runOpenSSL(t, "version"))
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
	out := runOpenSSL(t, "x509", "-noout", "-serial", "-fingerprint", "-sha256", "-in", path)
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
	// -ext prints each extension's name line, then its value indented.
	lines := strings.Split(runOpenSSL(t, "x509", "-noout", "-ext", "subjectKeyIdentifier,authorityKeyIdentifier", "-in", path), "\n")
	for i := 0; i+1 < len(lines); i++ {
		value := strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "keyid:")
		switch strings.TrimSpace(lines[i]) {
		case "X509v3 Subject Key Identifier:":
			ids["subjectKeyId"] = value
		case "X509v3 Authority Key Identifier:":
			ids["authorityKeyId"] = value
		}
	}
	for _, name := range []string{"serial", "fingerprint", "subjectKeyId", "authorityKeyId"} {
		if ids[name] == "" {
			t.Fatalf("openssl printed no %s:\n%s", name, out)
		}
	}
	return ids
}
