package registrations

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate"
)

// Reasons of the Trusted condition besides the finders' Unknown reasons.
const (
	ReasonCABundleMismatch = "CABundleMismatch"
	ReasonTrusted          = "ServedChainTrusted"
)

// Trusted is the Trusted condition of a registration, clock aside.
type Trusted struct {
	// Applies is false when no caBundle is used to call anything (a
	// ClusterTrustBundle): the object has no Trusted condition.
	Applies bool
	Status  metav1.ConditionStatus
	Reason  string
	Message string
	// Validity (True only) is where the object's notBefore, expiringSoonAt
	// and notAfter come from: every trusted path, from each serving leaf to
	// its anchoring caBundle member, combined (the latest notBefore, the
	// earliest expiringSoonAt and notAfter), since calls fail as soon as
	// one of them does. Otherwise the bundle rules apply.
	Validity *Validity
	// Serving are the serving Secrets found, by caBundle key, for usedBy.
	Serving map[string][]ServingSecret
}

// Validity is a trusted path's three instants.
type Validity struct {
	NotBefore, ExpiringSoonAt, NotAfter time.Time
}

// maxNamed bounds the caBundles a message names one by one.
const maxNamed = 3

// Decide computes the Trusted condition: False (CABundleMismatch) when a
// serving Secret's served chain does not verify up to a member of its
// caBundle, naming the Secret and the missing issuer; True when every
// serving Secret found verifies (caBundles without one are named in the
// message); Unknown, with the first caBundle's reason, when no serving
// Secret is found at all.
func Decide(r *Registration, cluster Cluster, opts certificate.Options) Trusted {
	var out Trusted
	var mismatches, trusted, unknowns []string
	unknownReason := ""
	parsed := map[*byte][]*x509.Certificate{} // equal caBundles share their bytes
	for _, b := range r.CABundles {
		serving, applies := FindServing(r, b, cluster)
		if !applies || len(b.PEM) == 0 {
			continue
		}
		out.Applies = true
		if len(serving.Secrets) == 0 {
			unknowns = append(unknowns, serving.Message)
			if unknownReason == "" {
				unknownReason = serving.Reason
			}
			continue
		}
		if out.Serving == nil {
			out.Serving = map[string][]ServingSecret{}
		}
		out.Serving[b.Key] = serving.Secrets
		members, ok := parsed[&b.PEM[0]]
		if !ok {
			members = certificate.ParseCABundle(b.PEM)
			parsed[&b.PEM[0]] = members
		}
		for _, secret := range serving.Secrets {
			trust := certificate.VerifyTrust(secret.Chain, members)
			if trust.Status != metav1.ConditionTrue {
				mismatches = append(mismatches, fmt.Sprintf("%s does not trust the Secret %s: %s", b.Key, secret, trust.Message))
				continue
			}
			trusted = append(trusted, secret.String())
			notBefore, expiringSoonAt, notAfter, _ := certificate.PathValidity(trust.Path, opts)
			out.Validity = narrow(out.Validity, Validity{notBefore, expiringSoonAt, notAfter})
		}
	}
	switch {
	case !out.Applies:
		return Trusted{}
	case len(mismatches) > 0:
		out.Status, out.Reason, out.Validity = metav1.ConditionFalse, ReasonCABundleMismatch, nil
		out.Message = sentences(mismatches)
	case len(trusted) > 0:
		out.Status, out.Reason = metav1.ConditionTrue, ReasonTrusted
		out.Message = fmt.Sprintf("The served chain of every serving Secret verifies up to its caBundle (%s).", strings.Join(dedupe(trusted), ", "))
		if len(unknowns) > 0 {
			out.Message += " " + sentences(unknowns)
		}
	default:
		out.Status, out.Reason = metav1.ConditionUnknown, unknownReason
		out.Message = sentences(unknowns)
	}
	return out
}

// narrow combines trusted paths: all must be valid for every call to succeed.
func narrow(combined *Validity, v Validity) *Validity {
	if combined == nil {
		return &v
	}
	if v.NotBefore.After(combined.NotBefore) {
		combined.NotBefore = v.NotBefore
	}
	if v.ExpiringSoonAt.Before(combined.ExpiringSoonAt) {
		combined.ExpiringSoonAt = v.ExpiringSoonAt
	}
	if v.NotAfter.Before(combined.NotAfter) {
		combined.NotAfter = v.NotAfter
	}
	return combined
}

// sentences joins the first few messages and counts the rest; equal
// messages (100 webhooks of one Service) are said once.
func sentences(messages []string) string {
	messages = dedupe(messages)
	shown := messages[:min(len(messages), maxNamed)]
	text := strings.Join(shown, " ")
	if rest := len(messages) - len(shown); rest > 0 {
		text += fmt.Sprintf(" And %d more.", rest)
	}
	return text
}

func dedupe(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
