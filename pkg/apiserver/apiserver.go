// Package apiserver wires the generic Kubernetes API server: it installs the
// certstatus.dev group with its one read-only resource, starts the Secret
// source and the clock, and reports readiness only once Secrets are synced.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/events"
	"github.com/certstatus/certstatus/pkg/metrics"
	"github.com/certstatus/certstatus/pkg/registrationsource"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/registry/clustercertificatestatus"
	"github.com/certstatus/certstatus/pkg/secrets"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
	"github.com/certstatus/certstatus/pkg/usedby"
)

// Config is everything the server needs.
type Config struct {
	Generic *genericapiserver.RecommendedConfig
	// Analysis options: the expiring-soon threshold and fraction.
	Analysis certificate.Options
	// Namespaces limits the watched Secrets; empty means all namespaces.
	Namespaces []string
	Cache      statuscache.Options
	// X509ExporterMetrics adds the x509-certificate-exporter compatible series to /metrics.
	X509ExporterMetrics bool
	// Events, when set, records an Event on every state change (--events).
	Events *events.Options
	// UsedBy selects who is watched to fill status.usedBy (--used-by);
	// none turns usedBy off, with no extra informers or RBAC.
	UsedBy usedby.Kinds
	// Sources are the sources served (--sources); empty serves them all.
	Sources []string
}

// serves tells whether source is on.
func (c *Config) serves(source string) bool {
	return len(c.Sources) == 0 || slices.Contains(c.Sources, source)
}

// Server is a prepared certstatus API server.
type Server struct {
	generic *genericapiserver.GenericAPIServer
}

// New builds the server: the group, the storage, the Secret source and the hooks that start them.
//
// The parts are wired by their constructors, in the one direction data
// flows (docs/design.md, "One pipeline per source"): the usedBy sources feed
// the index, the index decorates the cache and signals the keys to rebuild,
// the Secret source feeds the cache, and the storage, metrics and Events
// read the cache. Nothing is set after construction.
func New(config *Config) (*Server, error) {
	// Uncompressed: kube-apiserver gzips large responses (list pages too),
	// and on the cluster network compressing and inflating every Secret at
	// start-up cost both servers more CPU than the bytes it saves (a tenth
	// of certstatus's start-up CPU at 10 000 Secrets).
	informerConfig := restclient.CopyConfig(config.Generic.ClientConfig)
	informerConfig.DisableCompression = true
	observer := metrics.SourceMetrics{}

	// usedBy: who serves or mounts each Secret. Its sources depend on no
	// other; the Secret cache depends on them through the index.
	var users *usedby.Sources
	var index *usedby.Index
	var usedBySynced func() bool
	var decorator statuscache.Decorator // none without usedBy
	var rebuilds *statuscache.Rebuilds
	if config.UsedBy.Any() {
		rebuilds = statuscache.NewRebuilds()
		index = usedby.NewIndex(usedby.RebuildKeys(rebuilds))
		var err error
		users, err = usedby.NewSources(informerConfig, config.UsedBy, config.Namespaces, index, observer)
		if err != nil {
			return nil, err
		}
		// certstatus_secret_used is written once every usedBy informer has synced.
		usedBySynced = users.AllSynced
		decorator = index
	}

	// The Secret pipeline: source → (decorated) cache → storage, metrics, Events.
	secretsSynced := sourcesync.New("secrets", observer)
	cache := statuscache.NewDecorated(clock.RealClock{}, config.Cache, decorator, rebuilds)
	source, err := secrets.NewSource(informerConfig, config.Namespaces, config.Analysis, cache, secretsSynced, observer)
	if err != nil {
		return nil, err
	}
	certificates := metrics.NewCertificates(cache, clock.RealClock{}, config.X509ExporterMetrics, usedBySynced)
	storage := map[string]rest.Storage{
		"certificatestatuses": certificatestatus.NewREST(cache, secretsSynced),
	}

	// API registrations: they read the Secret cache (served chains), never
	// the reverse; the serving Secrets' usedBy hears of them through the index.
	var registrationSource *registrationsource.Source
	var registrationCache *statuscache.ClusterCache
	if config.serves("registrations") {
		registrationRebuilds := statuscache.NewRebuilds()
		trust, err := registrationsource.NewTrust(informerConfig, cache, index, registrationRebuilds, config.Analysis, observer)
		if err != nil {
			return nil, err
		}
		registrationCache = statuscache.NewOf[certstatus.ClusterCertificateStatus](statuscache.ClusterCertificateStatuses, clock.RealClock{}, config.Cache, trust, registrationRebuilds)
		registrationsSynced := sourcesync.New(registrationsource.Resources, nil)
		registrationSource, err = registrationsource.NewSource(informerConfig, config.Analysis, registrationCache, registrationsSynced, trust, observer)
		if err != nil {
			return nil, err
		}
		storage["clustercertificatestatuses"] = clustercertificatestatus.NewREST(registrationCache, registrationsSynced)
	}
	config.Generic.BuildHandlerChainFunc = func(handler http.Handler, c *genericapiserver.Config) http.Handler {
		// Inside authentication and authorization: /metrics stays behind
		// delegated authorization, as the generic server's own metrics are.
		return genericapiserver.DefaultBuildHandlerChain(metrics.WithCertificates(readOnly(handler, sets.KeySet(storage)), certificates), c)
	}
	generic, err := config.Generic.Complete().New("certstatus-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}

	informers := []metrics.Informer{{Resource: "secrets", HasSynced: source.HasSynced}}
	if users != nil {
		// Readiness waits for the Secrets only; these are exported, not awaited.
		for _, resource := range users.Resources() {
			informers = append(informers, metrics.Informer{Resource: resource, HasSynced: func() bool { return users.Synced()[resource] }})
		}
	}
	if err := metrics.RegisterHealth(cache, informers...); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}

	var recorder *events.Recorder
	if config.Events != nil {
		recorder, err = newRecorder(config.Generic.ClientConfig, *config.Events)
		if err != nil {
			return nil, err
		}
		// Before the source starts, so the initial Secrets arrive as Added
		// (a Secret already expired when first seen is a transition).
		cache.Subscribe(recorder.Observe)
	}

	group := apiGroupInfo()
	group.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = storage
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, err
	}

	// Readiness waits for the Secret source only: another source whose
	// reads are forbidden never holds the server back.
	if err := generic.AddReadyzChecks(healthz.NamedCheck("certstatus-secrets-synced", func(*http.Request) error {
		if !secretsSynced.HasSynced() {
			return errors.New("the Secret cache has not synced yet")
		}
		return nil
	})); err != nil {
		return nil, err
	}
	generic.AddPostStartHookOrDie("certstatus-start-secret-source", func(ctx genericapiserver.PostStartHookContext) error {
		go source.Run(ctx)
		go cache.Run(ctx)
		if users != nil {
			// After the Secrets: readiness waits for them alone, and on a
			// small machine the Pod, Ingress and ReplicaSet lists would
			// otherwise compete with their analysis for the same cores.
			go func() {
				if secretsSynced.WaitSynced(ctx) == nil {
					users.Run(ctx)
				}
			}()
		}
		if registrationSource != nil {
			go registrationCache.Run(ctx)
			// After the Secrets: Trusted reads their served chains.
			go func() {
				if secretsSynced.WaitSynced(ctx) == nil {
					registrationSource.Run(ctx)
				}
			}()
		}
		if recorder != nil {
			go recorder.Run(ctx)
		}
		return nil
	})
	return &Server{generic: generic}, nil
}

// newRecorder writes Events with the server's own client configuration. The
// recorder's token bucket paces the writes, so the client's own is off.
func newRecorder(base *restclient.Config, options events.Options) (*events.Recorder, error) {
	config := restclient.CopyConfig(base)
	config.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("events client: %w", err)
	}
	if options.Instance == "" {
		options.Instance, _ = os.Hostname()
	}
	return events.New(client.EventsV1(), clock.RealClock{}, options, metrics.EventMetrics{}), nil
}

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	return s.generic.PrepareRun().RunWithContext(ctx)
}
