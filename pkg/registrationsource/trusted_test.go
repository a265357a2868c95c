package registrationsource

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/metrics"
	"github.com/certstatus/certstatus/pkg/registrations"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// webhookAnalysis is a webhook configuration whose caBundle is a CA valid for a year.
func webhookAnalysis(t *testing.T) *registrationAnalysis {
	t.Helper()
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Hook CA", KeyAlgorithm: certtest.ECDSA,
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}))
	r := &registrations.Registration{
		ObjectMeta: metav1.ObjectMeta{Name: "hooks", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		APIVersion: "admissionregistration.k8s.io/v1", Kind: registrations.KindValidatingWebhookConfiguration,
		CABundles: []registrations.CABundle{{Key: "webhooks[check].clientConfig.caBundle", PEM: ca.PEM(),
			Service: &registrations.ServiceReference{Namespace: "hooks", Name: "hook"}}},
	}
	analysis, listed := certificate.Analyze(r.AnalysisInput(), certificate.DefaultOptions())
	if !listed {
		t.Fatal("the caBundle is not listed")
	}
	return newRegistrationAnalysis(analysis, r)
}

func TestTrustedFalseMakesTheStateInvalid(t *testing.T) {
	base := webhookAnalysis(t)
	if s := base.StatusAt(now); s.State != certstatus.StateValid || s.Source == nil || s.Source.Kind != registrations.KindValidatingWebhookConfiguration {
		t.Fatalf("the caBundle alone: state %s, source %+v", s.State, s.Source)
	}
	decorated := &trustedAnalysis{registrationAnalysis: base, trusted: registrations.Trusted{Applies: true,
		Status: metav1.ConditionFalse, Reason: registrations.ReasonCABundleMismatch, Message: "webhooks[check].clientConfig.caBundle does not trust the Secret hooks/hook-tls."}}
	s := decorated.StatusAt(now)
	trusted := meta.FindStatusCondition(s.Conditions, certstatus.ConditionTrusted)
	ready := meta.FindStatusCondition(s.Conditions, certstatus.ConditionReady)
	if s.State != certstatus.StateInvalid || trusted == nil || trusted.Status != metav1.ConditionFalse || trusted.Reason != certstatus.ReasonCABundleMismatch ||
		ready.Status != metav1.ConditionFalse || ready.Reason != certstatus.ReasonCABundleMismatch || ready.Message != trusted.Message {
		t.Fatalf("False: state %s, Trusted %+v, Ready %+v", s.State, trusted, ready)
	}
	// The base's conditions are shared: they must not have changed.
	if r := meta.FindStatusCondition(base.StatusAt(now).Conditions, certstatus.ConditionReady); r.Status != metav1.ConditionTrue {
		t.Fatalf("the base analysis' Ready changed: %+v", r)
	}
	if decorated.Unwrap() != base {
		t.Fatal("Unwrap is not the registration's own analysis")
	}
}

func TestTrustedTrueFollowsTheTrustedPath(t *testing.T) {
	base := webhookAnalysis(t)
	validity := registrations.Validity{NotBefore: now.Add(-time.Hour), ExpiringSoonAt: now.Add(10 * 24 * time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)}
	decorated := &trustedAnalysis{registrationAnalysis: base, trusted: registrations.Trusted{Applies: true,
		Status: metav1.ConditionTrue, Reason: registrations.ReasonTrusted, Message: "trusted", Validity: &validity}}
	s := decorated.StatusAt(now)
	if s.State != certstatus.StateValid || !s.NotAfter.Time.Equal(validity.NotAfter) || !s.ExpiringSoonAt.Time.Equal(validity.ExpiringSoonAt) {
		t.Fatalf("True: state %s, notAfter %v, expiringSoonAt %v", s.State, s.NotAfter, s.ExpiringSoonAt)
	}
	if c := meta.FindStatusCondition(s.Conditions, certstatus.ConditionTrusted); c.Status != metav1.ConditionTrue || c.Reason != certstatus.ReasonCABundleTrusted {
		t.Fatalf("Trusted = %+v", c)
	}
	// The clock moves the state at the path's instants, not the CA's.
	next, ok := decorated.NextTransition(now)
	if !ok || !next.Equal(validity.ExpiringSoonAt) {
		t.Fatalf("next transition %v, want %v", next, validity.ExpiringSoonAt)
	}
	later := decorated.StatusAt(next)
	ready := meta.FindStatusCondition(later.Conditions, certstatus.ConditionReady)
	if later.State != certstatus.StateExpiringSoon || ready.Status != metav1.ConditionTrue || !ready.LastTransitionTime.Time.Equal(next) {
		t.Fatalf("at expiringSoonAt: state %s, Ready %+v", later.State, ready)
	}
	if s := decorated.StatusAt(validity.NotAfter); s.State != certstatus.StateExpired {
		t.Fatalf("at notAfter: state %s", s.State)
	}
}

func TestTrustedUnknownKeepsTheBundleRules(t *testing.T) {
	base := webhookAnalysis(t)
	decorated := &trustedAnalysis{registrationAnalysis: base, trusted: registrations.Trusted{Applies: true,
		Status: metav1.ConditionUnknown, Reason: registrations.ReasonNoPods, Message: "No running or pending Pod is selected by the Service hooks/hook."}}
	s := decorated.StatusAt(now)
	c := meta.FindStatusCondition(s.Conditions, certstatus.ConditionTrusted)
	if s.State != certstatus.StateValid || !s.NotAfter.Time.Equal(base.StatusAt(now).NotAfter.Time) ||
		c.Status != metav1.ConditionUnknown || c.Reason != certstatus.ReasonServingSecretUnknown || c.Message == "" {
		t.Fatalf("Unknown: state %s, Trusted %+v", s.State, c)
	}
}

// Metrics read a registration through metrics' interfaces: named by
// status.source, with its Trusted status, and facts that agree with the
// status (state and instants) whatever Trusted says.
func TestMetricsReadTheDecision(t *testing.T) {
	base := webhookAnalysis(t)
	if kind, name := metrics.SourceNamer(base).SourceKindName(); kind != registrations.KindValidatingWebhookConfiguration || name != "hooks" {
		t.Fatalf("named %s %s", kind, name)
	}
	validity := registrations.Validity{NotBefore: now.Add(-time.Hour), ExpiringSoonAt: now.Add(10 * 24 * time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)}
	for _, trusted := range []registrations.Trusted{
		{Applies: true, Status: metav1.ConditionFalse, Message: "mismatch"},
		{Applies: true, Status: metav1.ConditionTrue, Message: "trusted", Validity: &validity},
		{Applies: true, Status: metav1.ConditionUnknown, Message: "no pods"},
	} {
		var decorated statuscache.Analysis = &trustedAnalysis{registrationAnalysis: base, trusted: trusted}
		if got := decorated.(metrics.TrustDecided).TrustedStatus(); got != trusted.Status {
			t.Errorf("TrustedStatus %s, want %s", got, trusted.Status)
		}
		for _, at := range []time.Time{now, validity.ExpiringSoonAt, validity.NotAfter} {
			facts := decorated.(metrics.FactsDecorator).DecorateFacts(at, base.FactsAt(at))
			status := decorated.StatusAt(at)
			if facts.State != status.State || !facts.NotAfter.Equal(status.NotAfter.Time) || !facts.ExpiringSoonAt.Equal(status.ExpiringSoonAt.Time) ||
				!facts.NotBefore.Equal(status.NotBefore.Time) {
				t.Errorf("Trusted %s at %v: facts %s %v..%v, status %s %v..%v", trusted.Status, at,
					facts.State, facts.NotBefore, facts.NotAfter, status.State, status.NotBefore, status.NotAfter)
			}
			if facts.CriticalAt.Before(facts.ExpiringSoonAt) || facts.CriticalAt.After(facts.NotAfter) {
				t.Errorf("Trusted %s: criticalAt %v outside [%v, %v]", trusted.Status, facts.CriticalAt, facts.ExpiringSoonAt, facts.NotAfter)
			}
		}
	}
}
