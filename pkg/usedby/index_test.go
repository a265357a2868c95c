package usedby

import (
	"reflect"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
	"unique"
)

// recorder collects the index's change notifications.
type recorder struct {
	mu      sync.Mutex
	changed []SecretRef
}

func (r *recorder) hear(secrets []SecretRef) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changed = append(r.changed, secrets...)
}

// take returns and clears what was heard, sorted.
func (r *recorder) take() []SecretRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	heard := r.changed
	r.changed = nil
	sort.Slice(heard, func(i, j int) bool {
		return heard[i].Namespace+"/"+heard[i].Name < heard[j].Namespace+"/"+heard[j].Name
	})
	return heard
}

func ingress(namespace, name string, refs ...reference) *servingObject {
	return &servingObject{compactMeta: newCompactMeta(namespace, name), kind: unique.Make(KindIngress), created: created.Unix(), refs: refs}
}

func pod(namespace, name, ownerKind, ownerName string, secrets ...string) *keptPod {
	p := &keptPod{compactMeta: newCompactMeta(namespace, name), ownerKind: ownerKind, ownerName: ownerName}
	for _, s := range secrets {
		p.addSecret(s)
	}
	return p
}

func key(kind, namespace, name string) objectKey {
	return objectKey{kind: kind, namespace: namespace, name: name}
}

func TestIndexServingObjects(t *testing.T) {
	var heard recorder
	x := NewIndex(heard.hear)
	st := newStore(x)
	webTLS := SecretRef{"web", "web-tls"}
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	st.putServing(key(KindGateway, "infra", "edge"), &servingObject{compactMeta: newCompactMeta("infra", "edge"), kind: unique.Make(KindGateway),
		created: created.Add(time.Hour).Unix(), refs: []reference{{secret: webTLS}}})
	st.putServing(key(KindIngress, "web", "admin"), ingress("web", "admin", reference{secret: webTLS, hosts: hostList("admin.example.com")}))
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{webTLS, webTLS, webTLS}) {
		t.Errorf("heard %v", got)
	}
	want := []User{
		{Kind: KindGateway, Namespace: "infra", Name: "edge", Created: created.Add(time.Hour)},
		{Kind: KindIngress, Namespace: "web", Name: "admin", Hosts: []string{"admin.example.com"}, Created: created},
		{Kind: KindIngress, Namespace: "web", Name: "frontend", Hosts: []string{"web.example.com"}, Created: created},
	}
	if got := usedBy(x, webTLS); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}

	// An update that changes nothing usedBy shows is not a change.
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: hostList("web.example.com")}))
	if got := heard.take(); len(got) != 0 {
		t.Errorf("an unchanged Ingress was heard as %v", got)
	}

	// Moving to another Secret touches both.
	other := SecretRef{"web", "other-tls"}
	st.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: other, hosts: hostList("web.example.com")}))
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{other, webTLS}) {
		t.Errorf("heard %v", got)
	}
	if got := usedBy(x, webTLS); len(got) != 2 {
		t.Errorf("UsedBy after the move = %+v", got)
	}
	// A snapshot is never modified: the one taken before a change reads as it did.
	before := x.Users(other)
	st.putServing(key(KindIngress, "web", "admin"), ingress("web", "admin", reference{secret: other, hosts: hostList("admin.example.com")}))
	if got := before.list(); len(got) != 1 || got[0].Name != "frontend" || x.Users(other) == before {
		t.Errorf("the previous snapshot reads %+v", got)
	}
	if got := usedBy(x, other); len(got) != 2 {
		t.Errorf("UsedBy after adding admin = %+v", got)
	}
	st.putServing(key(KindIngress, "web", "admin"), ingress("web", "admin", reference{secret: webTLS, hosts: hostList("admin.example.com")}))
	heard.take()
	// Deleting forgets it; forgetting a kind forgets all of it.
	st.putServing(key(KindIngress, "web", "frontend"), nil)
	if got := usedBy(x, other); got != nil {
		t.Errorf("UsedBy of a Secret nobody uses = %+v", got)
	}
	x.forgetKind(KindGateway)
	if got := usedBy(x, webTLS); len(got) != 1 || got[0].Name != "admin" {
		t.Errorf("UsedBy after forgetting Gateways = %+v", got)
	}
	if n := x.secretCount(); n != 1 {
		t.Errorf("index keeps %d Secrets, want 1", n)
	}
}

func TestIndexPodsByWorkload(t *testing.T) {
	var heard recorder
	x := NewIndex(heard.hear)
	st := newStore(x)
	tls := SecretRef{"web", "web-tls"}
	st.putPod(key(KindPod, "web", "frontend-abc-1"), pod("web", "frontend-abc-1", "ReplicaSet", "frontend-abc", "web-tls"))
	st.putPod(key(KindPod, "web", "frontend-abc-2"), pod("web", "frontend-abc-2", "ReplicaSet", "frontend-abc", "web-tls", "client-ca"))
	st.putPod(key(KindPod, "web", "debug"), pod("web", "debug", "", "", "web-tls"))
	st.putPod(key(KindPod, "web", "db-0"), pod("web", "db-0", "StatefulSet", "db", "web-tls"))
	st.putPod(key(KindPod, "web", "report-1-x"), pod("web", "report-1-x", "Job", "report-1", "web-tls"))
	st.putPod(key(KindPod, "web", "plain"), pod("web", "plain", "", ""))
	heard.take()

	// Until the ReplicaSet's metadata arrives, its Pods are reported under it.
	want := []User{
		{Kind: "Job", Namespace: "web", Name: "report-1", Pods: 1},
		{Kind: KindPod, Namespace: "web", Name: "debug"},
		{Kind: "ReplicaSet", Namespace: "web", Name: "frontend-abc", Pods: 2},
		{Kind: "StatefulSet", Namespace: "web", Name: "db", Pods: 1},
	}
	if got := usedBy(x, tls); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
	// An owner without a controller reads as before: no change.
	st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet"})
	if got := heard.take(); len(got) != 0 {
		t.Errorf("an owner without a controller was heard as %v", got)
	}
	before := x.Users(tls)
	st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "report-1"), kind: "Job", controllerKind: "CronJob", controllerName: "report"})
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{{"web", "client-ca"}, tls, tls}) {
		t.Errorf("owners changed %v", got)
	}
	want = []User{
		{Kind: "CronJob", Namespace: "web", Name: "report", Pods: 1},
		{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 2},
		{Kind: KindPod, Namespace: "web", Name: "debug"},
		{Kind: "StatefulSet", Namespace: "web", Name: "db", Pods: 1},
	}
	if got := usedBy(x, tls); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
	// The snapshot taken before still reads as it did.
	if got := before.list(); len(got) != 4 || got[2].Kind != "ReplicaSet" || got[2].Pods != 2 || got[0].Kind != "Job" {
		t.Errorf("the previous snapshot changed: %+v", got)
	}
	// An owner update that keeps its controller is no change.
	st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	if got := heard.take(); len(got) != 0 {
		t.Errorf("an unchanged owner was heard as %v", got)
	}
	// A finished Pod (kept without Secrets) and a deleted one stop counting.
	st.putPod(key(KindPod, "web", "frontend-abc-1"), pod("web", "frontend-abc-1", "ReplicaSet", "frontend-abc"))
	st.putPod(key(KindPod, "web", "debug"), nil)
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{tls, tls}) {
		t.Errorf("heard %v", got)
	}
	want = []User{
		{Kind: "CronJob", Namespace: "web", Name: "report", Pods: 1},
		{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 1},
		{Kind: "StatefulSet", Namespace: "web", Name: "db", Pods: 1},
	}
	if got := usedBy(x, tls); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
	// Every Pod gone: nothing is left behind.
	for _, name := range []string{"frontend-abc-1", "frontend-abc-2", "db-0", "report-1-x", "plain"} {
		st.putPod(key(KindPod, "web", name), nil)
	}
	if n := x.secretCount(); n != 0 || len(x.bySecret) != 0 {
		t.Errorf("left behind: %d Secrets in %d namespaces", n, len(x.bySecret))
	}
}

// store keeps the current version of each object, as an informer's store
// does, and hands the index the previous one with each change.
type store struct {
	x       *Index
	serving map[objectKey]*servingObject
	pods    map[objectKey]*keptPod
	owners  map[objectKey]*keptOwner
}

func newStore(x *Index) *store {
	s := &store{x: x, serving: map[objectKey]*servingObject{}, pods: map[objectKey]*keptPod{}, owners: map[objectKey]*keptOwner{}}
	x.setControllerOf(func(kind, namespace, name string) (podOwner, bool) {
		if o := s.owners[objectKey{kind: kind, namespace: namespace, name: name}]; o != nil && o.controllerKind != "" {
			return newPodOwner(o.controllerKind, o.controllerName), true
		}
		return podOwner{}, false
	})
	return s
}

func (s *store) putOwner(o *keptOwner) {
	key := objectKey{kind: o.kind, namespace: o.GetNamespace(), name: o.name}
	old := s.owners[key]
	s.owners[key] = o
	s.x.ownerChanged(old, o)
}

func (s *store) putServing(key objectKey, o *servingObject) {
	old := s.serving[key]
	if o == nil {
		delete(s.serving, key)
	} else {
		s.serving[key] = o
	}
	s.x.putServing(old, o)
}

func (s *store) putPod(key objectKey, p *keptPod) {
	old := s.pods[key]
	if p == nil {
		delete(s.pods, key)
	} else {
		s.pods[key] = p
	}
	s.x.putPod(old, p)
}

// Snapshots are read without the index's lock while it replaces them
// (run with -race).
func TestUsersReadWhileChanging(t *testing.T) {
	x := NewIndex(nil)
	tls := SecretRef{"web", "web-tls"}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if u := x.Users(tls); u != nil {
				users := u.list()
				d := Decorate(&fakeAnalysis{dnsNames: []string{"web.example.com"}}, u).(*Decorated)
				if status := d.StatusAt(created); len(status.UsedBy) != len(users) || d.HostsNotCovered() < 0 {
					t.Errorf("usedBy %+v, users %+v", status.UsedBy, users)
					return
				}
			}
		}
	}()
	for i := 0; i < 200; i++ {
		name := "p" + strconv.Itoa(i%5)
		object := ingress("web", name, reference{secret: tls, hosts: hostList(name + ".example.com")})
		x.putServing(nil, object)
		p := pod("web", name, "ReplicaSet", "rs"+strconv.Itoa(i%3), "web-tls")
		x.putPod(nil, p)
		x.putServing(object, nil)
		x.putPod(p, nil)
	}
	close(done)
	wg.Wait()
	if n := x.secretCount(); n != 0 {
		t.Errorf("left behind %d Secrets", n)
	}
}

// During a rollout the Pods of a Deployment's two ReplicaSets are one user.
func TestIndexRolloutIsOneUser(t *testing.T) {
	x := NewIndex(nil)
	st := newStore(x)
	for _, rs := range []string{"frontend-abc", "frontend-def"} {
		st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", rs), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	}
	st.putPod(key(KindPod, "web", "frontend-abc-1"), pod("web", "frontend-abc-1", "ReplicaSet", "frontend-abc", "web-tls"))
	st.putPod(key(KindPod, "web", "frontend-abc-2"), pod("web", "frontend-abc-2", "ReplicaSet", "frontend-abc", "web-tls"))
	st.putPod(key(KindPod, "web", "frontend-def-1"), pod("web", "frontend-def-1", "ReplicaSet", "frontend-def", "web-tls"))
	want := []User{{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 3}}
	if got := usedBy(x, SecretRef{"web", "web-tls"}); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
}

// usedBy lists a Secret's users as of now.
func usedBy(x *Index, secret SecretRef) []User { return x.Users(secret).list() }
