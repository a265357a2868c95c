package secrets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/intern"
)

// pagedSecrets serves n Secrets a page at a time, as kube-apiserver does
// with limit and continue, and records the options of each request.
type pagedSecrets struct {
	secrets  []corev1.Secret
	requests []metav1.ListOptions
	failAt   int // the request that fails (0: none)
}

func (p *pagedSecrets) list(_ context.Context, options metav1.ListOptions) (*corev1.SecretList, error) {
	p.requests = append(p.requests, options)
	if len(p.requests) == p.failAt {
		return nil, errors.New("connection reset")
	}
	start := 0
	if options.Continue != "" {
		start, _ = strconv.Atoi(options.Continue)
	}
	end := min(start+int(options.Limit), len(p.secrets))
	list := &corev1.SecretList{ListMeta: metav1.ListMeta{ResourceVersion: fmt.Sprint(100 + len(p.requests))}, Items: p.secrets[start:end]}
	if end < len(p.secrets) {
		list.Continue = strconv.Itoa(end)
		remaining := int64(len(p.secrets) - end)
		list.RemainingItemCount = &remaining
	}
	return list, nil
}

// TestLargeListsAreReadInLargerPages: after the first page, pages are a
// twentieth of the list, between 500 and 2 000 Secrets (kube-apiserver's
// watch cache walks the rest of the list for every page).
func TestLargeListsAreReadInLargerPages(t *testing.T) {
	remaining := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		firstPage int
		remaining *int64
		want      int64
	}{
		{500, nil, 500},
		{500, remaining(9500), 500},
		{500, remaining(19500), 1000},
		{500, remaining(49500), 2000},
		{500, remaining(999500), 2000},
	} {
		if got := pageSize(c.firstPage, c.remaining); got != c.want {
			t.Errorf("pageSize(%d, %v) = %d, want %d", c.firstPage, c.remaining, got, c.want)
		}
	}
	p := &pagedSecrets{secrets: tlsSecrets(t, 12000)}
	got, err := listAnalysed(context.Background(), p.list, metav1.ListOptions{}, transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := meta.ExtractList(got); len(items) != 12000 {
		t.Fatalf("listed %d Secrets, want 12000", len(items))
	}
	var limits []int64
	for _, r := range p.requests {
		limits = append(limits, r.Limit)
	}
	if want := []int64{500, 600, 600}; len(limits) < 3 || !slices.Equal(limits[:3], want) {
		t.Errorf("page limits %v, want %v first", limits, want)
	}
	if len(p.requests) != 1+(12000-500+599)/600 {
		t.Errorf("%d requests for 12000 Secrets", len(p.requests))
	}
}

func tlsSecrets(t *testing.T, n int) []corev1.Secret {
	t.Helper()
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "List CA"}))
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "list.example.com"}))
	secrets := make([]corev1.Secret, n)
	for i := range secrets {
		secrets[i] = corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: fmt.Sprintf("s%04d", i)},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{"tls.crt": leaf.PEM()},
		}
		if i%7 == 0 {
			// Not a certificate Secret: listed, but not served.
			secrets[i].Type, secrets[i].Data = corev1.SecretTypeOpaque, map[string][]byte{"password": []byte("x")}
		}
	}
	return secrets
}

func TestListAnalysedReadsEveryPageInOrder(t *testing.T) {
	source := &pagedSecrets{secrets: tlsSecrets(t, 2*listPageSize+17)}
	analyse := transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil)
	// The reflector asks for any resourceVersion ("0"): the list reads the
	// latest state instead, which kube-apiserver can paginate.
	object, err := listAnalysed(context.Background(), source.list, metav1.ListOptions{ResourceVersion: "0", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}, analyse)
	if err != nil {
		t.Fatal(err)
	}
	list := object.(*analysedList)
	if len(list.Items) != len(source.secrets) {
		t.Fatalf("%d Secrets listed, want %d", len(list.Items), len(source.secrets))
	}
	for i, secret := range list.Items {
		if secret == nil || secret.Name != source.secrets[i].Name {
			t.Fatalf("item %d is %+v, want %s: order lost", i, secret, source.secrets[i].Name)
		}
		if wantListed := i%7 != 0; (secret.analysis != nil) != wantListed {
			t.Errorf("%s analysed %v, want %v", secret.Name, secret.analysis != nil, wantListed)
		}
	}
	if list.ResourceVersion != "101" {
		t.Errorf("list resourceVersion %q, want the first page's (101)", list.ResourceVersion)
	}
	if len(source.requests) != 3 {
		t.Fatalf("%d requests, want 3 pages", len(source.requests))
	}
	for i, options := range source.requests {
		if options.Limit != listPageSize || options.ResourceVersion != "" || options.ResourceVersionMatch != "" {
			t.Errorf("request %d: %+v, want limit %d at the latest resourceVersion", i, options, listPageSize)
		}
	}
	if source.requests[0].Continue != "" || source.requests[2].Continue != strconv.Itoa(2*listPageSize) {
		t.Errorf("continue tokens %q, %q", source.requests[0].Continue, source.requests[2].Continue)
	}
	// The reflector extracts the items from the list as from any list.
	if items, err := meta.ExtractListWithAlloc(list); err != nil || len(items) != len(source.secrets) {
		t.Errorf("extracted %d items, err %v", len(items), err)
	}
}

func TestListAnalysedFailsWhenAPageFails(t *testing.T) {
	source := &pagedSecrets{secrets: tlsSecrets(t, 3*listPageSize), failAt: 2}
	_, err := listAnalysed(context.Background(), source.list, metav1.ListOptions{}, transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil))
	if err == nil || err.Error() != "connection reset" {
		t.Errorf("err %v, want the second page's", err)
	}
	if len(source.requests) != 2 {
		t.Errorf("%d requests after a failed page, want 2", len(source.requests))
	}
}

// A list whose context ends before the last page is an error, never a
// shorter list (the reflector would delete what it missed).
func TestListAnalysedIsNeverCutShort(t *testing.T) {
	source := &pagedSecrets{secrets: tlsSecrets(t, 3*listPageSize)}
	ctx, cancel := context.WithCancel(context.Background())
	stopAfterFirst := func(ctx context.Context, options metav1.ListOptions) (*corev1.SecretList, error) {
		if options.Continue != "" {
			cancel()
			<-ctx.Done()
		}
		return source.list(ctx, options)
	}
	list, err := listAnalysed(ctx, stopAfterFirst, metav1.ListOptions{}, transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil))
	if err == nil {
		t.Errorf("a list cut short returned %d items and no error", len(list.(*analysedList).Items))
	}
}
