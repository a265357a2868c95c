package sourcesync

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type countingObserver map[string]int

func (c countingObserver) ForbiddenRead(resource string) { c[resource]++ }

func forbiddenList(resource string) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "",
		errorString(`User "system:serviceaccount:certstatus:certstatus" cannot list resource "`+resource+`" in API group "" at the cluster scope`))
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestForbiddenSourceAnswers503NamingThePermission(t *testing.T) {
	observer := countingObserver{}
	state := New("configmaps", observer)
	state.Forbidden(forbiddenList("configmaps"))
	state.Forbidden(forbiddenList("configmaps"))

	started := time.Now()
	err := state.Wait(context.Background(), time.Hour)
	if time.Since(started) > time.Minute {
		t.Fatalf("a forbidden source waited for the timeout instead of answering at once")
	}
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Code != http.StatusServiceUnavailable {
		t.Fatalf("Wait = %v, want a 503", err)
	}
	message := status.Status().Message
	for _, want := range []string{"cannot list configmaps", "system:serviceaccount:certstatus:certstatus", "grant get, list and watch on configmaps"} {
		if !strings.Contains(message, want) {
			t.Errorf("message %q lacks %q", message, want)
		}
	}
	if details := status.Status().Details; details != nil && details.RetryAfterSeconds != 0 {
		t.Errorf("RetryAfterSeconds = %d, want none", details.RetryAfterSeconds)
	}
	if observer["configmaps"] != 2 {
		t.Errorf("forbidden reads counted %d, want 2", observer["configmaps"])
	}

	// Once RBAC allows it and the source syncs, reads are answered.
	state.MarkSynced()
	if err := state.Wait(context.Background(), time.Hour); err != nil {
		t.Errorf("Wait after sync = %v", err)
	}
}

func TestUnsyncedSourceAnswers503AfterTheTimeout(t *testing.T) {
	state := New("secrets", nil)
	err := state.Wait(context.Background(), 10*time.Millisecond)
	if !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("Wait = %v, want a 503", err)
	}
	if strings.Contains(err.Error(), "grant") {
		t.Errorf("message %q names a permission though nothing was refused", err)
	}
}

func TestWaitReturnsOnceSynced(t *testing.T) {
	state := New("secrets", nil)
	go func() {
		time.Sleep(10 * time.Millisecond)
		state.MarkSynced()
	}()
	if err := state.Wait(context.Background(), time.Hour); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if !state.HasSynced() {
		t.Fatal("HasSynced false after MarkSynced")
	}
}

// A read already waiting when the refusal comes answers at once, not after its timeout.
func TestAWaitingReadAnswersWhenTheSourceIsRefused(t *testing.T) {
	state := New("configmaps", nil)
	go func() {
		time.Sleep(10 * time.Millisecond)
		state.Forbidden(forbiddenList("configmaps"))
	}()
	started := time.Now()
	err := state.Wait(context.Background(), time.Hour)
	if time.Since(started) > time.Minute || !strings.Contains(fmt.Sprint(err), "grant get, list and watch on configmaps") {
		t.Fatalf("Wait = %v after %s, want the refusal at once", err, time.Since(started))
	}
}
