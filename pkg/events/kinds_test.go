package events

import (
	"strings"
	"testing"
	"time"

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
