package events

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
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
// namespace default regarding its ClusterCertificateStatus; its fix is a
// Normal Valid. Another Invalid registration keeps the reason Invalid.
func TestRegistrationCABundleMismatch(t *testing.T) {
	began := now.Add(-time.Minute)
	valid := object("validatingwebhookconfiguration.hooks", certstatus.StateValid, began)
	valid.Namespace = ""
	mismatch := valid.DeepCopy()
	mismatch.Status.State = certstatus.StateInvalid
	for i := range mismatch.Status.Conditions {
		mismatch.Status.Conditions[i].Status = metav1.ConditionFalse
		mismatch.Status.Conditions[i].Reason = certstatus.ReasonCABundleMismatch
	}
	tr, ok := transitionIn(RegistrationKind, viewOf(valid), *viewOf(mismatch))
	if !ok {
		t.Fatal("no transition to the mismatch")
	}
	e := tr.event("replica-1")
	if e.Type != corev1.EventTypeWarning || e.Reason != certstatus.ReasonCABundleMismatch || e.Namespace != "default" ||
		e.Regarding.Kind != "ClusterCertificateStatus" || e.Regarding.Name != "validatingwebhookconfiguration.hooks" || e.Regarding.Namespace != "" ||
		!strings.Contains(e.Note, "kubectl describe clustercertificatestatus") {
		t.Errorf("mismatch: %s %s in %q regarding %+v: %q", e.Type, e.Reason, e.Namespace, e.Regarding, e.Note)
	}
	tr, ok = transitionIn(RegistrationKind, viewOf(mismatch), *viewOf(valid))
	if e := tr.event("replica-1"); !ok || e.Type != corev1.EventTypeNormal || e.Reason != string(certstatus.StateValid) {
		t.Errorf("fixed: %v %s %s", ok, e.Type, e.Reason)
	}
	invalid := object("apiservice.v1.example.com", certstatus.StateInvalid, began)
	invalid.Namespace = ""
	if tr, ok := transitionIn(RegistrationKind, nil, *viewOf(invalid)); !ok || tr.reasonName() != string(certstatus.StateInvalid) {
		t.Errorf("an unreadable caBundle: %v %s", ok, tr.reasonName())
	}
}
