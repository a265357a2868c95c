package registrationsource

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/registrations"
	"github.com/certstatus/certstatus/pkg/statuscache"
	"github.com/certstatus/certstatus/pkg/usedby"
)

// Trust is the registrations' cache decorator: it decides each
// registration's Trusted condition as its item enters the cache (and again
// for every key it signals), and hands the serving Secrets it found to the
// usedBy index, so that those Secrets' usedBy names the registration.
type Trust struct {
	cluster  *cluster
	index    *usedby.Index // nil when usedBy is off
	rebuilds *statuscache.Rebuilds
	options  certificate.Options

	mu   sync.Mutex
	keys map[statuscache.Key]struct{} // the registrations decorated and not deleted
	// signal wakes run, which rebuilds every registration; pending
	// signals coalesce.
	signal chan struct{}
}

var _ statuscache.Decorator = &Trust{}

// NewTrust prepares the Service informer Trusted reads beside the Secret
// cache and pods (fed by usedBy's Pod watch); index (nil: none) learns the
// serving Secrets, rebuilds hears the registration keys to decide again.
func NewTrust(config *rest.Config, secrets Secrets, pods *Pods, index *usedby.Index, rebuilds *statuscache.Rebuilds, options certificate.Options, observer Observer) (*Trust, error) {
	t := &Trust{index: index, rebuilds: rebuilds, options: options, keys: map[statuscache.Key]struct{}{}, signal: make(chan struct{}, 1)}
	var err error
	t.cluster, err = newCluster(config, secrets, pods, observer, t.changed)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// changed signals every registration: there are few, and telling which one
// a Secret, Service or Pod change concerns would cost more than deciding
// them all again (a decision that changes nothing is no event).
//
// It only wakes run, never rebuilds on the calling goroutine: a Secret
// change it hears may come from the Secret cache rebuilding the serving
// Secrets that Decorate itself handed to the usedBy index, while the
// registrations' cache lock is held (Upsert → Decorate → PutRegistration →
// Secret rebuild → Subscribe → changed); rebuilding the registrations there
// would wait for that lock forever.
func (t *Trust) changed() {
	select {
	case t.signal <- struct{}{}:
	default: // a rebuild of every key is pending already
	}
}

// run rebuilds every registration each time changed or the Pods' record
// signals, until ctx ends.
func (t *Trust) run(ctx context.Context) {
	var pods <-chan struct{} // nil in tests without Pods: never ready
	if t.cluster != nil && t.cluster.pods != nil {
		pods = t.cluster.pods.changed
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.signal:
		case <-pods:
		}
		t.rebuildAll()
	}
}

func (t *Trust) rebuildAll() {
	t.mu.Lock()
	keys := make([]statuscache.Key, 0, len(t.keys))
	for key := range t.keys {
		keys = append(keys, key)
	}
	t.mu.Unlock()
	t.rebuilds.Add(keys...)
}

// Decorate decides the registration's Trusted condition.
func (t *Trust) Decorate(key statuscache.Key, base statuscache.Analysis) statuscache.Analysis {
	analysis, ok := base.(*registrationAnalysis)
	if !ok {
		return base
	}
	t.mu.Lock()
	t.keys[key] = struct{}{}
	t.mu.Unlock()
	trusted := registrations.Decide(analysis.registration, t.cluster, t.options)
	t.putUse(analysis.registration, trusted)
	if !trusted.Applies {
		return base
	}
	return &trustedAnalysis{registrationAnalysis: analysis, trusted: trusted}
}

// forget drops a deleted registration: no more rebuilds, no more usedBy.
func (t *Trust) forget(key statuscache.Key, r *registrations.Registration) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
	if t.index != nil {
		t.index.PutRegistration(usedby.RegistrationUse{Kind: r.Kind, Name: r.Name})
	}
}

// putUse tells the usedBy index which Secrets serve the registration, with
// the webhooks each serves.
func (t *Trust) putUse(r *registrations.Registration, trusted registrations.Trusted) {
	if t.index == nil {
		return
	}
	use := usedby.RegistrationUse{Kind: r.Kind, Name: r.Name, Created: r.CreationTimestamp.Time}
	for _, bundle := range r.CABundles {
		for _, secret := range trusted.Serving[bundle.Key] {
			var webhooks []certstatus.Webhook
			if bundle.Webhook != nil {
				webhooks = []certstatus.Webhook{{Name: bundle.Webhook.Name, FailurePolicy: bundle.Webhook.FailurePolicy}}
			}
			use.Secrets = append(use.Secrets, usedby.RegistrationSecret{
				Secret: usedby.SecretRef{Namespace: secret.Namespace, Name: secret.Name}, Webhooks: webhooks,
			})
		}
	}
	t.index.PutRegistration(use)
}

// registrationAnalysis is a registration's caBundles analysed, with the
// registration itself (which Trusted needs) and status.source.
type registrationAnalysis struct {
	*certificate.Analysis
	registration *registrations.Registration
	source       *certstatus.RegistrationReference
}

func newRegistrationAnalysis(analysis *certificate.Analysis, r *registrations.Registration) *registrationAnalysis {
	return &registrationAnalysis{Analysis: analysis, registration: r,
		source: &certstatus.RegistrationReference{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}}
}

// SourceKindName is the registration's kind and name (status.source), which
// its metrics are labelled with.
func (a *registrationAnalysis) SourceKindName() (kind, name string) {
	return a.source.Kind, a.source.Name
}

func (a *registrationAnalysis) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	status := a.Analysis.StatusAt(now)
	status.Source = a.source
	return status
}

// trustedAnalysis is a registration with its Trusted decision, which is
// immutable (a new decision is a new trustedAnalysis): the watch history
// may keep it.
type trustedAnalysis struct {
	*registrationAnalysis
	trusted registrations.Trusted
}

// Unwrap is the registration's own analysis, which a rebuild decides afresh.
func (a *trustedAnalysis) Unwrap() statuscache.Analysis { return a.registrationAnalysis }

// StatusAt adds Trusted. False makes the state Invalid (calls fail now);
// True takes the instants, and the state they give, from the trusted paths
// (unless the caBundles themselves are Invalid).
func (a *trustedAnalysis) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	status := a.registrationAnalysis.StatusAt(now)
	conditions := slices.Clone(status.Conditions) // the analysis shares its slices
	written := metav1.Time{}
	if ready := findCondition(conditions, certstatus.ConditionReady); ready != nil {
		written = ready.LastTransitionTime
	}
	trusted := metav1.Condition{Type: certstatus.ConditionTrusted, Status: a.trusted.Status, Message: a.trusted.Message, LastTransitionTime: written}
	switch a.trusted.Status {
	case metav1.ConditionTrue:
		trusted.Reason = certstatus.ReasonCABundleTrusted
		if v := a.trusted.Validity; v != nil && status.State != certstatus.StateInvalid && status.State != certstatus.StateUnknown {
			a.applyValidity(&status, conditions, *v, now, written)
		}
	case metav1.ConditionFalse:
		trusted.Reason = certstatus.ReasonCABundleMismatch
		status.State = certstatus.StateInvalid
		for i := range conditions {
			switch conditions[i].Type {
			case certstatus.ConditionReady, certstatus.ConditionExpiringSoon:
				conditions[i].Status = metav1.ConditionFalse
				conditions[i].Reason = certstatus.ReasonCABundleMismatch
				conditions[i].Message = a.trusted.Message
			}
		}
	default:
		trusted.Reason = certstatus.ReasonServingSecretUnknown
	}
	status.Conditions = append(conditions, trusted)
	return status
}

// TrustedStatus is the Trusted condition's status, for
// certstatus_registration_trusted. A registration without the condition
// (a ClusterTrustBundle) is never a trustedAnalysis.
func (a *trustedAnalysis) TrustedStatus() metav1.ConditionStatus { return a.trusted.Status }

// DecorateFacts applies Trusted to the caBundles' own facts, as StatusAt
// applies it to the status, so that metrics read the same state and
// instants as the object: False is Invalid; True takes the trusted paths'
// instants and the state they give (unless the caBundles are Invalid or
// Unknown).
func (a *trustedAnalysis) DecorateFacts(now time.Time, own certificate.Facts) certificate.Facts {
	switch v := a.trusted.Validity; {
	case a.trusted.Status == metav1.ConditionFalse:
		own.State = certstatus.StateInvalid
	case a.trusted.Status == metav1.ConditionTrue && v != nil && own.State != certstatus.StateInvalid && own.State != certstatus.StateUnknown:
		own.State = validityState(*v, now)
		own.HasInstants = true
		own.NotBefore, own.ExpiringSoonAt, own.NotAfter = v.NotBefore, v.ExpiringSoonAt, v.NotAfter
		own.CriticalAt = certificate.CriticalAt(v.NotBefore, v.ExpiringSoonAt, v.NotAfter)
	}
	return own
}

// validityState is the state the trusted paths give at now.
func validityState(v registrations.Validity, now time.Time) certstatus.State {
	switch {
	case !now.Before(v.NotAfter):
		return certstatus.StateExpired
	case now.Before(v.NotBefore):
		return certstatus.StateNotYetValid
	case !now.Before(v.ExpiringSoonAt):
		return certstatus.StateExpiringSoon
	default:
		return certstatus.StateValid
	}
}

// applyValidity replaces the instants, the state and Ready / ExpiringSoon
// by those of the trusted paths.
func (a *trustedAnalysis) applyValidity(status *certstatus.CertificateStatusStatus, conditions []metav1.Condition, v registrations.Validity, now time.Time, written metav1.Time) {
	notBefore, expiringSoonAt, notAfter := metav1.NewTime(v.NotBefore.UTC()), metav1.NewTime(v.ExpiringSoonAt.UTC()), metav1.NewTime(v.NotAfter.UTC())
	status.NotBefore, status.ExpiringSoonAt, status.NotAfter = &notBefore, &expiringSoonAt, &notAfter
	var began time.Time
	var message string
	status.State = validityState(v, now)
	switch status.State {
	case certstatus.StateExpired:
		began = v.NotAfter
		message = fmt.Sprintf("The trusted path from a serving certificate to the caBundle expired at %s.", notAfter.UTC().Format(time.RFC3339))
	case certstatus.StateNotYetValid:
		message = fmt.Sprintf("The trusted path from a serving certificate to the caBundle is valid from %s.", notBefore.UTC().Format(time.RFC3339))
	case certstatus.StateExpiringSoon:
		began = v.ExpiringSoonAt
		message = fmt.Sprintf("The trusted path from a serving certificate to the caBundle expires at %s.", notAfter.UTC().Format(time.RFC3339))
	default:
		began = v.NotBefore
		message = fmt.Sprintf("The trusted path from a serving certificate to the caBundle is valid until %s.", notAfter.UTC().Format(time.RFC3339))
	}
	transition := written
	if began.After(transition.Time) {
		transition = metav1.NewTime(began.UTC())
	}
	ok := status.State == certstatus.StateValid || status.State == certstatus.StateExpiringSoon
	for i := range conditions {
		c := &conditions[i]
		switch c.Type {
		case certstatus.ConditionReady:
			c.Status = conditionStatus(ok)
		case certstatus.ConditionExpiringSoon:
			c.Status = conditionStatus(status.State == certstatus.StateExpiringSoon)
		default:
			continue
		}
		c.Reason, c.Message, c.LastTransitionTime = string(status.State), message, transition
	}
}

// NextTransition adds the trusted paths' instants to the caBundles' own.
func (a *trustedAnalysis) NextTransition(now time.Time) (time.Time, bool) {
	next, ok := a.registrationAnalysis.NextTransition(now)
	if v := a.trusted.Validity; v != nil {
		for _, boundary := range [...]time.Time{v.NotBefore, v.ExpiringSoonAt, v.NotAfter} {
			if boundary.After(now) && (!ok || boundary.Before(next)) {
				next, ok = boundary, true
			}
		}
	}
	return next, ok
}

func findCondition(conditions []metav1.Condition, kind string) *metav1.Condition {
	for i := range conditions {
		if conditions[i].Type == kind {
			return &conditions[i]
		}
	}
	return nil
}

func conditionStatus(b bool) metav1.ConditionStatus {
	if b {
		return metav1.ConditionTrue
	}
	return metav1.ConditionFalse
}
