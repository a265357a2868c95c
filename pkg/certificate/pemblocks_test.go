package certificate

import (
	"strings"
	"testing"
)

func TestScanPEM(t *testing.T) {
	block := func(label, body string) string {
		return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n"
	}
	tests := []struct {
		name string
		data string
		want []string // block type, or "!" for a problem
	}{
		{"none", "plain text", nil},
		{"one", block("CERTIFICATE", "AAAA"), []string{"CERTIFICATE"}},
		{"text around and between", "x\n" + block("A", "AAAA") + "y\n" + block("B", "AAAA") + "z", []string{"A", "B"}},
		{"CRLF", strings.ReplaceAll(block("A", "AAAA"), "\n", "\r\n"), []string{"A"}},
		{"no final newline", strings.TrimSuffix(block("A", "AAAA"), "\n"), []string{"A"}},
		{"truncated last", block("A", "AAAA") + "-----BEGIN B-----\nAAAA", []string{"A", "!"}},
		{"truncated first", "-----BEGIN A-----\nAA\n" + block("B", "AAAA"), []string{"!", "B"}},
		{"bad base64", block("A", "*&^"), []string{"!"}},
		{"END without BEGIN", "-----END A-----\n" + block("B", "AAAA"), []string{"B"}},
		{"many BEGINs before an END", strings.Repeat("-----BEGIN A-----\n", 3) + "-----END A-----\n", []string{"!", "!", "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for found := range scanPEM([]byte(tt.data)) {
				if found.problem != "" {
					got = append(got, "!")
				} else {
					got = append(got, found.block.Type)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
