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
	if err := flags.Parse([]string{"--expiring-soon-threshold=168h", "--expiring-soon-fraction=0.5", "--namespaces=a,b",
		"--secure-port=9443", "--cert-dir=/certs"}); err != nil {
		t.Fatal(err)
	}
	// Serving flags reach the options Config applies itself (selfsigned.go).
	if options.SecureServing.BindPort != 9443 || options.SecureServing.ServerCert.CertDirectory != "/certs" {
		t.Errorf("serving options %+v", options.SecureServing.SecureServingOptions)
	}
	if options.Analysis.ExpiringSoonThreshold != 168*time.Hour || options.Analysis.ExpiringSoonFraction != 0.5 ||
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
		{"fraction zero", func(o *Options) { o.Analysis.ExpiringSoonFraction = 0 }, "--expiring-soon-fraction"},
		{"fraction above one", func(o *Options) { o.Analysis.ExpiringSoonFraction = 1.5 }, "--expiring-soon-fraction"},
		{"negative threshold", func(o *Options) { o.Analysis.ExpiringSoonThreshold = -time.Hour }, "--expiring-soon-threshold"},
		{"no history", func(o *Options) { o.Cache.HistorySize = 0 }, "--watch-history-size"},
		{"events max age zero", func(o *Options) { o.Recorder.MaxAge = 0 }, "--events-max-age"},
		{"events qps zero", func(o *Options) { o.Recorder.QPS = 0 }, "--events-qps"},
		{"events burst zero", func(o *Options) { o.Recorder.Burst = 0 }, "--events-burst"},
		{"events queue zero", func(o *Options) { o.Recorder.QueueSize = 0 }, "--events-queue-size"},
		{"negative port", func(o *Options) { o.SecureServing.BindPort = -1 }, "--secure-port"},
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

// Events are off unless asked for; the flags reach the recorder's options.
func TestEventsAreOptIn(t *testing.T) {
	options := NewOptions()
	if options.Events || options.Recorder.MaxAge != time.Hour {
		t.Errorf("defaults: events %v, max age %s; want off and 1h", options.Events, options.Recorder.MaxAge)
	}
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	options.AddFlags(flags)
	if err := flags.Parse([]string{"--events", "--events-max-age=30m", "--events-qps=7", "--events-burst=3", "--events-queue-size=9"}); err != nil {
		t.Fatal(err)
	}
	if !options.Events || options.Recorder.MaxAge != 30*time.Minute || options.Recorder.QPS != 7 || options.Recorder.Burst != 3 || options.Recorder.QueueSize != 9 {
		t.Errorf("parsed %+v", options)
	}
}
