// Package app turns flags into a server configuration and runs it.
package app

import (
	"fmt"
	"net"
	"slices"
	"strings"

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
	// SecureServing is applied by Config itself, with certificates cheap to
	// generate (selfsigned.go); Generic holds an empty one in its place,
	// which RecommendedOptions skips in AddFlags, Validate and ApplyTo.
	SecureServing *genericoptions.SecureServingOptionsWithLoopback
	// Components holds the effective Kubernetes version and the feature gates
	// (--feature-gates, --emulated-version) the generic server runs with.
	Components basecompatibility.ComponentGlobalsRegistry

	// Analysis, Cache and Recorder are the packages' own options, starting
	// from their defaults; flags set some of their fields.
	Analysis certificate.Options
	Cache    statuscache.Options
	Recorder events.Options

	Namespaces          []string
	X509ExporterMetrics bool
	// Events turns the Recorder on.
	Events bool

	// UsedBy are the kinds watched for status.usedBy (--used-by).
	UsedBy []string
	// Sources are the sources served (--sources).
	Sources []string
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
	serving := generic.SecureServing
	serving.BindPort = 8443
	generic.SecureServing = &genericoptions.SecureServingOptionsWithLoopback{}
	components := compatibility.DefaultComponentGlobalsRegistry
	_, _ = components.ComponentGlobalsOrRegister(basecompatibility.DefaultKubeComponent,
		basecompatibility.NewEffectiveVersionFromString(baseversion.DefaultKubeBinaryVersion, "", ""),
		utilfeature.DefaultMutableFeatureGate)
	return &Options{
		Generic:       generic,
		SecureServing: serving,
		Components:    components,
		Analysis:      certificate.DefaultOptions(),
		Cache:         statuscache.DefaultOptions(),
		Recorder:      events.DefaultOptions(),
		UsedBy:        append([]string(nil), usedby.KindNames...),
		Sources:       append([]string(nil), apiserver.SourceNames...),
	}
}

// AddFlags registers the generic apiserver flags and certstatus's own.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.Generic.AddFlags(fs)
	o.SecureServing.AddFlags(fs)
	o.Components.AddFlags(fs)
	fs.DurationVar(&o.Analysis.ExpiringSoonThreshold, "expiring-soon-threshold", o.Analysis.ExpiringSoonThreshold,
		"A certificate is ExpiringSoon when its remaining time is below min(this, fraction × lifetime). "+
			"The Secret annotation certstatus.dev/expiring-soon-threshold overrides it per Secret.")
	fs.Float64Var(&o.Analysis.ExpiringSoonFraction, "expiring-soon-fraction", o.Analysis.ExpiringSoonFraction,
		"Fraction of a certificate's lifetime used in the expiring-soon rule (0 < fraction ≤ 1).")
	fs.StringSliceVar(&o.Sources, "sources", o.Sources,
		"The sources served, each its resource: secrets (certificatestatuses), configmaps (configmapcertificatestatuses), "+
			"registrations (clustercertificatestatuses). A source not listed is not served (absent from discovery) and needs none of its RBAC; "+
			"readiness waits for the first one listed only.")
	fs.StringSliceVar(&o.Namespaces, "namespaces", o.Namespaces,
		"Watch Secrets and ConfigMaps only in these namespaces (comma-separated); empty means all. "+
			"With it the server needs only namespaced Roles.")
	fs.IntVar(&o.Cache.HistorySize, "watch-history-size", o.Cache.HistorySize,
		"How many recent changes are kept so watches can resume; older resourceVersions answer 410 Gone.")
	fs.BoolVar(&o.X509ExporterMetrics, "x509-exporter-metrics", o.X509ExporterMetrics,
		"Also serve x509_cert_not_after, x509_cert_not_before and x509_cert_expired per certificate on /metrics, "+
			"with the labels of x509-certificate-exporter, so its dashboards and alerts work unchanged "+
			"(at most 1000 series per Secret and family).")
	fs.BoolVar(&o.Events, "events", o.Events,
		"Record an events.k8s.io/v1 Event regarding the CertificateStatus whenever a Secret's state changes "+
			"(by a Secret change or the clock). Needs create on events.k8s.io events (artifacts/events).")
	fs.DurationVar(&o.Recorder.MaxAge, "events-max-age", o.Recorder.MaxAge,
		"With --events: transitions that began longer ago are never recorded (a restart replays no older history). "+
			"Keep it at most kube-apiserver's --event-ttl, or an expired Event could be recorded again.")
	fs.Float32Var(&o.Recorder.QPS, "events-qps", o.Recorder.QPS, "With --events: Event writes per second (token bucket).")
	fs.IntVar(&o.Recorder.Burst, "events-burst", o.Recorder.Burst, "With --events: the token bucket's burst.")
	fs.IntVar(&o.Recorder.QueueSize, "events-queue-size", o.Recorder.QueueSize,
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
	errs = append(errs, o.SecureServing.Validate()...)
	if o.Analysis.ExpiringSoonThreshold < 0 {
		errs = append(errs, fmt.Errorf("--expiring-soon-threshold must not be negative"))
	}
	if o.Analysis.ExpiringSoonFraction <= 0 || o.Analysis.ExpiringSoonFraction > 1 {
		errs = append(errs, fmt.Errorf("--expiring-soon-fraction must be in (0, 1], got %v", o.Analysis.ExpiringSoonFraction))
	}
	if o.Cache.HistorySize < 1 {
		errs = append(errs, fmt.Errorf("--watch-history-size must be at least 1"))
	}
	if o.Recorder.MaxAge <= 0 {
		errs = append(errs, fmt.Errorf("--events-max-age must be positive"))
	}
	if o.Recorder.QPS <= 0 {
		errs = append(errs, fmt.Errorf("--events-qps must be positive"))
	}
	if o.Recorder.Burst < 1 {
		errs = append(errs, fmt.Errorf("--events-burst must be at least 1"))
	}
	if o.Recorder.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("--events-queue-size must be at least 1"))
	}
	if _, err := usedby.ParseKinds(o.UsedBy); err != nil {
		errs = append(errs, err)
	}
	if err := validateSources(o.Sources); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid flags: %v", errs)
	}
	return nil
}

// Config builds the server configuration.
func (o *Options) Config() (*apiserver.Config, error) {
	if err := defaultServingCertificate(o.SecureServing.SecureServingOptions, "localhost",
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

	// Serving first: authentication reads the serving configuration.
	if err := applySecureServing(o.SecureServing, &generic.Config); err != nil {
		return nil, err
	}
	if err := o.Generic.ApplyTo(generic); err != nil {
		return nil, err
	}
	var recorder *events.Options
	if o.Events {
		copied := o.Recorder
		recorder = &copied
	}
	users, err := usedby.ParseKinds(o.UsedBy)
	if err != nil {
		return nil, err
	}
	return &apiserver.Config{
		Sources:    o.Sources,
		UsedBy:     users,
		Events:     recorder,
		Generic:    generic,
		Analysis:   o.Analysis,
		Namespaces: o.Namespaces,
		Cache:      o.Cache,

		X509ExporterMetrics: o.X509ExporterMetrics,
	}, nil
}

// validateSources accepts a non-empty list of known sources, each once.
func validateSources(sources []string) error {
	if len(sources) == 0 {
		return fmt.Errorf("--sources must name at least one of %s", strings.Join(apiserver.SourceNames, ","))
	}
	seen := map[string]bool{}
	for _, source := range sources {
		if !slices.Contains(apiserver.SourceNames, source) {
			return fmt.Errorf("--sources: unknown source %q (known: %s)", source, strings.Join(apiserver.SourceNames, ","))
		}
		if seen[source] {
			return fmt.Errorf("--sources: %q is listed twice", source)
		}
		seen[source] = true
	}
	if seen[apiserver.SourceRegistrations] && !seen[apiserver.SourceSecrets] {
		// Trusted verifies what the serving Secrets serve.
		return fmt.Errorf("--sources: %q needs %q (the Trusted condition reads the serving Secrets)", apiserver.SourceRegistrations, apiserver.SourceSecrets)
	}
	return nil
}
