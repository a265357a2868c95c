// Package computed is the REST storage of a computed kind: get, list and
// watch answered from the kind's status cache once its source has synced,
// for any kind (certificatestatuses from Secrets; in #26 the ConfigMaps' and
// API registrations' kinds). It implements exactly the read interfaces, so
// discovery advertises exactly get, list and watch. What differs between
// kinds (names, scope, list type, table, selectable fields) is the Kind.
package computed

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// syncWait bounds how long a request waits for the source's first list
// before it answers 503: the aggregator may route requests before /readyz
// passes. A source whose reads are forbidden answers 503 at once.
const syncWait = 30 * time.Second

// Kind describes one computed kind to its storage.
type Kind[T any, P statuscache.Object[T]] struct {
	// Resource is the plural resource, e.g. certificatestatuses.
	Resource   schema.GroupResource
	Singular   string
	ShortNames []string
	Namespaced bool
	// New and NewList are the kind's empty object and list (for the installer).
	New, NewList func() runtime.Object
	// List is the kind's list: what List answers for a page (it may carry
	// the builder of the statuses the page deferred; see List).
	List ListDescriptor[T, P]
	// Fields are the object's selectable fields (the same as the version's
	// field label conversion accepts).
	Fields func(P) fields.Set
	Table  rest.TableConvertor
}

// ListObject is a kind's list as List answers it.
type ListObject interface {
	runtime.Object
	metav1.ListInterface
}

// The read-only storage every kind gets, and nothing more: discovery then
// shows get, list and watch. Checked once here, for any instance, since
// the methods do not depend on the kind.
var (
	_ rest.Storage              = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
	_ rest.Scoper               = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
	_ rest.SingularNameProvider = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
	_ rest.ShortNamesProvider   = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
	_ rest.Getter               = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
	_ rest.Lister               = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
	_ rest.Watcher              = &REST[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}
)

// REST is the storage of one computed kind.
type REST[T any, P statuscache.Object[T]] struct {
	kind  Kind[T, P]
	cache *statuscache.CacheOf[T, P]
	// source is the synced state of the source that fills the cache.
	source *sourcesync.State
}

// New serves kind's objects held in cache, once source has synced.
func New[T any, P statuscache.Object[T]](kind Kind[T, P], cache *statuscache.CacheOf[T, P], source *sourcesync.State) *REST[T, P] {
	return &REST[T, P]{kind: kind, cache: cache, source: source}
}

func (r *REST[T, P]) New() runtime.Object { return r.kind.New() }

// NewList names the list kind for the installer; List answers Kind.List's.
func (r *REST[T, P]) NewList() runtime.Object { return r.kind.NewList() }
func (r *REST[T, P]) Destroy()                {}
func (r *REST[T, P]) NamespaceScoped() bool   { return r.kind.Namespaced }
func (r *REST[T, P]) GetSingularName() string { return r.kind.Singular }
func (r *REST[T, P]) ShortNames() []string    { return r.kind.ShortNames }

func (r *REST[T, P]) ConvertToTable(ctx context.Context, object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.kind.Table.ConvertToTable(ctx, object, tableOptions)
}

// Get answers NotFound for an object that is not listed, like any missing object.
func (r *REST[T, P]) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if err := r.waitSynced(ctx); err != nil {
		return nil, err
	}
	object, ok := r.cache.Get(genericapirequest.NamespaceValue(ctx), name)
	if !ok {
		return nil, apierrors.NewNotFound(r.kind.Resource, name)
	}
	return object, nil
}

// List serves the current state. Pages of a chunked list follow key order
// and carry the first page's resourceVersion, so each object is returned
// once and a watch from that resourceVersion misses nothing.
func (r *REST[T, P]) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	if err := r.waitSynced(ctx); err != nil {
		return nil, err
	}
	// Statuses are built as they are written (Kind.List), unless a selector
	// needs them first.
	query := statuscache.ListOptionsOf[T, P]{Namespace: genericapirequest.NamespaceValue(ctx), Matches: r.matcher(options)}
	var continueRV statuscache.ResourceVersion
	if options != nil {
		query.Limit = options.Limit
		if options.Continue != "" {
			startKey, rv, err := storage.DecodeContinue(options.Continue, "/")
			if err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", err))
			}
			query.StartKey, continueRV = strings.TrimPrefix(startKey, "/"), statuscache.ResourceVersion(rv)
		}
		if err := checkListResourceVersion(options, r.cache.ResourceVersion()); err != nil {
			return nil, err
		}
	}

	page := r.cache.List(query)
	// Every page carries the first page's resourceVersion.
	listRV := page.ResourceVersion
	if continueRV != 0 {
		listRV = continueRV
	}
	if page.Items == nil {
		page.Items = []T{}
	}
	list := r.kind.List.Page(page)
	list.SetResourceVersion(listRV.String())
	if page.NextKey != "" {
		token, err := storage.EncodeContinue("/"+page.NextKey, "/", int64(listRV))
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		list.SetContinue(token)
	}
	return list, nil
}

// checkListResourceVersion refuses an exact resourceVersion the cache cannot
// serve: it only ever has the current state.
func checkListResourceVersion(options *metainternalversion.ListOptions, current statuscache.ResourceVersion) error {
	if options.ResourceVersionMatch != metav1.ResourceVersionMatchExact {
		return nil
	}
	rv, err := statuscache.ParseResourceVersion(options.ResourceVersion)
	if err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	if rv != current {
		return apierrors.NewResourceExpired(fmt.Sprintf("resourceVersion %s is not the current state; list without it", rv))
	}
	return nil
}

// Watch streams changes from the cache, including those the clock makes.
func (r *REST[T, P]) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	if err := r.waitSynced(ctx); err != nil {
		return nil, err
	}
	if options == nil {
		options = &metainternalversion.ListOptions{}
	}
	rv, err := statuscache.ParseResourceVersion(options.ResourceVersion)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return r.cache.Watch(statuscache.WatchOptionsOf[T, P]{
		Namespace:         genericapirequest.NamespaceValue(ctx),
		Matches:           r.matcher(options),
		ResourceVersion:   rv,
		SendInitialEvents: options.SendInitialEvents,
		AllowBookmarks:    options.AllowWatchBookmarks,
	})
}

// waitSynced answers 503 while the source has not synced: never an empty
// list or a 404 that would lie.
func (r *REST[T, P]) waitSynced(ctx context.Context) error {
	return r.source.Wait(ctx, syncWait)
}

// matcher turns the request's selectors into one predicate, the same for
// list and watch; nil when they select everything. The apiserver has
// already refused any field a field selector cannot name (the version's
// field label conversion).
func (r *REST[T, P]) matcher(options *metainternalversion.ListOptions) func(P) bool {
	predicate := storage.SelectionPredicate{Label: labels.Everything(), Field: fields.Everything(),
		GetAttrs: func(object runtime.Object) (labels.Set, fields.Set, error) {
			o := object.(P)
			return labels.Set(o.GetLabels()), r.kind.Fields(o), nil
		}}
	if options != nil && options.LabelSelector != nil {
		predicate.Label = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		predicate.Field = options.FieldSelector
	}
	if predicate.Empty() {
		return nil
	}
	return func(object P) bool {
		matches, _ := predicate.Matches(object) // GetAttrs never fails
		return matches
	}
}
