package events

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// ReportingController names certstatus in every Event it records.
const ReportingController = "certstatus.dev/certstatus-apiserver"

// Action is the Event's action: certstatus evaluated the certificates.
const Action = "Evaluate"

// Kind is a computed kind as its Events regard it.
type Kind struct {
	// Kind and Resource are the regarded object's kind and singular
	// resource name (in the notes' "kubectl describe" hint).
	Kind, Resource string
	// Noun names the source object in notes: Secret, ConfigMap, caBundle.
	Noun string
	// Namespaced is false for a cluster-scoped kind, whose Events go to
	// namespace default, as kube-apiserver's for cluster-scoped objects do.
	Namespaced bool
}

// The kinds served.
var (
	SecretKind    = &Kind{Kind: "CertificateStatus", Resource: "certificatestatus", Noun: "Secret", Namespaced: true}
	ConfigMapKind = &Kind{Kind: "ConfigMapCertificateStatus", Resource: "configmapcertificatestatus", Noun: "ConfigMap", Namespaced: true}
	// RegistrationKind's Events go to namespace default.
	RegistrationKind = &Kind{Kind: "ClusterCertificateStatus", Resource: "clustercertificatestatus", Noun: "caBundle", Namespaced: false}
)

// observed is what transitions read of an object of any kind.
type observed struct {
	meta   *metav1.ObjectMeta
	status *certstatus.CertificateStatusStatus
}

// transition is one state change worth an Event: all the recorder keeps of
// the change (no Secret data, no annotations, no labels).
type transition struct {
	kind            *Kind
	namespace, name string
	uid             types.UID
	state           certstatus.State
	// reason overrides the state as the Event's reason: HostNotCovered.
	reason string
	// at is the instant the state began: the conditions' lastTransitionTime.
	at      time.Time
	message string
	// identity, when set, names the transition instead of at: a
	// registration's caBundle mismatch (and its end) has no instant the
	// inputs give (Trusted is dated with the caBundles' own instants, often
	// months old), so it is named by what is wrong, the Trusted message,
	// which every replica computes alike, and dated when it is observed.
	identity string
}

// transitionOf tells whether a change from previous (nil: a new object) to
// object is worth an Event, and describes it. A new object is worth one
// unless it is Valid; Valid is worth one only as a recovery seen by this
// process; any other change of state is worth one.
func transitionIn(kind *Kind, previous *observed, now observed) (transition, bool) {
	state := now.status.State
	switch {
	case state == "":
		return transition{}, false
	case previous == nil:
		if state == certstatus.StateValid {
			return transition{}, false
		}
	case previous.status.State == state:
		return transition{}, false
	}
	at, ok := stateBegan(now.status)
	if !ok {
		return transition{}, false
	}
	t := transition{
		kind:      kind,
		namespace: now.meta.Namespace,
		name:      now.meta.Name,
		uid:       now.meta.UID,
		state:     state,
		at:        at,
		message:   message(kind, now.status, at),
	}
	switch {
	case state == certstatus.StateUnknown:
		t.reason = certstatus.ReasonKeystoreLocked // Unknown has this one cause
	case state == certstatus.StateInvalid && readyReason(now.status) == certstatus.ReasonCABundleMismatch:
		// A registration whose caBundle does not trust what is served:
		// the contract's own reason rather than the state.
		t.reason = certstatus.ReasonCABundleMismatch
		t.identity = trustedMessage(now.status)
		t.message = mismatchMessage(kind, t.identity)
	case previous != nil && previous.status.State == certstatus.StateInvalid && readyReason(previous.status) == certstatus.ReasonCABundleMismatch:
		// The end of a mismatch is as undated as its start.
		t.identity = "after " + trustedMessage(previous.status)
		t.message = fixedMessage(kind, now.status)
	}
	return t, true
}

// trustedMessage is the Trusted condition's message, or "".
func trustedMessage(status *certstatus.CertificateStatusStatus) string {
	for _, c := range status.Conditions {
		if c.Type == certstatus.ConditionTrusted {
			return c.Message
		}
	}
	return ""
}

// mismatchMessage quotes the Trusted condition (it names the serving Secret
// and the issuer the caBundle lacks, never certificate data).
func mismatchMessage(kind *Kind, trusted string) string {
	text := "the caBundle does not trust the certificate served"
	if trusted != "" {
		text += ": " + trusted
	}
	return clip(text + "; kubectl describe " + kind.Resource + " shows the certificates")
}

// fixedMessage announces the end of a mismatch.
func fixedMessage(kind *Kind, status *certstatus.CertificateStatusStatus) string {
	text := "the caBundle trusts the certificate served again"
	if status.State != certstatus.StateValid {
		text += "; the certificates are " + string(status.State)
	}
	return clip(text + "; kubectl describe " + kind.Resource + " shows them")
}

// clip keeps a note within what events.k8s.io accepts.
func clip(text string) string {
	if len(text) > noteLimit {
		text = strings.ToValidUTF8(text[:noteLimit-3], "") + "..."
	}
	return text
}

// hostsTransitionOf tells whether the change made HostsCovered False (a new
// object whose condition is already False counts, like an expired one), and
// describes it: Warning HostNotCovered, dated with the condition's
// lastTransitionTime, with its message naming the objects and hosts.
func hostsTransitionIn(kind *Kind, previous *observed, object observed) (transition, bool) {
	now := hostsCovered(object.status)
	if now == nil || now.Status != metav1.ConditionFalse || now.LastTransitionTime.IsZero() {
		return transition{}, false
	}
	if previous != nil {
		if before := hostsCovered(previous.status); before != nil && before.Status == metav1.ConditionFalse {
			return transition{}, false
		}
	}
	text := now.Message
	if len(text) > noteLimit {
		text = strings.ToValidUTF8(text[:noteLimit-3], "") + "..."
	}
	return transition{
		kind:      kind,
		namespace: object.meta.Namespace,
		name:      object.meta.Name,
		uid:       object.meta.UID,
		state:     object.status.State,
		reason:    certstatus.ReasonHostNotCovered,
		at:        now.LastTransitionTime.UTC(),
		message:   text,
	}, true
}

func hostsCovered(status *certstatus.CertificateStatusStatus) *metav1.Condition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == certstatus.ConditionHostsCovered {
			return &status.Conditions[i]
		}
	}
	return nil
}

// readyReason is the Ready condition's reason, or "".
func readyReason(status *certstatus.CertificateStatusStatus) string {
	for _, c := range status.Conditions {
		if c.Type == certstatus.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

// stateBegan is the instant the current state began: the Ready condition's
// lastTransitionTime (both conditions carry it).
func stateBegan(status *certstatus.CertificateStatusStatus) (time.Time, bool) {
	for _, c := range status.Conditions {
		if c.Type == certstatus.ConditionReady && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.UTC(), true
		}
	}
	return time.Time{}, false
}

// reasonName is the Event's reason: the state, or HostNotCovered.
func (t transition) reasonName() string {
	if t.reason != "" {
		return t.reason
	}
	return string(t.state)
}

// eventType is Normal for Valid, Warning for everything else.
func (t transition) eventType() string {
	if t.reason == "" && t.state == certstatus.StateValid {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}

// instantOrIdentity is what names the transition: its identity, or else
// its instant.
func (t transition) instantOrIdentity() string {
	if t.identity != "" {
		return "identity\x00" + t.identity
	}
	return instantKey(t.at)
}

// instantKey is an instant as eventName hashes it.
func instantKey(at time.Time) string { return at.UTC().Format(time.RFC3339Nano) }

// eventName is the Event's name: the object's name, a dot, and 16 hex digits
// of SHA-256 over (uid, reason, instant or identity). It is the same on every
// replica and after every restart, and a valid DNS subdomain of at most 253
// characters.
func eventName(name string, uid types.UID, reason string, instant string) string {
	sum := sha256.Sum256([]byte(string(uid) + "\x00" + reason + "\x00" + instant))
	suffix := "." + hex.EncodeToString(sum[:8])
	if max := 253 - len(suffix); len(name) > max {
		name = strings.TrimRight(name[:max], ".-")
	}
	return name + suffix
}

// event builds the Event. eventTime is the transition instant, so the
// object is the same whichever replica creates it (apart from
// reportingInstance).
func (t transition) event(instance string) *eventsv1.Event {
	namespace := t.namespace
	if !t.kind.Namespaced {
		namespace = metav1.NamespaceDefault
	}
	return &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      eventName(t.name, t.uid, t.reasonName(), t.instantOrIdentity()),
			Namespace: namespace,
		},
		EventTime:           metav1.NewMicroTime(t.at),
		ReportingController: ReportingController,
		ReportingInstance:   instance,
		Action:              Action,
		Reason:              t.reasonName(),
		Regarding: corev1.ObjectReference{
			APIVersion: certstatus.GroupName + "/v1alpha1",
			Kind:       t.kind.Kind,
			Namespace:  t.namespace,
			Name:       t.name,
			UID:        t.uid,
		},
		Note: t.message,
		Type: t.eventType(),
	}
}

// noteLimit is the longest note events.k8s.io accepts.
const noteLimit = 1024

// message names the certificate and the instant. It is built from the
// computed status only (names and instants), never from Secret data or
// annotations.
func message(kind *Kind, status *certstatus.CertificateStatusStatus, at time.Time) string {
	certificates := "the " + kind.Noun + "'s certificates"
	subject := certificates
	if name := certificateName(status); name != "" {
		subject = fmt.Sprintf("certificate %q", name)
	}
	instant := at.UTC().Format(time.RFC3339)
	var text string
	switch status.State {
	case certstatus.StateExpired:
		text = fmt.Sprintf("%s expired at %s", subject, instant)
	case certstatus.StateExpiringSoon:
		text = fmt.Sprintf("%s is expiring soon since %s", subject, instant)
		if status.NotAfter != nil {
			text += "; it expires at " + status.NotAfter.UTC().Format(time.RFC3339)
		}
	case certstatus.StateNotYetValid:
		text = fmt.Sprintf("%s is not valid yet (since %s)", subject, instant)
		if status.NotBefore != nil {
			text += "; it becomes valid at " + status.NotBefore.UTC().Format(time.RFC3339)
		}
	case certstatus.StateUnknown:
		text = fmt.Sprintf("the %s's keystore is locked since %s, so its certificates cannot be seen; kubectl describe %s shows why",
			kind.Noun, instant, kind.Resource)
		if kind == SecretKind {
			text = fmt.Sprintf("the Secret's keystore is locked since %s, so its certificates cannot be seen; set the annotation %s (kubectl describe certificatestatus shows which value)",
				instant, certstatus.KeystorePasswordKeyAnnotation)
		}
	case certstatus.StateInvalid:
		text = fmt.Sprintf("%s are invalid since %s", subject, instant)
		if subject != certificates {
			text = fmt.Sprintf("%s is invalid since %s", subject, instant)
		}
		for _, c := range status.Conditions {
			if c.Type == certstatus.ConditionReady && c.Reason != "" {
				text += " (" + c.Reason + ")"
			}
		}
		text += "; kubectl describe " + kind.Resource + " shows why"
	default:
		text = fmt.Sprintf("%s is %s since %s", subject, status.State, instant)
		if status.NotAfter != nil {
			text += "; it expires at " + status.NotAfter.UTC().Format(time.RFC3339)
		}
	}
	if len(text) > noteLimit {
		text = strings.ToValidUTF8(text[:noteLimit-3], "") + "..."
	}
	return text
}

// certificateName is the primary leaf's common name, or its first DNS name.
func certificateName(status *certstatus.CertificateStatusStatus) string {
	for _, c := range status.Certificates {
		if c.Role != certstatus.RoleLeaf {
			continue
		}
		if c.CommonName != "" {
			return c.CommonName
		}
		if len(c.DNSNames) > 0 {
			return c.DNSNames[0]
		}
		return ""
	}
	return ""
}
