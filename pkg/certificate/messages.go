package certificate

import (
	"fmt"
	"strings"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// maxNamedMembers is how many expired bundle members a message names.
const maxNamedMembers = 3

// messages returns the Ready reason and the one-sentence messages of Ready
// and ExpiringSoon. They use absolute instants only, never "in 5 days", so
// they stay identical for the whole of a clock state.
func (a *Analysis) messages(now time.Time, state certstatus.State, secret validity, certificates []certstatus.CertificateInfo) (reason, ready, expiring string) {
	if a.locked {
		return a.invalid.reason, a.invalid.message, "Expiry cannot be judged while the keystore is locked."
	}
	if a.invalid != nil {
		return a.invalid.reason, a.invalid.message,
			"Expiry is not judged while the " + a.noun() + " is invalid; the Ready condition says why."
	}
	reason = string(state) // every non-invalid state has the reason of the same name
	if a.bundle {
		ready, expiring = a.bundleMessages(now, state, secret, certificates)
		return reason, ready, expiring
	}
	ready, expiring = a.chainMessages(state, secret)
	return reason, ready, expiring
}

// chainMessages are built by concatenation, one allocation each, since
// StatusAt runs for every Secret on every list.
func (a *Analysis) chainMessages(state certstatus.State, secret validity) (ready, expiring string) {
	subject := a.subjectName()
	var at timeBuffer
	switch state {
	case certstatus.StateExpired:
		culprit := a.primaryRecord(func(best, v validity) bool { return v.notAfter.Before(best.notAfter) })
		return "Certificate " + culprit.label() + " expired at " + string(at.format(culprit.desc.notAfter)) + ".",
			"The certificate for " + subject + " has already expired."
	case certstatus.StateNotYetValid:
		culprit := a.primaryRecord(func(best, v validity) bool { return v.notBefore.After(best.notBefore) })
		return "Certificate " + culprit.label() + " is not valid before " + string(at.format(culprit.desc.notBefore)) + ".",
			"The certificate for " + subject + " is not valid yet."
	case certstatus.StateExpiringSoon:
		culprit := a.primaryRecord(func(best, v validity) bool { return v.expiringSoonAt.Before(best.expiringSoonAt) })
		message := "Certificate " + culprit.label() + " expires at " + string(at.format(culprit.desc.notAfter)) + ", within the expiring-soon window."
		return message, message
	default:
		var windowAt timeBuffer
		return "The certificate for " + subject + " is valid until " + string(at.format(secret.notAfter)) + ".",
			"The certificate for " + subject + " enters the expiring-soon window at " + string(windowAt.format(secret.expiringSoonAt)) + "."
	}
}

// subjectName names the Secret's certificate in messages.
func (a *Analysis) subjectName() string {
	if leaf := a.leaf(); leaf != nil {
		return leaf.desc.displayName()
	}
	return ""
}

// primaryRecord is the first certificate of the primary chain that no other beats.
func (a *Analysis) primaryRecord(beats func(best, candidate validity) bool) *certificateRecord {
	var best *certificateRecord
	for i := range a.certificates {
		r := &a.certificates[i]
		if r.primary && (best == nil || beats(best.validity(), r.validity())) {
			best = r
		}
	}
	return best
}

func (a *Analysis) bundleMessages(now time.Time, state certstatus.State, secret validity, certificates []certstatus.CertificateInfo) (ready, expiring string) {
	total := len(certificates)
	var usable int
	var expired []string
	for i := range certificates {
		switch certificates[i].State {
		case certstatus.StateValid:
			usable++
		case certstatus.StateExpired:
			expired = append(expired, a.certificates[i].desc.displayName())
		}
	}
	expiredNote := ""
	if len(expired) > 0 && len(expired) < total {
		expiredNote = "; expired: " + nameList(expired)
	}
	switch state {
	case certstatus.StateExpired:
		message := fmt.Sprintf("All %d CA certificates in the bundle have expired, the last at %s.", total, formatTime(secret.notAfter))
		return message, message
	case certstatus.StateNotYetValid:
		return fmt.Sprintf("None of the %d CA certificates in the bundle is valid yet%s.", total, expiredNote),
			"No CA certificate in the bundle is valid yet."
	case certstatus.StateExpiringSoon:
		message := fmt.Sprintf("Every valid CA certificate in the bundle expires soon, the last at %s%s.", formatTime(secret.notAfter), expiredNote)
		return message, message
	default:
		return fmt.Sprintf("%d of %d CA certificates in the bundle are valid%s.", usable, total, expiredNote),
			fmt.Sprintf("%d CA certificates in the bundle are valid and not expiring soon, until at least %s.", usable, formatTime(a.nextBundleExpiringSoon(now)))
	}
}

// nextBundleExpiringSoon is the latest expiringSoonAt of the members valid
// now: the bundle stays Valid at least until then.
func (a *Analysis) nextBundleExpiringSoon(now time.Time) time.Time {
	var latest time.Time
	for i := range a.certificates {
		v := a.certificates[i].validity()
		if v.stateAt(now) == certstatus.StateValid && v.expiringSoonAt.After(latest) {
			latest = v.expiringSoonAt
		}
	}
	return latest
}

// nameList is "A, B, C and 2 more".
func nameList(names []string) string {
	if len(names) <= maxNamedMembers {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamedMembers], ", "), len(names)-maxNamedMembers)
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// timeBuffer formats an instant as formatTime does, into memory the caller
// keeps on its stack: string(b.format(t)) inside a concatenation is not
// copied on its own, so a message costs one allocation.
type timeBuffer [len("2006-01-02T15:04:05Z")]byte

func (b *timeBuffer) format(t time.Time) []byte {
	return t.UTC().AppendFormat(b[:0], time.RFC3339)
}
