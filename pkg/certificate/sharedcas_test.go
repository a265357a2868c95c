package certificate

import (
	"bytes"
	"crypto/sha256"
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

// A CA certificate's PEM text is decoded once and remembered by its exact
// text, never pointing into the Secret it came from; a leaf's is not kept.
func TestCABlocksRememberedByText(t *testing.T) {
	p := newPKI(t)
	root := p.root.PEM()
	in := tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), nil, bytes.Clone(root))
	if status := statusAt(t, in, epoch); status.Chain.Verified != certstatus.ChainVerified {
		t.Fatalf("chain %s (%s), want Verified", status.Chain.Verified, status.Chain.Message)
	}
	known := rememberedCABlock(root)
	if known == nil || !bytes.Equal(known.block.Bytes, p.root.Certificate.Raw) {
		t.Fatalf("root's block %v; want it remembered with the root's DER", known)
	}
	// With the shared parse and the DER's fingerprint, which describing it needs.
	shared, _ := parseCertificate(p.root.Certificate.Raw)
	if known.cert != shared || known.fingerprint != sha256.Sum256(p.root.Certificate.Raw) {
		t.Errorf("remembered parse %p, fingerprint %x; want the shared parse %p and SHA-256 %x",
			known.cert, known.fingerprint, shared, sha256.Sum256(p.root.Certificate.Raw))
	}
	block := known.block
	if rememberedCABlock(p.leaf.PEM()) != nil {
		t.Error("a leaf's block was remembered; only CAs are kept")
	}
	// Changing the Secret's bytes afterwards changes nothing remembered.
	for i := range in.Data["ca.crt"] {
		in.Data["ca.crt"][i] = 'A'
	}
	if !bytes.Equal(block.Bytes, p.root.Certificate.Raw) {
		t.Error("the remembered block points into the Secret's data")
	}
	// Other text (one more line break) is decoded afresh, and the same again.
	other := append([]byte("\n"), root...)
	if rememberedCABlock(other) != nil {
		t.Error("different text found a remembered block")
	}
	if status := statusAt(t, tlsInput(certtest.ChainPEM(p.leaf, p.intermediate), nil, other), epoch); status.Chain.Verified != certstatus.ChainVerified {
		t.Errorf("chain %s (%s) with the root after a blank line, want Verified", status.Chain.Verified, status.Chain.Message)
	}
}
