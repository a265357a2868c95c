// Package apiserver wires the generic Kubernetes API server: it installs the
// certstatus.dev group with one read-only resource per source served
// (--sources), starts the sources and their clocks, and reports readiness
// only once the first source listed has synced.
package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

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
	"github.com/certstatus/certstatus/pkg/configmaps"
	"github.com/certstatus/certstatus/pkg/events"
	"github.com/certstatus/certstatus/pkg/metrics"
	"github.com/certstatus/certstatus/pkg/registrationsource"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/registry/clustercertificatestatus"
	"github.com/certstatus/certstatus/pkg/registry/configmapcertificatestatus"
	"github.com/certstatus/certstatus/pkg/secrets"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
	"github.com/certstatus/certstatus/pkg/usedby"
)

// The sources (--sources): each one is the pipeline of one resource.
const (
	SourceSecrets       = "secrets"
	SourceConfigMaps    = "configmaps"
	SourceRegistrations = "registrations"
)

// SourceNames are the sources, in their default order (the first listed is
// the one readiness waits for).
var SourceNames = []string{SourceSecrets, SourceConfigMaps, SourceRegistrations}

// Config is everything the server needs.
type Config struct {
	Generic *genericapiserver.RecommendedConfig
	// Sources are the sources served (--sources), each its resource;
	// readiness waits for the first one only. A source not listed is not
	// served at all (absent from discovery).
	Sources []string
	// Analysis options: the expiring-soon threshold and fraction.
	Analysis certificate.Options
	// Namespaces limits the watched Secrets and ConfigMaps; empty means all namespaces.
	Namespaces []string
	Cache      statuscache.Options
	// X509ExporterMetrics adds the x509-certificate-exporter compatible series to /metrics.
	X509ExporterMetrics bool
	// Events, when set, records an Event on every state change (--events).
	Events *events.Options
	// UsedBy selects who is watched to fill status.usedBy (--used-by);
	// none turns usedBy off, with no extra informers or RBAC.
	UsedBy usedby.Kinds
}

// Server is a prepared certstatus API server.
type Server struct {
	generic *genericapiserver.GenericAPIServer
}

// instance is one source's pipeline as the server wires it: source →
// cache → storage, metrics, Events (docs/design.md, "One pipeline per source").
type instance struct {
	// resource is what it serves, computed from objects named from (e.g.
	// Secret); state is its source's synced state.
	resource, from string
	state          *sourcesync.State
	storage        rest.Storage
	// metrics are its certificate families; health, its cache's stats
	// (the Secrets' only) and informers, exported.
	metrics   metrics.Source
	health    metrics.HealthSource
	informers []metrics.Informer
	// run starts its source and cache; after runs once the first source
	// has synced (other work that would compete with it for the cores).
	run, after func(ctx context.Context)
}

// wiring is what every instance is built from.
type wiring struct {
	config         *Config
	informerConfig *restclient.Config
	observer       metrics.SourceMetrics
	// recorder (nil without --events) is subscribed to by every cache
	// before its source starts, so that the initial objects arrive as Added.
	recorder *events.Recorder
	// secretCache is the Secret instance's cache, which registrations
	// read: Trusted needs the Secrets' served chains. Built before them
	// (SourceNames' order), never the reverse.
	secretCache *statuscache.Cache
	// usedBy is the index of who uses Secrets and ConfigMaps, fed by users
	// (both nil without usedBy): built before every instance, it decorates
	// the Secret and ConfigMap caches, which secretRebuilds and
	// configMapRebuilds (nil when that cache has no usedBy) bind, and a
	// serving Secret's usedBy names the registration.
	usedBy                            *usedby.Index
	users                             *usedby.Sources
	secretRebuilds, configMapRebuilds *statuscache.Rebuilds
	// trustedPods (nil without registrations) is what the registrations'
	// Trusted keeps of the Pods that mount Secrets, fed by users' one Pod
	// watch, which runs for it even with usedBy's Pod kind off.
	trustedPods *registrationsource.Pods
	// usersStarted starts users once: after the first decorated source has
	// synced, or when the registrations start.
	usersStarted sync.Once
}

// newUsedBy builds the usedBy index and its sources (--used-by) for the
// decorated sources served: Secrets use every kind, ConfigMaps only Pods.
// No index is built when no served source would show it, and a kind only
// Secrets use is not watched when Secrets are not served. With the
// registrations served, the sources' one Pod watch also feeds their
// Trusted (trustedPods), and runs for it alone when usedBy counts no Pods.
func (w *wiring) newUsedBy() error {
	config := w.config
	secrets := slices.Contains(config.Sources, SourceSecrets)
	configMaps := slices.Contains(config.Sources, SourceConfigMaps) && config.UsedBy.Pod
	var pods usedby.PodListener // a nil *Pods would not be a nil listener
	if slices.Contains(config.Sources, SourceRegistrations) {
		w.trustedPods = registrationsource.NewPods(config.Namespaces)
		pods = w.trustedPods
	}
	kinds := config.UsedBy
	if !secrets {
		kinds = usedby.Kinds{Pod: kinds.Pod}
	}
	if !kinds.Any() || !secrets && !configMaps {
		kinds = usedby.Kinds{}
	}
	if !kinds.Any() && pods == nil {
		return nil
	}
	clients, err := usedby.NewClients(w.informerConfig)
	if err != nil {
		return err
	}
	if !kinds.Any() {
		// The Pod watch for the registrations alone: no index, nothing
		// counted into usedBy.
		w.users, err = usedby.NewSources(clients, kinds, config.Namespaces, nil, pods, w.observer)
		return err
	}
	// A signal no cache binds would keep its keys forever: none then.
	var secretsChanged, configMapsChanged func([]usedby.SecretRef)
	if secrets {
		w.secretRebuilds = statuscache.NewRebuilds()
		secretsChanged = usedby.RebuildKeys(w.secretRebuilds)
	}
	if configMaps {
		w.configMapRebuilds = statuscache.NewRebuilds()
		configMapsChanged = usedby.RebuildKeys(w.configMapRebuilds)
	}
	w.usedBy = usedby.NewIndexWithConfigMaps(secretsChanged, configMapsChanged)
	w.users, err = usedby.NewSources(clients, kinds, config.Namespaces, w.usedBy, pods, w.observer)
	return err
}

// runUsedBy starts the usedBy sources once state (a decorated source's)
// has synced, if no other source started them first: on a small machine
// the Pod, Ingress and ReplicaSet lists would otherwise compete with the
// analyses.
func (w *wiring) runUsedBy(ctx context.Context, state *sourcesync.State) {
	if state.WaitSynced(ctx) == nil {
		w.startUsers(ctx)
	}
}

// startUsers starts the usedBy sources (and so the one Pod watch) unless
// they run already.
func (w *wiring) startUsers(ctx context.Context) {
	w.usersStarted.Do(func() { w.users.Run(ctx) })
}

// usedByInformers are the usedBy informers, exported (readiness waits for
// none of them).
func (w *wiring) usedByInformers() []metrics.Informer {
	if w.users == nil {
		return nil
	}
	var informers []metrics.Informer
	for _, resource := range w.users.Resources() {
		informers = append(informers, metrics.Informer{Resource: resource, HasSynced: func() bool { return w.users.Synced()[resource] }})
	}
	return informers
}

// instances are the sources this server can serve, by name. A new source
// is one more entry: its adapter, its kind and this wiring.
var instances = map[string]func(w *wiring) (*instance, error){
	SourceSecrets:       secretInstance,
	SourceConfigMaps:    configMapInstance,
	SourceRegistrations: registrationInstance,
}

// New builds the server: the group, the storage of every source listed, and
// the hooks that start them.
//
// The parts are wired by their constructors, in the one direction data
// flows (docs/design.md, "One pipeline per source"): the usedBy sources feed
// the index, the index decorates the cache and signals the keys to rebuild,
// each source feeds its cache, and the storage, metrics and Events read the
// caches. Nothing is set after construction.
func New(config *Config) (*Server, error) {
	// Uncompressed: kube-apiserver gzips large responses (list pages too),
	// and on the cluster network compressing and inflating every Secret at
	// start-up cost both servers more CPU than the bytes it saves (a tenth
	// of certstatus's start-up CPU at 10 000 Secrets).
	informerConfig := restclient.CopyConfig(config.Generic.ClientConfig)
	informerConfig.DisableCompression = true
	w := &wiring{config: config, informerConfig: informerConfig}
	if config.Events != nil {
		var err error
		w.recorder, err = newRecorder(config.Generic.ClientConfig, *config.Events)
		if err != nil {
			return nil, err
		}
	}
	if err := w.newUsedBy(); err != nil {
		return nil, err
	}

	// Built in the order their dependencies demand (SourceNames: Secrets
	// before the registrations that read them), served in the order listed
	// (the first is the one readiness waits for).
	built := map[string]*instance{}
	for _, name := range SourceNames {
		if !slices.Contains(config.Sources, name) {
			continue
		}
		i, err := instances[name](w)
		if err != nil {
			return nil, err
		}
		built[name] = i
	}
	var served []*instance
	for _, name := range config.Sources {
		if i, ok := built[name]; ok {
			served = append(served, i)
		}
	}
	if len(served) == 0 {
		return nil, fmt.Errorf("no source to serve among %v", config.Sources)
	}

	storage := map[string]rest.Storage{}
	computedFrom := map[string]string{}
	var families []metrics.Source
	informers := w.usedByInformers()
	var health metrics.HealthSource = noHealth{}
	for _, i := range served {
		storage[i.resource] = i.storage
		computedFrom[i.resource] = i.from
		if i.metrics.Kind != nil { // a kind without certificate families yet exports none
			families = append(families, i.metrics)
		}
		informers = append(informers, i.informers...)
		if i.health != nil {
			health = i.health
		}
	}
	certificates := metrics.NewCertificates(clock.RealClock{}, config.X509ExporterMetrics, families...)
	config.Generic.BuildHandlerChainFunc = func(handler http.Handler, c *genericapiserver.Config) http.Handler {
		// Inside authentication and authorization: /metrics stays behind
		// delegated authorization, as the generic server's own metrics are.
		return genericapiserver.DefaultBuildHandlerChain(metrics.WithCertificates(readOnly(compressReads(handler), computedFrom), certificates), c)
	}
	generic, err := config.Generic.Complete().New("certstatus-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	if err := metrics.RegisterHealth(health, informers...); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}

	group := apiGroupInfo()
	group.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = storage
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, err
	}

	// Readiness waits for the first source only: another source whose
	// reads are forbidden never holds the server back.
	first := served[0]
	if err := generic.AddReadyzChecks(healthz.NamedCheck("certstatus-"+first.state.Resource()+"-synced", func(*http.Request) error {
		if !first.state.HasSynced() {
			return fmt.Errorf("the %s cache has not synced yet", first.state.Resource())
		}
		return nil
	})); err != nil {
		return nil, err
	}
	generic.AddPostStartHookOrDie("certstatus-start-sources", func(ctx genericapiserver.PostStartHookContext) error {
		go first.run(ctx)
		go func() {
			// The other sources, and work that would compete with the first
			// source's analysis for the same cores, start once it has
			// synced, or after firstSourceGrace if it cannot (its reads
			// refused): no source waits for another's readiness.
			waitCtx, cancel := context.WithTimeout(ctx, firstSourceGrace)
			_ = first.state.WaitSynced(waitCtx)
			cancel()
			for _, i := range served[1:] {
				go i.run(ctx)
			}
			for _, i := range served {
				if i.after != nil {
					go i.after(ctx)
				}
			}
		}()
		if w.recorder != nil {
			go w.recorder.Run(ctx)
		}
		return nil
	})
	return &Server{generic: generic}, nil
}

// firstSourceGrace is how long the other sources wait for the first one
// to sync before they start anyway.
const firstSourceGrace = 30 * time.Second

// secretInstance is Secrets → certificatestatuses, with usedBy.
func secretInstance(w *wiring) (*instance, error) {
	config := w.config
	// usedBy: who serves or mounts each Secret. Its sources depend on no
	// other; the Secret cache depends on them through the index.
	var usedBySynced func() bool
	var decorator statuscache.Decorator // none without usedBy
	if w.secretRebuilds != nil {
		// certstatus_secret_used is written once every usedBy informer has synced.
		usedBySynced = w.users.AllSynced
		decorator = w.usedBy
	}

	state := sourcesync.New("secrets", w.observer)
	cache := statuscache.NewDecorated(clock.RealClock{}, config.Cache, decorator, w.secretRebuilds)
	source, err := secrets.NewSource(w.informerConfig, config.Namespaces, config.Analysis, cache, state, w.observer)
	if err != nil {
		return nil, err
	}
	w.secretCache = cache
	if w.recorder != nil {
		cache.Subscribe(w.recorder.Observe)
	}
	i := &instance{
		resource:  "certificatestatuses",
		from:      "Secret",
		state:     state,
		storage:   certificatestatus.NewREST(cache, state),
		metrics:   metrics.Source{Kind: metrics.SecretKind, Items: cache, UsedSynced: usedBySynced},
		health:    cache,
		informers: []metrics.Informer{{Resource: "secrets", HasSynced: source.HasSynced}},
		run: func(ctx context.Context) {
			go cache.Run(ctx)
			source.Run(ctx)
		},
	}
	if w.secretRebuilds != nil {
		i.after = func(ctx context.Context) { w.runUsedBy(ctx, state) }
	}
	return i, nil
}

// configMapInstance is ConfigMaps → configmapcertificatestatuses, with
// usedBy when Pods are watched (--used-by Pod): the Pods mounting each
// ConfigMap, by workload, from the same Pod watch as the Secrets'.
func configMapInstance(w *wiring) (*instance, error) {
	var usedBySynced func() bool
	var decorator statuscache.Decorator // none without usedBy
	if w.configMapRebuilds != nil {
		// certstatus_configmap_used is written once the Pods and their
		// owners have synced: only Pods use ConfigMaps.
		usedBySynced = w.users.PodsSynced
		decorator = w.usedBy.ConfigMaps()
	}
	state := sourcesync.New("configmaps", w.observer)
	cache := statuscache.NewOf[certstatus.ConfigMapCertificateStatus, *certstatus.ConfigMapCertificateStatus](
		statuscache.ConfigMapCertificateStatuses, clock.RealClock{}, w.config.Cache, decorator, w.configMapRebuilds)
	source, err := configmaps.NewSource(w.informerConfig, w.config.Namespaces, w.config.Analysis, cache, state)
	if err != nil {
		return nil, err
	}
	if w.recorder != nil {
		cache.Subscribe(events.Subscriber(w.recorder, events.ConfigMapKind, statuscache.ConfigMapCertificateStatuses))
	}
	i := &instance{
		resource:  "configmapcertificatestatuses",
		from:      "ConfigMap",
		state:     state,
		storage:   configmapcertificatestatus.NewREST(cache, state),
		metrics:   metrics.Source{Kind: metrics.ConfigMapKind, Items: cache, UsedSynced: usedBySynced},
		informers: []metrics.Informer{{Resource: "configmaps", HasSynced: source.HasSynced}},
		run: func(ctx context.Context) {
			go cache.Run(ctx)
			source.Run(ctx)
		},
	}
	if w.configMapRebuilds != nil {
		i.after = func(ctx context.Context) { w.runUsedBy(ctx, state) }
	}
	return i, nil
}

// registrationInstance is API registrations → clustercertificatestatuses.
// Trusted reads the Secret cache (the served chains of serving Secrets),
// so the Secret source must be served too (validated with the flags).
func registrationInstance(w *wiring) (*instance, error) {
	if w.secretCache == nil {
		return nil, fmt.Errorf("the %s source needs the %s source: Trusted reads the Secrets' served chains", SourceRegistrations, SourceSecrets)
	}
	rebuilds := statuscache.NewRebuilds()
	trust, err := registrationsource.NewTrust(w.informerConfig, w.secretCache, w.trustedPods, w.usedBy, rebuilds, w.config.Analysis, w.observer)
	if err != nil {
		return nil, err
	}
	cache := statuscache.NewOf[certstatus.ClusterCertificateStatus](statuscache.ClusterCertificateStatuses, clock.RealClock{}, w.config.Cache, trust, rebuilds)
	state := sourcesync.New(registrationsource.Resources, w.observer)
	source, err := registrationsource.NewSource(w.informerConfig, w.config.Analysis, cache, state, trust, w.observer)
	if err != nil {
		return nil, err
	}
	if w.recorder != nil {
		cache.Subscribe(events.Subscriber(w.recorder, events.RegistrationKind, statuscache.ClusterCertificateStatuses))
	}
	return &instance{
		resource:  "clustercertificatestatuses",
		from:      "API registration",
		state:     state,
		storage:   clustercertificatestatus.NewREST(cache, state),
		metrics:   metrics.Source{Kind: metrics.RegistrationKind, Items: cache},
		informers: []metrics.Informer{{Resource: "registrations", HasSynced: state.HasSynced}},
		run: func(ctx context.Context) {
			go cache.Run(ctx)
			// Trusted needs the Pods: their watch starts now if usedBy
			// has not started it (the source waits for their list).
			w.startUsers(ctx)
			source.Run(ctx)
		},
	}, nil
}

// noHealth is the cache health of a server without the Secret source.
type noHealth struct{}

func (noHealth) Stats() statuscache.Stats { return statuscache.Stats{} }

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
