package certificate

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestLastTransitionTimeIsDeterministic(t *testing.T) {
	p := newPKI(t)
	notBefore, notAfter := epoch.Add(-10*day), epoch.Add(80*day)
	in := p.leafInput(t, notBefore, notAfter)
	window := time.Duration(0.33 * float64(90*day)).Truncate(time.Second)
	expiringSoonAt := notAfter.Add(-window)

	tests := []struct {
		name      string
		changedAt time.Time
		from, to  time.Time // any now in [from, to) is the same clock state
		wantState certstatus.State
		wantTime  time.Time
	}{
		{"not yet valid: the Secret's change", changedAt, notBefore.Add(-5 * day), notBefore, certstatus.StateNotYetValid, changedAt},
		{"valid: notBefore", changedAt, notBefore, expiringSoonAt, certstatus.StateValid, notBefore},
		{"valid, Secret changed later: the change", notBefore.Add(day), notBefore.Add(day), expiringSoonAt, certstatus.StateValid, notBefore.Add(day)},
		{"expiring soon: expiringSoonAt", changedAt, expiringSoonAt, notAfter, certstatus.StateExpiringSoon, expiringSoonAt},
		{"expired: notAfter", changedAt, notAfter, notAfter.Add(300 * day), certstatus.StateExpired, notAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in.CreatedAt = tt.changedAt
			a := analyze(t, in)
			first := a.StatusAt(tt.from)
			if first.State != tt.wantState {
				t.Fatalf("state %s, want %s", first.State, tt.wantState)
			}
			for _, c := range first.Conditions {
				if !c.LastTransitionTime.Time.Equal(tt.wantTime) {
					t.Errorf("%s lastTransitionTime %v, want %v", c.Type, c.LastTransitionTime.Time, tt.wantTime)
				}
			}
			want := mustJSON(t, first)
			span := tt.to.Sub(tt.from)
			for _, now := range []time.Time{tt.from.Add(span / 3), tt.from.Add(span / 2), tt.to.Add(-time.Second), tt.to.Add(-time.Nanosecond)} {
				if got := mustJSON(t, a.StatusAt(now)); got != want {
					t.Errorf("status at %v differs from status at %v:\n%s\n%s", now, tt.from, got, want)
				}
			}
			// A second analysis (another replica) gives the same bytes.
			if got := mustJSON(t, analyze(t, in).StatusAt(tt.from)); got != want {
				t.Errorf("a fresh analysis differs:\n%s\n%s", got, want)
			}
		})
	}

	t.Run("invalid: the Secret's change", func(t *testing.T) {
		in := tlsInput([]byte("garbage"), nil, nil)
		status := statusAt(t, in, epoch)
		if c := condition(t, status, certstatus.ConditionReady); !c.LastTransitionTime.Equal(changedAt) {
			t.Errorf("lastTransitionTime %v, want %v", c.LastTransitionTime, changedAt)
		}
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestNextTransition(t *testing.T) {
	p := newPKI(t)
	notBefore, notAfter := epoch.Add(-10*day), epoch.Add(80*day)
	a := analyze(t, p.leafInput(t, notBefore, notAfter))
	// Every certificate's boundaries, in order: the root, the intermediate and the leaf.
	var want []time.Time
	for _, c := range []*certtest.Certificate{p.root, p.intermediate} {
		v := newValidity(c.Certificate.NotBefore, c.Certificate.NotAfter, 720*time.Hour, 0.33)
		want = append(want, v.notBefore, v.expiringSoonAt, v.notAfter)
	}
	leaf := newValidity(notBefore, notAfter, 720*time.Hour, 0.33)
	want = sortedUnique(append(want, leaf.notBefore, leaf.expiringSoonAt, leaf.notAfter))

	now := time.Time{}
	for i, boundary := range want {
		got, ok := a.NextTransition(now)
		if !ok || !got.Equal(boundary) {
			t.Fatalf("transition %d after %v: %v %v, want %v", i, now, got, ok, boundary)
		}
		// Strictly after: asking at the boundary gives the next one.
		now = got
	}
	if got, ok := a.NextTransition(now); ok {
		t.Errorf("after the last boundary: %v, want none", got)
	}
	// The status changes at each transition and not between them.
	for i := 0; i+1 < len(want); i++ {
		at, justBefore := mustJSON(t, a.StatusAt(want[i])), mustJSON(t, a.StatusAt(want[i+1].Add(-time.Second)))
		if at != justBefore {
			t.Errorf("status changed between transitions %v and %v", want[i], want[i+1])
		}
		if before := mustJSON(t, a.StatusAt(want[i].Add(-time.Nanosecond))); before == at {
			t.Errorf("status did not change at transition %v", want[i])
		}
	}
}

func TestInputFromSecret(t *testing.T) {
	created := metav1.NewTime(epoch.Add(-10 * day))
	later := metav1.NewTime(epoch.Add(-2 * day))
	earlier := metav1.NewTime(epoch.Add(-20 * day))
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			CreationTimestamp: created,
			Annotations: map[string]string{
				certstatus.ExpiringSoonThresholdAnnotation:         "168h",
				"kubectl.kubernetes.io/last-applied-configuration": "{secret}",
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{Time: &earlier}, {Time: &later}, {}},
		},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("x")},
	}
	in := InputFromSecret(secret)
	// managedFields times move on every metadata write: they are not read.
	if !in.CreatedAt.Equal(created.Time) || in.Type != "kubernetes.io/tls" || string(in.Data["tls.crt"]) != "x" {
		t.Errorf("input %+v, want CreatedAt %v", in, created)
	}
	if len(in.Annotations) != 1 || in.Annotations[certstatus.ExpiringSoonThresholdAnnotation] != "168h" {
		t.Errorf("annotations %v, want only the threshold", in.Annotations)
	}
}

// certstatus.dev/alerts: "off" is kept as a value (FactsAt.AlertsOff), not
// as the annotation; any other value, or none, leaves alerts on.
func TestAlertsAnnotation(t *testing.T) {
	p := newPKI(t)
	for value, off := range map[string]bool{"off": true, " Off ": true, "on": false, "": false, "no": false} {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{certstatus.AlertsAnnotation: value, "other": "x"}},
			Type:       corev1.SecretTypeTLS,
			Data:       p.validTLS(t).Data,
		}
		in := InputFromSecret(secret)
		if len(in.Annotations) != 1 || in.Annotations[certstatus.AlertsAnnotation] != value {
			t.Errorf("%q: annotations %v, want only certstatus.dev/alerts", value, in.Annotations)
		}
		if got := analyze(t, in).FactsAt(epoch).AlertsOff; got != off {
			t.Errorf("certstatus.dev/alerts %q: AlertsOff %v, want %v", value, got, off)
		}
	}
	if analyze(t, p.validTLS(t)).FactsAt(epoch).AlertsOff {
		t.Error("no annotation: AlertsOff")
	}
}

// TestNonClockTransitionsDateFromTheCertificates: an Invalid Secret's
// conditions date from the later of its creation and the primary leaf's
// notBefore, so a renewal dates from the new certificate and nothing else
// (no metadata write) moves them.
func TestNonClockTransitionsDateFromTheCertificates(t *testing.T) {
	p := newPKI(t)
	otherKey := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "other"}))
	renewed := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "web.example.com", NotBefore: epoch.Add(-2 * day), NotAfter: epoch.Add(88 * day)}))
	future := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "web.example.com", NotBefore: epoch.Add(2 * day), NotAfter: epoch.Add(92 * day)}))
	mismatch := func(leaf *certtest.Certificate, created time.Time) Input {
		in := tlsInput(certtest.ChainPEM(leaf, p.intermediate), keyPEM(t, otherKey, certtest.PKCS8), p.root.PEM())
		in.CreatedAt = created
		return in
	}
	tests := []struct {
		name string
		in   Input
		now  time.Time
		want time.Time
	}{
		{"renewed into an old Secret: the leaf's notBefore", mismatch(renewed, changedAt), epoch, epoch.Add(-2 * day)},
		{"Secret created after the leaf: creationTimestamp", mismatch(renewed, epoch.Add(-day)), epoch, epoch.Add(-day)},
		{"leaf not valid yet: creationTimestamp", mismatch(future, changedAt), epoch, changedAt},
		{"leaf not valid yet, at its notBefore: the notBefore", mismatch(future, changedAt), epoch.Add(2 * day), epoch.Add(2 * day)},
		{"no readable certificate: creationTimestamp", func() Input { in := tlsInput([]byte("garbage"), nil, nil); in.CreatedAt = epoch.Add(-day); return in }(), epoch, epoch.Add(-day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := statusAt(t, tt.in, tt.now)
			if status.State != certstatus.StateInvalid {
				t.Fatalf("state %s, want Invalid", status.State)
			}
			for _, c := range status.Conditions {
				if !c.LastTransitionTime.Time.Equal(tt.want) {
					t.Errorf("%s lastTransitionTime %v, want %v", c.Type, c.LastTransitionTime.Time, tt.want)
				}
			}
		})
	}
}
