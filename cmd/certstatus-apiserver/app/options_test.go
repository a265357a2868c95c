package app

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestFlagsParseIntoOptions(t *testing.T) {
	options := NewOptions()
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	options.AddFlags(flags)
	if err := flags.Parse([]string{"--expiring-soon-threshold=168h", "--expiring-soon-fraction=0.5", "--namespaces=a,b"}); err != nil {
		t.Fatal(err)
	}
	if options.ExpiringSoonThreshold != 168*time.Hour || options.ExpiringSoonFraction != 0.5 ||
		strings.Join(options.Namespaces, ",") != "a,b" {
		t.Errorf("parsed %+v", options)
	}
	if options.Generic.Etcd != nil || options.Generic.Admission != nil || options.Generic.Features.EnablePriorityAndFairness {
		t.Error("etcd, admission and priority-and-fairness must be off: nothing is stored or written")
	}
}

func TestValidateRejectsNonsense(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"fraction zero", func(o *Options) { o.ExpiringSoonFraction = 0 }, "--expiring-soon-fraction"},
		{"fraction above one", func(o *Options) { o.ExpiringSoonFraction = 1.5 }, "--expiring-soon-fraction"},
		{"negative threshold", func(o *Options) { o.ExpiringSoonThreshold = -time.Hour }, "--expiring-soon-threshold"},
		{"no history", func(o *Options) { o.HistorySize = 0 }, "--watch-history-size"},
	} {
		options := NewOptions()
		tc.change(options)
		err := options.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %s", tc.name, err, tc.want)
		}
	}
	if err := NewOptions().Validate(); err != nil {
		t.Errorf("defaults are invalid: %v", err)
	}
}
