package certificate

import (
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// StatusAt evaluates the analysis at an instant: states, summary and
// conditions. It parses nothing. The result depends on now only through
// which side of each boundary now is, so any now within one clock state
// gives a byte-identical status. It shares immutable strings and slices
// with the Analysis; callers must not mutate it.
func (a *Analysis) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	current := a.timeline.at(now)
	status := certstatus.CertificateStatusStatus{
		SecretType:     a.secretType,
		State:          current.state,
		NotBefore:      a.notBefore,
		NotAfter:       a.notAfter,
		ExpiringSoonAt: a.expiringSoonAt,
		PrivateKey:     a.privateKey,
		Chain:          a.chain,
		Errors:         a.errors,
	}
	if len(a.certificates) > 0 {
		status.Certificates = make([]certstatus.CertificateInfo, len(a.certificates))
	}
	for i := range a.certificates {
		status.Certificates[i] = a.certificates[i].info
		state := a.certificates[i].validity.stateAt(now)
		status.Certificates[i].State = state
		status.Summary.Certificates++
		switch state {
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
	status.Conditions = a.conditions(now, current, status.Certificates)
	return status
}

// NextTransition is the earliest instant strictly after now at which
// StatusAt's result changes: some certificate's notBefore, expiringSoonAt
// or notAfter. ok is false when nothing changes any more.
func (a *Analysis) NextTransition(now time.Time) (t time.Time, ok bool) {
	i := sort.Search(len(a.boundaries), func(i int) bool { return a.boundaries[i].After(now) })
	if i == len(a.boundaries) {
		return time.Time{}, false
	}
	return a.boundaries[i], true
}

// conditions builds Ready and ExpiringSoon. Both are dated with the instant
// the current state began (a certificate boundary), or the Secret's last
// change if that is later: never with the moment the server noticed.
func (a *Analysis) conditions(now time.Time, current segment, certificates []certstatus.CertificateInfo) []metav1.Condition {
	began := a.changedAt
	if current.start.After(began) {
		began = current.start
	}
	transition := *apiTime(began)
	reason, readyMessage, expiringMessage := a.messages(now, current.state, certificates)
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
	return []metav1.Condition{ready, expiring}
}
