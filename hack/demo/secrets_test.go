package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
)

// TestSecrets: each demo Secret shows the state it is named after, whenever
// it is generated.
func TestSecrets(t *testing.T) {
	epoch := time.Date(2030, time.June, 1, 12, 0, 0, 0, time.UTC)
	want := map[string]string{ // name → state/Ready reason; "" = not listed
		"valid-chain":         "Valid/Valid",
		"expiring-soon":       "ExpiringSoon/ExpiringSoon",
		"expired":             "Expired/Expired",
		"not-yet-valid":       "NotYetValid/NotYetValid",
		"key-mismatch":        "Invalid/KeyPairMismatch",
		"broken-chain":        "Invalid/ChainInvalid",
		"mutual-tls":          "Valid/Valid",
		"garbage":             "Invalid/InvalidData",
		"ca-bundle":           "Valid/Valid",
		"no-certificate":      "",
		"java-keystore":       "Valid/Valid",
		"locked-keystore":     "Unknown/KeystoreLocked",
		"workload-kubeconfig": "Valid/Valid",
	}
	secrets := Secrets("demo", epoch)
	if len(secrets) != len(want) {
		t.Errorf("%d demo Secrets, want %d", len(secrets), len(want))
	}
	tiers := map[string]int{}
	for _, secret := range secrets {
		t.Run(secret.Name, func(t *testing.T) {
			wantState, known := want[secret.Name]
			if !known {
				t.Fatalf("unexpected demo Secret %q", secret.Name)
			}
			if secret.Namespace != "demo" || secret.Labels[PartOfLabel] != PartOf || secret.Labels["tier"] == "" {
				t.Errorf("namespace %q labels %v", secret.Namespace, secret.Labels)
			}
			tiers[secret.Labels["tier"]]++
			a, listed := certificate.Analyze(certificate.InputFromSecret(secret), certificate.DefaultOptions())
			if !listed {
				if wantState != "" {
					t.Errorf("not listed, want %s", wantState)
				}
				return
			}
			status := a.StatusAt(epoch)
			if got := string(status.State) + "/" + readyReason(status); got != wantState {
				t.Errorf("got %s, want %s", got, wantState)
			}
			if secret.Name == "valid-chain" && (len(status.Certificates) != 3 || status.Chain.Verified != certstatus.ChainVerified) {
				t.Errorf("valid-chain: %d certificates, chain %s; want 3 and verified", len(status.Certificates), status.Chain.Verified)
			}
			if secret.Name == "mutual-tls" && (status.Chain.Verified != certstatus.ChainUnverified || !strings.Contains(status.Chain.Message, "ca.crt does not issue the served chain") || !status.PrivateKey.MatchesCertificate) {
				t.Errorf("mutual-tls: chain %+v, key %+v; want Unknown because ca.crt does not issue the served chain, and a matching key", status.Chain, status.PrivateKey)
			}
			if secret.Name == "java-keystore" && (len(status.Certificates) != 2 || status.Certificates[0].Role != certstatus.RoleLeaf || status.PrivateKey == nil || !status.PrivateKey.MatchesCertificate) {
				t.Errorf("java-keystore: certificates %+v, key %+v; want the key entry (go-pkcs12 writes no friendlyName) and its matching key", status.Certificates, status.PrivateKey)
			}
			if secret.Name == "workload-kubeconfig" && (len(status.Certificates) != 2 || status.Certificates[1].Alias != "users[workload-admin]" || status.Certificates[1].Role != certstatus.RoleLeaf) {
				t.Errorf("workload-kubeconfig: certificates %+v; want the admin's client certificate as the leaf", status.Certificates)
			}
			if secret.Name == "ca-bundle" && status.Summary.Expired != 1 {
				t.Errorf("ca-bundle summary %+v, want one expired root", status.Summary)
			}
		})
	}
	if tiers["frontend"] == 0 || tiers["backend"] == 0 {
		t.Errorf("tiers %v, want both frontend and backend", tiers)
	}
}

func readyReason(status certstatus.CertificateStatusStatus) string {
	for _, c := range status.Conditions {
		if c.Type == certstatus.ConditionReady {
			return c.Reason
		}
	}
	return "no Ready condition"
}
