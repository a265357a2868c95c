package certtest

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// KeytoolBinary is keytool's path, or a failed test saying how to get it:
// JKS and JCEKS fixtures are written by the format's reference writer, never
// by the reader under test, and a test that silently does not run proves
// nothing.
func KeytoolBinary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("keytool")
	if err != nil {
		t.Fatalf("keytool is not installed, but this test reads JKS and JCEKS files that keytool writes: install a JDK (Debian: apt-get install default-jdk-headless) and run again (%v)", err)
	}
	return path
}

// Keytool runs keytool with args and returns its standard output; the test
// fails with keytool's output when it does.
func Keytool(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(KeytoolBinary(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("keytool %s: %v: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
