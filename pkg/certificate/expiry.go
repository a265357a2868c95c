package certificate

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// validity is a certificate's three clock boundaries.
type validity struct {
	notBefore      time.Time
	expiringSoonAt time.Time
	notAfter       time.Time
}

// newValidity computes expiringSoonAt = notAfter − min(threshold, fraction × lifetime).
// The window is cut to whole seconds so the instant shown (metav1.Time has
// seconds) is exactly the instant the state changes.
func newValidity(notBefore, notAfter time.Time, threshold time.Duration, fraction float64) validity {
	lifetime := notAfter.Sub(notBefore)
	window := threshold
	if byFraction := time.Duration(fraction * float64(lifetime)); byFraction < window {
		window = byFraction
	}
	window = max(window.Truncate(time.Second), 0)
	return validity{
		notBefore:      notBefore,
		expiringSoonAt: notAfter.Add(-window),
		notAfter:       notAfter,
	}
}

// stateAt is one certificate's (or a chain's) state, by the api.md precedence.
func (v validity) stateAt(now time.Time) certstatus.State {
	switch {
	case !now.Before(v.notAfter):
		return certstatus.StateExpired
	case now.Before(v.notBefore):
		return certstatus.StateNotYetValid
	case !now.Before(v.expiringSoonAt):
		return certstatus.StateExpiringSoon
	default:
		return certstatus.StateValid
	}
}

// secretValidity is the Secret-level instants, ok=false without a
// certificate to take them from. A chain combines its members; a bundle
// spans them: earliest notBefore, latest notAfter, and the latest member
// expiringSoonAt, after which no member is valid and not expiring soon.
func (a *Analysis) secretValidity() (v validity, ok bool) {
	first := true
	for i := range a.certificates {
		r := &a.certificates[i]
		if !a.bundle && !r.primary {
			continue
		}
		member := r.validity()
		switch {
		case first:
			v, first = member, false
		case a.bundle:
			v = bundleValidity(v, member)
		default:
			v = chainValidity(v, member)
		}
	}
	return v, !first
}

// chainValidity narrows combined by one more chain member, which is valid
// only while every member is: latest notBefore, earliest expiringSoonAt and
// earliest notAfter.
func chainValidity(combined, v validity) validity {
	return validity{
		notBefore:      latest(combined.notBefore, v.notBefore),
		expiringSoonAt: earliest(combined.expiringSoonAt, v.expiringSoonAt),
		notAfter:       earliest(combined.notAfter, v.notAfter),
	}
}

// bundleValidity widens combined by one more bundle member, since a bundle
// serves while any member does: earliest notBefore, latest expiringSoonAt
// and latest notAfter.
func bundleValidity(combined, v validity) validity {
	return validity{
		notBefore:      earliest(combined.notBefore, v.notBefore),
		expiringSoonAt: latest(combined.expiringSoonAt, v.expiringSoonAt),
		notAfter:       latest(combined.notAfter, v.notAfter),
	}
}

// earliest and latest keep a on a tie.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// apiInstant is an instant as the API shows it: UTC, whole seconds.
func apiInstant(t time.Time) metav1.Time {
	return metav1.NewTime(t.UTC().Truncate(time.Second))
}
