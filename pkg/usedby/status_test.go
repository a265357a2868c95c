package usedby

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unique"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// fakeAnalysis is a Secret whose leaf has fixed names.
type fakeAnalysis struct {
	dnsNames, ipAddresses []string
	conditions            []metav1.Condition
	created               time.Time
}

func (f *fakeAnalysis) StatusAt(time.Time) certstatus.CertificateStatusStatus {
	return certstatus.CertificateStatusStatus{State: certstatus.StateValid, Conditions: f.conditions}
}
func (f *fakeAnalysis) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }
func (f *fakeAnalysis) LeafNames() ([]string, []string, bool)      { return f.dnsNames, f.ipAddresses, true }
func (f *fakeAnalysis) CreatedAt() time.Time                       { return f.created }

// usersOf is a snapshot of users of a Secret in namespace web, as the index
// builds it: users with Pods or of kind Pod are counted Pods of their
// workload, the others serving objects.
func usersOf(users ...User) *Users {
	secret := SecretRef{Namespace: "web", Name: "web-tls"}
	var (
		serving []servedRef
		pods    []podCount
	)
	for _, user := range users {
		if user.Pods > 0 || user.Kind == KindPod {
			owner := newPodOwner(user.Kind, user.Name)
			pods = append(pods, podCount{owner: owner, workload: owner, namespace: unique.Make(user.Namespace), pods: max(user.Pods, 1)})
			continue
		}
		ref := reference{secret: secret}
		for _, host := range user.Hosts {
			ref.hosts.add(host)
		}
		object := &servingObject{compactMeta: newCompactMeta(user.Namespace, user.Name), kind: unique.Make(user.Kind), created: user.Created.Unix(), refs: []reference{ref}}
		serving = append(serving, servedRef{object: object})
	}
	return newUsers(serving, pods)
}

// decorate is analysis, for a Secret created at secretCreated (its
// conditions shared, not copied), decorated with users.
func decorate(analysis *fakeAnalysis, secretCreated time.Time, users ...User) statuscache.Analysis {
	dated := *analysis
	dated.created = secretCreated
	return Decorate(&dated, usersOf(users...))
}

func hostsCovered(status certstatus.CertificateStatusStatus) *metav1.Condition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == certstatus.ConditionHostsCovered {
			return &status.Conditions[i]
		}
	}
	return nil
}

func TestDecorate(t *testing.T) {
	secretCreated := created.Add(-24 * time.Hour)
	ready := metav1.Condition{Type: certstatus.ConditionReady, Status: metav1.ConditionTrue}
	analysis := &fakeAnalysis{dnsNames: []string{"web.example.com", "*.api.example.com"}, conditions: make([]metav1.Condition, 1, 4)}
	analysis.conditions[0] = ready
	frontend := User{Kind: KindIngress, Namespace: "web", Name: "frontend", Hosts: []string{"web.example.com", "v1.api.example.com"}, Created: created}
	edge := User{Kind: KindGateway, Namespace: "infra", Name: "edge", Hosts: []string{"web.example.com"}, Created: created.Add(2 * time.Hour)}
	workload := User{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 3}

	// No users: the analysis itself.
	if got := Decorate(analysis, nil); got != statuscache.Analysis(analysis) {
		t.Errorf("Decorate without users = %T", got)
	}
	if got := Decorate(analysis, &Users{}); got != statuscache.Analysis(analysis) {
		t.Errorf("Decorate with no users = %T", got)
	}
	// Users without hosts: usedBy, no condition.
	status := decorate(analysis, secretCreated, workload).StatusAt(created)
	if len(status.UsedBy) != 1 || status.UsedBy[0].Pods != 3 || hostsCovered(status) != nil {
		t.Errorf("workload only: %+v", status)
	}
	// Every host covered: True, dated by the latest creation among the Secret and the host-declaring users.
	status = decorate(analysis, secretCreated, edge, frontend, workload).StatusAt(created)
	c := hostsCovered(status)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != certstatus.ReasonHostsCovered || !c.LastTransitionTime.Time.Equal(created.Add(2*time.Hour)) {
		t.Errorf("covered: %+v", c)
	}
	if len(status.Conditions) != 2 || len(analysis.conditions) != 1 || analysis.conditions[:2][1].Type != "" {
		t.Errorf("the analysis's conditions were modified: %+v", analysis.conditions[:2])
	}
	// One uncovered host: False, naming object and host, dated by the objects with uncovered hosts.
	frontend.Hosts = []string{"web.example.com", "api.example.com", "a.b.api.example.com"}
	status = decorate(analysis, secretCreated, edge, frontend).StatusAt(created)
	c = hostsCovered(status)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != certstatus.ReasonHostNotCovered || !c.LastTransitionTime.Time.Equal(created) {
		t.Fatalf("not covered: %+v", c)
	}
	if want := "The certificate does not cover 2 hosts: Ingress web/frontend serves api.example.com; Ingress web/frontend serves a.b.api.example.com."; c.Message != want {
		t.Errorf("message %q\nwant    %q", c.Message, want)
	}
	if got := status.UsedBy[1].HostsNotCovered; len(got) != 2 || got[0] != "api.example.com" || status.UsedBy[0].HostsNotCovered != nil {
		t.Errorf("hostsNotCovered %+v", status.UsedBy)
	}
	// A Secret created after its users dates the condition.
	status = decorate(analysis, created.Add(5*time.Hour), edge, frontend).StatusAt(created)
	if c := hostsCovered(status); !c.LastTransitionTime.Time.Equal(created.Add(5 * time.Hour)) {
		t.Errorf("dated %v", c.LastTransitionTime)
	}
}

// Hostile hosts (a thousand, empty names, IP literals) give a bounded message and never fail.
func TestDecorateHostileHosts(t *testing.T) {
	var hosts []string
	for i := 0; i < 1000; i++ {
		hosts = append(hosts, "h"+strconv.Itoa(i)+".example.com")
	}
	hosts = append(hosts, "10.0.0.1", "::1")
	analysis := &fakeAnalysis{dnsNames: []string{"", "*", "h1.example.com"}, ipAddresses: []string{"10.0.0.1"}}
	d := decorate(analysis, created, User{Kind: KindIngress, Namespace: "web", Name: "many", Hosts: hosts, Created: created}).(*Decorated)
	c := hostsCovered(d.StatusAt(created))
	if status := d.StatusAt(created); len(status.UsedBy) != 1 || len(status.UsedBy[0].HostsNotCovered) != d.HostsNotCovered() {
		t.Errorf("HostsNotCovered() = %d, usedBy %+v", d.HostsNotCovered(), status.UsedBy)
	}
	if d.HostsNotCovered() != 1000 || c.Status != metav1.ConditionFalse || !strings.HasSuffix(c.Message, " and 997 more.") || len(c.Message) > 300 {
		t.Errorf("%d not covered, condition %+v", d.HostsNotCovered(), c)
	}
	// No leaf at all: every host is uncovered.
	d = decorate(&fakeAnalysis{}, created, User{Kind: KindIngress, Namespace: "web", Name: "x", Hosts: []string{"a.example.com"}}).(*Decorated)
	if d.HostsNotCovered() != 1 {
		t.Errorf("%d not covered without a leaf", d.HostsNotCovered())
	}
}

// decoratedCache is a status cache decorated by an index, wired as the
// server wires them.
func decoratedCache(clk *clocktesting.FakeClock) (*statuscache.Cache, *Index) {
	rebuilds := statuscache.NewRebuilds()
	index := NewIndex(RebuildKeys(rebuilds))
	return statuscache.NewDecorated(clk, statuscache.DefaultOptions(), index, rebuilds), index
}

// The index as the cache's decorator turns a change of a Secret's users
// into one MODIFIED with a new resourceVersion, and a change that alters
// nothing into no event.
func TestDecoratedCache(t *testing.T) {
	clk := clocktesting.NewFakeClock(created)
	cache, index := decoratedCache(clk)
	var mu sync.Mutex
	var changes []statuscache.Change
	cache.Subscribe(func(c statuscache.Change) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, c)
	})
	take := func() []statuscache.Change {
		mu.Lock()
		defer mu.Unlock()
		taken := changes
		changes = nil
		return taken
	}
	st := newStore(index)
	secret := &metav1.ObjectMeta{Namespace: "web", Name: "web-tls", UID: "u1", CreationTimestamp: metav1.NewTime(created)}
	cache.Upsert(statuscache.Item{Meta: secret, SecretType: "kubernetes.io/tls", Analysis: &fakeAnalysis{dnsNames: []string{"web.example.com"}}})
	if got := take(); len(got) != 1 || got[0].Type != watch.Added {
		t.Fatalf("changes %+v", got)
	}
	webTLS := SecretRef{"web", "web-tls"}
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	got := take()
	if len(got) != 1 || got[0].Type != watch.Modified || got[0].Object.ResourceVersion == got[0].Previous.ResourceVersion {
		t.Fatalf("changes %+v", got)
	}
	if u := got[0].Object.Status.UsedBy; len(u) != 1 || u[0].Name != "frontend" || hostsCovered(got[0].Object.Status).Status != metav1.ConditionTrue {
		t.Errorf("object %+v", got[0].Object.Status)
	}
	// A Pod that mounts another Secret, and an Ingress update that keeps its hosts: nothing.
	st.putPod(key(KindPod, "web", "p"), pod("web", "p", "", "", "other"))
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	if got := take(); len(got) != 0 {
		t.Errorf("changes %+v", got)
	}
	// An uncovered host: MODIFIED with HostsCovered False.
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com", "api.example.com")}))
	got = take()
	if len(got) != 1 || hostsCovered(got[0].Object.Status).Status != metav1.ConditionFalse {
		t.Fatalf("changes %+v", got)
	}
	// The Secret's own update keeps its users; its deletion is a deletion.
	cache.Upsert(statuscache.Item{Meta: secret, SecretType: "kubernetes.io/tls", Analysis: &fakeAnalysis{dnsNames: []string{"web.example.com", "api.example.com"}}})
	got = take()
	if len(got) != 1 || hostsCovered(got[0].Object.Status).Status != metav1.ConditionTrue || len(got[0].Object.Status.UsedBy) != 1 {
		t.Fatalf("changes %+v", got)
	}
	cache.Delete("web", "web-tls")
	st.putServing(key(KindIngress, "web", "frontend"), nil)
	if got := take(); len(got) != 1 || got[0].Type != watch.Deleted {
		t.Fatalf("changes %+v", got)
	}
}

func TestCoveredMessage(t *testing.T) {
	for n, want := range map[int]string{
		1: "The certificate covers every host of the 1 object that serve it.",
		3: "The certificate covers every host of the 3 objects that serve it.",
	} {
		if got := coveredMessage(n); got != want {
			t.Errorf("coveredMessage(%d) = %q, want %q", n, got, want)
		}
	}
	// One object: the same string every time, not a copy per analysis.
	if a, b := coveredMessage(1), coveredMessage(1); unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("the one-object message is a new string each time")
	}
}

// decoratedFixture is an index (fed by a store) decorating a cache, with one TLS Secret web/web-tls for web.example.com listed.
type decoratedFixture struct {
	cache  *statuscache.Cache
	index  *Index
	store  *store
	secret *metav1.ObjectMeta

	mu      sync.Mutex
	changes []statuscache.Change
}

func newDecoratedFixture(t *testing.T) *decoratedFixture {
	f := &decoratedFixture{
		secret: &metav1.ObjectMeta{Namespace: "web", Name: "web-tls", UID: "u1", CreationTimestamp: metav1.NewTime(created)},
	}
	f.cache, f.index = decoratedCache(clocktesting.NewFakeClock(created))
	f.cache.Subscribe(func(c statuscache.Change) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.changes = append(f.changes, c)
	})
	f.store = newStore(f.index)
	f.cache.Upsert(statuscache.Item{Meta: f.secret, SecretType: "kubernetes.io/tls",
		Analysis: &fakeAnalysis{dnsNames: []string{"web.example.com"}, created: created}})
	if got := f.take(); len(got) != 1 || got[0].Type != watch.Added {
		t.Fatalf("changes %+v", got)
	}
	return f
}

func (f *decoratedFixture) take() []statuscache.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	taken := f.changes
	f.changes = nil
	return taken
}

// replay is what a watch resuming from rv is sent (n events), as
// "Kind/name:pods" of each object's usedBy.
func (f *decoratedFixture) replay(t *testing.T, rv string, n int) [][]string {
	from, err := statuscache.ParseResourceVersion(rv)
	if err != nil {
		t.Fatal(err)
	}
	w, err := f.cache.Watch(statuscache.WatchOptions{ResourceVersion: from, SendInitialEvents: new(bool)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var replayed [][]string
	for range n {
		select {
		case ev := <-w.ResultChan():
			object := ev.Object.(*certstatus.CertificateStatus)
			var users []string
			for _, u := range object.Status.UsedBy {
				users = append(users, u.Kind+"/"+u.Name+":"+strconv.Itoa(int(u.Pods)))
			}
			replayed = append(replayed, users)
		case <-time.After(10 * time.Second):
			t.Fatalf("replayed only %v", replayed)
		}
	}
	return replayed
}

// An object the watch history keeps is rebuilt from the users of its
// moment, not from the index's current ones.
func TestDecoratedKeepsItsUsers(t *testing.T) {
	f := newDecoratedFixture(t)
	start := f.cache.ResourceVersion().String()
	webTLS := SecretRef{"web", "web-tls"}
	f.store.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	f.store.putServing(key(KindIngress, "web", "admin"), ingress("web", "admin", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	f.store.putServing(key(KindIngress, "web", "frontend"), nil)
	if got := f.take(); len(got) != 3 {
		t.Fatalf("changes %+v", got)
	}
	want := [][]string{{"Ingress/frontend:0"}, {"Ingress/admin:0", "Ingress/frontend:0"}, {"Ingress/admin:0"}}
	if got := f.replay(t, start, len(want)); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed %v\nwant     %v", got, want)
	}
}

// A ReplicaSet whose controller becomes known after its Pods were counted:
// one MODIFIED moves them to the Deployment, and the history keeps both.
func TestDecoratedOwnerChanged(t *testing.T) {
	f := newDecoratedFixture(t)
	start := f.cache.ResourceVersion().String()
	f.store.putPod(key(KindPod, "web", "frontend-abc-1"), pod("web", "frontend-abc-1", "ReplicaSet", "frontend-abc", "web-tls"))
	f.store.putPod(key(KindPod, "web", "frontend-abc-2"), pod("web", "frontend-abc-2", "ReplicaSet", "frontend-abc", "web-tls"))
	if got := f.take(); len(got) != 2 {
		t.Fatalf("changes %+v", got)
	}
	f.store.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	got := f.take()
	if len(got) != 1 || got[0].Type != watch.Modified || got[0].Object.ResourceVersion == got[0].Previous.ResourceVersion {
		t.Fatalf("changes %+v", got)
	}
	if u := got[0].Previous.Status.UsedBy; len(u) != 1 || u[0].Kind != "ReplicaSet" || u[0].Pods != 2 {
		t.Errorf("previous usedBy %+v", u)
	}
	if u := got[0].Object.Status.UsedBy; len(u) != 1 || u[0].Kind != "Deployment" || u[0].Name != "frontend" || u[0].Pods != 2 {
		t.Errorf("usedBy %+v", u)
	}
	want := [][]string{{"ReplicaSet/frontend-abc:1"}, {"ReplicaSet/frontend-abc:2"}, {"Deployment/frontend:2"}}
	if got := f.replay(t, start, len(want)); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed %v\nwant     %v", got, want)
	}
}

// benchDecorated is a Secret's analysis decorated with its users as the
// decorator does: one Ingress (the common case), or three Ingresses (one
// host not covered) and a Deployment's Pods.
func benchDecorated(b *testing.B, many bool) statuscache.Analysis {
	x := NewIndex(nil)
	st := newStore(x)
	webTLS := SecretRef{"web", "web-tls"}
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	if many {
		st.putServing(key(KindIngress, "web", "admin"), ingress("web", "admin", reference{secret: webTLS, hosts: hostList("admin.example.com", "web.example.com")}))
		st.putServing(key(KindIngress, "web", "api"), ingress("web", "api", reference{secret: webTLS, hosts: hostList("api.example.com")}))
		st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
		for _, name := range []string{"frontend-abc-1", "frontend-abc-2", "frontend-abc-3"} {
			st.putPod(key(KindPod, "web", name), pod("web", name, "ReplicaSet", "frontend-abc", "web-tls"))
		}
	}
	analysis := &fakeAnalysis{dnsNames: []string{"web.example.com", "*.example.com"}, created: created}
	if many {
		analysis.dnsNames = analysis.dnsNames[:1]
	}
	d := Decorate(analysis, x.Users(webTLS))
	if _, ok := d.(*Decorated); !ok {
		b.Fatalf("not decorated: %T", d)
	}
	return d
}

// BenchmarkDecoratedStatusAt is the CPU that building usedBy and
// HostsCovered adds to each object served (a list, a watch event).
func BenchmarkDecoratedStatusAt(b *testing.B) {
	for _, many := range []bool{false, true} {
		b.Run(map[bool]string{false: "1Ingress", true: "3IngressesAndPods"}[many], func(b *testing.B) {
			d := benchDecorated(b, many)
			b.ReportAllocs()
			for b.Loop() {
				d.StatusAt(created)
			}
		})
	}
}

// BenchmarkDecoratedHostsNotCovered is what metrics ask of each used Secret
// per scrape.
func BenchmarkDecoratedHostsNotCovered(b *testing.B) {
	d := benchDecorated(b, true).(*Decorated)
	b.ReportAllocs()
	for b.Loop() {
		d.HostsNotCovered()
	}
}
