package app

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/certstatus/certstatus/pkg/usedby"
)

// --used-by defaults to all three kinds; an empty value turns usedBy off.
func TestUsedByFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want usedby.Kinds
	}{
		{nil, usedby.Kinds{Ingress: true, Gateway: true, Pod: true}},
		{[]string{"--used-by="}, usedby.Kinds{}},
		{[]string{"--used-by=Ingress"}, usedby.Kinds{Ingress: true}},
		{[]string{"--used-by=pod,gateway"}, usedby.Kinds{Gateway: true, Pod: true}},
	} {
		options := NewOptions()
		flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
		options.AddFlags(flags)
		if err := flags.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := options.Validate(); err != nil {
			t.Errorf("%v: %v", tc.args, err)
		}
		if got, _ := usedby.ParseKinds(options.UsedBy); got != tc.want {
			t.Errorf("%v: kinds %+v, want %+v", tc.args, got, tc.want)
		}
	}
	options := NewOptions()
	options.UsedBy = []string{"Ingress", "Service"}
	if err := options.Validate(); err == nil || !strings.Contains(err.Error(), "--used-by") {
		t.Errorf("Service accepted: %v", err)
	}
}
