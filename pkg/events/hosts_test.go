package events

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// withHosts adds a HostsCovered condition to a Valid object.
func withHosts(name string, status metav1.ConditionStatus, since time.Time) *certstatus.CertificateStatus {
	o := object(name, certstatus.StateValid, now.Add(-48*time.Hour))
	o.Status.Conditions = append(o.Status.Conditions, metav1.Condition{
		Type: certstatus.ConditionHostsCovered, Status: status, Reason: certstatus.ReasonHostNotCovered,
		Message: "The certificate does not cover 1 host: Ingress team/web serves api.example.com.", LastTransitionTime: metav1.NewTime(since),
	})
	return o
}

func TestHostNotCoveredTransitions(t *testing.T) {
	since := now.Add(-time.Minute)
	for _, tc := range []struct {
		name             string
		previous, object *certstatus.CertificateStatus
		want             bool
	}{
		{"becomes False", withHosts("w", metav1.ConditionTrue, since), withHosts("w", metav1.ConditionFalse, since), true},
		{"usedBy arrives False", object("w", certstatus.StateValid, since), withHosts("w", metav1.ConditionFalse, since), true},
		{"new and False", nil, withHosts("w", metav1.ConditionFalse, since), true},
		{"stays False", withHosts("w", metav1.ConditionFalse, since), withHosts("w", metav1.ConditionFalse, since), false},
		{"becomes True", withHosts("w", metav1.ConditionFalse, since), withHosts("w", metav1.ConditionTrue, since), false},
		{"absent", nil, object("w", certstatus.StateValid, since), false},
	} {
		tr, ok := hostsTransitionOf(tc.previous, tc.object)
		if ok != tc.want {
			t.Errorf("%s: transition %v, want %v", tc.name, ok, tc.want)
			continue
		}
		if !ok {
			continue
		}
		e := tr.event("replica-1")
		if e.Reason != certstatus.ReasonHostNotCovered || e.Type != corev1.EventTypeWarning || !e.EventTime.Time.Equal(since) ||
			e.Note != "The certificate does not cover 1 host: Ingress team/web serves api.example.com." {
			t.Errorf("%s: Event %+v", tc.name, e)
		}
		// A state Event of the same instant has another name.
		if e.Name == eventName("w", tr.uid, string(certstatus.StateValid), instantKey(since)) {
			t.Errorf("%s: the Event's name ignores its reason", tc.name)
		}
	}
}

// The recorder writes one Warning HostNotCovered Event, once across replicas.
func TestRecorderRecordsHostNotCovered(t *testing.T) {
	client := fake.NewClientset()
	first, second := newCounts(), newCounts()
	a := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), first)
	b := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), second)
	start(t, a)
	start(t, b)
	c := change(withHosts("w", metav1.ConditionTrue, now), withHosts("w", metav1.ConditionFalse, now))
	a.Observe(c)
	waitFor(t, "the Event", func() bool {
		return first.read(func(c *counts) int { return c.recorded[certstatus.ReasonHostNotCovered] }) == 1
	})
	b.Observe(c)
	waitFor(t, "already recorded", func() bool { return second.read(func(c *counts) int { return c.already }) == 1 })
	list, err := client.EventsV1().Events("team").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Reason != certstatus.ReasonHostNotCovered {
		t.Fatalf("Events %+v, %v", list, err)
	}
}
