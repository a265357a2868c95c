package certtest

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// The tests that compare with openssl never skip: openssl is a test
// requirement (README), and a comparison that silently does not run proves
// nothing.

// OpenSSLBinary is the openssl binary's path, or a failed test saying how to
// get it.
func OpenSSLBinary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is not installed, but this test compares with its output: install it (Debian: apt-get install openssl) and run again (%v)", err)
	}
	return path
}

// OpenSSL runs openssl with args and returns its standard output; the test
// fails with openssl's standard error when it does.
func OpenSSL(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(OpenSSLBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// OpenSSLKeyIDs is what openssl prints for the subject and authority key
// identifiers of the certificate in file ("" for one it does not have).
func OpenSSLKeyIDs(t testing.TB, file string) (subject, authority string) {
	t.Helper()
	// -ext prints each extension's name line, then its value indented.
	lines := strings.Split(OpenSSL(t, "x509", "-noout", "-ext", "subjectKeyIdentifier,authorityKeyIdentifier", "-in", file), "\n")
	for i := 0; i+1 < len(lines); i++ {
		value := strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "keyid:")
		switch strings.TrimSpace(lines[i]) {
		case "X509v3 Subject Key Identifier:":
			subject = value
		case "X509v3 Authority Key Identifier:":
			authority = value
		}
	}
	return subject, authority
}
