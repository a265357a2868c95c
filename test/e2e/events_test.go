package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// serverIdentity is who the stack's certstatus servers authenticate as.
const serverIdentity = "system:serviceaccount:certstatus:certstatus-apiserver"

// TestEventsExactlyOnceAcrossReplicasAndRestarts: two replicas with
// --events behind the APIService. A certificate that becomes ExpiringSoon
// and then Expired gives one Event of each even though one replica stops in
// between; restarting both repeats nothing; a Secret created already expired
// gives one Expired; a new valid one gives none; kubectl describe shows them;
// a renewal gives one Normal Valid.
func TestEventsExactlyOnceAcrossReplicasAndRestarts(t *testing.T) {
	grantEvents(t, true)
	ns := newNamespace(t)
	a := launchEventsReplica(t, ns)
	b := launchEventsReplica(t, ns)
	if err := env.stack.RegisterAPIService(context.Background(), a.Port()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.stack.RegisterAPIService(context.Background(), env.server.Port()); err != nil {
			t.Errorf("point the APIService back at the shared server: %v", err)
		}
	})

	// ExpiringSoon 20 s after the Secret is written, Expired 20 s later.
	notAfter := time.Now().Truncate(time.Second).Add(40 * time.Second)
	expiringSoonAt := notAfter.Add(-20 * time.Second)
	webChain := newChain(t, "events.example.com", time.Now().Add(-time.Hour), notAfter)
	web := webChain.tlsSecret(ns, "web", nil)
	web.Annotations = map[string]string{thresholdAnnotation: "20s"}
	createSecret(t, web)
	pastNotAfter := time.Now().Add(-time.Hour)
	createSecret(t, newChain(t, "old.example.com", time.Now().Add(-48*time.Hour), pastNotAfter).tlsSecret(ns, "born-expired", nil))
	createSecret(t, newChain(t, "fine.example.com", time.Time{}, time.Time{}).tlsSecret(ns, "fine", nil))

	waitEvents(t, ns, 90*time.Second, map[string]int{"web/ExpiringSoon": 1, "born-expired/Expired": 1})
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if time.Now().After(notAfter) {
		t.Fatalf("the ExpiringSoon Event came after notAfter; the machine is too slow for this test")
	}
	want := map[string]int{"web/ExpiringSoon": 1, "web/Expired": 1, "born-expired/Expired": 1}
	waitEvents(t, ns, 90*time.Second, want)
	time.Sleep(5 * time.Second) // a duplicate would have shown up by now
	events := checkEvents(t, ns, want)

	for _, e := range events {
		if e.Regarding.Name != "web" {
			continue
		}
		wantAt := expiringSoonAt
		if e.Reason == "Expired" {
			wantAt = notAfter
		}
		if e.Type != "Warning" || !e.EventTime.Time.Equal(wantAt) || e.ReportingController != "certstatus.dev/certstatus-apiserver" ||
			e.Regarding.Kind != "CertificateStatus" || e.Regarding.APIVersion != "certstatus.dev/v1alpha1" || e.Regarding.UID == "" {
			t.Errorf("Event %s: type %s, eventTime %s (want %s), controller %s, regarding %+v",
				e.Name, e.Type, e.EventTime.UTC(), wantAt.UTC(), e.ReportingController, e.Regarding)
		}
		if !strings.Contains(e.Note, `"events.example.com"`) || !strings.Contains(e.Note, wantAt.UTC().Format(time.RFC3339)) {
			t.Errorf("Event %s note %q does not name the certificate and the instant", e.Name, e.Note)
		}
	}

	// kubectl describe (through the APIService) lists the Events.
	described := kubectl(t, "describe", "cst", "web", "-n", ns)
	for _, re := range []string{`(?m)^Events:`, `Warning\s+ExpiringSoon\s`, `Warning\s+Expired\s`} {
		if !regexp.MustCompile(re).MatchString(described) {
			t.Errorf("kubectl describe cst web shows no %s:\n%s", re, described)
		}
	}

	// Restart both: each sees web and born-expired Expired again, finds the
	// Events there and creates none.
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*stack.Server{a, b} {
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, srv := range []*stack.Server{a, b} {
		eventually(t, time.Minute, func() error {
			if n := metricSum(t, srv, "certstatus_events_already_recorded_total"); n < 2 {
				return fmt.Errorf("replica on port %d found %v Events already recorded, want 2", srv.Port(), n)
			}
			return nil
		})
		if n := metricSum(t, srv, "certstatus_events_recorded_total"); n != 0 {
			t.Errorf("replica on port %d created %v Events after the restart, want none", srv.Port(), n)
		}
	}
	time.Sleep(3 * time.Second)
	checkEvents(t, ns, want)

	// A renewal: the replicas saw web recover, so one Normal Valid Event.
	renewSecret(t, ns, "web", webChain.renewed(t, time.Now().Add(-time.Minute), time.Now().Add(90*24*time.Hour)), nil)
	want["web/Valid"] = 1
	waitEvents(t, ns, time.Minute, want)
	time.Sleep(3 * time.Second)
	for _, e := range checkEvents(t, ns, want) {
		if e.Reason == "Valid" && (e.Type != "Normal" || !strings.Contains(e.Note, `"events.example.com"`)) {
			t.Errorf("recovery Event: type %s, note %q; want Normal naming the certificate", e.Type, e.Note)
		}
	}
}

// TestEventsWithoutPermission: without create on events, a replica with
// --events logs the refusal once, with the fix, counts every refusal, and
// goes on serving.
func TestEventsWithoutPermission(t *testing.T) {
	grantEvents(t, false)
	ns := newNamespace(t)
	srv := launchEventsReplica(t, ns)
	for _, name := range []string{"expired-1", "expired-2"} {
		createSecret(t, newChain(t, name+".example.com", time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour)).tlsSecret(ns, name, nil))
	}
	eventually(t, time.Minute, func() error {
		if n := metricSum(t, srv, `certstatus_events_dropped_total{cause="forbidden"}`); n < 2 {
			return fmt.Errorf("%v forbidden writes counted, want 2", n)
		}
		return nil
	})
	log, err := os.ReadFile(srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte("Cannot record Events: certstatus-apiserver needs create on events.k8s.io events")); n != 1 {
		t.Errorf("the refusal is logged %d times, want once", n)
	}
	if !bytes.Contains(log, []byte("kubectl apply -k artifacts/events")) {
		t.Error("the log does not say how to grant the permission")
	}
	list, err := env.kube.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d Events exist without the permission", len(list.Items))
	}
	// Still serving, from this replica directly.
	code, body, err := tryGet(srv.DirectRESTConfig(env.stack.RESTConfig()), "/apis/certstatus.dev/v1alpha1/namespaces/"+ns+"/certificatestatuses/expired-1", "")
	if err != nil || code != http.StatusOK || !bytes.Contains(body, []byte(`"state":"Expired"`)) {
		t.Errorf("get from the replica: %d %v %s", code, err, body)
	}
}

// grantEvents applies or removes artifacts/events (create on events) and
// waits until kube-apiserver's authorizer agrees.
func grantEvents(t *testing.T, grant bool) {
	t.Helper()
	root, err := stack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "artifacts", "events")
	want := "no"
	if grant {
		kubectl(t, "apply", "-k", dir)
		want = "yes"
	} else {
		kubectl(t, "delete", "-k", dir, "--ignore-not-found")
	}
	eventually(t, 30*time.Second, func() error {
		out, _, _ := env.stack.Kubectl(context.Background(), "auth", "can-i", "create", "events.events.k8s.io", "-n", "default", "--as", serverIdentity)
		if got := strings.TrimSpace(out); got != want {
			return fmt.Errorf("can-i create events: %q, want %q", got, want)
		}
		return nil
	})
}

// launchEventsReplica starts a certstatus server with --events, stopped
// when the test ends. It watches only ns, so other tests' Secrets in the
// shared stack give it no Events to record.
func launchEventsReplica(t *testing.T, ns string) *stack.Server {
	t.Helper()
	srv, err := env.stack.LaunchServer(context.Background(), env.binary, "-v=2", "--events", "--namespaces="+ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// eventsByObject counts the namespace's Events by regarding name and reason.
func eventsByObject(t *testing.T, ns string) (map[string]int, []eventsv1.Event) {
	t.Helper()
	list, err := env.kube.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range list.Items {
		got[e.Regarding.Name+"/"+e.Reason]++
	}
	return got, list.Items
}

// waitEvents waits until at least the wanted Events exist.
func waitEvents(t *testing.T, ns string, timeout time.Duration, want map[string]int) {
	t.Helper()
	eventually(t, timeout, func() error {
		got, _ := eventsByObject(t, ns)
		for k, n := range want {
			if got[k] < n {
				return fmt.Errorf("Events %v, want at least %v", got, want)
			}
		}
		return nil
	})
}

// checkEvents fails unless exactly the wanted Events exist.
func checkEvents(t *testing.T, ns string, want map[string]int) []eventsv1.Event {
	t.Helper()
	got, events := eventsByObject(t, ns)
	if fmt.Sprint(sortedCounts(got)) != fmt.Sprint(sortedCounts(want)) {
		t.Errorf("Events %v, want exactly %v", sortedCounts(got), sortedCounts(want))
	}
	return events
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, n := range m {
		out = append(out, k+"="+strconv.Itoa(n))
	}
	sort.Strings(out)
	return out
}

// metricSum adds up the samples of the server's /metrics whose series start
// with prefix (a name, or a name and labels).
func metricSum(t *testing.T, srv *stack.Server, prefix string) float64 {
	t.Helper()
	code, body, err := tryGet(srv.DirectRESTConfig(env.stack.RESTConfig()), "/metrics", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics of the replica on port %d: %d %v", srv.Port(), code, err)
	}
	var sum float64
	scanner := bufio.NewScanner(bytes.NewReader(body))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rest := line[len(prefix):]
		if !strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "{") {
			continue // another family sharing the prefix
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// TestEventsOfConfigMapsAndRegistrations: with --events, an expired
// ConfigMap bundle is a Warning Expired in its namespace regarding its
// ConfigMapCertificateStatus, and a webhook whose caBundle (a CA issued
// long before --events-max-age) does not trust its serving Secret is one
// Warning CABundleMismatch in namespace default regarding its
// ClusterCertificateStatus, naming the Secret; fixing the caBundle is one
// Normal Valid, and a restart records neither again.
func TestEventsOfConfigMapsAndRegistrations(t *testing.T) {
	grantEvents(t, true)
	// TestServerLeastPrivilege counts the server's bindings: leave none behind.
	t.Cleanup(func() { grantEvents(t, false) })
	ns := newNamespace(t)
	replica := launchEventsReplica(t, ns)

	expired := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Expired Bundle Root", KeyAlgorithm: certtest.ECDSA,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}))
	createConfigMap(t, configMap(ns, "old-bundle", nil, map[string]string{"ca.crt": string(expired.PEM())}))

	longAgo := time.Now().Add(-400 * 24 * time.Hour)
	oldCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Events Old CA", KeyAlgorithm: certtest.ECDSA, NotBefore: longAgo, NotAfter: time.Now().Add(365 * 24 * time.Hour)}))
	newCA := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Events New CA", KeyAlgorithm: certtest.ECDSA, NotBefore: longAgo, NotAfter: time.Now().Add(365 * 24 * time.Hour)}))
	secret, _ := servingSecret(ns, "hook-tls", "hook", newCA)
	createSecret(t, secret)
	service := webhookBackend(t, ns, "hook", "hook-tls")
	configuration := "e2e-events-" + ns
	name := "validatingwebhookconfiguration." + configuration
	createWebhookConfiguration(t, configuration, testWebhook("events.e2e.certstatus.dev", service, oldCA.PEM()))

	waitEvents(t, ns, 90*time.Second, map[string]int{"old-bundle/Expired": 1})
	for _, e := range checkEvents(t, ns, map[string]int{"old-bundle/Expired": 1}) {
		if e.Type != "Warning" || e.Regarding.Kind != "ConfigMapCertificateStatus" || e.Regarding.Namespace != ns || e.Regarding.UID == "" {
			t.Errorf("ConfigMap Event %s: type %s, regarding %+v", e.Name, e.Type, e.Regarding)
		}
	}

	// Other tests' registrations may have Events in default too: count this one's.
	registrationEvents := func() (map[string]int, []eventsv1.Event) {
		all, events := eventsByObject(t, metav1.NamespaceDefault)
		mine := map[string]int{}
		var kept []eventsv1.Event
		for key, n := range all {
			if strings.HasPrefix(key, name+"/") {
				mine[key] = n
			}
		}
		for _, e := range events {
			if e.Regarding.Name == name {
				kept = append(kept, e)
			}
		}
		return mine, kept
	}
	waitRegistration := func(want map[string]int) []eventsv1.Event {
		t.Helper()
		var events []eventsv1.Event
		eventually(t, 90*time.Second, func() error {
			var got map[string]int
			got, events = registrationEvents()
			if fmt.Sprint(sortedCounts(got)) != fmt.Sprint(sortedCounts(want)) {
				return fmt.Errorf("Events of %s: %v, want %v", name, sortedCounts(got), sortedCounts(want))
			}
			return nil
		})
		return events
	}
	want := map[string]int{name + "/CABundleMismatch": 1}
	for _, e := range waitRegistration(want) {
		if e.Type != "Warning" || e.Regarding.Kind != "ClusterCertificateStatus" || e.Regarding.Namespace != "" ||
			!strings.Contains(e.Note, ns+"/hook-tls") || time.Since(e.EventTime.Time) > 5*time.Minute {
			t.Errorf("mismatch Event %s: type %s, regarding %+v, eventTime %s, note %q", e.Name, e.Type, e.Regarding, e.EventTime, e.Note)
		}
	}

	ctx := context.Background()
	setCABundle(t, configuration, newCA.PEM())
	want[name+"/Valid"] = 1
	for _, e := range waitRegistration(want) {
		if e.Reason == "Valid" && e.Type != "Normal" {
			t.Errorf("fixed: %s %s %q", e.Type, e.Reason, e.Note)
		}
	}

	// A restart sees the ConfigMap expired and the registration trusted:
	// nothing new to record.
	if err := replica.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := replica.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, func() error {
		if n := metricSum(t, replica, "certstatus_events_already_recorded_total"); n < 1 {
			return fmt.Errorf("the restarted replica found %v Events already recorded, want the ConfigMap's", n)
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	checkEvents(t, ns, map[string]int{"old-bundle/Expired": 1})
	if got, _ := registrationEvents(); fmt.Sprint(sortedCounts(got)) != fmt.Sprint(sortedCounts(want)) {
		t.Errorf("after a restart, Events of %s: %v, want %v", name, sortedCounts(got), sortedCounts(want))
	}
}
