package usedby

import (
	"slices"
	"time"
	"unique"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// RegistrationUse is an API registration (a webhook configuration, an
// APIService, a CRD's conversion webhook) as a user of the Secrets serving
// it: the serving Secret's usedBy names it, cluster-scoped (no namespace),
// with the webhooks it serves. The registrations' source finds the serving
// Secrets (pkg/registrations.FindServing) and hands them here; the index
// never reads the registrations itself.
type RegistrationUse struct {
	Kind, Name string
	Created    time.Time
	Secrets    []RegistrationSecret
}

// RegistrationSecret is one serving Secret of a registration and the
// webhooks it serves (none for an APIService or a CRD).
type RegistrationSecret struct {
	Secret   SecretRef
	Webhooks []certstatus.Webhook
}

// PutRegistration makes use the registration's current use of Secrets
// (replacing what was put for the same kind and name), and signals the
// Secrets whose users changed. A use without Secrets removes it.
func (x *Index) PutRegistration(use RegistrationUse) {
	key := objectKey{kind: use.Kind, name: use.Name}
	x.registrationsMu.Lock()
	defer x.registrationsMu.Unlock()
	old := x.registrations[key]
	var current *servingObject
	if len(use.Secrets) > 0 {
		current = &servingObject{compactMeta: newCompactMeta("", use.Name), kind: unique.Make(use.Kind), created: use.Created.Unix()}
		for _, s := range use.Secrets {
			var refs references
			refs.add(s.Secret)
			ref := refs[0]
			if len(s.Webhooks) > 0 {
				webhooks := slices.Clone(s.Webhooks)
				ref.webhooks = &webhooks
			}
			if i := slices.IndexFunc(current.refs, func(r reference) bool { return r.secret == ref.secret }); i >= 0 {
				// The same Secret serves several caBundles: one user, its webhooks merged.
				merged := append(slices.Clone(derefWebhooks(current.refs[i].webhooks)), derefWebhooks(ref.webhooks)...)
				current.refs[i].webhooks = &merged
				continue
			}
			current.refs = append(current.refs, ref)
		}
	}
	if old == nil && current == nil {
		return
	}
	if current == nil {
		delete(x.registrations, key)
	} else {
		if x.registrations == nil {
			x.registrations = map[objectKey]*servingObject{}
		}
		x.registrations[key] = current
	}
	x.putServing(old, current)
}

func derefWebhooks(w *[]certstatus.Webhook) []certstatus.Webhook {
	if w == nil {
		return nil
	}
	return *w
}

func sameWebhooks(a, b *[]certstatus.Webhook) bool {
	return slices.Equal(derefWebhooks(a), derefWebhooks(b))
}
