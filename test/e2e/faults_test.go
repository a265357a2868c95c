package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/generated/informers/externalversions"
	listers "github.com/certstatus/certstatus/generated/listers/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/test/stack"
)

// TestFaults runs on a control plane of its own: it kills and restarts
// certstatus servers. A client-go informer built from the generated typed
// client must recover on its own and end with a cache equal to a fresh list.
// The same holds when kube-apiserver or etcd is restarted under open watches
// (test/stack's RestartAPIServer, RestartEtcd).
func TestFaults(t *testing.T) {
	st := ownStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	srv, err := st.StartServer(ctx, env.binary, "-v=2")
	if err != nil {
		t.Fatalf("start certstatus: %v", err)
	}
	kube := st.Client()
	certs := versioned.NewForConfigOrDie(st.RESTConfig())

	newNS := func(name string) string {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return name
	}

	t.Run("server killed and restarted", func(t *testing.T) {
		ns := newNS("faults-kill")
		for i := 0; i < 3; i++ {
			createIn(t, kube, tlsSecretIn(t, ns, fmt.Sprintf("s%d", i), time.Time{}))
		}
		lister, events := startInformer(t, certs, ns)
		waitCacheMatches(t, certs, lister, ns, 3, true, 15*time.Second)

		pid := srv.PID()
		if err := srv.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		changeWhileDown(t, kube, ns)
		time.Sleep(2 * time.Second) // the informer's watch breaks and its relists fail meanwhile
		if err := srv.Start(ctx); err != nil {
			t.Fatalf("restart certstatus: %v", err)
		}
		t.Logf("server pid %d killed, pid %d ready again after %v", pid, srv.PID(), time.Since(killed).Round(time.Millisecond))
		before := events.Load()
		waitCacheMatches(t, certs, lister, ns, 3, true, 60*time.Second)
		checkChangesSeen(t, lister)
		t.Logf("informer cache matches a fresh list %v after the kill (%d events before the restart, %d after)",
			time.Since(killed).Round(time.Millisecond), before, events.Load()-before)
		// And it keeps following changes afterwards.
		createIn(t, kube, tlsSecretIn(t, ns, "after-restart", time.Time{}))
		waitCacheMatches(t, certs, lister, ns, 4, true, 15*time.Second)
	})

	// The server lists Secrets page by page (500 at a time) at start: a
	// restart with more than two pages present serves every Secret, each
	// the same object as before the restart.
	t.Run("restart with more Secrets than a list page", func(t *testing.T) {
		ns := newNS("faults-pages")
		const n = 1100
		template := tlsSecretIn(t, ns, "page", time.Time{})
		var failed atomic.Int32
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					secret := template.DeepCopy()
					secret.Name = fmt.Sprintf("page-%04d", i)
					if i%100 == 0 {
						secret.Data["tls.crt"] = []byte("not a certificate")
					}
					if _, err := kube.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d Secrets not created", failed.Load())
		}
		// statuses lists the namespace through kube-apiserver once all n are there.
		statuses := func(when string) map[string]v1alpha1.CertificateStatusStatus {
			t.Helper()
			byName := map[string]v1alpha1.CertificateStatusStatus{}
			eventually(t, 30*time.Second, func() error {
				list, err := certs.CertstatusV1alpha1().CertificateStatuses(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return err
				}
				clear(byName)
				for _, item := range list.Items {
					byName[item.Name] = item.Status
				}
				if len(byName) != n {
					return fmt.Errorf("%d of %d listed %s", len(byName), n, when)
				}
				return nil
			})
			return byName
		}
		before := statuses("before the restart")
		if err := srv.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			t.Fatalf("restart certstatus: %v", err)
		}
		after := statuses("after the restart")
		for name, status := range before {
			if !equality.Semantic.DeepEqual(after[name], status) {
				t.Errorf("%s changed across the restart:\nbefore %+v\nafter  %+v", name, status, after[name])
			}
		}
		if got := after["page-0100"]; got.State != v1alpha1.StateInvalid {
			t.Errorf("the unreadable Secret is %q, want Invalid", got.State)
		}
		if got := after["page-0101"]; got.State != v1alpha1.StateValid {
			t.Errorf("a valid Secret is %q, want Valid", got.State)
		}
	})

	t.Run("two replicas, alternating, one killed", func(t *testing.T) {
		ns := newNS("faults-replicas")
		for i := 0; i < 3; i++ {
			createIn(t, kube, tlsSecretIn(t, ns, fmt.Sprintf("s%d", i), time.Time{}))
		}
		second, err := st.LaunchServer(ctx, env.binary, "-v=2")
		if err != nil {
			t.Fatalf("start a second replica: %v", err)
		}
		replicas := []*stack.Server{srv, second}
		lister, _ := startInformer(t, certs, ns)
		waitCacheMatches(t, certs, lister, ns, 3, false, 15*time.Second)

		// The APIService moves between the replicas while Secrets change;
		// the informer meets both (watches restart on the other replica).
		for round := 1; round <= 4; round++ {
			next := replicas[round%2]
			if err := st.RegisterAPIService(ctx, next.Port()); err != nil {
				t.Fatalf("round %d: move the APIService to port %d: %v", round, next.Port(), err)
			}
			createIn(t, kube, tlsSecretIn(t, ns, fmt.Sprintf("round-%d", round), time.Time{}))
			waitCacheMatches(t, certs, lister, ns, 3+round, false, 30*time.Second)
		}
		// The first replica serves again, and the informer's watch, opened
		// through the aggregator when the test began, is still on it: kill
		// it, change Secrets, and let the other replica take over. The
		// informer resumes there with a resourceVersion from the dead one.
		if err := srv.Kill(); err != nil {
			t.Fatal(err)
		}
		changeWhileDown(t, kube, ns)
		if err := st.RegisterAPIService(ctx, second.Port()); err != nil {
			t.Fatalf("move the APIService to the surviving replica: %v", err)
		}
		waitCacheMatches(t, certs, lister, ns, 3+4, false, 60*time.Second)
		checkChangesSeen(t, lister)
	})

	// Nothing can be written while kube-apiserver or etcd is down, so the
	// changes are made right after the restart returns, while the
	// informer's watch and certstatus's own Secret informer are still
	// reconnecting.
	controlPlaneRestart := func(t *testing.T, ns, what string, restart func(context.Context) error) {
		// The replica test above leaves srv killed and the APIService on
		// its second replica: serve from srv again.
		if !srv.Running() {
			if err := srv.Start(ctx); err != nil {
				t.Fatalf("start certstatus again: %v", err)
			}
		}
		if err := st.RegisterAPIService(ctx, srv.Port()); err != nil {
			t.Fatalf("move the APIService to port %d: %v", srv.Port(), err)
		}
		for i := 0; i < 3; i++ {
			createIn(t, kube, tlsSecretIn(t, ns, fmt.Sprintf("s%d", i), time.Time{}))
		}
		lister, events := startInformer(t, certs, ns)
		waitCacheMatches(t, certs, lister, ns, 3, true, 15*time.Second)
		list, err := certs.CertstatusV1alpha1().CertificateStatuses(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := certs.CertstatusV1alpha1().CertificateStatuses(ns).Watch(context.Background(), metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			t.Fatalf("raw watch: %v", err)
		}
		t.Cleanup(w.Stop)
		raw := recordWatch(w)
		serverPID := srv.PID()

		begin := time.Now()
		if err := restart(ctx); err != nil {
			t.Fatalf("restart %s: %v", what, err)
		}
		restarted := time.Now()
		t.Logf("%s restarted in %v", what, restarted.Sub(begin).Round(time.Millisecond))
		before := events.Load()
		changeWhileDown(t, kube, ns)
		createIn(t, kube, tlsSecretIn(t, ns, "after-restart", time.Time{}))
		waitCacheMatches(t, certs, lister, ns, 4, true, 90*time.Second)
		checkChangesSeen(t, lister)
		if _, err := lister.Get("after-restart"); err != nil {
			t.Errorf("after-restart is not cached: %v", err)
		}
		if events.Load() == before {
			t.Errorf("the informer delivered no event after the %s restart", what)
		}
		t.Logf("informer cache matches a fresh list %v after the restart returned (%d events after it)",
			time.Since(restarted).Round(time.Millisecond), events.Load()-before)

		// The raw watch, opened before the restart, either goes on and
		// delivers the changes made after it, or ends (closed, or an
		// ERROR event such as 410 Gone) so that its owner relists. It must
		// not hang silently.
		var seen []string
		deadline := time.After(60 * time.Second)
	read:
		for {
			select {
			case ev, ok := <-raw.events:
				switch {
				case !ok:
					t.Logf("raw watch: closed by the %s restart after %d events %v", what, len(seen), seen)
					break read
				case ev.Object == nil:
					if ev.Type != watch.Error {
						t.Fatalf("raw watch: unexpected event %s", ev)
					}
					t.Logf("raw watch: ended with %s after the %s restart", ev, what)
					break read
				}
				seen = append(seen, string(ev.Type)+" "+ev.Object.Name)
				if ev.Type == watch.Added && ev.Object.Name == "after-restart" {
					for _, want := range []string{"DELETED s0", "ADDED while-down", "MODIFIED s1", "MODIFIED s2"} {
						if !slices.Contains(seen, want) {
							t.Errorf("raw watch continued across the %s restart but missed %q; saw %v", what, want, seen)
						}
					}
					t.Logf("raw watch: continued across the %s restart: %v", what, seen)
					break read
				}
			case <-deadline:
				t.Fatalf("raw watch: neither closed nor delivered the changes made after the %s restart within 60s; saw %v", what, seen)
			}
		}

		if !srv.Running() || srv.PID() != serverPID {
			t.Errorf("certstatus (pid %d) did not survive the %s restart: running=%v pid=%d", serverPID, what, srv.Running(), srv.PID())
		}
		direct := srv.DirectRESTConfig(st.RESTConfig())
		eventually(t, 30*time.Second, func() error {
			code, body, err := tryGet(direct, "/readyz", "")
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("certstatus /readyz: %d %s", code, body)
			}
			return nil
		})
	}

	t.Run("kube-apiserver restarted under open watches", func(t *testing.T) {
		controlPlaneRestart(t, newNS("faults-apiserver"), "kube-apiserver", st.RestartAPIServer)
	})

	t.Run("etcd restarted under open watches", func(t *testing.T) {
		controlPlaneRestart(t, newNS("faults-etcd"), "etcd", st.RestartEtcd)
	})
}

// tlsSecretIn is a valid TLS Secret, or an expired one if notAfter is set.
func tlsSecretIn(t *testing.T, ns, name string, notAfter time.Time) *corev1.Secret {
	t.Helper()
	var notBefore time.Time
	if !notAfter.IsZero() {
		notBefore = notAfter.Add(-48 * time.Hour)
	}
	return newChain(t, name+".faults.example.com", notBefore, notAfter).tlsSecret(ns, name, map[string]string{"round": "0"})
}

// changeWhileDown deletes s0, makes s1 expired and relabels s2; the Secret
// count stays the same (one created, one deleted).
func changeWhileDown(t *testing.T, kube kubernetes.Interface, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := kube.CoreV1().Secrets(ns).Delete(ctx, "s0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	createIn(t, kube, tlsSecretIn(t, ns, "while-down", time.Time{}))
	expired := tlsSecretIn(t, ns, "s1", time.Now().Add(-time.Hour))
	s1, err := kube.CoreV1().Secrets(ns).Get(ctx, "s1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s1.Data = expired.Data
	if _, err := kube.CoreV1().Secrets(ns).Update(ctx, s1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s2, err := kube.CoreV1().Secrets(ns).Get(ctx, "s2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s2.Labels["round"] = "changed-while-down"
	if _, err := kube.CoreV1().Secrets(ns).Update(ctx, s2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// startInformer runs a typed informer on ns until the test ends and counts
// the events it delivers.
func startInformer(t *testing.T, certs versioned.Interface, ns string) (listers.CertificateStatusNamespaceLister, *atomic.Int64) {
	t.Helper()
	factory := externalversions.NewSharedInformerFactoryWithOptions(certs, 0, externalversions.WithNamespace(ns))
	informer := factory.Certstatus().V1alpha1().CertificateStatuses()
	events := &atomic.Int64{}
	count := func(any) { events.Add(1) }
	if _, err := informer.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: count, UpdateFunc: func(_, o any) { count(o) }, DeleteFunc: count,
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	factory.Start(stop)
	t.Cleanup(func() {
		close(stop)
		factory.Shutdown()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !toolscache.WaitForCacheSync(ctx.Done(), informer.Informer().HasSynced) {
		t.Fatal("the informer did not sync")
	}
	return informer.Lister().CertificateStatuses(ns), events
}

// waitCacheMatches waits until the lister holds exactly what a fresh list
// says (names, resourceVersions, states, labels) and that is want objects.
//
// sameRV: resourceVersions are per server process (pkg/statuscache), so
// with two replicas the informer's objects may carry the other replica's
// numbers for the same content; then only the content is compared.
func waitCacheMatches(t *testing.T, certs versioned.Interface, lister listers.CertificateStatusNamespaceLister, ns string, want int, sameRV bool, timeout time.Duration) {
	t.Helper()
	describe := func(items []*v1alpha1.CertificateStatus) string {
		var lines []string
		for _, o := range items {
			rv := "(any)"
			if sameRV {
				rv = o.ResourceVersion
			}
			lines = append(lines, fmt.Sprintf("%s uid=%s rv=%s state=%s round=%s notAfter=%v", o.Name, o.UID, rv, o.Status.State, o.Labels["round"], o.Status.NotAfter))
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	eventually(t, timeout, func() error {
		fresh, err := certs.CertstatusV1alpha1().CertificateStatuses(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("fresh list: %v", err)
		}
		var freshItems []*v1alpha1.CertificateStatus
		for i := range fresh.Items {
			freshItems = append(freshItems, &fresh.Items[i])
		}
		cached, err := lister.List(labels.Everything())
		if err != nil {
			return err
		}
		if len(freshItems) != want {
			return fmt.Errorf("a fresh list has %d objects, want %d:\n%s", len(freshItems), want, describe(freshItems))
		}
		if got, wanted := describe(cached), describe(freshItems); got != wanted {
			return fmt.Errorf("the informer's cache:\n%s\ndiffers from a fresh list:\n%s", got, wanted)
		}
		return nil
	})
}

// checkChangesSeen asserts that the cache reflects changeWhileDown.
func checkChangesSeen(t *testing.T, lister listers.CertificateStatusNamespaceLister) {
	t.Helper()
	if _, err := lister.Get("s0"); err == nil {
		t.Errorf("s0 was deleted while the server was down, but is still cached")
	}
	if _, err := lister.Get("while-down"); err != nil {
		t.Errorf("while-down was created while the server was down: %v", err)
	}
	if s1, err := lister.Get("s1"); err != nil || s1.Status.State != v1alpha1.StateExpired {
		t.Errorf("s1 was made expired while the server was down: %v %v", s1, err)
	}
	if s2, err := lister.Get("s2"); err != nil || s2.Labels["round"] != "changed-while-down" {
		t.Errorf("s2 was relabelled while the server was down: %v %v", s2, err)
	}
}
