package certificate

import (
	"time"

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

// chainValidity narrows combined by one more chain member: latest
// notBefore, earliest expiringSoonAt and earliest notAfter.
func chainValidity(combined, v validity) validity {
	if v.notBefore.After(combined.notBefore) {
		combined.notBefore = v.notBefore
	}
	if v.expiringSoonAt.Before(combined.expiringSoonAt) {
		combined.expiringSoonAt = v.expiringSoonAt
	}
	if v.notAfter.Before(combined.notAfter) {
		combined.notAfter = v.notAfter
	}
	return combined
}
