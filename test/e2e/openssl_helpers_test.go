package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// opensslBinary is the openssl binary. The tests that compare with openssl
// fail, never skip, without it: it is a test requirement (README).
func opensslBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is not installed, but this test compares with its output: install it (Debian: apt-get install openssl) and run again (%v)", err)
	}
	return path
}

// openssl runs the openssl binary and returns its standard output.
func openssl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(opensslBinary(t), args...).Output()
	if err != nil {
		stderr := ""
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = string(exit.Stderr)
		}
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// opensslKeyIDs is what openssl prints for a certificate file's subject and
// authority key identifiers ("subject key id", "authority key id").
func opensslKeyIDs(t *testing.T, file string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	lines := strings.Split(openssl(t, "x509", "-noout", "-in", file, "-ext", "subjectKeyIdentifier,authorityKeyIdentifier"), "\n")
	for i := 0; i+1 < len(lines); i++ {
		value := strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "keyid:")
		switch strings.TrimSpace(lines[i]) {
		case "X509v3 Subject Key Identifier:":
			ids["subject key id"] = value
		case "X509v3 Authority Key Identifier:":
			ids["authority key id"] = value
		}
	}
	return ids
}
