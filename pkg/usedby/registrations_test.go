package usedby

import (
	"reflect"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

func TestPutRegistration(t *testing.T) {
	var heard recorder
	x := NewIndex(heard.hear)
	hookTLS := SecretRef{"hooks", "hook-tls"}
	check := certstatus.Webhook{Name: "check.example.com", FailurePolicy: "Fail"}
	audit := certstatus.Webhook{Name: "audit.example.com", FailurePolicy: "Ignore"}
	use := RegistrationUse{Kind: "ValidatingWebhookConfiguration", Name: "hooks", Created: created, Secrets: []RegistrationSecret{
		{Secret: hookTLS, Webhooks: []certstatus.Webhook{check}},
		{Secret: hookTLS, Webhooks: []certstatus.Webhook{audit}},
	}}
	x.PutRegistration(use)
	if got := heard.take(); !reflect.DeepEqual(got, []SecretRef{hookTLS}) {
		t.Fatalf("signalled %v, want %v", got, hookTLS)
	}
	want := []User{{Kind: "ValidatingWebhookConfiguration", Name: "hooks", Created: created.UTC(), Webhooks: []certstatus.Webhook{check, audit}}}
	if got := x.Users(hookTLS).list(); !reflect.DeepEqual(got, want) {
		t.Fatalf("users = %+v, want %+v (one user, cluster-scoped, its webhooks merged in order)", got, want)
	}
	usedBy, hostsCovered, _ := judge(nil, nil, created, x.Users(hookTLS).list())
	if len(usedBy) != 1 || usedBy[0].Namespace != "" || !reflect.DeepEqual(usedBy[0].Webhooks, []certstatus.Webhook{check, audit}) || hostsCovered.Type != "" {
		t.Fatalf("usedBy = %+v, HostsCovered %+v", usedBy, hostsCovered)
	}

	// The same use again changes nothing; another policy does.
	x.PutRegistration(use)
	if got := heard.take(); len(got) != 0 {
		t.Fatalf("an unchanged registration signalled %v", got)
	}
	use.Secrets = []RegistrationSecret{{Secret: hookTLS, Webhooks: []certstatus.Webhook{{Name: "check.example.com", FailurePolicy: "Ignore"}}}}
	x.PutRegistration(use)
	if got := heard.take(); len(got) != 1 {
		t.Fatalf("a changed failurePolicy signalled %v", got)
	}
	if got := x.Users(hookTLS).list(); len(got) != 1 || got[0].Webhooks[0].FailurePolicy != "Ignore" {
		t.Fatalf("users = %+v", got)
	}

	// A use without Secrets (none found, or the registration deleted) removes it.
	x.PutRegistration(RegistrationUse{Kind: "ValidatingWebhookConfiguration", Name: "hooks"})
	if got := heard.take(); len(got) != 1 || x.Users(hookTLS) != nil {
		t.Fatalf("removal signalled %v, users left %+v", got, x.Users(hookTLS).list())
	}
}
