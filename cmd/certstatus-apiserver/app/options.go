// Package app turns flags into a server configuration and runs it.
package app

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	basecompatibility "k8s.io/component-base/compatibility"
	baseversion "k8s.io/component-base/version"
	netutils "k8s.io/utils/net"

	generatedopenapi "github.com/certstatus/certstatus/generated/openapi"
	"github.com/certstatus/certstatus/pkg/apiserver"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/events"
	"github.com/certstatus/certstatus/pkg/statuscache"
	"github.com/certstatus/certstatus/pkg/usedby"
	"github.com/certstatus/certstatus/pkg/version"
)

// Options are the server's flags.
type Options struct {
	Generic *genericoptions.RecommendedOptions
	// Components holds the effective Kubernetes version and the feature gates
	// (--feature-gates, --emulated-version) the generic server runs with.
	Components basecompatibility.ComponentGlobalsRegistry

	ExpiringSoonThreshold time.Duration
	ExpiringSoonFraction  float64
	Namespaces            []string
	HistorySize           int
	X509ExporterMetrics   bool

	Events          bool
	EventsMaxAge    time.Duration
	EventsQPS       float32
	EventsBurst     int
	EventsQueueSize int

	// UsedBy are the kinds watched for status.usedBy (--used-by).
	UsedBy []string
}

// NewOptions returns the defaults. There is no etcd (nothing is stored) and
// no admission (it only runs on writes). Priority and fairness is off: the
// kube-apiserver in front already applies it, and keeping it would need RBAC
// on flowschemas beyond the least privilege the server runs with.
func NewOptions() *Options {
	generic := genericoptions.NewRecommendedOptions("", apiserver.Codecs.LegacyCodec())
	generic.Etcd = nil
	generic.Admission = nil
	generic.Features.EnablePriorityAndFairness = false
	generic.SecureServing.BindPort = 8443
	analysis := certificate.DefaultOptions()
	components := compatibility.DefaultComponentGlobalsRegistry
	_, _ = components.ComponentGlobalsOrRegister(basecompatibility.DefaultKubeComponent,
		basecompatibility.NewEffectiveVersionFromString(baseversion.DefaultKubeBinaryVersion, "", ""),
		utilfeature.DefaultMutableFeatureGate)
	recorder := events.DefaultOptions()
	return &Options{
		EventsMaxAge:          recorder.MaxAge,
		EventsQPS:             recorder.QPS,
		EventsBurst:           recorder.Burst,
		EventsQueueSize:       recorder.QueueSize,
		Generic:               generic,
		Components:            components,
		ExpiringSoonThreshold: analysis.ExpiringSoonThreshold,
		ExpiringSoonFraction:  analysis.ExpiringSoonFraction,
		HistorySize:           statuscache.DefaultOptions().HistorySize,
		UsedBy:                append([]string(nil), usedby.KindNames...),
	}
}

// AddFlags registers the generic apiserver flags and certstatus's own.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.Generic.AddFlags(fs)
	o.Components.AddFlags(fs)
	fs.DurationVar(&o.ExpiringSoonThreshold, "expiring-soon-threshold", o.ExpiringSoonThreshold,
		"A certificate is ExpiringSoon when its remaining time is below min(this, fraction × lifetime). "+
			"The Secret annotation certstatus.dev/expiring-soon-threshold overrides it per Secret.")
	fs.Float64Var(&o.ExpiringSoonFraction, "expiring-soon-fraction", o.ExpiringSoonFraction,
		"Fraction of a certificate's lifetime used in the expiring-soon rule (0 < fraction ≤ 1).")
	fs.StringSliceVar(&o.Namespaces, "namespaces", o.Namespaces,
		"Watch Secrets only in these namespaces (comma-separated); empty means all. "+
			"With it the server needs only namespaced Roles.")
	fs.IntVar(&o.HistorySize, "watch-history-size", o.HistorySize,
		"How many recent changes are kept so watches can resume; older resourceVersions answer 410 Gone.")
	fs.BoolVar(&o.X509ExporterMetrics, "x509-exporter-metrics", o.X509ExporterMetrics,
		"Also serve x509_cert_not_after, x509_cert_not_before and x509_cert_expired per certificate on /metrics, "+
			"with the labels of x509-certificate-exporter, so its dashboards and alerts work unchanged "+
			"(at most 1000 series per Secret and family).")
	fs.BoolVar(&o.Events, "events", o.Events,
		"Record an events.k8s.io/v1 Event regarding the CertificateStatus whenever a Secret's state changes "+
			"(by a Secret change or the clock). Needs create on events.k8s.io events (artifacts/events).")
	fs.DurationVar(&o.EventsMaxAge, "events-max-age", o.EventsMaxAge,
		"With --events: transitions that began longer ago are never recorded (a restart replays no older history). "+
			"Keep it at most kube-apiserver's --event-ttl, or an expired Event could be recorded again.")
	fs.Float32Var(&o.EventsQPS, "events-qps", o.EventsQPS, "With --events: Event writes per second (token bucket).")
	fs.IntVar(&o.EventsBurst, "events-burst", o.EventsBurst, "With --events: the token bucket's burst.")
	fs.IntVar(&o.EventsQueueSize, "events-queue-size", o.EventsQueueSize,
		"With --events: transitions waiting to be written; beyond it they are dropped and counted.")
	fs.StringSliceVar(&o.UsedBy, "used-by", o.UsedBy,
		"Who is watched to fill status.usedBy and the HostsCovered condition: Ingress, Gateway (Gateway API Gateways "+
			"and ListenerSets, Istio Gateways, while their CRDs exist), Pod (by their controlling workload). "+
			"An empty value (--used-by=) turns usedBy off and needs none of its RBAC.")
}

// Validate checks the flags.
func (o *Options) Validate() error {
	var errs []error
	errs = append(errs, o.Generic.Validate()...)
	if o.ExpiringSoonThreshold < 0 {
		errs = append(errs, fmt.Errorf("--expiring-soon-threshold must not be negative"))
	}
	if o.ExpiringSoonFraction <= 0 || o.ExpiringSoonFraction > 1 {
		errs = append(errs, fmt.Errorf("--expiring-soon-fraction must be in (0, 1], got %v", o.ExpiringSoonFraction))
	}
	if o.HistorySize < 1 {
		errs = append(errs, fmt.Errorf("--watch-history-size must be at least 1"))
	}
	if o.EventsMaxAge <= 0 {
		errs = append(errs, fmt.Errorf("--events-max-age must be positive"))
	}
	if o.EventsQPS <= 0 {
		errs = append(errs, fmt.Errorf("--events-qps must be positive"))
	}
	if o.EventsBurst < 1 {
		errs = append(errs, fmt.Errorf("--events-burst must be at least 1"))
	}
	if o.EventsQueueSize < 1 {
		errs = append(errs, fmt.Errorf("--events-queue-size must be at least 1"))
	}
	if _, err := usedby.ParseKinds(o.UsedBy); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid flags: %v", errs)
	}
	return nil
}

// Config builds the server configuration.
func (o *Options) Config() (*apiserver.Config, error) {
	if err := o.Generic.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil,
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("create self-signed serving certificate: %w", err)
	}
	generic := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	generic.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	generic.OpenAPIConfig.Info.Title = "certstatus"
	generic.OpenAPIConfig.Info.Version = version.Version
	generic.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	generic.OpenAPIV3Config.Info.Title = "certstatus"
	generic.OpenAPIV3Config.Info.Version = version.Version
	generic.EffectiveVersion = o.Components.EffectiveVersionFor(basecompatibility.DefaultKubeComponent)
	generic.FeatureGate = o.Components.FeatureGateFor(basecompatibility.DefaultKubeComponent)

	if err := o.Generic.ApplyTo(generic); err != nil {
		return nil, err
	}
	cache := statuscache.DefaultOptions()
	cache.HistorySize = o.HistorySize
	var recorder *events.Options
	if o.Events {
		recorder = &events.Options{MaxAge: o.EventsMaxAge, QPS: o.EventsQPS, Burst: o.EventsBurst,
			QueueSize: o.EventsQueueSize, Workers: events.DefaultOptions().Workers}
	}
	users, err := usedby.ParseKinds(o.UsedBy)
	if err != nil {
		return nil, err
	}
	return &apiserver.Config{
		UsedBy:     users,
		Events:     recorder,
		Generic:    generic,
		Analysis:   certificate.Options{ExpiringSoonThreshold: o.ExpiringSoonThreshold, ExpiringSoonFraction: o.ExpiringSoonFraction},
		Namespaces: o.Namespaces,
		Cache:      cache,

		X509ExporterMetrics: o.X509ExporterMetrics,
	}, nil
}
