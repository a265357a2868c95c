package configmaps

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Cache is what the source feeds: the ConfigMap kind's status cache.
type Cache interface {
	Upsert(item statuscache.Item)
	Delete(namespace, name string)
}

// Source watches ConfigMaps (one reflector per watched namespace, or a
// single cluster-wide one) into Stores that feed the cache: the source
// adapter of the configmapcertificatestatuses pipeline.
type Source struct {
	reflectors []*toolscache.Reflector
	stores     []*Store
	state      *sourcesync.State
}

// forbiddenRetry is how long a refused list waits before trying again.
var forbiddenRetry = 30 * time.Second

// NewSource prepares the reflectors of namespaces (none: all namespaces)
// feeding cache, and marks state synced once their initial lists are in
// it; refused reads go to state (counted, logged once, the 503's message).
// ConfigMaps are received as protobuf, which is cheaper to decode than JSON.
func NewSource(config *rest.Config, namespaces []string, options certificate.Options, cache Cache, state *sourcesync.State) (*Source, error) {
	config = rest.CopyConfig(config)
	config.ContentType = runtime.ContentTypeProtobuf
	config.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create ConfigMap client: %w", err)
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	s := &Source{state: state}
	for _, namespace := range namespaces {
		configMaps := client.CoreV1().ConfigMaps(namespace)
		store := NewStore(options, items{cache})
		lw := &toolscache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
				for {
					list, err := configMaps.List(ctx, options)
					if !apierrors.IsForbidden(err) {
						return list, err
					}
					if err := s.waitForbidden(ctx, err); err != nil {
						return nil, err
					}
				}
			},
			WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
				for {
					w, err := configMaps.Watch(ctx, options)
					if !apierrors.IsForbidden(err) {
						return w, err
					}
					// A streaming list (the initial list) waits like a list; a
					// plain watch returns the error and the reflector lists again.
					if options.SendInitialEvents == nil || !*options.SendInitialEvents {
						s.state.Forbidden(err)
						return w, err
					}
					if err := s.waitForbidden(ctx, err); err != nil {
						return nil, err
					}
				}
			},
		}
		// A bare reflector into the Store: an informer's store would keep
		// every ConfigMap, most of which hold no certificate.
		reflector := toolscache.NewReflectorWithOptions(toolscache.ToListWatcherWithWatchListSemantics(lw, client), &corev1.ConfigMap{}, store,
			toolscache.ReflectorOptions{Name: "configmaps/" + namespace, TypeDescription: "*v1.ConfigMap"})
		s.reflectors = append(s.reflectors, reflector)
		s.stores = append(s.stores, store)
	}
	return s, nil
}

// waitForbidden records a refused read, then waits to try again. A bare
// reflector has no watch error handler to set, so refusals are handled here
// and never returned (the reflector would log every retry).
func (s *Source) waitForbidden(ctx context.Context, err error) error {
	s.state.Forbidden(err)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(forbiddenRetry):
		return nil
	}
}

// Run runs the reflectors and marks the source synced once every initial
// list is in the cache.
func (s *Source) Run(ctx context.Context) {
	for _, reflector := range s.reflectors {
		go reflector.RunWithContext(ctx)
	}
	if toolscache.WaitForCacheSync(ctx.Done(), s.HasSynced) {
		s.state.MarkSynced()
		klog.InfoS("ConfigMap cache synced")
	}
}

// HasSynced tells whether every reflector's initial list is in the cache.
func (s *Source) HasSynced() bool {
	for _, store := range s.stores {
		if !store.HasSynced() {
			return false
		}
	}
	return true
}

// items hands the Store's ConfigMaps to the cache as items.
type items struct{ cache Cache }

func (i items) Upsert(meta *metav1.ObjectMeta, analysis *certificate.Analysis) {
	i.cache.Upsert(statuscache.Item{Meta: meta, Analysis: analysis})
}

func (i items) Delete(namespace, name string) { i.cache.Delete(namespace, name) }
