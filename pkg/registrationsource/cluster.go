package registrationsource

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/registrations"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Secrets is what Trusted reads of the Secret cache: items, never objects,
// and the changes (only to know when to look again).
type Secrets interface {
	Item(namespace, name string) (statuscache.Item, bool)
	Items() []statuscache.Item
	Subscribe(listener func(statuscache.Change))
}

// Observer counts reads RBAC refused (pkg/metrics implements it).
type Observer interface {
	ForbiddenRead(resource string)
}

// cluster is registrations.Cluster answered from the Secret cache and from
// Service and Pod informers of its own. The Pod informer is not usedBy's:
// usedBy keeps no labels or phase (≈ 64 B a Pod), and adding them there
// would cost every Pod of the cluster for the few Services registrations
// name. This one lists only Pods that are not finished and keeps their
// name, labels, phase and mounted Secret names.
type cluster struct {
	secrets  Secrets
	services toolscache.SharedIndexInformer
	pods     toolscache.SharedIndexInformer
	synced   []toolscache.InformerSynced
	// refused is set once a Service or Pod read was refused: the source
	// then stops waiting for them (Trusted is Unknown where they decide).
	refused  atomic.Bool
	observer Observer
}

var _ registrations.Cluster = &cluster{}

// newCluster prepares the Service and Pod informers; changed hears every
// change that can alter a serving Secret.
func newCluster(config *rest.Config, secrets Secrets, observer Observer, changed func()) (*cluster, error) {
	config = rest.CopyConfig(config)
	config.ContentType = runtime.ContentTypeProtobuf
	config.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create the Service and Pod client: %w", err)
	}
	c := &cluster{secrets: secrets, observer: observer}
	services := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(keepService))
	pods := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(keepPod),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = "status.phase!=Succeeded,status.phase!=Failed"
		}))
	c.services = services.Core().V1().Services().Informer()
	c.pods = pods.Core().V1().Pods().Informer()
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { changed() },
		UpdateFunc: func(old, current any) {
			if !reflect.DeepEqual(old, current) {
				changed()
			}
		},
		DeleteFunc: func(any) { changed() },
	}
	for resource, informer := range map[string]toolscache.SharedIndexInformer{"services": c.services, "pods": c.pods} {
		if err := informer.SetWatchErrorHandlerWithContext(c.watchError(resource)); err != nil {
			return nil, err
		}
		registration, err := informer.AddEventHandler(handler)
		if err != nil {
			return nil, err
		}
		c.synced = append(c.synced, registration.HasSynced)
	}
	secrets.Subscribe(func(statuscache.Change) { changed() })
	return c, nil
}

func (c *cluster) watchError(resource string) toolscache.WatchErrorHandlerWithContext {
	logged := atomic.Bool{}
	return func(ctx context.Context, r *toolscache.Reflector, err error) {
		if !apierrors.IsForbidden(err) {
			toolscache.DefaultWatchErrorHandler(ctx, r, err)
			return
		}
		if c.observer != nil {
			c.observer.ForbiddenRead(resource)
		}
		c.refused.Store(true)
		if !logged.Swap(true) {
			klog.InfoS("Not allowed to list or watch; the Trusted condition of registrations that need it stays Unknown", "resource", resource, "err", err)
		}
	}
}

// run starts the informers and waits until they have synced, or a read was refused.
func (c *cluster) run(ctx context.Context) {
	go c.services.RunWithContext(ctx)
	go c.pods.RunWithContext(ctx)
	_ = toolscache.WaitForCacheSync(ctx.Done(), func() bool {
		if c.refused.Load() {
			return true
		}
		for _, synced := range c.synced {
			if !synced() {
				return false
			}
		}
		return true
	})
}

func (c *cluster) Secret(namespace, name string) (*certificate.Analysis, bool) {
	item, ok := c.secrets.Item(namespace, name)
	if !ok {
		return nil, false
	}
	return analysisOf(item)
}

// analysisOf is a Secret item's own analysis, without usedBy's decoration.
func analysisOf(item statuscache.Item) (*certificate.Analysis, bool) {
	analysis := item.Analysis
	for {
		unwrapper, ok := analysis.(interface{ Unwrap() statuscache.Analysis })
		if !ok {
			break
		}
		analysis = unwrapper.Unwrap()
	}
	a, ok := analysis.(*certificate.Analysis)
	return a, ok
}

func (c *cluster) SecretsOfCertificate(namespace, name string) []string {
	var names []string
	for _, item := range c.secrets.Items() {
		if item.Meta.Namespace != namespace {
			continue
		}
		if a, ok := analysisOf(item); ok && a.CertManager() != nil && a.CertManager().Certificate == name {
			names = append(names, item.Meta.Name)
		}
	}
	return names
}

func (c *cluster) ServiceSelector(namespace, name string) (map[string]string, bool) {
	obj, exists, err := c.services.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		return nil, false
	}
	return obj.(*corev1.Service).Spec.Selector, true
}

func (c *cluster) Pods(namespace string) []registrations.Pod {
	objects, _ := c.pods.GetIndexer().ByIndex(toolscache.NamespaceIndex, namespace)
	pods := make([]registrations.Pod, 0, len(objects))
	for _, obj := range objects {
		pods = append(pods, c.podOf(obj.(*corev1.Pod)))
	}
	return pods
}

// podOf reads a Pod as keepPod kept it.
func (c *cluster) podOf(pod *corev1.Pod) registrations.Pod {
	kept := registrations.Pod{Name: pod.Name, Phase: pod.Status.Phase, Labels: pod.Labels}
	for _, volume := range pod.Spec.Volumes {
		kept.Secrets = append(kept.Secrets, volume.Secret.SecretName)
	}
	return kept
}

// keepService keeps a Service's name and selector (no resourceVersion, so
// that an update changing neither is recognised as none).
func keepService(obj any) (any, error) {
	service, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: service.Name, Namespace: service.Namespace},
		Spec:       corev1.ServiceSpec{Selector: service.Spec.Selector},
	}, nil
}

// keepPod keeps a Pod's name, labels, phase and the Secrets it mounts (a
// volume or a projected source), each as one secret volume. Idempotent.
func keepPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	kept := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, Labels: pod.Labels},
		Status:     corev1.PodStatus{Phase: pod.Status.Phase},
	}
	add := func(name string) {
		if name != "" {
			kept.Spec.Volumes = append(kept.Spec.Volumes, corev1.Volume{VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		}
	}
	for _, volume := range pod.Spec.Volumes {
		switch {
		case volume.Secret != nil:
			add(volume.Secret.SecretName)
		case volume.Projected != nil:
			for _, source := range volume.Projected.Sources {
				if source.Secret != nil {
					add(source.Secret.Name)
				}
			}
		}
	}
	return kept, nil
}
