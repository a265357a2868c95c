package usedby

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Kinds are the sources --used-by turns on.
type Kinds struct {
	// Ingress watches Ingresses (TLS Secrets and ingress-nginx's client CA).
	Ingress bool
	// Gateway watches Gateway API Gateways and ListenerSets, and Istio
	// Gateways, while their CRDs exist.
	Gateway bool
	// Pod watches Pods, and the metadata of ReplicaSets and Jobs to report
	// Pods by their Deployment or CronJob.
	Pod bool
}

// KindNames are the values --used-by accepts.
var KindNames = []string{"Ingress", "Gateway", "Pod"}

// ParseKinds reads --used-by's values; none turns the feature off.
func ParseKinds(values []string) (Kinds, error) {
	var kinds Kinds
	for _, value := range values {
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "":
		case "ingress":
			kinds.Ingress = true
		case "gateway":
			kinds.Gateway = true
		case "pod":
			kinds.Pod = true
		default:
			return Kinds{}, fmt.Errorf("--used-by: unknown kind %q (supported: %s)", value, strings.Join(KindNames, ", "))
		}
	}
	return kinds, nil
}

// Any tells whether some source is on.
func (k Kinds) Any() bool { return k.Ingress || k.Gateway || k.Pod }

// Resources that are watched only while discovery shows them.
var (
	gatewaysResource     = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	listenerSetsResource = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "listenersets"}
	istioGroup           = "networking.istio.io"
	replicaSetsResource  = appsv1.SchemeGroupVersion.WithResource("replicasets")
	jobsResource         = batchv1.SchemeGroupVersion.WithResource("jobs")
)

// DefaultDiscoveryInterval is how often the Gateway CRDs are looked for:
// an installed or removed CRD is noticed within it.
const DefaultDiscoveryInterval = 30 * time.Second

// Sources runs the informers of the kinds that use Secrets and feeds the
// index. Every informer is shared by all requests, and its transform keeps
// only names, hosts, owners and counts. It also runs the one Pod watch
// whose views a PodListener hears (the API registrations' Trusted
// condition), with Pod on or not: then the Pods are watched for the
// listener alone and nothing of them is kept or indexed here.
type Sources struct {
	kinds      Kinds
	namespaces []string
	index      *Index
	pods       PodListener

	client    kubernetes.Interface
	metadata  metadata.Interface
	dynamic   dynamic.Interface
	discovery discovery.DiscoveryInterface
	// DiscoveryInterval is how often CRDs are looked for (tests shorten it).
	DiscoveryInterval time.Duration

	static []watched
	// podFeeds are the Pod reflectors run for the listener alone (Pod
	// off): not usedBy's, so not in Synced.
	podFeeds []watched

	mu               sync.Mutex
	dynamicResources map[schema.GroupResource]*running
	logged           map[string]bool
	observer         Observer
}

// Observer counts reads RBAC refused (pkg/metrics implements it).
type Observer interface {
	ForbiddenRead(resource string)
}

// watched is an informer (or the Pods' reflector) and what it watches.
type watched struct {
	resource string
	run      func(context.Context)
	synced   toolscache.InformerSynced
}

// running are the informers of one discovered resource.
type running struct {
	resource  schema.GroupVersionResource
	kind      string
	cancel    context.CancelFunc
	informers []watched
	// mu and stopped keep a stopping informer's late events out of the index.
	mu      sync.Mutex
	stopped bool
}

// Clients are what Sources reads with.
type Clients struct {
	// Kube speaks protobuf (Ingresses, Pods).
	Kube      kubernetes.Interface
	Metadata  metadata.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
}

// NewClients makes the clients of config.
func NewClients(config *rest.Config) (Clients, error) {
	protobuf := rest.CopyConfig(config)
	protobuf.ContentType = runtime.ContentTypeProtobuf
	protobuf.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	client, err := kubernetes.NewForConfig(protobuf)
	if err != nil {
		return Clients{}, fmt.Errorf("create the usedBy client: %w", err)
	}
	metadataClient, err := metadata.NewForConfig(config)
	if err != nil {
		return Clients{}, fmt.Errorf("create the usedBy metadata client: %w", err)
	}
	dynamicClient, err := dynamic.NewForConfig(config)
	if err != nil {
		return Clients{}, fmt.Errorf("create the usedBy dynamic client: %w", err)
	}
	return Clients{Kube: client, Metadata: metadataClient, Dynamic: dynamicClient, Discovery: client.Discovery()}, nil
}

// NewSources prepares the informers of kinds in namespaces (none: all),
// feeding index (nil only when no kind is on). pods (nil: none) hears the
// Pods that mount Secrets from the same Pod watch; with pods set and Pod
// off, Pods are watched for it alone. Refused reads are counted through
// observer.
func NewSources(clients Clients, kinds Kinds, namespaces []string, index *Index, pods PodListener, observer Observer) (*Sources, error) {
	if kinds.Any() && index == nil {
		return nil, fmt.Errorf("usedBy sources %+v without an index", kinds)
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	client, metadataClient := clients.Kube, clients.Metadata
	s := &Sources{
		kinds: kinds, namespaces: namespaces, index: index, pods: pods, observer: observer,
		client: client, metadata: metadataClient, dynamic: clients.Dynamic, discovery: clients.Discovery,
		DiscoveryInterval: DefaultDiscoveryInterval,
		dynamicResources:  map[schema.GroupResource]*running{},
		logged:            map[string]bool{},
	}
	owners := map[string][]toolscache.SharedIndexInformer{}
	if index != nil {
		index.setControllerOf(func(kind, namespace, name string) (podOwner, bool) {
			for _, informer := range owners[kind] {
				obj, ok, _ := informer.GetStore().GetByKey(namespace + "/" + name)
				if o, isOwner := obj.(*keptOwner); ok && isOwner && o.controllerKind != "" {
					return newPodOwner(o.controllerKind, o.controllerName), true
				}
			}
			return podOwner{}, false
		})
	}
	for _, namespace := range namespaces {
		if kinds.Ingress {
			s.static = append(s.static, s.ingressReflector(client, namespace))
		}
		if !kinds.Pod && pods != nil {
			s.podFeeds = append(s.podFeeds, s.podReflector(client, namespace, nil))
		}
		if kinds.Pod {
			s.static = append(s.static, s.podReflector(client, namespace, newPodStore(index.putPod)))
			for _, owner := range []discovered{{replicaSetsResource, "ReplicaSet"}, {jobsResource, "Job"}} {
				informer := metadatainformer.NewFilteredMetadataInformer(metadataClient, owner.resource, namespace, 0, nil, nil).Informer()
				owners[owner.kind] = append(owners[owner.kind], informer)
				if err := s.add(&s.static, owner.resource.Resource, informer, ownerTransform(owner.kind), s.ownerHandler(owner.kind)); err != nil {
					return nil, err
				}
			}
		}
	}
	return s, nil
}

// add configures one informer and appends it to list.
func (s *Sources) add(list *[]watched, resource string, informer toolscache.SharedIndexInformer, transform toolscache.TransformFunc, handler toolscache.ResourceEventHandler) error {
	if err := informer.SetTransform(transform); err != nil {
		return fmt.Errorf("set the %s transform: %w", resource, err)
	}
	if err := informer.SetWatchErrorHandlerWithContext(s.watchErrorHandler(resource)); err != nil {
		return fmt.Errorf("set the %s watch error handler: %w", resource, err)
	}
	registration, err := informer.AddEventHandler(handler)
	if err != nil {
		return fmt.Errorf("watch %s: %w", resource, err)
	}
	*list = append(*list, watched{resource: resource, run: informer.RunWithContext, synced: registration.HasSynced})
	return nil
}

// watchErrorHandler counts lists and watches RBAC refuses and logs the
// first refusal of each resource once: a missing permission is an
// operator's choice (usedBy then lacks that kind), not a failure.
func (s *Sources) watchErrorHandler(resource string) toolscache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, r *toolscache.Reflector, err error) {
		if !apierrors.IsForbidden(err) {
			toolscache.DefaultWatchErrorHandler(ctx, r, err)
			return
		}
		s.forbidden(resource, err)
	}
}

// forbidden counts a read RBAC refused and logs the first of each resource.
func (s *Sources) forbidden(resource string, err error) {
	if s.observer != nil {
		s.observer.ForbiddenRead(resource)
	}
	s.mu.Lock()
	first := !s.logged[resource]
	s.logged[resource] = true
	s.mu.Unlock()
	if !first {
		return
	}
	switch {
	case resource == "pods" && s.pods != nil && !s.kinds.Pod:
		klog.InfoS("Not allowed to list or watch; the Trusted condition of registrations that need them stays Unknown until RBAC allows it", "resource", resource, "err", err)
	case resource == "pods" && s.pods != nil:
		klog.InfoS("Not allowed to list or watch; usedBy will not show them, and the Trusted condition of registrations that need them stays Unknown, until RBAC allows it", "resource", resource, "err", err)
	default:
		klog.InfoS("Not allowed to list or watch; usedBy will not show them until RBAC allows it", "resource", resource, "err", err)
	}
}

// forbiddenRetry is how long a refused list waits before trying again.
var forbiddenRetry = 30 * time.Second

// reflector watches one resource into a store of its own (objectStore),
// which is the only copy of its kept objects: a shared informer would keep
// a second "namespace/name" key and map slot per object. A bare reflector
// has no watch error handler to set, so a list RBAC refuses is counted,
// logged once and retried here (never returned: the reflector would log
// every retry); refused (nil: none) hears each refusal too.
func (s *Sources) reflector(client kubernetes.Interface, resource string, expected runtime.Object, store toolscache.ReflectorStore, synced func() bool, refused func(),
	list func(context.Context, metav1.ListOptions) (runtime.Object, error), watchFunc func(context.Context, metav1.ListOptions) (watch.Interface, error)) watched {
	forbidden := func(err error) {
		s.forbidden(resource, err)
		if refused != nil {
			refused()
		}
	}
	// wait counts and logs a refusal, then waits to try again.
	wait := func(ctx context.Context, err error) error {
		forbidden(err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(forbiddenRetry):
			return nil
		}
	}
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			for {
				list, err := list(ctx, options)
				if !apierrors.IsForbidden(err) {
					return list, err
				}
				if err := wait(ctx, err); err != nil {
					return nil, err
				}
			}
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			for {
				w, err := watchFunc(ctx, options)
				if !apierrors.IsForbidden(err) {
					return w, err
				}
				// A streaming list (the initial list) waits like a list; a
				// plain watch returns the error and the reflector lists again.
				if options.SendInitialEvents == nil || !*options.SendInitialEvents {
					forbidden(err)
					return w, err
				}
				if err := wait(ctx, err); err != nil {
					return nil, err
				}
			}
		},
	}
	// As client-go's informers do: fake clients cannot stream lists.
	reflector := toolscache.NewReflectorWithOptions(toolscache.ToListWatcherWithWatchListSemantics(lw, client), expected, store,
		toolscache.ReflectorOptions{Name: "usedby/" + resource, TypeDescription: fmt.Sprintf("%T", expected)})
	return watched{resource: resource, run: reflector.RunWithContext, synced: synced}
}

// podReflector is the one watch of namespace's Pods: it feeds store (nil
// when usedBy does not count Pods) and the Pod listener (if any).
func (s *Sources) podReflector(client kubernetes.Interface, namespace string, store *objectStore[*keptPod, podFields]) watched {
	feed := newPodFeed(namespace, store, s.pods)
	var refused func()
	if s.pods != nil {
		refused = func() { s.pods.PodsRefused(namespace) }
	}
	pods := client.CoreV1().Pods(namespace)
	return s.reflector(client, "pods", &corev1.Pod{}, feed, feed.synced.Load, refused,
		func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			return pods.List(ctx, options)
		},
		pods.Watch)
}

// ingressReflector watches Ingresses into their store.
func (s *Sources) ingressReflector(client kubernetes.Interface, namespace string) watched {
	store := newServingStore(transformIngress, s.index.putServing)
	ingresses := client.NetworkingV1().Ingresses(namespace)
	return s.reflector(client, "ingresses", &networkingv1.Ingress{}, store, store.synced.Load, nil,
		func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			return ingresses.List(ctx, options)
		},
		ingresses.Watch)
}

// Run starts the informers and, with Gateway on, follows the CRDs until ctx ends.
func (s *Sources) Run(ctx context.Context) {
	for _, w := range slices.Concat(s.static, s.podFeeds) {
		go w.run(ctx)
	}
	if !s.kinds.Gateway {
		return
	}
	go func() {
		ticker := time.NewTicker(s.DiscoveryInterval)
		defer ticker.Stop()
		for {
			s.discover(ctx)
			select {
			case <-ctx.Done():
				s.stopAll()
				return
			case <-ticker.C:
			}
		}
	}()
}

// Synced lists the informers and whether each has synced, for metrics. A
// Gateway kind whose CRD is absent is not listed.
func (s *Sources) Synced() map[string]bool {
	synced := map[string]bool{}
	note := func(w watched) {
		if done, seen := synced[w.resource]; !seen || done {
			synced[w.resource] = w.synced()
		}
	}
	for _, w := range s.static {
		note(w)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.dynamicResources {
		for _, w := range r.informers {
			note(w)
		}
	}
	return synced
}

// AllSynced tells whether every informer has delivered its initial list
// to the index, so that an empty usedBy means "unused" rather than "not
// known yet" (certstatus_secret_used).
func (s *Sources) AllSynced() bool {
	synced := s.Synced()
	for _, done := range synced {
		if !done {
			return false
		}
	}
	return len(synced) > 0
}

// PodsSynced tells whether the Pods and their owners' metadata have
// delivered their initial lists, so that a ConfigMap's empty usedBy (only
// Pods use ConfigMaps) means "unused" (certstatus_configmap_used).
func (s *Sources) PodsSynced() bool {
	synced := s.Synced()
	for _, resource := range []string{"pods", replicaSetsResource.Resource, jobsResource.Resource} {
		if !synced[resource] {
			return false
		}
	}
	return true
}

// discover starts the informers of the Gateway kinds that discovery shows
// and stops those of kinds it no longer shows. A discovery error changes
// nothing: a flaky API server must not empty usedBy.
func (s *Sources) discover(ctx context.Context) {
	wanted := map[schema.GroupResource]discovered{}
	known := true
	if resources, err := s.discovery.ServerResourcesForGroupVersion(gatewaysResource.GroupVersion().String()); err == nil {
		for _, r := range resources.APIResources {
			switch r.Name {
			case gatewaysResource.Resource:
				wanted[gatewaysResource.GroupResource()] = discovered{gatewaysResource, KindGateway}
			case listenerSetsResource.Resource:
				wanted[listenerSetsResource.GroupResource()] = discovered{listenerSetsResource, KindListenerSet}
			}
		}
	} else if !apierrors.IsNotFound(err) {
		known = false
		klog.V(2).InfoS("Gateway API discovery failed; keeping the current informers", "err", err)
	}
	if istio, err := s.istioGateways(); err == nil {
		if istio != nil {
			wanted[istio.GroupResource()] = discovered{*istio, KindIstioGateway}
		}
	} else {
		known = false
		klog.V(2).InfoS("Istio discovery failed; keeping the current informers", "err", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if known {
		for groupResource, r := range s.dynamicResources {
			if w, ok := wanted[groupResource]; !ok || w.resource != r.resource {
				s.stop(groupResource, r)
			}
		}
	}
	for groupResource, w := range wanted {
		if _, ok := s.dynamicResources[groupResource]; ok {
			continue
		}
		if err := s.start(ctx, groupResource, w.resource, w.kind); err != nil {
			klog.ErrorS(err, "Cannot watch", "resource", groupResource.String())
		}
	}
}

// discovered is a resource discovery shows, with the kind usedBy reports.
type discovered struct {
	resource schema.GroupVersionResource
	kind     string
}

// istioGateways is the preferred version of Istio's gateways, nil when
// Istio's CRDs are absent.
func (s *Sources) istioGateways() (*schema.GroupVersionResource, error) {
	groups, err := s.discovery.ServerGroups()
	if err != nil {
		return nil, err
	}
	for _, group := range groups.Groups {
		if group.Name != istioGroup {
			continue
		}
		resources, err := s.discovery.ServerResourcesForGroupVersion(group.PreferredVersion.GroupVersion)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, r := range resources.APIResources {
			if r.Name == "gateways" {
				return &schema.GroupVersionResource{Group: istioGroup, Version: group.PreferredVersion.Version, Resource: "gateways"}, nil
			}
		}
	}
	return nil, nil
}

// start runs the informers of one discovered resource. Called with s.mu held.
func (s *Sources) start(ctx context.Context, groupResource schema.GroupResource, resource schema.GroupVersionResource, kind string) error {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{resource: resource, kind: kind, cancel: cancel}
	transform := gatewayTransform(kind)
	if kind == KindIstioGateway {
		transform = transformIstioGateway
	}
	for _, namespace := range s.namespaces {
		informer := dynamicinformer.NewFilteredDynamicInformer(s.dynamic, resource, namespace, 0, nil, nil).Informer()
		if err := s.add(&r.informers, groupResource.String(), informer, transform, s.servingHandler(kind, r)); err != nil {
			cancel()
			return err
		}
	}
	s.dynamicResources[groupResource] = r
	for _, w := range r.informers {
		go w.run(ctx)
	}
	klog.InfoS("Watching for usedBy", "resource", groupResource.String(), "version", resource.Version)
	return nil
}

// stop ends one resource's informers and forgets its objects: its CRD is
// gone. Called with s.mu held.
func (s *Sources) stop(groupResource schema.GroupResource, r *running) {
	r.cancel()
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	delete(s.dynamicResources, groupResource)
	s.index.forgetKind(r.kind)
	klog.InfoS("Stopped watching for usedBy: the resource is gone", "resource", groupResource.String())
}

func (s *Sources) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for groupResource, r := range s.dynamicResources {
		r.cancel()
		delete(s.dynamicResources, groupResource)
	}
}

// keyOf is the namespace and name of an informer's object or tombstone.
func keyOf(kind string, obj interface{}) (objectKey, interface{}, bool) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		klog.ErrorS(err, "Unexpected object from an informer", "kind", kind, "type", fmt.Sprintf("%T", obj))
		return objectKey{}, nil, false
	}
	return objectKey{kind: kind, namespace: m.GetNamespace(), name: m.GetName()}, obj, true
}

// handlerFuncs hands put the previous and the current version of each
// object (nil for none), as the informer's store had and has them.
func handlerFuncs(kind string, put func(key objectKey, old, current interface{})) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if key, obj, ok := keyOf(kind, obj); ok {
				put(key, nil, obj)
			}
		},
		UpdateFunc: func(old, obj interface{}) {
			if key, obj, ok := keyOf(kind, obj); ok {
				put(key, old, obj)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if key, obj, ok := keyOf(kind, obj); ok {
				put(key, obj, nil)
			}
		},
	}
}

// servingHandler feeds serving objects of kind to the index; r, when set,
// is the running resource whose events count only until it stops.
func (s *Sources) servingHandler(kind string, r *running) toolscache.ResourceEventHandler {
	return handlerFuncs(kind, func(_ objectKey, old, current interface{}) {
		before, _ := old.(*servingObject)
		after, _ := current.(*servingObject)
		if r != nil {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.stopped {
				return
			}
		}
		s.index.putServing(before, after)
	})
}

func (s *Sources) ownerHandler(kind string) toolscache.ResourceEventHandler {
	return handlerFuncs(kind, func(_ objectKey, old, current interface{}) {
		before, _ := old.(*keptOwner)
		after, _ := current.(*keptOwner)
		if before != nil || after != nil {
			s.index.ownerChanged(before, after)
		}
	})
}

// Resources lists what the running informers watch, sorted (for logs and tests).
func (s *Sources) Resources() []string {
	synced := s.Synced()
	names := make([]string, 0, len(synced))
	for name := range synced {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
