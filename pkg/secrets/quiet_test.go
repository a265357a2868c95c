package secrets

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/intern"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// TestMetadataWritesAreQuiet: a write that changes neither the certificates
// nor the labels (an annotation, managedFields of a metadata-only apply,
// another data key) changes nothing: same object, same resourceVersion, no
// event. A label edit changes labels and resourceVersion but re-dates no
// condition. Both a valid and an Invalid (key mismatch) Secret, whose
// conditions are dated by a non-clock transition.
func TestMetadataWritesAreQuiet(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Quiet CA", NotBefore: now.Add(-48 * time.Hour)}))
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "quiet.example.com", NotBefore: now.Add(-24 * time.Hour)}))
	other := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "other"}))
	created := metav1.NewTime(now.Add(-72 * time.Hour))

	for name, key := range map[string]*certtest.Certificate{"valid": leaf, "key mismatch": other} {
		t.Run(name, func(t *testing.T) {
			cache := statuscache.New(clocktesting.NewFakeClock(now), statuscache.DefaultOptions())
			source := &Source{sink: cache}
			analyse := transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil)
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web", UID: "uid-web", ResourceVersion: "1",
					CreationTimestamp: created, Labels: map[string]string{"app": "web"}},
				Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{"tls.crt": leaf.PEM(), "tls.key": certtest.Must(key.KeyPEM(certtest.PKCS8)), "ca.crt": ca.PEM()},
			}
			write := func(s *corev1.Secret) {
				t.Helper()
				kept, err := analyse(s.DeepCopy())
				if err != nil {
					t.Fatal(err)
				}
				source.apply(kept)
			}
			write(secret)
			first, _ := cache.Get("a", "web")
			w, err := cache.Watch(statuscache.WatchOptions{SendInitialEvents: ptr.To(false), ResourceVersion: statuscache.ResourceVersion(0)})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()

			later := metav1.NewTime(now.Add(-time.Minute))
			edits := map[string]func(s *corev1.Secret){
				"annotation": func(s *corev1.Secret) {
					s.Annotations = map[string]string{"example.com/owner": "team-a"}
				},
				"metadata-only apply": func(s *corev1.Secret) {
					s.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
					s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, Time: &later}}
				},
				"another data key": func(s *corev1.Secret) {
					s.Data["username"] = []byte("admin")
				},
			}
			for edit, change := range edits {
				changed := secret.DeepCopy()
				change(changed)
				changed.ResourceVersion = "2"
				write(changed)
				got, _ := cache.Get("a", "web")
				if got.ResourceVersion != first.ResourceVersion || mustJSON(t, got) != mustJSON(t, first) {
					t.Errorf("%s: the object changed:\n%s\n%s", edit, mustJSON(t, first), mustJSON(t, got))
				}
			}
			expectQuiet(t, w)

			relabelled := secret.DeepCopy()
			relabelled.Labels["tier"] = "frontend"
			relabelled.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Time: &later}}
			write(relabelled)
			got, _ := cache.Get("a", "web")
			if got.ResourceVersion == first.ResourceVersion || got.Labels["tier"] != "frontend" {
				t.Errorf("label edit: resourceVersion %s (was %s), labels %v", got.ResourceVersion, first.ResourceVersion, got.Labels)
			}
			if mustJSON(t, got.Status) != mustJSON(t, first.Status) {
				t.Errorf("label edit changed the status:\n%s\n%s", mustJSON(t, first.Status), mustJSON(t, got.Status))
			}
			select {
			case event := <-w.ResultChan():
				if event.Type != watch.Modified {
					t.Errorf("label edit: %s event, want MODIFIED", event.Type)
				}
			case <-time.After(5 * time.Second):
				t.Error("label edit: no MODIFIED event")
			}
			for _, c := range got.Status.Conditions {
				if c.LastTransitionTime.Time.After(now.Add(-24 * time.Hour)) {
					t.Errorf("%s lastTransitionTime %v moved after the leaf's notBefore", c.Type, c.LastTransitionTime)
				}
			}
			if name == "key mismatch" && got.Status.State != certstatus.StateInvalid {
				t.Errorf("state %s, want Invalid", got.Status.State)
			}
		})
	}
}

func expectQuiet(t *testing.T, w watch.Interface) {
	t.Helper()
	select {
	case event := <-w.ResultChan():
		t.Errorf("unexpected %s event", event.Type)
	case <-time.After(100 * time.Millisecond):
	}
}

func mustJSON(t *testing.T, obj any) string {
	t.Helper()
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
