package app

import (
	"strings"
	"testing"
)

func TestValidateSources(t *testing.T) {
	for _, tc := range []struct {
		sources []string
		err     string // "" when accepted
	}{
		{[]string{"secrets", "configmaps", "registrations"}, ""},
		{[]string{"configmaps"}, ""},
		{[]string{"configmaps", "secrets", "registrations"}, ""},
		{nil, "at least one"},
		{[]string{"secrets", "crds"}, `unknown source "crds"`},
		{[]string{"secrets", "secrets"}, "listed twice"},
		{[]string{"registrations"}, `"registrations" needs "secrets"`},
	} {
		err := validateSources(tc.sources)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.sources, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want one saying %q", tc.sources, err, tc.err)
		}
	}
}
