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

// cluster is registrations.Cluster answered from the Secret cache, a
// Service informer of its own and the Pods recorded from usedBy's Pod watch
// (Pods: certstatus watches Pods once).
type cluster struct {
	secrets  Secrets
	services toolscache.SharedIndexInformer
	pods     *Pods
	synced   toolscache.InformerSynced
	// refused is set once a Service read was refused: the source then
	// stops waiting for Services (Trusted is Unknown where they decide).
	refused  atomic.Bool
	observer Observer
}

var _ registrations.Cluster = &cluster{}

// newCluster prepares the Service informer; changed hears every Service or
// Secret change that can alter a serving Secret (Pods signal through
// pods.changed, which Trust.run also reads).
func newCluster(config *rest.Config, secrets Secrets, pods *Pods, observer Observer, changed func()) (*cluster, error) {
	config = rest.CopyConfig(config)
	config.ContentType = runtime.ContentTypeProtobuf
	config.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create the Service client: %w", err)
	}
	c := &cluster{secrets: secrets, pods: pods, observer: observer}
	services := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(keepService))
	c.services = services.Core().V1().Services().Informer()
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { changed() },
		UpdateFunc: func(old, current any) {
			if !reflect.DeepEqual(old, current) {
				changed()
			}
		},
		DeleteFunc: func(any) { changed() },
	}
	if err := c.services.SetWatchErrorHandlerWithContext(c.watchError("services")); err != nil {
		return nil, err
	}
	registration, err := c.services.AddEventHandler(handler)
	if err != nil {
		return nil, err
	}
	c.synced = registration.HasSynced
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

// run starts the Service informer and waits until it has synced (or a
// read was refused), and until the Pods of every watched namespace are
// recorded (or their read was refused). The Pod watch is usedBy's, started
// by the server's wiring.
func (c *cluster) run(ctx context.Context) {
	go c.services.RunWithContext(ctx)
	_ = toolscache.WaitForCacheSync(ctx.Done(), func() bool { return c.refused.Load() || c.synced() })
	c.pods.waitSettled(ctx)
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

func (c *cluster) Pods(namespace string) []registrations.Pod { return c.pods.Pods(namespace) }

func (c *cluster) Watched(namespace string) bool { return c.pods.Watched(namespace) }

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
