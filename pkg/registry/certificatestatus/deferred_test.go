package certificatestatus

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

func listAll(t *testing.T, r *REST, options *metainternalversion.ListOptions) *certstatus.CertificateStatusList {
	t.Helper()
	object, err := r.List(genericapirequest.WithNamespace(context.Background(), ""), options)
	if err != nil {
		t.Fatal(err)
	}
	return object.(*certstatus.CertificateStatusList)
}

// An unfiltered list carries metadata only; WriteItems and FillDeferred give
// every object as Get does, and the list keeps no status WriteItems built.
func TestDeferredStatuses(t *testing.T) {
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
	if err := WriteItems(list.Items, func(item *certstatus.CertificateStatus) error {
		if item.Status.State == "" || !apiequality.Semantic.DeepEqual(item, want(item)) {
			t.Errorf("written %s/%s: %+v, want %+v", item.Namespace, item.Name, item, want(item))
		}
		written++
		return nil
	}); err != nil || written != 5 {
		t.Fatalf("WriteItems: %d written, %v", written, err)
	}
	for _, item := range list.Items {
		if item.Status.State != "" {
			t.Fatalf("WriteItems kept a status in the list: %s", item.Name)
		}
	}
	stop := errors.New("stop")
	if err := WriteItems(list.Items, func(*certstatus.CertificateStatus) error { return stop }); err != stop {
		t.Errorf("WriteItems error %v, want the writer's", err)
	}

	FillDeferred(list.Items)
	for i := range list.Items {
		if item := &list.Items[i]; !apiequality.Semantic.DeepEqual(item, want(item)) {
			t.Errorf("filled %s: %+v, want %+v", item.Name, item, want(item))
		}
	}
	// Filled once: WriteItems now writes the list as it is.
	list.Items[0].Status.State = "Changed"
	if err := WriteItems(list.Items[:1], func(item *certstatus.CertificateStatus) error {
		if item.Status.State != "Changed" {
			t.Errorf("WriteItems rebuilt a filled list")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
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
	if lookupDeferred(list.Items) != nil {
		t.Error("a built list is recorded as deferred")
	}
}

// The record of a deferred list goes once its items are collected, and never
// applies to another list.
func TestDeferredRecordsAreDropped(t *testing.T) {
	r := newTestREST(t)
	before := countDeferred()
	for range 50 {
		_ = listAll(t, r, &metainternalversion.ListOptions{})
	}
	other := make([]certstatus.CertificateStatus, 5)
	if lookupDeferred(other) != nil {
		t.Fatal("a fresh array has a deferred record")
	}
	deadline := time.Now().Add(10 * time.Second)
	for countDeferred() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d deferred records left after the lists were collected", countDeferred()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func countDeferred() int {
	n := 0
	deferredLists.Range(func(any, any) bool { n++; return true })
	return n
}

// A table of a deferred list shows every state; its rows point to the list's
// items, which keep their statuses only when rows carry whole objects.
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
			if item != &list.Items[i] || row.Cells[0] != item.Name || row.Cells[1] == "" {
				t.Errorf("%s: row %d is %v for %s", include, i, row.Cells, item.Name)
			}
			if filled := item.Status.State != ""; filled != (include == metav1.IncludeObject) {
				t.Errorf("%s: item %s has a status: %v", include, item.Name, filled)
			}
		}
	}
}

// A response audited with its body is built in full: the audit log encodes
// a deep copy, which would not have deferred statuses.
func TestAuditedListsAreBuilt(t *testing.T) {
	r := newTestREST(t)
	for _, level := range []auditinternal.Level{auditinternal.LevelMetadata, auditinternal.LevelRequestResponse} {
		ctx := audit.WithAuditContext(genericapirequest.WithNamespace(context.Background(), ""))
		if err := audit.AuditContextFrom(ctx).Init(audit.RequestAuditConfig{Level: level, OmitManagedFields: true}, nil); err != nil {
			t.Fatal(err)
		}
		object, err := r.List(ctx, &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		list := object.(*certstatus.CertificateStatusList)
		copied := list.DeepCopy()
		built := copied.Items[0].Status.State != ""
		if want := level == auditinternal.LevelRequestResponse; built != want {
			t.Errorf("audit level %s: a deep copy of the list has statuses: %v, want %v", level, built, want)
		}
	}
}
