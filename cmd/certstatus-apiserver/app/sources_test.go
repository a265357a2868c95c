package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// --sources defaults to every source, Secrets first; unknown, repeated or
// no sources are refused.
func TestSourcesFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		err  string
	}{
		{nil, []string{"secrets", "configmaps", "registrations"}, ""},
		{[]string{"--sources=secrets"}, []string{"secrets"}, ""},
		{[]string{"--sources=configmaps,secrets"}, []string{"configmaps", "secrets"}, ""},
		{[]string{"--sources=secrets,crds"}, nil, `unknown source "crds"`},
		{[]string{"--sources=secrets,secrets"}, nil, "listed twice"},
		{[]string{"--sources="}, nil, "at least one"},
	} {
		options := NewOptions()
		flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
		options.AddFlags(flags)
		if err := flags.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := options.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		}
		if !slices.Equal(options.Sources, tc.want) {
			t.Errorf("%v: sources %v, want %v", tc.args, options.Sources, tc.want)
		}
	}
}
