package events

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// viewOf is a CertificateStatus (nil: none) as transitions read it.
func viewOf(o *certstatus.CertificateStatus) *observed {
	if o == nil {
		return nil
	}
	return &observed{meta: &o.ObjectMeta, status: &o.Status}
}

// transitionOf and hostsTransitionOf are the Secret kind's transitions.
func transitionOf(previous, o *certstatus.CertificateStatus) (transition, bool) {
	return transitionIn(SecretKind, viewOf(previous), *viewOf(o))
}

func hostsTransitionOf(previous, o *certstatus.CertificateStatus) (transition, bool) {
	return hostsTransitionIn(SecretKind, viewOf(previous), *viewOf(o))
}

// A ConfigMap's Event regards its ConfigMapCertificateStatus in its
// namespace; a cluster-scoped kind's goes to namespace default.
func TestEventsRegardTheirKind(t *testing.T) {
	o := object("bundle", certstatus.StateExpired, now.Add(-time.Minute))
	o.Status.Certificates = o.Status.Certificates[:1] // a bundle: no leaf
	tr, ok := transitionIn(ConfigMapKind, nil, *viewOf(o))
	if !ok {
		t.Fatal("no transition")
	}
	e := tr.event("replica-1")
	if e.Namespace != "team" || e.Regarding.Kind != "ConfigMapCertificateStatus" || e.Regarding.Namespace != "team" ||
		!strings.Contains(e.Note, "the ConfigMap's certificates expired") {
		t.Errorf("ConfigMap event in %q regarding %+v: %q", e.Namespace, e.Regarding, e.Note)
	}

	cluster := &Kind{Kind: "ClusterCertificateStatus", Resource: "clustercertificatestatus", Noun: "caBundle"}
	o.Namespace = ""
	tr, _ = transitionIn(cluster, nil, *viewOf(o))
	e = tr.event("replica-1")
	if e.Namespace != "default" || e.Regarding.Namespace != "" || e.Regarding.Kind != "ClusterCertificateStatus" {
		t.Errorf("cluster-scoped event in %q regarding %+v", e.Namespace, e.Regarding)
	}
}

// A registration whose caBundle stops trusting what is served (Invalid,
// Ready's reason CABundleMismatch) is a Warning CABundleMismatch in
// namespace default regarding its ClusterCertificateStatus, quoting the
// Trusted message; its fix is a Normal Valid. Another Invalid registration
// keeps the reason Invalid.
func TestRegistrationCABundleMismatch(t *testing.T) {
	began := now.Add(-time.Minute)
	valid, mismatch := registrationPair(began)
	tr, ok := transitionIn(RegistrationKind, viewOf(valid), *viewOf(mismatch))
	if !ok {
		t.Fatal("no transition to the mismatch")
	}
	e := tr.event("replica-1")
	if e.Type != corev1.EventTypeWarning || e.Reason != certstatus.ReasonCABundleMismatch || e.Namespace != "default" ||
		e.Regarding.Kind != "ClusterCertificateStatus" || e.Regarding.Name != "validatingwebhookconfiguration.hooks" || e.Regarding.Namespace != "" ||
		!strings.Contains(e.Note, "kubectl describe clustercertificatestatus") || !strings.Contains(e.Note, "hooks/hook-tls") {
		t.Errorf("mismatch: %s %s in %q regarding %+v: %q", e.Type, e.Reason, e.Namespace, e.Regarding, e.Note)
	}
	tr, ok = transitionIn(RegistrationKind, viewOf(mismatch), *viewOf(valid))
	if e := tr.event("replica-1"); !ok || e.Type != corev1.EventTypeNormal || e.Reason != string(certstatus.StateValid) || !strings.Contains(e.Note, "trusts") {
		t.Errorf("fixed: %v %s %s %q", ok, e.Type, e.Reason, e.Note)
	}
	invalid := object("apiservice.v1.example.com", certstatus.StateInvalid, began)
	invalid.Namespace = ""
	if tr, ok := transitionIn(RegistrationKind, nil, *viewOf(invalid)); !ok || tr.reasonName() != string(certstatus.StateInvalid) {
		t.Errorf("an unreadable caBundle: %v %s", ok, tr.reasonName())
	}
}

// registrationPair is a Trusted registration and the same registration
// whose caBundle no longer trusts its serving Secret; Ready (and so
// Trusted) is dated began, as the caBundles' instants give it.
func registrationPair(began time.Time) (valid, mismatch *certstatus.CertificateStatus) {
	valid = object("validatingwebhookconfiguration.hooks", certstatus.StateValid, began)
	valid.Namespace = ""
	valid.Status.Conditions = append(valid.Status.Conditions, metav1.Condition{Type: certstatus.ConditionTrusted, Status: metav1.ConditionTrue,
		Reason: "CABundleTrusted", LastTransitionTime: metav1.NewTime(began)})
	mismatch = valid.DeepCopy()
	mismatch.Status.State = certstatus.StateInvalid
	for i := range mismatch.Status.Conditions {
		mismatch.Status.Conditions[i].Status = metav1.ConditionFalse
		mismatch.Status.Conditions[i].Reason = certstatus.ReasonCABundleMismatch
		mismatch.Status.Conditions[i].Message = `the caBundle does not trust Secret hooks/hook-tls: its issuer "CN=New CA" is not in the caBundle`
	}
	return valid, mismatch
}

// A mismatch dated by caBundles older than MaxAge (the usual case: Trusted
// takes the caBundles' instants) is still recorded, once across two
// replicas, and so is its fix; a second mismatch with another cause is a
// second Event.
func TestRegistrationMismatchOfOldCABundlesIsRecordedOnce(t *testing.T) {
	client := fake.NewClientset()
	first, second := newCounts(), newCounts()
	a := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), first)
	b := New(client.EventsV1(), clock.RealClock{}, DefaultOptions(), second)
	start(t, a)
	start(t, b)
	valid, mismatch := registrationPair(now.Add(-300 * 24 * time.Hour))
	other := mismatch.DeepCopy()
	for i := range other.Status.Conditions {
		other.Status.Conditions[i].Message = `the caBundle does not trust Secret hooks/other-tls: its issuer "CN=Other CA" is not in the caBundle`
	}
	observe := Subscriber(a, RegistrationKind, statuscache.CertificateStatuses)
	replica := Subscriber(b, RegistrationKind, statuscache.CertificateStatuses)
	for _, c := range []statuscache.Change{change(valid, mismatch), change(mismatch, valid), change(nil, other)} {
		observe(c)
		replica(c)
	}
	recorded := func(c *counts) int {
		return c.recorded[certstatus.ReasonCABundleMismatch] + c.recorded[string(certstatus.StateValid)]
	}
	waitFor(t, "3 Events between the replicas", func() bool {
		return first.read(recorded)+second.read(recorded) == 3 && first.read(func(c *counts) int { return c.already })+second.read(func(c *counts) int { return c.already }) == 3
	})
	if dropped := first.read(func(c *counts) int { return len(c.dropped) }) + second.read(func(c *counts) int { return len(c.dropped) }); dropped != 0 {
		t.Errorf("dropped: %v %v", first.dropped, second.dropped)
	}
	list, err := client.EventsV1().Events("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range list.Items {
		reasons[e.Reason]++
		if time.Since(e.EventTime.Time) > time.Minute {
			t.Errorf("%s %s dated %s: an undated transition is dated when observed", e.Reason, e.Name, e.EventTime)
		}
	}
	if reasons[certstatus.ReasonCABundleMismatch] != 2 || reasons[string(certstatus.StateValid)] != 1 || len(list.Items) != 3 {
		t.Errorf("Events: %v", reasons)
	}
}
