package secrets

import (
	"context"
	"runtime"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// listPageSize bounds how many Secrets are decoded at once while listing:
// a page is analysed on every core while the next one is fetched, so the
// whole list's data (tens of megabytes) is never held at once.
const listPageSize = 500

// maxListPageSize bounds the pages of a large list. kube-apiserver 1.37
// serves a continued page from its watch cache by collecting every object
// after the page's start key and then cutting (the btree store's
// OrderedListPrefix), so paging through N Secrets costs it about
// N²/(2·limit) object visits: 2.5 million at 50 000 Secrets in pages of
// 500, a third of its CPU while certstatus started (docs/benchmarks.md).
// Pages therefore grow with the list, to a twentieth of it, which bounds
// that cost to 10·N visits, between listPageSize and this.
const maxListPageSize = 2000

// pageSize is the limit for the pages after a first page of firstPage
// Secrets with remaining more (kube-apiserver's remainingItemCount; nil
// when it did not say).
func pageSize(firstPage int, remaining *int64) int64 {
	if remaining == nil {
		return listPageSize
	}
	return min(max((int64(firstPage)+*remaining)/20, listPageSize), maxListPageSize)
}

// analysedList is a list of analysed Secrets: what the list of the
// informer's reflector returns, already transformed.
type analysedList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []*analysedSecret
}

// The reflector only reads the list, so a deep copy is the list itself.
func (l *analysedList) DeepCopyObject() apiruntime.Object { return l }

// listFunc lists one page of Secrets.
type listFunc func(ctx context.Context, options metav1.ListOptions) (*corev1.SecretList, error)

// listAnalysed lists every Secret page by page and analyses each page on
// every core while the next page is on its way. The informer would
// otherwise analyse a list one Secret at a time after all of it arrived.
//
// It always reads the latest state (resourceVersion ""): a list at least as
// fresh as the one asked for is what the reflector needs, and only such a
// list can be paginated from kube-apiserver's watch cache.
func listAnalysed(ctx context.Context, list listFunc, options metav1.ListOptions, analyse toolscache.TransformFunc) (apiruntime.Object, error) {
	options.ResourceVersion, options.ResourceVersionMatch = "", ""
	options.Limit, options.Continue = listPageSize, ""
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type page struct {
		list *corev1.SecretList
		err  error
	}
	// One page waits while another is analysed: fetching never stops for long.
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		for {
			secrets, err := list(ctx, options)
			select {
			case pages <- page{secrets, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || secrets.Continue == "" {
				return
			}
			if options.Continue == "" {
				options.Limit = pageSize(len(secrets.Items), secrets.RemainingItemCount)
			}
			options.Continue = secrets.Continue
		}
	}()

	result := &analysedList{}
	for p := range pages {
		if p.err != nil {
			return nil, p.err
		}
		if result.ResourceVersion == "" {
			// The first page dates the whole list; the others continue it.
			result.ResourceVersion = p.list.ResourceVersion
		}
		result.Items = append(result.Items, analyseAll(ctx, p.list.Items, analyse)...)
	}
	// A list cut short by the end of ctx is not the list: the reflector
	// would delete every Secret it missed.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return result, nil
}

// analyseAll analyses secrets on every core, keeping their order.
func analyseAll(ctx context.Context, secrets []corev1.Secret, analyse toolscache.TransformFunc) []*analysedSecret {
	analysed := make([]*analysedSecret, len(secrets))
	workqueue.ParallelizeUntil(ctx, runtime.GOMAXPROCS(0), len(secrets), func(i int) {
		// The transform never fails on a Secret, and keeps nothing of it.
		kept, _ := analyse(&secrets[i])
		analysed[i], _ = kept.(*analysedSecret)
	})
	// Nil where ctx ended first (the list then fails), or if the transform
	// ever returned something else: never hand the reflector a nil item.
	return slices.DeleteFunc(analysed, func(a *analysedSecret) bool { return a == nil })
}

// listsPages makes the reflector list (and relist) with listAnalysed
// instead of a streaming watch-list: a ListerWatcher that says it does not
// support watch-list semantics is listed the classic way.
type listsPages struct {
	*toolscache.ListWatch
}

func (listsPages) IsWatchListSemanticsUnSupported() bool { return true }
