package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/generated/informers/externalversions"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

// Issue 6: watch through the real stack (aggregator → certstatus → the cache
// fed by one Secret informer), with the real kubectl, the typed client and
// informers. Every test works in its own namespace.

const (
	oneDay = 24 * time.Hour
	// clockSlack is how late a clock-driven event may arrive on a loaded
	// machine; the contract says within one second.
	clockSlack = 1500 * time.Millisecond
)

// TestWatchKubectl: `kubectl get cst -w --output-watch-events` prints ADDED,
// MODIFIED and DELETED rows for a Secret's creation, renewal and deletion,
// with the columns of `kubectl get`, and no duplicate rows (the table of the
// initial list carries the list's resourceVersion).
func TestWatchKubectl(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	first := newChain(t, "kubectl.example.com", now.Add(-time.Hour), now.Add(30*oneDay+12*time.Hour))

	k := startKubectlWatch(t, "get", "cst", "-n", ns, "-w", "--output-watch-events")
	createSecret(t, first.tlsSecret(ns, "web", nil))

	header := kubectlCells(k.next(t, 30*time.Second))
	getHeader, getRow := kubectlGetRow(t, ns)
	if want := append([]string{"EVENT"}, getHeader...); !slices.Equal(header, want) {
		t.Fatalf("watch header %q, want %q", header, want)
	}
	wantHeader := []string{"NAME", "STATE", "COMMON NAME", "ISSUER", "EXPIRES", "AGE"}
	if !slices.Equal(getHeader, wantHeader) {
		t.Fatalf("kubectl get header %q, want %q", getHeader, wantHeader)
	}
	checkRow := func(line, event, expires string, getRow []string) {
		t.Helper()
		row := kubectlCells(line)
		if len(row) != len(header) {
			t.Fatalf("row %q has %d cells, the header %d", line, len(row), len(header))
		}
		want := []string{event, "web", "Valid", "kubectl.example.com", "E2E Intermediate CA", expires}
		if !slices.Equal(row[:6], want) {
			t.Fatalf("row %q, want it to start with %q", line, want)
		}
		// The same cells as `kubectl get`, but AGE, which may have ticked.
		if getRow != nil && !slices.Equal(row[1:6], getRow[:5]) {
			t.Fatalf("watch row %q differs from kubectl get's %q", row[1:], getRow)
		}
	}
	checkRow(k.next(t, 30*time.Second), "ADDED", "30d", getRow)

	// EXPIRES is the chain's earliest notAfter: stay below the intermediate's (90 days).
	renewSecret(t, ns, "web", first.renewed(t, now.Add(-time.Hour), now.Add(60*oneDay+12*time.Hour)), nil)
	line := k.next(t, 30*time.Second)
	_, getRow = kubectlGetRow(t, ns)
	checkRow(line, "MODIFIED", "60d", getRow)

	removeSecret(t, ns, "web")
	checkRow(k.next(t, 30*time.Second), "DELETED", "60d", nil)

	select {
	case extra, ok := <-k.lines:
		if ok {
			t.Fatalf("unexpected extra row: %q", extra)
		}
	case <-time.After(time.Second):
	}
}

// kubectlGetRow is `kubectl get cst -n ns`'s header and its only row.
func kubectlGetRow(t *testing.T, ns string) (header, row []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(kubectl(t, "get", "cst", "-n", ns)), "\n")
	if len(lines) != 2 {
		t.Fatalf("kubectl get cst -n %s printed %d lines, want a header and one row:\n%s", ns, len(lines), strings.Join(lines, "\n"))
	}
	return kubectlCells(lines[0]), kubectlCells(lines[1])
}

// TestWatchClockTransitions: with no Secret write, the clock alone moves a
// certificate to ExpiringSoon and then Expired, and watchers get MODIFIED for
// each within about a second of the instant the status announces.
func TestWatchClockTransitions(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	w := startWatch(t, ns, metav1.ListOptions{})

	// Lifetime about an hour, so 0.33×lifetime (~20 min) is above the 6 s
	// threshold the annotation sets: expiringSoonAt = notAfter − 6 s.
	now := time.Now()
	notAfter := now.Truncate(time.Second).Add(14 * time.Second)
	expiringSoonAt := notAfter.Add(-6 * time.Second)
	c := newChain(t, "clock.example.com", now.Add(-time.Hour), notAfter)
	created := createSecret(t, withAnnotations(c.tlsSecret(ns, "clock", nil), map[string]string{thresholdAnnotation: "6s"}))

	added := w.expect(t, 10*time.Second, watch.Added, "clock")
	status := added.Object.Status
	if status.State != v1alpha1.StateValid {
		t.Fatalf("state at creation %s, want Valid (created too late?)", status.State)
	}
	if status.NotAfter == nil || !status.NotAfter.Time.Equal(notAfter) {
		t.Fatalf("status.notAfter %v, want %v", status.NotAfter, notAfter)
	}
	if status.ExpiringSoonAt == nil || !status.ExpiringSoonAt.Time.Equal(expiringSoonAt) {
		t.Fatalf("status.expiringSoonAt %v, want %v (notAfter − 6 s)", status.ExpiringSoonAt, expiringSoonAt)
	}

	soon := w.expect(t, 15*time.Second, watch.Modified, "clock")
	checkClockEvent(t, soon, added, v1alpha1.StateExpiringSoon, expiringSoonAt, metav1.ConditionTrue)
	expired := w.expect(t, 15*time.Second, watch.Modified, "clock")
	checkClockEvent(t, expired, soon, v1alpha1.StateExpired, notAfter, metav1.ConditionFalse)
	t.Logf("clock lateness: ExpiringSoon %v after expiringSoonAt, Expired %v after notAfter",
		soon.At.Sub(expiringSoonAt).Round(time.Millisecond), expired.At.Sub(notAfter).Round(time.Millisecond))

	secret, err := env.kube.CoreV1().Secrets(ns).Get(context.Background(), "clock", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if secret.ResourceVersion != created.ResourceVersion {
		t.Fatalf("the Secret was written (resourceVersion %s → %s): the transitions must come from the clock alone",
			created.ResourceVersion, secret.ResourceVersion)
	}
	w.none(t, time.Second)
}

// checkClockEvent checks a clock-driven MODIFIED: its state, its arrival
// within clockSlack after the instant, a new resourceVersion, and conditions
// dated with the instant itself (not when the server noticed).
func checkClockEvent(t *testing.T, ev, previous seenEvent, state v1alpha1.State, instant time.Time, ready metav1.ConditionStatus) {
	t.Helper()
	if ev.Object.Status.State != state {
		t.Fatalf("got %s, want state %s", ev, state)
	}
	if late := ev.At.Sub(instant); late < -100*time.Millisecond || late > clockSlack {
		t.Errorf("%s arrived %v after the instant %s; want within [0, %v]", state, late, instant.Format(time.RFC3339), clockSlack)
	}
	if ev.Object.ResourceVersion == previous.Object.ResourceVersion {
		t.Errorf("%s kept resourceVersion %s: controllers would skip the change", state, ev.Object.ResourceVersion)
	}
	condition := apimeta.FindStatusCondition(ev.Object.Status.Conditions, v1alpha1.ConditionReady)
	if condition == nil || condition.Status != ready || !condition.LastTransitionTime.Time.Equal(instant) {
		t.Errorf("Ready condition %+v, want status %s with lastTransitionTime %s", condition, ready, instant.Format(time.RFC3339))
	}
}

// TestWatchInformer: a shared informer from the generated informers syncs
// through the streaming list (no LIST request at all), then gets Add, Update
// for a renewal and for a clock transition, and Delete; its lister ends equal
// to a fresh List.
func TestWatchInformer(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	createSecret(t, newChain(t, "keep.example.com", now.Add(-time.Hour), now.Add(60*oneDay)).tlsSecret(ns, "keep", nil))
	waitListed(t, ns, "keep")

	var mu sync.Mutex
	var requests []string
	config := env.stack.RESTConfig()
	config.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return watchRoundTripper(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			requests = append(requests, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
			mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	factory := externalversions.NewSharedInformerFactoryWithOptions(versioned.NewForConfigOrDie(config), 0, externalversions.WithNamespace(ns))
	informer := factory.Certstatus().V1alpha1().CertificateStatuses()
	type change struct {
		kind     string
		old, new *v1alpha1.CertificateStatus
	}
	changes := make(chan change, 100)
	if _, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { changes <- change{kind: "Add", new: obj.(*v1alpha1.CertificateStatus)} },
		UpdateFunc: func(oldObj, newObj any) {
			changes <- change{kind: "Update", old: oldObj.(*v1alpha1.CertificateStatus), new: newObj.(*v1alpha1.CertificateStatus)}
		},
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			changes <- change{kind: "Delete", old: obj.(*v1alpha1.CertificateStatus)}
		},
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); factory.Shutdown() })
	started := time.Now()
	factory.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), informer.Informer().HasSynced) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the informer did not sync within 10s; requests: %q", requests)
	}
	synced := time.Since(started)
	t.Logf("informer synced in %v", synced.Round(time.Millisecond))
	if synced > 5*time.Second {
		t.Errorf("the informer took %v to sync, want a few seconds at most", synced)
	}
	mu.Lock()
	var streamed bool
	for _, r := range requests {
		if !strings.Contains(r, "/certificatestatuses") {
			continue
		}
		if !strings.Contains(r, "watch=true") {
			t.Errorf("the informer sent a plain LIST (%s): the streaming list was not used or fell back", r)
		}
		if strings.Contains(r, "sendInitialEvents=true") && strings.Contains(r, "resourceVersionMatch=NotOlderThan") {
			streamed = true
		}
	}
	if !streamed {
		t.Errorf("no streaming-list watch (sendInitialEvents=true) among the informer's requests %q", requests)
	}
	mu.Unlock()

	next := func(kind, name string) change {
		t.Helper()
		select {
		case c := <-changes:
			object := c.new
			if object == nil {
				object = c.old
			}
			if c.kind != kind || object.Name != name {
				t.Fatalf("got %s %s (state %s), want %s %s", c.kind, object.Name, object.Status.State, kind, name)
			}
			return c
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s %s within 20s", kind, name)
		}
		return change{}
	}
	next("Add", "keep")

	web := newChain(t, "web.example.com", now.Add(-time.Hour), now.Add(60*oneDay))
	createSecret(t, web.tlsSecret(ns, "web", nil))
	next("Add", "web")

	// The renewal brings a short certificate: ExpiringSoon 6 s before its end.
	notAfter := time.Now().Truncate(time.Second).Add(12 * time.Second)
	renewedSecret := renewSecret(t, ns, "web", web.renewed(t, now.Add(-time.Hour), notAfter), map[string]string{thresholdAnnotation: "6s"})
	renewal := next("Update", "web")
	if renewal.old.ResourceVersion == renewal.new.ResourceVersion {
		t.Errorf("renewal Update kept resourceVersion %s", renewal.new.ResourceVersion)
	}
	if got := renewal.new.Status.NotAfter; got == nil || !got.Time.Equal(notAfter) || renewal.new.Status.State != v1alpha1.StateValid {
		t.Fatalf("after the renewal: state %s notAfter %v, want Valid %v", renewal.new.Status.State, got, notAfter)
	}

	clock := next("Update", "web")
	if clock.new.Status.State != v1alpha1.StateExpiringSoon || clock.old.ResourceVersion == clock.new.ResourceVersion {
		t.Errorf("clock Update: state %s rv %s → %s, want ExpiringSoon with a new resourceVersion",
			clock.new.Status.State, clock.old.ResourceVersion, clock.new.ResourceVersion)
	}
	if secret, err := env.kube.CoreV1().Secrets(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	} else if secret.ResourceVersion != renewedSecret.ResourceVersion {
		t.Errorf("the Secret changed during the clock transition (%s → %s)", renewedSecret.ResourceVersion, secret.ResourceVersion)
	}

	removeSecret(t, ns, "web")
	next("Delete", "web")

	eventually(t, 10*time.Second, func() error {
		cached, err := informer.Lister().CertificateStatuses(ns).List(labels.Everything())
		if err != nil {
			return err
		}
		fresh, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		return sameStatuses(cached, fresh.Items)
	})
	select {
	case c := <-changes:
		t.Errorf("unexpected informer notification %s", c.kind)
	default:
	}
}

type watchRoundTripper func(*http.Request) (*http.Response, error)

func (f watchRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// sameObjects compares an informer's cache with a list: same names,
// resourceVersions and statuses.
func sameStatuses(cached []*v1alpha1.CertificateStatus, listed []v1alpha1.CertificateStatus) error {
	byName := map[string]*v1alpha1.CertificateStatus{}
	for _, o := range cached {
		byName[o.Name] = o
	}
	if len(cached) != len(listed) {
		return fmt.Errorf("the lister holds %d objects, a fresh List %d", len(cached), len(listed))
	}
	for i := range listed {
		want := &listed[i]
		got, ok := byName[want.Name]
		if !ok {
			return fmt.Errorf("the lister lacks %s", want.Name)
		}
		if got.ResourceVersion != want.ResourceVersion || got.UID != want.UID {
			return fmt.Errorf("%s: lister rv %s uid %s, List rv %s uid %s", want.Name, got.ResourceVersion, got.UID, want.ResourceVersion, want.UID)
		}
		gotJSON, _ := json.Marshal(got.Status)
		wantJSON, _ := json.Marshal(want.Status)
		if string(gotJSON) != string(wantJSON) {
			return fmt.Errorf("%s: lister status differs from List's:\n%s\n%s", want.Name, gotJSON, wantJSON)
		}
	}
	return nil
}

// TestWatchResume: a watch from a list's resourceVersion replays exactly the
// changes made since, in order; a resourceVersion the server never gave out
// answers 410 Gone, so clients relist.
func TestWatchResume(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	a := newChain(t, "a.example.com", now.Add(-time.Hour), now.Add(60*oneDay))
	createSecret(t, a.tlsSecret(ns, "a", nil))
	listRV := waitListed(t, ns, "a").ResourceVersion

	// Three changes the client misses.
	createSecret(t, newChain(t, "b.example.com", now.Add(-time.Hour), now.Add(60*oneDay)).tlsSecret(ns, "b", nil))
	renewedNotAfter := now.Truncate(time.Second).Add(80 * oneDay)
	renewSecret(t, ns, "a", a.renewed(t, now.Add(-time.Hour), renewedNotAfter), nil)
	removeSecret(t, ns, "b")
	waitListed(t, ns, "a")

	w, err := openWatch(ns, metav1.ListOptions{ResourceVersion: listRV})
	if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		t.Fatalf("watch from the list's resourceVersion %s answered 410 (%v): the default history should replay it", listRV, err)
	}
	if err != nil {
		t.Fatalf("watch from %s: %v", listRV, err)
	}
	t.Cleanup(w.Stop)
	r := recordWatch(w)
	replayed := []seenEvent{
		r.expect(t, 10*time.Second, watch.Added, "b"),
		r.expect(t, 10*time.Second, watch.Modified, "a"),
		r.expect(t, 10*time.Second, watch.Deleted, "b"),
	}
	if got := replayed[1].Object.Status.NotAfter; got == nil || !got.Time.Equal(renewedNotAfter) {
		t.Errorf("replayed MODIFIED a has notAfter %v, want the renewal's %v", got, renewedNotAfter)
	}
	previous := mustParseRV(t, listRV)
	for _, ev := range replayed {
		rv := mustParseRV(t, ev.Object.ResourceVersion)
		if rv <= previous {
			t.Errorf("%s: resourceVersion %d not after %d", ev, rv, previous)
		}
		previous = rv
	}
	r.none(t, 2*time.Second)

	for _, rv := range []string{"1", strconv.FormatUint(mustParseRV(t, listRV)+1_000_000_000, 10)} {
		w, err := openWatch(ns, metav1.ListOptions{ResourceVersion: rv})
		if err == nil {
			w.Stop()
			t.Errorf("watch from made-up resourceVersion %s succeeded, want 410 Gone", rv)
			continue
		}
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) && !(rv != "1" && apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge)) {
			t.Errorf("watch from made-up resourceVersion %s: %v (reason %s), want 410 Gone", rv, err, apierrors.ReasonForError(err))
		}
	}
}

func mustParseRV(t *testing.T, rv string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", rv, err)
	}
	return n
}

// TestWatchSelectors: a label-selected watch sees only its set (entering is
// ADDED, leaving by a relabel is DELETED), and a field selector on
// status.state sees a Secret that the clock moves into Expired as ADDED.
func TestWatchSelectors(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	long := func(name string) chain {
		return newChain(t, name+".example.com", now.Add(-time.Hour), now.Add(60*oneDay))
	}

	expiredList, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).List(context.Background(),
		metav1.ListOptions{FieldSelector: "status.state=Expired"})
	if err != nil {
		t.Fatal(err)
	}
	expiredWatch := startWatch(t, ns, metav1.ListOptions{FieldSelector: "status.state=Expired", ResourceVersion: expiredList.ResourceVersion})
	// No annotation: the window is min(720h, 0.33 × 1h), so this one is
	// ExpiringSoon from the start and Expired in ~8 s, by the clock.
	shortNotAfter := now.Truncate(time.Second).Add(8 * time.Second)
	createSecret(t, newChain(t, "short.example.com", now.Add(-time.Hour), shortNotAfter).tlsSecret(ns, "short", nil))

	createSecret(t, long("a").tlsSecret(ns, "a", map[string]string{"tier": "x"}))
	createSecret(t, long("b").tlsSecret(ns, "b", map[string]string{"tier": "y"}))
	list := waitListed(t, ns, "a", "b", "short")
	tierX := startWatch(t, ns, metav1.ListOptions{LabelSelector: "tier=x", ResourceVersion: list.ResourceVersion})

	createSecret(t, long("c").tlsSecret(ns, "c", map[string]string{"tier": "x"}))
	createSecret(t, long("d").tlsSecret(ns, "d", map[string]string{"tier": "y"})) // never seen
	rewriteSecret(t, ns, "a", func(s *corev1.Secret) { s.Labels["tier"] = "y" })
	rewriteSecret(t, ns, "b", func(s *corev1.Secret) { s.Labels["tier"] = "x" })

	tierX.expect(t, 10*time.Second, watch.Added, "c")
	gone := tierX.expect(t, 10*time.Second, watch.Deleted, "a")
	if mustParseRV(t, gone.Object.ResourceVersion) <= mustParseRV(t, list.ResourceVersion) {
		t.Errorf("the DELETED for a carries resourceVersion %s, not newer than the list's %s", gone.Object.ResourceVersion, list.ResourceVersion)
	}
	entered := tierX.expect(t, 10*time.Second, watch.Added, "b")
	if entered.Object.Labels["tier"] != "x" {
		t.Errorf("b entered the set with labels %v", entered.Object.Labels)
	}
	tierX.none(t, time.Second)

	expired := expiredWatch.expect(t, 20*time.Second, watch.Added, "short")
	if expired.Object.Status.State != v1alpha1.StateExpired {
		t.Errorf("field-selected watch got %s", expired)
	}
	late := expired.At.Sub(shortNotAfter)
	t.Logf("Expired entered the status.state=Expired watch %v after notAfter", late.Round(time.Millisecond))
	if late < -100*time.Millisecond || late > clockSlack {
		t.Errorf("the Expired ADDED arrived %v after notAfter, want within [0, %v]", late, clockSlack)
	}
	expiredWatch.none(t, time.Second)
}

// TestWatchFanOut: many certificatestatus watches through the aggregator are
// served from one upstream Secret watch: kube-apiserver's count of Secret
// watches does not grow with them. Not parallel, so no other test's servers
// or watches move the gauges meanwhile.
func TestWatchFanOut(t *testing.T) {
	ns := newNamespace(t)
	now := time.Now()
	c := newChain(t, "fanout.example.com", now.Add(-time.Hour), now.Add(60*oneDay))
	createSecret(t, c.tlsSecret(ns, "shared", nil))
	waitListed(t, ns, "shared")

	direct, err := kubernetes.NewForConfig(env.server.DirectRESTConfig(env.stack.RESTConfig()))
	if err != nil {
		t.Fatal(err)
	}
	secretWatches := func() float64 {
		t.Helper()
		return longrunningWatches(t, env.kube, `resource="secrets"`)
	}
	servedWatches := func() float64 {
		t.Helper()
		return longrunningWatches(t, direct, `resource="certificatestatuses"`)
	}
	secretsBefore, servedBefore := secretWatches(), servedWatches()

	const n = 50
	watchers := make([]*watchRecorder, n)
	for i := range watchers {
		watchers[i] = startWatch(t, ns, metav1.ListOptions{})
	}
	for _, w := range watchers {
		w.expect(t, 30*time.Second, watch.Added, "shared") // the streaming list's initial event: the watch is open
	}
	eventually(t, 10*time.Second, func() error {
		if served := servedWatches(); served < servedBefore+n {
			return fmt.Errorf("certstatus serves %v watches, want at least %v", served, servedBefore+n)
		}
		return nil
	})
	secretsAfter := secretWatches()
	t.Logf("kube-apiserver Secret watches: %v before, %v with %d certificatestatus watches open (certstatus serves %v → %v)",
		secretsBefore, secretsAfter, n, servedBefore, servedWatches())
	if secretsBefore < 1 {
		t.Errorf("kube-apiserver reports %v Secret watches: certstatus's own should be one", secretsBefore)
	}
	if secretsAfter != secretsBefore {
		t.Errorf("kube-apiserver Secret watches went from %v to %v with %d certificatestatus watchers: they must share one", secretsBefore, secretsAfter, n)
	}

	// One Secret change reaches every watcher.
	rewriteSecret(t, ns, "shared", func(s *corev1.Secret) { s.Labels = map[string]string{"touched": "yes"} })
	for _, w := range watchers {
		if ev := w.expect(t, 30*time.Second, watch.Modified, "shared"); ev.Object.Labels["touched"] != "yes" {
			t.Fatalf("got %s without the new label", ev)
		}
	}
	for _, w := range watchers {
		w.stop()
	}
	eventually(t, 20*time.Second, func() error {
		if served := servedWatches(); served > servedBefore {
			return fmt.Errorf("certstatus still serves %v watches after they were stopped, want %v", served, servedBefore)
		}
		return nil
	})
}

// longrunningWatches sums apiserver_longrunning_requests for WATCH requests
// whose labels contain match, from a server's /metrics.
func longrunningWatches(t *testing.T, client kubernetes.Interface, match string) float64 {
	t.Helper()
	raw, err := client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	var sum float64
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_longrunning_requests{") || !strings.Contains(line, `verb="WATCH"`) || !strings.Contains(line, match) {
			continue
		}
		value, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += value
	}
	return sum
}

// TestWatchStreamingList: a raw streaming-list watch gets ADDED for every
// object, then a BOOKMARK of our kind annotated k8s.io/initial-events-end,
// then live events: what client-go informers and `kubectl wait` rely on.
func TestWatchStreamingList(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now()
	names := []string{"one", "three", "two"}
	for _, name := range names {
		createSecret(t, newChain(t, name+".example.com", now.Add(-time.Hour), now.Add(60*oneDay)).tlsSecret(ns, name, nil))
	}
	listRV := mustParseRV(t, waitListed(t, ns, names...).ResourceVersion)

	events := rawWatch(t, "certificatestatuses", ns, map[string]string{
		"sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan", "allowWatchBookmarks": "true"})
	next := func() rawKindEvent { t.Helper(); return events.next(t, 20*time.Second) }

	var added []string
	var maxRV uint64
	ev := next()
	for ; ev.Type == watch.Added; ev = next() {
		added = append(added, ev.Object.Metadata.Name)
		maxRV = max(maxRV, mustParseRV(t, ev.Object.Metadata.ResourceVersion))
	}
	slices.Sort(added)
	if !slices.Equal(added, names) {
		t.Errorf("initial ADDED events for %v, want %v", added, names)
	}
	if ev.Type != watch.Bookmark {
		t.Fatalf("after the initial events got %s %s, want BOOKMARK", ev.Type, ev.Object.Metadata.Name)
	}
	bookmark := ev.Object
	if bookmark.Kind != "CertificateStatus" || bookmark.APIVersion != "certstatus.dev/v1alpha1" {
		t.Errorf("bookmark is %s %s, want CertificateStatus certstatus.dev/v1alpha1", bookmark.APIVersion, bookmark.Kind)
	}
	if got := bookmark.Metadata.Annotations[metav1.InitialEventsAnnotationKey]; got != "true" {
		t.Errorf("bookmark annotations %v, want %s: \"true\"", bookmark.Metadata.Annotations, metav1.InitialEventsAnnotationKey)
	}
	bookmarkRV := mustParseRV(t, bookmark.Metadata.ResourceVersion)
	if bookmarkRV < maxRV || bookmarkRV < listRV {
		t.Errorf("bookmark resourceVersion %d is older than an initial object's (%d) or the earlier list's (%d)", bookmarkRV, maxRV, listRV)
	}

	createSecret(t, newChain(t, "four.example.com", now.Add(-time.Hour), now.Add(60*oneDay)).tlsSecret(ns, "four", nil))
	ev = next()
	if ev.Type != watch.Added || ev.Object.Metadata.Name != "four" || mustParseRV(t, ev.Object.Metadata.ResourceVersion) <= bookmarkRV {
		t.Errorf("after the bookmark got %s %s rv %s, want ADDED four newer than %d", ev.Type, ev.Object.Metadata.Name, ev.Object.Metadata.ResourceVersion, bookmarkRV)
	}
}
