package configmaps

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// recordingSink records what the store tells it, in order.
type recordingSink struct {
	mu     sync.Mutex
	events []string
	keep   bool
	kept   map[string]*certificate.Analysis
}

func (r *recordingSink) Upsert(meta *metav1.ObjectMeta, analysis *certificate.Analysis) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("upsert %s/%s rv=%s keys=%s", meta.Namespace, meta.Name, meta.ResourceVersion, strings.Join(analysis.ConfigMapKeys(), ",")))
	if r.keep {
		r.kept[meta.Namespace+"/"+meta.Name] = analysis
	}
}

func (r *recordingSink) Delete(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "delete "+namespace+"/"+name)
}

// take returns the events so far and forgets them.
func (r *recordingSink) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	events := r.events
	r.events = nil
	return events
}

// bundlePEM is a PEM bundle of three roots, valid now.
var bundlePEM = func() string {
	var roots []*certtest.Certificate
	for i := range 3 {
		roots = append(roots, certtest.Must(certtest.NewCA(certtest.Spec{
			Subject:   pkix.Name{CommonName: fmt.Sprintf("Bundle Root %d", i)},
			NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		})))
	}
	return string(certtest.ChainPEM(roots...))
}()

func bundleConfigMap(namespace, name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: rv, UID: types.UID("uid-" + name), Labels: map[string]string{"trust": "yes"}},
		Data:       map[string]string{"ca.crt": bundlePEM, "README": "x"},
	}
}

func plainConfigMap(namespace, name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: rv, Labels: map[string]string{"app": "web"}},
		Data:       map[string]string{"Corefile": ".:53 {\n    forward . /etc/resolv.conf\n}\n", "app.properties": "mode=fast\n"},
	}
}

func TestStoreHandsOverOnlyConfigMapsWithCertificates(t *testing.T) {
	sink := &recordingSink{}
	s := NewStore(certificate.DefaultOptions(), sink)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Add(plainConfigMap("a", "plain", "1")))
	must(s.Add(bundleConfigMap("a", "trust", "2")))
	must(s.Update(bundleConfigMap("a", "trust", "3")))
	lost := plainConfigMap("a", "trust", "4") // its certificates were removed
	must(s.Update(lost))
	must(s.Delete(lost)) // already out of the sink: nothing
	must(s.Add(bundleConfigMap("b", "trust", "5")))
	must(s.Delete(toolscache.DeletedFinalStateUnknown{Key: "b/trust", Obj: bundleConfigMap("b", "trust", "5")}))
	must(s.Delete(plainConfigMap("a", "plain", "6")))
	want := []string{
		"upsert a/trust rv=2 keys=ca.crt",
		"upsert a/trust rv=3 keys=ca.crt",
		"delete a/trust",
		"upsert b/trust rv=5 keys=ca.crt",
		"delete b/trust",
	}
	if got := sink.take(); !slices.Equal(got, want) {
		t.Errorf("sink saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.len() != 0 || s.HasSynced() {
		t.Errorf("%d remembered, synced %v; want none, not synced before a list", s.len(), s.HasSynced())
	}
}

func TestStoreReplaceDeletesWhatVanished(t *testing.T) {
	sink := &recordingSink{}
	s := NewStore(certificate.DefaultOptions(), sink)
	for _, cm := range []*corev1.ConfigMap{bundleConfigMap("a", "stays", "1"), bundleConfigMap("a", "goes", "2"), bundleConfigMap("b", "loses", "3")} {
		if err := s.Add(cm); err != nil {
			t.Fatal(err)
		}
	}
	sink.take()
	// A relist: one stays, one is gone, one lost its certificates, one is
	// new, and one arrives already analysed (a streaming list's temporary
	// store holds the Transformer's output).
	transformed, err := s.Transformer()(bundleConfigMap("c", "streamed", "9"))
	if err != nil {
		t.Fatal(err)
	}
	list := []interface{}{bundleConfigMap("a", "stays", "7"), plainConfigMap("b", "loses", "8"), plainConfigMap("c", "plain", "8"), transformed}
	if err := s.Replace(list, "9"); err != nil {
		t.Fatal(err)
	}
	got := sink.take()
	slices.Sort(got)
	want := []string{"delete a/goes", "delete b/loses", "upsert a/stays rv=7 keys=ca.crt", "upsert c/streamed rv=9 keys=ca.crt"}
	if !slices.Equal(got, want) {
		t.Errorf("sink saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.len() != 2 || !s.HasSynced() {
		t.Errorf("%d remembered, synced %v; want 2 and synced", s.len(), s.HasSynced())
	}
}

// What the sink gets of a ConfigMap is its metadata, never its data or
// annotations.
func TestStoreMetaIsCompact(t *testing.T) {
	var got *metav1.ObjectMeta
	s := NewStore(certificate.DefaultOptions(), sinkFunc(func(meta *metav1.ObjectMeta, _ *certificate.Analysis) { got = meta }))
	cm := bundleConfigMap("a", "trust", "1")
	cm.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}"}
	cm.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	cm.CreationTimestamp = metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := s.Add(cm); err != nil {
		t.Fatal(err)
	}
	want := metav1.ObjectMeta{Namespace: "a", Name: "trust", UID: "uid-trust", ResourceVersion: "1", Labels: map[string]string{"trust": "yes"}, CreationTimestamp: cm.CreationTimestamp}
	if got == nil || fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("meta %+v, want %+v", got, want)
	}
}

type sinkFunc func(*metav1.ObjectMeta, *certificate.Analysis)

func (f sinkFunc) Upsert(meta *metav1.ObjectMeta, a *certificate.Analysis) { f(meta, a) }
func (f sinkFunc) Delete(string, string)                                   {}

// A ConfigMap without certificates passes the store without allocating:
// the pre-check reads its data in place.
func TestPlainConfigMapAllocatesNothing(t *testing.T) {
	s := NewStore(certificate.DefaultOptions(), &recordingSink{})
	cm := plainConfigMap("a", "plain", "1")
	cm.BinaryData = map[string][]byte{"logo.png": []byte("\x89PNG\r\n\x1a\n....")}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := s.Update(cm); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per plain ConfigMap, want 0", allocs)
	}
}

// Through a real reflector: the list's bundles are upserted, then watch
// events add, change, strip and delete ConfigMaps.
func TestStoreBehindAReflector(t *testing.T) {
	sink := &recordingSink{}
	store := NewStore(certificate.DefaultOptions(), sink)
	lw := newFakeConfigMaps(20) // bundles at 0 and 10
	reflector := toolscache.NewReflectorWithOptions(lw, &corev1.ConfigMap{}, store, toolscache.ReflectorOptions{Name: "configmaps-test"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		reflector.RunWithContext(ctx)
	}()
	defer func() { cancel(); <-done }()
	<-lw.watching
	lw.watcher.Add(bundleConfigMap("team-05", "new-bundle", "100"))
	lw.watcher.Add(plainConfigMap("team-05", "new-plain", "101"))
	lw.watcher.Modify(plainConfigMap("team-00", "kube-root-ca-000000", "102"))
	lw.watcher.Delete(bundleConfigMap("team-10", "kube-root-ca-000010", "103"))
	lw.watcher.Delete(plainConfigMap("team-05", "new-plain", "104"))
	lw.watcher.Modify(bundleConfigMap("team-05", "new-bundle", "105"))
	want := []string{
		"upsert team-00/kube-root-ca-000000 rv=2 keys=ca.crt",
		"upsert team-10/kube-root-ca-000010 rv=12 keys=ca.crt",
		"upsert team-05/new-bundle rv=100 keys=ca.crt",
		"delete team-00/kube-root-ca-000000",
		"delete team-10/kube-root-ca-000010",
		"upsert team-05/new-bundle rv=105 keys=ca.crt",
	}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); len(got) < len(want) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got = append(got, sink.take()...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("sink saw\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
