// Package certificatestatus serves the certificatestatuses resource: get,
// list and watch, answered from the status cache. It implements exactly the
// read interfaces, so discovery advertises exactly get, list and watch.
package certificatestatus

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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

// REST is the storage of certificatestatuses.
type REST struct {
	cache *statuscache.Cache
	// source is the synced state of the source that fills the cache.
	source *sourcesync.State
	table  tableConvertor
}

var (
	_ rest.Storage              = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.SingularNameProvider = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.Getter               = &REST{}
	_ rest.Lister               = &REST{}
	_ rest.Watcher              = &REST{}
)

// NewREST serves the objects held in cache, once source has synced.
func NewREST(cache *statuscache.Cache, source *sourcesync.State) *REST {
	return &REST{cache: cache, source: source, table: tableConvertor{now: time.Now}}
}

func (r *REST) New() runtime.Object { return &certstatus.CertificateStatus{} }

// NewList names the list kind for the installer; List answers a *List.
func (r *REST) NewList() runtime.Object { return &certstatus.CertificateStatusList{} }
func (r *REST) Destroy()                {}
func (r *REST) NamespaceScoped() bool   { return true }
func (r *REST) GetSingularName() string { return "certificatestatus" }
func (r *REST) ShortNames() []string    { return []string{"certstatus", "cst"} }

func (r *REST) ConvertToTable(ctx context.Context, object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.table.ConvertToTable(ctx, object, tableOptions)
}

// Get answers NotFound for a Secret that is not listed, like any missing object.
func (r *REST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if err := r.waitSynced(ctx); err != nil {
		return nil, err
	}
	object, ok := r.cache.Get(genericapirequest.NamespaceValue(ctx), name)
	if !ok {
		return nil, apierrors.NewNotFound(certstatus.Resource("certificatestatuses"), name)
	}
	return object, nil
}

// List serves the current state. Pages of a chunked list follow key order
// and carry the first page's resourceVersion, so each object is returned
// once and a watch from that resourceVersion misses nothing.
func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	if err := r.waitSynced(ctx); err != nil {
		return nil, err
	}
	// Statuses are built as they are written (list.go), unless a selector
	// needs them first.
	query := statuscache.ListOptions{Namespace: genericapirequest.NamespaceValue(ctx), Matches: matcher(options)}
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
	list := &List{CertificateStatusList: certstatus.CertificateStatusList{Items: page.Items}, status: page.Status}
	list.ResourceVersion = listRV.String()
	if page.NextKey != "" {
		token, err := storage.EncodeContinue("/"+page.NextKey, "/", int64(listRV))
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		list.Continue = token
	}
	if list.Items == nil {
		list.Items = []certstatus.CertificateStatus{}
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
func (r *REST) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
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
	return r.cache.Watch(statuscache.WatchOptions{
		Namespace:         genericapirequest.NamespaceValue(ctx),
		Matches:           matcher(options),
		ResourceVersion:   rv,
		SendInitialEvents: options.SendInitialEvents,
		AllowBookmarks:    options.AllowWatchBookmarks,
	})
}

// waitSynced answers 503 while the source has not synced: never an empty
// list or a 404 that would lie.
func (r *REST) waitSynced(ctx context.Context) error {
	return r.source.Wait(ctx, syncWait)
}
