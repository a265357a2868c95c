package certificate

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// StatusAt evaluates the analysis at an instant: states, summary and
// conditions. It parses nothing. The result depends on now only through
// which side of each boundary now is, so any now within one clock state
// gives a byte-identical status. It shares immutable strings and slices
// with the Analysis (and with other Analyses); callers must not mutate it.
func (a *Analysis) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	secret, hasInstants := a.secretValidity()
	current := a.segmentAt(now, secret, hasInstants)
	status := certstatus.CertificateStatusStatus{
		SecretType: a.secretType,
		// Shared, as errors are: objects are built per read and never modified.
		ConfigMapKeys: a.ConfigMapKeys(),
		State:         current.state,
		PrivateKey:    a.privateKey,
		Chain:         a.chain.status(),
		Errors:        a.errors,
		CertManager:   a.certManager,
	}
	if hasInstants {
		instants := [3]metav1.Time{apiInstant(secret.notBefore), apiInstant(secret.notAfter), apiInstant(secret.expiringSoonAt)}
		status.NotBefore, status.NotAfter, status.ExpiringSoonAt = &instants[0], &instants[1], &instants[2]
	}
	if len(a.certificates) > 0 {
		status.Certificates = make([]certstatus.CertificateInfo, len(a.certificates))
	}
	for i := range a.certificates {
		a.certificates[i].fillInfo(&status.Certificates[i], now)
		status.Summary.Certificates++
		switch status.Certificates[i].State {
		case certstatus.StateValid:
			status.Summary.Valid++
		case certstatus.StateExpiringSoon:
			status.Summary.ExpiringSoon++
		case certstatus.StateExpired:
			status.Summary.Expired++
		case certstatus.StateNotYetValid:
			status.Summary.NotYetValid++
		}
	}
	status.Conditions = a.conditions(now, current, secret, status.Certificates)
	return status
}

// segmentAt is the Secret's state at now and the instant it began.
func (a *Analysis) segmentAt(now time.Time, secret validity, hasInstants bool) segment {
	switch {
	case a.locked:
		return segment{state: certstatus.StateUnknown}
	case a.invalid != nil || !hasInstants:
		return segment{state: certstatus.StateInvalid}
	case a.bundle:
		return a.bundleTimeline.at(now)
	default:
		return chainSegmentAt(secret, now)
	}
}

// NextTransition is the earliest instant strictly after now at which
// StatusAt's result changes: some certificate's notBefore, expiringSoonAt
// or notAfter. ok is false when nothing changes any more.
func (a *Analysis) NextTransition(now time.Time) (t time.Time, ok bool) {
	for i := range a.certificates {
		v := a.certificates[i].validity()
		for _, boundary := range [...]time.Time{v.notBefore, v.expiringSoonAt, v.notAfter} {
			if boundary.After(now) && (!ok || boundary.Before(t)) {
				t, ok = boundary, true
			}
		}
	}
	return t, ok
}

// conditions builds Ready and ExpiringSoon. Both are dated with the instant
// the current state began (a certificate boundary), or the instant the
// certificates were written if that is later: never with the moment the
// server noticed, nor with a metadata write.
func (a *Analysis) conditions(now time.Time, current segment, secret validity, certificates []certstatus.CertificateInfo) []metav1.Condition {
	began := a.writtenAt(now)
	if current.start.After(began) {
		began = current.start
	}
	transition := apiInstant(began)
	reason, readyMessage, expiringMessage := a.messages(now, current.state, secret, certificates)
	ready := metav1.Condition{
		Type:               certstatus.ConditionReady,
		Status:             metav1.ConditionFalse,
		Reason:             reason,
		Message:            readyMessage,
		LastTransitionTime: transition,
	}
	if current.state == certstatus.StateValid || current.state == certstatus.StateExpiringSoon {
		ready.Status = metav1.ConditionTrue
	}
	if current.state == certstatus.StateUnknown {
		ready.Status = metav1.ConditionUnknown
	}
	expiring := metav1.Condition{
		Type:               certstatus.ConditionExpiringSoon,
		Status:             metav1.ConditionFalse,
		Reason:             reason,
		Message:            expiringMessage,
		LastTransitionTime: transition,
	}
	if current.state == certstatus.StateExpiringSoon {
		expiring.Status = metav1.ConditionTrue
	}
	if current.state == certstatus.StateUnknown {
		expiring.Status = metav1.ConditionUnknown
	}
	return []metav1.Condition{ready, expiring}
}

// writtenAt dates non-clock transitions: the later of the Secret's
// creationTimestamp and the primary leaf's notBefore (a renewal written into
// an existing Secret dates from the new certificate). A leaf that is not
// valid yet at now cannot date what already happened, so creationTimestamp
// alone applies until its notBefore, which is a clock boundary anyway
// (NextTransition includes it), so the result depends on now only through
// the clock state.
func (a *Analysis) writtenAt(now time.Time) time.Time {
	written := a.createdAt
	if leaf := a.leaf(); leaf != nil && !leaf.desc.notBefore.After(now) && leaf.desc.notBefore.After(written) {
		written = leaf.desc.notBefore
	}
	return written
}
