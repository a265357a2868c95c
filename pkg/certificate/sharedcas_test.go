package certificate

import (
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestParseCertificateSharesCAsOnly(t *testing.T) {
	p := newPKI(t)
	first, err1 := parseCertificate(p.intermediate.Certificate.Raw)
	again, err2 := parseCertificate(p.intermediate.Certificate.Raw)
	if err1 != nil || err2 != nil || first != again {
		t.Errorf("a CA parsed twice: %p, %p (%v, %v); want one shared parse", first, again, err1, err2)
	}
	leaf, _ := parseCertificate(p.leaf.Certificate.Raw)
	leafAgain, _ := parseCertificate(p.leaf.Certificate.Raw)
	if leaf == leafAgain {
		t.Error("a leaf's parse was shared; only CAs are kept")
	}
}

// The remembered signature checks answer per issuer: the same intermediate
// under its real root and under a forged one (same name, other key) keeps
// both verdicts, in whatever order the Secrets come.
func TestRememberedSignaturesAnswerPerIssuer(t *testing.T) {
	p := newPKI(t)
	forgedRoot := certtest.Must(certtest.NewCA(certtest.Spec{Subject: p.root.Certificate.Subject, NotBefore: epoch.Add(-day), NotAfter: epoch.Add(900 * day)}))
	crt := certtest.ChainPEM(p.leaf, p.intermediate)
	for round := range 2 {
		for _, tt := range []struct {
			ca   *certtest.Certificate
			want certstatus.ChainVerification
		}{{p.root, certstatus.ChainVerified}, {forgedRoot, certstatus.ChainBroken}} {
			status := statusAt(t, tlsInput(crt, nil, tt.ca.PEM()), epoch)
			if status.Chain.Verified != tt.want {
				t.Errorf("round %d, ca.crt %s: chain %s (%s), want %s", round, tt.ca.Certificate.Subject, status.Chain.Verified, status.Chain.Message, tt.want)
			}
		}
	}
}
