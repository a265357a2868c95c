package usedby

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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
}

func (f *fakeAnalysis) StatusAt(time.Time) certstatus.CertificateStatusStatus {
	return certstatus.CertificateStatusStatus{State: certstatus.StateValid, Conditions: f.conditions}
}
func (f *fakeAnalysis) NextTransition(time.Time) (time.Time, bool) { return time.Time{}, false }
func (f *fakeAnalysis) LeafNames() ([]string, []string, bool)      { return f.dnsNames, f.ipAddresses, true }

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
	if got := Decorate(analysis, secretCreated, nil); got != statuscache.Analysis(analysis) {
		t.Errorf("Decorate without users = %T", got)
	}
	// Users without hosts: usedBy, no condition.
	status := Decorate(analysis, secretCreated, []User{workload}).StatusAt(created)
	if len(status.UsedBy) != 1 || status.UsedBy[0].Pods != 3 || hostsCovered(status) != nil {
		t.Errorf("workload only: %+v", status)
	}
	// Every host covered: True, dated by the latest creation among the Secret and the host-declaring users.
	status = Decorate(analysis, secretCreated, []User{edge, frontend, workload}).StatusAt(created)
	c := hostsCovered(status)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != certstatus.ReasonHostsCovered || !c.LastTransitionTime.Time.Equal(created.Add(2*time.Hour)) {
		t.Errorf("covered: %+v", c)
	}
	if len(status.Conditions) != 2 || len(analysis.conditions) != 1 || analysis.conditions[:2][1].Type != "" {
		t.Errorf("the analysis's conditions were modified: %+v", analysis.conditions[:2])
	}
	// One uncovered host: False, naming object and host, dated by the objects with uncovered hosts.
	frontend.Hosts = []string{"web.example.com", "api.example.com", "a.b.api.example.com"}
	status = Decorate(analysis, secretCreated, []User{edge, frontend}).StatusAt(created)
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
	status = Decorate(analysis, created.Add(5*time.Hour), []User{edge, frontend}).StatusAt(created)
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
	d := Decorate(analysis, created, []User{{Kind: KindIngress, Namespace: "web", Name: "many", Hosts: hosts, Created: created}}).(*Decorated)
	c := hostsCovered(d.StatusAt(created))
	if d.HostsNotCovered() != 1000 || c.Status != metav1.ConditionFalse || !strings.HasSuffix(c.Message, " and 997 more.") || len(c.Message) > 300 {
		t.Errorf("%d not covered, condition %+v", d.HostsNotCovered(), c)
	}
	// No leaf at all: every host is uncovered.
	d = Decorate(&fakeAnalysis{}, created, []User{{Kind: KindIngress, Namespace: "web", Name: "x", Hosts: []string{"a.example.com"}}}).(*Decorated)
	if d.HostsNotCovered() != 1 {
		t.Errorf("%d not covered without a leaf", d.HostsNotCovered())
	}
}

// The combiner turns a change of a Secret's users into one MODIFIED with a
// new resourceVersion, and a change that alters nothing into no event.
func TestCombiner(t *testing.T) {
	clk := clocktesting.NewFakeClock(created)
	cache := statuscache.New(clk, statuscache.DefaultOptions())
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
	index := NewIndex(nil)
	combiner := NewCombiner(index, cache)
	st := newStore(index)
	secret := &metav1.ObjectMeta{Namespace: "web", Name: "web-tls", UID: "u1", CreationTimestamp: metav1.NewTime(created)}
	combiner.Upsert(statuscache.Item{Meta: secret, SecretType: "kubernetes.io/tls", Analysis: &fakeAnalysis{dnsNames: []string{"web.example.com"}}})
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
	combiner.Upsert(statuscache.Item{Meta: secret, SecretType: "kubernetes.io/tls", Analysis: &fakeAnalysis{dnsNames: []string{"web.example.com", "api.example.com"}}})
	got = take()
	if len(got) != 1 || hostsCovered(got[0].Object.Status).Status != metav1.ConditionTrue || len(got[0].Object.Status.UsedBy) != 1 {
		t.Fatalf("changes %+v", got)
	}
	combiner.Delete("web", "web-tls")
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
