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
