package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/retry"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/watchtest"
)

// thresholdAnnotation is the only Secret annotation the server reads.
const thresholdAnnotation = "certstatus.dev/expiring-soon-threshold"

// seenEvent is one watch event as the test received it, stamped on arrival.
type seenEvent struct {
	Type   watch.EventType
	Object *v1alpha1.CertificateStatus // nil for ERROR events
	Raw    any                         // the event's object as decoded, for messages
	At     time.Time
}

func (e seenEvent) String() string {
	if e.Object == nil {
		return fmt.Sprintf("%s %v", e.Type, e.Raw)
	}
	return fmt.Sprintf("%s %s state=%s rv=%s", e.Type, e.Object.Name, e.Object.Status.State, e.Object.ResourceVersion)
}

// watchRecorder reads a typed-client watch in its own goroutine, so arrival
// times are taken as the events come rather than when the test looks.
type watchRecorder struct {
	events chan seenEvent
	// stop ends the watch (idempotent; also done when the test ends).
	stop func()
}

// startWatch opens a typed-client watch on certificatestatuses in namespace;
// the watch is stopped when the test ends.
func startWatch(t *testing.T, namespace string, options metav1.ListOptions) *watchRecorder {
	t.Helper()
	w, err := openWatch(namespace, options)
	if err != nil {
		t.Fatalf("watch certificatestatuses in %s (%+v): %v", namespace, options, err)
	}
	t.Cleanup(w.Stop)
	r := recordWatch(w)
	r.stop = w.Stop
	return r
}

func openWatch(namespace string, options metav1.ListOptions) (watch.Interface, error) {
	// The request's context would bound the stream too: the watch ends with Stop.
	return env.certs.CertstatusV1alpha1().CertificateStatuses(namespace).Watch(context.Background(), options)
}

func recordWatch(w watch.Interface) *watchRecorder {
	r := &watchRecorder{events: make(chan seenEvent, 4096)}
	go func() {
		defer close(r.events)
		for ev := range w.ResultChan() {
			seen := seenEvent{Type: ev.Type, Raw: ev.Object, At: time.Now()}
			seen.Object, _ = ev.Object.(*v1alpha1.CertificateStatus)
			r.events <- seen
		}
	}()
	return r
}

// next returns the next event, failing the test on timeout, on a closed
// watch or on an ERROR event.
func (r *watchRecorder) next(t *testing.T, timeout time.Duration) seenEvent {
	t.Helper()
	ev, err := watchtest.Receive(r.events, timeout)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	if ev.Object == nil {
		t.Fatalf("unexpected watch event: %s", ev)
	}
	return ev
}

// expect returns the next event and checks its type and object name.
func (r *watchRecorder) expect(t *testing.T, timeout time.Duration, eventType watch.EventType, name string) seenEvent {
	t.Helper()
	ev := r.next(t, timeout)
	if ev.Type != eventType || ev.Object.Name != name {
		t.Fatalf("got event %s, want %s %s", ev, eventType, name)
	}
	return ev
}

// none checks that no event arrives for d.
func (r *watchRecorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-r.events:
		if ok {
			t.Fatalf("unexpected watch event: %s", ev)
		}
		t.Fatalf("the watch closed unexpectedly")
	case <-time.After(d):
	}
}

// withAnnotations sets annotations on a Secret built by chain.tlsSecret.
func withAnnotations(secret *corev1.Secret, annotations map[string]string) *corev1.Secret {
	secret.Annotations = annotations
	return secret
}

// renewed is the chain with a new leaf (new key, new serial) from the same
// intermediate, as a renewal by an issuer would give.
func (c chain) renewed(t *testing.T, notBefore, notAfter time.Time) chain {
	t.Helper()
	leaf, err := c.intermediate.NewLeaf(certtest.Spec{
		CommonName: c.leaf.Certificate.Subject.CommonName, DNSNames: c.leaf.Certificate.DNSNames,
		KeyAlgorithm: certtest.ECDSA, NotBefore: notBefore, NotAfter: notAfter,
	})
	if err != nil {
		t.Fatalf("renew the leaf: %v", err)
	}
	return chain{root: c.root, intermediate: c.intermediate, leaf: leaf}
}

// updateSecret reads a Secret, applies change and writes it back, retrying on conflicts.
func rewriteSecret(t *testing.T, namespace, name string, change func(*corev1.Secret)) *corev1.Secret {
	t.Helper()
	ctx := context.Background()
	var updated *corev1.Secret
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		secret, err := env.kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(secret)
		updated, err = env.kube.CoreV1().Secrets(namespace).Update(ctx, secret, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("update Secret %s/%s: %v", namespace, name, err)
	}
	return updated
}

// renewSecret puts the chain's certificates and key into the Secret.
func renewSecret(t *testing.T, namespace, name string, c chain, annotations map[string]string) *corev1.Secret {
	t.Helper()
	fresh := c.tlsSecret(namespace, name, nil)
	return rewriteSecret(t, namespace, name, func(secret *corev1.Secret) {
		secret.Data = fresh.Data
		for k, v := range annotations {
			if secret.Annotations == nil {
				secret.Annotations = map[string]string{}
			}
			secret.Annotations[k] = v
		}
	})
}

func removeSecret(t *testing.T, namespace, name string) {
	t.Helper()
	if err := env.kube.CoreV1().Secrets(namespace).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete Secret %s/%s: %v", namespace, name, err)
	}
}

// waitListed waits until certstatus lists exactly the given names in namespace
// (so the Secret informer has caught up) and returns the list.
func waitListed(t *testing.T, namespace string, names ...string) *v1alpha1.CertificateStatusList {
	t.Helper()
	var list *v1alpha1.CertificateStatusList
	eventually(t, 20*time.Second, func() error {
		var err error
		list, err = env.certs.CertstatusV1alpha1().CertificateStatuses(namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		var got []string
		for _, item := range list.Items {
			got = append(got, item.Name)
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			return fmt.Errorf("listed %v, want %v", got, names)
		}
		return nil
	})
	return list
}

// kubectlWatch is a running `kubectl get -w` whose stdout lines are read as
// they come.
type kubectlWatch struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *stderrBuffer
}

// startKubectlWatch runs the real kubectl as a subprocess; it is killed by
// its PID when the test ends.
func startKubectlWatch(t *testing.T, args ...string) *kubectlWatch {
	t.Helper()
	args = append([]string{"--kubeconfig", env.stack.AdminKubeconfig()}, args...)
	cmd := exec.Command(env.stack.KubectlPath(), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	k := &kubectlWatch{cmd: cmd, lines: make(chan string, 1024), stderr: &stderrBuffer{}}
	cmd.Stderr = k.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kubectl %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		defer close(k.lines)
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			k.lines <- scanner.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by its PID
		_ = cmd.Wait()
	})
	return k
}

// next returns kubectl's next stdout line.
func (k *kubectlWatch) next(t *testing.T, timeout time.Duration) string {
	t.Helper()
	line, err := watchtest.Receive(k.lines, timeout)
	if errors.Is(err, watchtest.ErrClosed) {
		t.Fatalf("kubectl exited; stderr:\n%s", k.stderr)
	}
	if err != nil {
		t.Fatalf("kubectl printed nothing: %v; stderr:\n%s", err, k.stderr)
	}
	return line
}

// stderrBuffer collects a subprocess's stderr while the test may read it.
type stderrBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *stderrBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *stderrBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// kubectlCellSeparator splits kubectl's aligned columns: cells are separated by at
// least two spaces (tabwriter padding), while values such as an issuer's
// common name hold single spaces.
var kubectlCellSeparator = regexp.MustCompile(`\s{2,}`)

func kubectlCells(line string) []string {
	return kubectlCellSeparator.Split(strings.TrimSpace(line), -1)
}

// rawEvents are the events of a JSON watch, decoded as any kind.
type rawEvents chan rawKindEvent

type rawKindEvent struct {
	Type   watch.EventType
	Object struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Name            string            `json:"name"`
			ResourceVersion string            `json:"resourceVersion"`
			Annotations     map[string]string `json:"annotations"`
		} `json:"metadata"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
}

// rawWatch opens a JSON watch of resource with params until the test ends.
func rawWatch(t *testing.T, resource, namespace string, params map[string]string) rawEvents {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	request := env.certs.CertstatusV1alpha1().RESTClient().Get().Resource(resource).Param("watch", "true").
		SetHeader("Accept", "application/json")
	if namespace != "" {
		request = request.Namespace(namespace)
	}
	for k, v := range params {
		request = request.Param(k, v)
	}
	stream, err := request.Stream(ctx)
	if err != nil {
		t.Fatalf("watch %s: %v", resource, err)
	}
	t.Cleanup(func() { _ = stream.Close() })
	events := make(rawEvents)
	go func() {
		defer close(events)
		decoder := json.NewDecoder(stream)
		for {
			var ev rawKindEvent
			if err := decoder.Decode(&ev); err != nil {
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return events
}

func (e rawEvents) next(t *testing.T, timeout time.Duration) rawKindEvent {
	t.Helper()
	select {
	case ev, ok := <-e:
		if !ok {
			t.Fatal("the watch ended")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %s", timeout)
	}
	return rawKindEvent{}
}
