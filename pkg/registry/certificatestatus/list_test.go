package certificatestatus

import (
	"context"
	"errors"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

func listAll(t *testing.T, r *REST, options *metainternalversion.ListOptions) *List {
	t.Helper()
	object, err := r.List(genericapirequest.WithNamespace(context.Background(), ""), options)
	if err != nil {
		t.Fatal(err)
	}
	return object.(*List)
}

// An unfiltered list carries metadata only; Each and Built give every object
// as Get does, and the list keeps no status they built.
func TestListBuildsStatusesAsWritten(t *testing.T) {
	r := newTestREST(t)
	ctx := context.Background()
	want := func(item *certstatus.CertificateStatus) *certstatus.CertificateStatus {
		got, err := r.Get(genericapirequest.WithNamespace(ctx, item.Namespace), item.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got.(*certstatus.CertificateStatus)
	}

	list := listAll(t, r, &metainternalversion.ListOptions{})
	if len(list.Items) != 5 {
		t.Fatalf("%d items", len(list.Items))
	}
	written := 0
	if err := list.Each(func(item *certstatus.CertificateStatus) error {
		if item.Status.State == "" || !apiequality.Semantic.DeepEqual(item, want(item)) {
			t.Errorf("written %s/%s: %+v, want %+v", item.Namespace, item.Name, item, want(item))
		}
		written++
		return nil
	}); err != nil || written != 5 {
		t.Fatalf("Each: %d written, %v", written, err)
	}
	for _, item := range list.Items {
		if item.Status.State != "" {
			t.Fatalf("Each kept a status in the list: %s", item.Name)
		}
	}
	stop := errors.New("stop")
	if err := list.Each(func(*certstatus.CertificateStatus) error { return stop }); err != stop {
		t.Errorf("Each error %v, want the writer's", err)
	}

	built := list.Built().(*certstatus.CertificateStatusList)
	for i := range built.Items {
		if item := &built.Items[i]; !apiequality.Semantic.DeepEqual(item, want(item)) {
			t.Errorf("built %s: %+v, want %+v", item.Name, item, want(item))
		}
	}
	if list.Items[0].Status.State != "" {
		t.Error("Built changed the list")
	}
	// A deep copy (the audit log encodes one) still builds the statuses.
	copied := list.DeepCopyObject().(*List).Built()
	if _, ok := copied.(*certstatus.CertificateStatusList); !ok {
		t.Fatalf("a deep copy built a %T", copied)
	}
	if !apiequality.Semantic.DeepEqual(copied, built) {
		t.Errorf("a deep copy built %+v, want %+v", copied, built)
	}
}

// A selector needs the whole object: such a list is built in full.
func TestSelectedListsAreBuilt(t *testing.T) {
	list := listAll(t, newTestREST(t), &metainternalversion.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{"tier": "backend"})})
	if len(list.Items) != 3 {
		t.Fatalf("%d items", len(list.Items))
	}
	for _, item := range list.Items {
		if item.Status.State == "" {
			t.Errorf("%s has no status", item.Name)
		}
	}
	if list.Deferred() {
		t.Error("a built list still has a builder")
	}
}

// A table of a deferred list shows every state; its rows point to the list's
// own items (metadata only) unless they carry whole objects.
func TestTablesOfDeferredLists(t *testing.T) {
	r := newTestREST(t)
	for _, include := range []metav1.IncludeObjectPolicy{metav1.IncludeMetadata, metav1.IncludeObject} {
		list := listAll(t, r, &metainternalversion.ListOptions{})
		table, err := r.ConvertToTable(context.Background(), list, &metav1.TableOptions{IncludeObject: include})
		if err != nil {
			t.Fatal(err)
		}
		if len(table.Rows) != len(list.Items) {
			t.Fatalf("%d rows for %d items", len(table.Rows), len(list.Items))
		}
		for i, row := range table.Rows {
			item := row.Object.Object.(*certstatus.CertificateStatus)
			if (item == &list.Items[i]) != (include == metav1.IncludeMetadata) || row.Cells[0] != item.Name || row.Cells[1] == "" {
				t.Errorf("%s: row %d is %v for %s", include, i, row.Cells, item.Name)
			}
			if filled := item.Status.State != ""; filled != (include == metav1.IncludeObject) {
				t.Errorf("%s: item %s has a status: %v", include, item.Name, filled)
			}
		}
	}
}

// A metadata-only list (as=PartialObjectMetadataList, JSON or protobuf) is
// cut from the list with apimachinery's list helpers, as the generic handler
// does: that reads the items' metadata and builds no status.
func TestMetadataOnlyBuildsNoStatus(t *testing.T) {
	list := listAll(t, newTestREST(t), &metainternalversion.ListOptions{})
	built := 0
	list.CountBuilds(func() { built++ })

	var partial metav1.PartialObjectMetadataList
	if !meta.IsListType(list) {
		t.Fatal("a List is not a list type")
	}
	if err := meta.EachListItem(list, func(object runtime.Object) error {
		m, err := meta.Accessor(object)
		if err != nil {
			return err
		}
		partial.Items = append(partial.Items, *meta.AsPartialObjectMetadata(m))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(partial.Items) != 5 || partial.Items[0].Name == "" || built != 0 {
		t.Fatalf("%d metadata items (first %q), %d statuses built", len(partial.Items), partial.Items[0].Name, built)
	}
	// The builder is still the list's: an encoder builds them all.
	list.Built()
	if built != 5 {
		t.Errorf("Built built %d statuses, want 5", built)
	}
}
