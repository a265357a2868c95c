package certificatestatus

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

type fixedStatus certstatus.CertificateStatusStatus

func (f fixedStatus) StatusAt(time.Time) certstatus.CertificateStatusStatus {
	return certstatus.CertificateStatusStatus(f)
}
func (f fixedStatus) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }

func newTestREST(t *testing.T) *REST {
	t.Helper()
	cache := statuscache.New(clocktesting.NewFakeClock(now), statuscache.DefaultOptions())
	for _, o := range []struct {
		namespace, name string
		state           certstatus.State
		tier            string
	}{
		{"a", "web", certstatus.StateValid, "frontend"},
		{"a", "api", certstatus.StateExpired, "backend"},
		{"b", "db", certstatus.StateExpired, "backend"},
		{"b", "cache", certstatus.StateExpiringSoon, "backend"},
		{"c", "old", certstatus.StateInvalid, ""},
	} {
		cache.Upsert(statuscache.Item{
			Meta:       &metav1.ObjectMeta{Namespace: o.namespace, Name: o.name, Labels: map[string]string{"tier": o.tier}},
			SecretType: "kubernetes.io/tls",
			Analysis:   fixedStatus{State: o.state, SecretType: "kubernetes.io/tls"},
		})
	}
	secrets := sourcesync.New("secrets", nil)
	secrets.MarkSynced()
	return NewREST(cache, secrets)
}

func names(t *testing.T, object interface{}) []string {
	t.Helper()
	list := object.(*List)
	var out []string
	for _, item := range list.Items {
		out = append(out, item.Namespace+"/"+item.Name)
	}
	return out
}

func TestListFiltersByNamespaceLabelsAndFields(t *testing.T) {
	r := newTestREST(t)
	all := context.Background()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		options *metainternalversion.ListOptions
		want    []string
	}{
		{"everything", all, nil, []string{"a/api", "a/web", "b/cache", "b/db", "c/old"}},
		{"namespace", genericapirequest.WithNamespace(all, "b"), nil, []string{"b/cache", "b/db"}},
		{"state", all, &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("status.state", "Expired")}, []string{"a/api", "b/db"}},
		{"name", all, &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "web")}, []string{"a/web"}},
		{"label", all, &metainternalversion.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{"tier": "backend"})}, []string{"a/api", "b/cache", "b/db"}},
		{"label and field", genericapirequest.WithNamespace(all, "b"), &metainternalversion.ListOptions{
			LabelSelector: labels.SelectorFromSet(labels.Set{"tier": "backend"}),
			FieldSelector: fields.OneTermNotEqualSelector("status.state", "Expired")}, []string{"b/cache"}},
	} {
		got, err := r.List(tc.ctx, tc.options)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if g := names(t, got); !slices.Equal(g, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, g, tc.want)
		}
	}
}

func TestChunkedListReturnsEachObjectOnceWithTheFirstPagesResourceVersion(t *testing.T) {
	r := newTestREST(t)
	options := &metainternalversion.ListOptions{Limit: 2}
	var got []string
	var firstRV string
	for {
		object, err := r.List(context.Background(), options)
		if err != nil {
			t.Fatal(err)
		}
		list := object.(*List)
		if firstRV == "" {
			firstRV = list.ResourceVersion
		} else if list.ResourceVersion != firstRV {
			t.Errorf("page resourceVersion %s, want the first page's %s", list.ResourceVersion, firstRV)
		}
		got = append(got, names(t, object)...)
		if list.Continue == "" {
			break
		}
		options = &metainternalversion.ListOptions{Limit: 2, Continue: list.Continue}
	}
	if want := []string{"a/api", "a/web", "b/cache", "b/db", "c/old"}; !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	if _, err := r.List(context.Background(), &metainternalversion.ListOptions{Continue: "garbage"}); !apierrors.IsBadRequest(err) {
		t.Errorf("bad continue token: %v, want 400", err)
	}
}

func TestGetAnswersNotFoundForAnUnlistedSecret(t *testing.T) {
	r := newTestREST(t)
	ctx := genericapirequest.WithNamespace(context.Background(), "a")
	object, err := r.Get(ctx, "web", &metav1.GetOptions{})
	if err != nil || object.(*certstatus.CertificateStatus).Name != "web" {
		t.Fatalf("get a/web: %v %v", object, err)
	}
	if _, err := r.Get(ctx, "db", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get a/db (it is in b): %v, want 404", err)
	}
}

func TestExactListResourceVersionOtherThanCurrentIsGone(t *testing.T) {
	r := newTestREST(t)
	_, err := r.List(context.Background(), &metainternalversion.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) {
		t.Errorf("exact old resourceVersion: %v, want 410", err)
	}
}

// A resource whose source cannot read its objects answers 503 naming the
// missing permission on get, list and watch: never an empty list or a 404.
func TestForbiddenSourceAnswers503(t *testing.T) {
	state := sourcesync.New("secrets", nil)
	state.Forbidden(apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "",
		errors.New(`User "system:serviceaccount:certstatus:certstatus" cannot list resource "secrets" in API group "" at the cluster scope`)))
	r := NewREST(statuscache.New(clocktesting.NewFakeClock(now), statuscache.DefaultOptions()), state)
	ctx := genericapirequest.WithNamespace(context.Background(), "a")
	_, getErr := r.Get(ctx, "web", &metav1.GetOptions{})
	_, listErr := r.List(ctx, &metainternalversion.ListOptions{})
	_, watchErr := r.Watch(ctx, &metainternalversion.ListOptions{})
	for verb, err := range map[string]error{"get": getErr, "list": listErr, "watch": watchErr} {
		if !apierrors.IsServiceUnavailable(err) {
			t.Errorf("%s: %v, want 503", verb, err)
			continue
		}
		for _, want := range []string{"cannot list secrets", "system:serviceaccount:certstatus:certstatus", "grant get, list and watch on secrets"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", verb, err, want)
			}
		}
	}
}
