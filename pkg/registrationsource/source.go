package registrationsource

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/registrations"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Sink receives analysed registrations (the registrations' cache).
type Sink interface {
	Upsert(item statuscache.Item)
	Delete(namespace, name string)
}

// Resources are what the source reads, for the 503 of a refused read:
// "grant get, list and watch on <Resources>".
const Resources = "apiservices, validatingwebhookconfigurations, mutatingwebhookconfigurations, customresourcedefinitions and clustertrustbundles"

// clusterTrustBundleVersions are tried in order: v1 from Kubernetes 1.37,
// v1beta1 before (when enabled); neither is an error.
var clusterTrustBundleVersions = []string{"v1", "v1beta1"}

// Source watches the registrations, one informer per resource, and feeds
// the sink with each registration's analysis.
type Source struct {
	client    rest.Interface
	discovery discovery.DiscoveryInterface
	options   certificate.Options
	sink      Sink
	state     *sourcesync.State
	trust     *Trust
	observer  Observer
}

// NewSource prepares the source; trust is the sink's decorator, whose
// Service informer Run starts first (and whose Pods it waits for: the Pod
// watch is usedBy's, which the server starts).
func NewSource(config *rest.Config, options certificate.Options, sink Sink, state *sourcesync.State, trust *Trust, observer Observer) (*Source, error) {
	client, err := newRESTClient(config)
	if err != nil {
		return nil, fmt.Errorf("create the registrations' client: %w", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create the discovery client: %w", err)
	}
	return &Source{client: client, discovery: disco, options: options, sink: sink, state: state, trust: trust, observer: observer}, nil
}

// Run starts the Services' informer and waits for it and for the Pods'
// record, then starts the registrations' informers (ClusterTrustBundles
// only while the API serves them), and marks the source synced once their
// initial lists are in the sink.
func (s *Source) Run(ctx context.Context) {
	go s.trust.run(ctx)
	s.trust.cluster.run(ctx)
	var synced []toolscache.InformerSynced
	var informers []toolscache.SharedIndexInformer
	for kind, resource := range s.resources() {
		informer := toolscache.NewSharedIndexInformerWithOptions(listWatch(s.client, resource), &registrations.Object{}, toolscache.SharedIndexInformerOptions{})
		informers = append(informers, informer)
		if err := informer.SetTransform(registrations.Transform); err != nil {
			klog.ErrorS(err, "Cannot watch registrations", "resource", resource.Resource)
			return
		}
		if err := informer.SetWatchErrorHandlerWithContext(s.watchError(resource.Resource)); err != nil {
			klog.ErrorS(err, "Cannot watch registrations", "resource", resource.Resource)
			return
		}
		registration, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    s.apply,
			UpdateFunc: func(_, current any) { s.apply(current) },
			DeleteFunc: s.remove,
		})
		if err != nil {
			klog.ErrorS(err, "Cannot watch registrations", "kind", kind)
			return
		}
		synced = append(synced, registration.HasSynced)
	}
	for _, informer := range informers {
		go informer.RunWithContext(ctx)
	}
	if toolscache.WaitForCacheSync(ctx.Done(), synced...) {
		s.state.MarkSynced()
		klog.InfoS("Registration cache synced")
	}
}

// resources are the registration resources to watch: all four built-in
// ones, and ClusterTrustBundles in the version discovery shows (absent: not
// watched, and not an error).
func (s *Source) resources() map[string]schema.GroupVersionResource {
	resources := map[string]schema.GroupVersionResource{}
	for kind, resource := range registrations.Resources {
		if kind != registrations.KindClusterTrustBundle {
			resources[kind] = resource
		}
	}
	bundles := registrations.Resources[registrations.KindClusterTrustBundle]
	for _, version := range clusterTrustBundleVersions {
		bundles.Version = version
		list, err := s.discovery.ServerResourcesForGroupVersion(bundles.GroupVersion().String())
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if r.Name == bundles.Resource {
				resources[registrations.KindClusterTrustBundle] = bundles
				return resources
			}
		}
	}
	klog.InfoS("ClusterTrustBundles are not served; not watched")
	return resources
}

// watchError counts and reports refused reads (the resource then answers
// 503 naming them until they are allowed); others are logged as usual.
func (s *Source) watchError(resource string) toolscache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *toolscache.Reflector, err error) {
		if !apierrors.IsForbidden(err) {
			toolscache.DefaultWatchErrorHandler(ctx, r, err)
			return
		}
		if s.observer != nil {
			s.observer.ForbiddenRead(resource)
		}
		s.state.Forbidden(err)
	}
}

// apply analyses a registration: an object when some caBundle holds a certificate.
func (s *Source) apply(obj any) {
	r, ok := obj.(*registrations.Registration)
	if !ok {
		return
	}
	key := statuscache.Key{Name: r.ObjectName()}
	analysis, listed := certificate.Analyze(r.AnalysisInput(), s.options)
	if !listed {
		s.sink.Delete("", key.Name)
		s.trust.forget(key, r)
		return
	}
	meta := &metav1.ObjectMeta{Name: key.Name, UID: r.UID, Labels: r.Labels, CreationTimestamp: r.CreationTimestamp}
	s.sink.Upsert(statuscache.Item{Meta: meta, Analysis: newRegistrationAnalysis(analysis, r)})
}

func (s *Source) remove(obj any) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	r, ok := obj.(*registrations.Registration)
	if !ok {
		return
	}
	key := statuscache.Key{Name: r.ObjectName()}
	s.sink.Delete("", key.Name)
	s.trust.forget(key, r)
}
