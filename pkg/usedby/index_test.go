package usedby

import (
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
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
	return &servingObject{compactMeta: compactMeta{namespace: namespace, name: name}, kind: KindIngress, created: created.Unix(), refs: refs}
}

func pod(namespace, name, ownerKind, ownerName string, secrets ...string) *keptPod {
	return &keptPod{compactMeta: compactMeta{namespace: namespace, name: name}, ownerKind: ownerKind, ownerName: ownerName, secrets: secrets}
}

func key(kind, namespace, name string) objectKey {
	return objectKey{kind: kind, namespace: namespace, name: name}
}

func TestIndexServingObjects(t *testing.T) {
	var heard recorder
	x := NewIndex(heard.hear)
	webTLS := SecretRef{"web", "web-tls"}
	x.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: []string{"web.example.com"}}))
	x.putServing(key(KindGateway, "infra", "edge"), &servingObject{compactMeta: compactMeta{"infra", "edge"}, kind: KindGateway,
		created: created.Add(time.Hour).Unix(), refs: []reference{{secret: webTLS}}})
	x.putServing(key(KindIngress, "web", "admin"), ingress("web", "admin", reference{secret: webTLS, hosts: []string{"admin.example.com"}}))
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{webTLS, webTLS, webTLS}) {
		t.Errorf("heard %v", got)
	}
	want := []User{
		{Kind: KindGateway, Namespace: "infra", Name: "edge", Created: created.Add(time.Hour)},
		{Kind: KindIngress, Namespace: "web", Name: "admin", Hosts: []string{"admin.example.com"}, Created: created},
		{Kind: KindIngress, Namespace: "web", Name: "frontend", Hosts: []string{"web.example.com"}, Created: created},
	}
	if got := x.UsedBy(webTLS); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}

	// An update that changes nothing usedBy shows is not a change.
	x.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: webTLS, hosts: []string{"web.example.com"}}))
	if got := heard.take(); len(got) != 0 {
		t.Errorf("an unchanged Ingress was heard as %v", got)
	}

	// Moving to another Secret touches both.
	other := SecretRef{"web", "other-tls"}
	x.putServing(key(KindIngress, "web", "frontend"), ingress("web", "frontend", reference{secret: other, hosts: []string{"web.example.com"}}))
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{other, webTLS}) {
		t.Errorf("heard %v", got)
	}
	if got := x.UsedBy(webTLS); len(got) != 2 {
		t.Errorf("UsedBy after the move = %+v", got)
	}
	// Deleting forgets it; forgetting a kind forgets all of it.
	x.putServing(key(KindIngress, "web", "frontend"), nil)
	if got := x.UsedBy(other); got != nil {
		t.Errorf("UsedBy of a Secret nobody uses = %+v", got)
	}
	x.forgetKind(KindGateway)
	if got := x.UsedBy(webTLS); len(got) != 1 || got[0].Name != "admin" {
		t.Errorf("UsedBy after forgetting Gateways = %+v", got)
	}
	if len(x.bySecret) != 1 {
		t.Errorf("index keeps %d Secrets, want 1", len(x.bySecret))
	}
}

func TestIndexPodsByWorkload(t *testing.T) {
	var heard recorder
	x := NewIndex(heard.hear)
	tls := SecretRef{"web", "web-tls"}
	x.putPod(key(KindPod, "web", "frontend-abc-1"), pod("web", "frontend-abc-1", "ReplicaSet", "frontend-abc", "web-tls"))
	x.putPod(key(KindPod, "web", "frontend-abc-2"), pod("web", "frontend-abc-2", "ReplicaSet", "frontend-abc", "web-tls", "client-ca"))
	x.putPod(key(KindPod, "web", "debug"), pod("web", "debug", "", "", "web-tls"))
	x.putPod(key(KindPod, "web", "db-0"), pod("web", "db-0", "StatefulSet", "db", "web-tls"))
	x.putPod(key(KindPod, "web", "report-1-x"), pod("web", "report-1-x", "Job", "report-1", "web-tls"))
	x.putPod(key(KindPod, "web", "plain"), pod("web", "plain", "", ""))
	heard.take()

	// Until the ReplicaSet's metadata arrives, its Pods are reported under it.
	want := []User{
		{Kind: "Job", Namespace: "web", Name: "report-1", Pods: 1},
		{Kind: KindPod, Namespace: "web", Name: "debug"},
		{Kind: "ReplicaSet", Namespace: "web", Name: "frontend-abc", Pods: 2},
		{Kind: "StatefulSet", Namespace: "web", Name: "db", Pods: 1},
	}
	if got := x.UsedBy(tls); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
	x.putOwner(key("ReplicaSet", "web", "frontend-abc"), &keptOwner{compactMeta: compactMeta{"web", "frontend-abc"}, kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	x.putOwner(key("Job", "web", "report-1"), &keptOwner{compactMeta: compactMeta{"web", "report-1"}, kind: "Job", controllerKind: "CronJob", controllerName: "report"})
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{{"web", "client-ca"}, tls, tls}) {
		t.Errorf("owners changed %v", got)
	}
	want = []User{
		{Kind: "CronJob", Namespace: "web", Name: "report", Pods: 1},
		{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 2},
		{Kind: KindPod, Namespace: "web", Name: "debug"},
		{Kind: "StatefulSet", Namespace: "web", Name: "db", Pods: 1},
	}
	if got := x.UsedBy(tls); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
	// An owner update that keeps its controller is no change.
	x.putOwner(key("ReplicaSet", "web", "frontend-abc"), &keptOwner{compactMeta: compactMeta{"web", "frontend-abc"}, kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	if got := heard.take(); len(got) != 0 {
		t.Errorf("an unchanged owner was heard as %v", got)
	}
	// A finished Pod (kept without Secrets) and a deleted one stop counting.
	x.putPod(key(KindPod, "web", "frontend-abc-1"), pod("web", "frontend-abc-1", "ReplicaSet", "frontend-abc"))
	x.putPod(key(KindPod, "web", "debug"), nil)
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{tls, tls}) {
		t.Errorf("heard %v", got)
	}
	want = []User{
		{Kind: "CronJob", Namespace: "web", Name: "report", Pods: 1},
		{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 1},
		{Kind: "StatefulSet", Namespace: "web", Name: "db", Pods: 1},
	}
	if got := x.UsedBy(tls); !reflect.DeepEqual(got, want) {
		t.Errorf("UsedBy = %+v\nwant %+v", got, want)
	}
	// Every Pod gone: nothing is left behind.
	for _, name := range []string{"frontend-abc-1", "frontend-abc-2", "db-0", "report-1-x", "plain"} {
		x.putPod(key(KindPod, "web", name), nil)
	}
	if len(x.bySecret) != 0 || len(x.pods) != 0 || len(x.podsByOwner) != 0 {
		t.Errorf("left behind: %d Secrets, %d Pods, %d owners", len(x.bySecret), len(x.pods), len(x.podsByOwner))
	}
}
