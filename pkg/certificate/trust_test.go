package certificate

import (
	"crypto/x509"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// trustCase is a served chain (leaf first) and a caBundle.
type trustCase struct {
	name           string
	served, bundle []*certtest.Certificate
	want           metav1.ConditionStatus
	// path are the subjects of the expected path, leaf to anchor (True),
	// compared with what openssl -show_chain prints when it is the only path.
	path []string
	// missing is the expected MissingIssuer (False).
	missing string
}

func trustCases(t *testing.T) []trustCase {
	t.Helper()
	at := func(commonName string, key *certtest.Certificate, notBefore, notAfter time.Time) certtest.Spec {
		spec := certtest.Spec{CommonName: commonName, NotBefore: notBefore, NotAfter: notAfter}
		if key != nil {
			spec.Key = key.Key
		}
		return spec
	}
	long := func(commonName string) certtest.Spec {
		return at(commonName, nil, epoch.Add(-365*day), epoch.Add(3*365*day))
	}
	serving := func(issuer *certtest.Certificate) *certtest.Certificate {
		spec := long("webhook.ns.svc")
		spec.DNSNames = []string{"webhook.ns.svc"}
		return certtest.Must(issuer.NewLeaf(spec))
	}

	// Old CA vs new CA: same name, new key (a rotated webhook CA).
	oldCA := certtest.Must(certtest.NewCA(long("Webhook CA")))
	newCA := certtest.Must(certtest.NewCA(long("Webhook CA")))
	rotated := serving(newCA)

	// Root, intermediate, leaf.
	root := certtest.Must(certtest.NewCA(long("Root")))
	intermediate := certtest.Must(root.NewIntermediate(long("Intermediate")))
	leaf := serving(intermediate)

	// Cross-signed roots: New Root (self-signed) and the same name and key
	// signed by Old Root; the intermediate is issued by New Root's key.
	oldRoot := certtest.Must(certtest.NewCA(long("Old Root")))
	newRoot := certtest.Must(certtest.NewCA(long("New Root")))
	crossSigned := certtest.Must(oldRoot.NewIntermediate(at("New Root", newRoot, epoch.Add(-365*day), epoch.Add(3*365*day))))
	crossIntermediate := certtest.Must(newRoot.NewIntermediate(long("Cross Intermediate")))
	crossLeaf := serving(crossIntermediate)
	unrelated := certtest.Must(certtest.NewCA(long("Unrelated Root")))

	// A root renewed with the same key: the expired copy and the valid one
	// both verify the intermediate.
	expiredRoot := certtest.Must(certtest.NewCA(at("Renewed Root", nil, epoch.Add(-3*365*day), epoch.Add(-day))))
	renewedRoot := certtest.Must(certtest.NewCA(at("Renewed Root", expiredRoot, epoch.Add(-2*day), epoch.Add(5*365*day))))
	renewedIntermediate := certtest.Must(renewedRoot.NewIntermediate(long("Renewed Intermediate")))
	renewedLeaf := serving(renewedIntermediate)

	selfSigned := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "self.ns.svc", DNSNames: []string{"self.ns.svc"}}))
	// An impostor intermediate: the right name, another key.
	impostor := certtest.Must(root.NewIntermediate(long("Intermediate")))

	return []trustCase{
		{name: "old CA only", served: cs(rotated), bundle: cs(oldCA), want: metav1.ConditionFalse, missing: "CN=Webhook CA"},
		{name: "new CA only", served: cs(rotated), bundle: cs(newCA), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Webhook CA"}},
		{name: "old and new CA", served: cs(rotated), bundle: cs(oldCA, newCA), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Webhook CA"}},
		{name: "intermediate served", served: cs(leaf, intermediate), bundle: cs(root), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Intermediate", "CN=Root"}},
		{name: "intermediate missing", served: cs(leaf), bundle: cs(root), want: metav1.ConditionFalse, missing: "CN=Intermediate"},
		{name: "intermediate in bundle", served: cs(leaf), bundle: cs(intermediate), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Intermediate"}},
		{name: "served out of order", served: cs(leaf, root, intermediate), bundle: cs(root), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Intermediate", "CN=Root"}},
		{name: "root served, bundle unrelated", served: cs(leaf, intermediate, root), bundle: cs(unrelated), want: metav1.ConditionFalse, missing: "CN=Root"},
		{name: "impostor intermediate", served: cs(leaf, impostor), bundle: cs(root), want: metav1.ConditionFalse, missing: "CN=Intermediate"},
		{name: "cross-signed to old root", served: cs(crossLeaf, crossIntermediate, crossSigned), bundle: cs(oldRoot), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Cross Intermediate", "CN=New Root", "CN=Old Root"}},
		{name: "cross-signed, new root trusted", served: cs(crossLeaf, crossIntermediate, crossSigned), bundle: cs(newRoot), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Cross Intermediate", "CN=New Root"}},
		{name: "cross-signed, unrelated bundle", served: cs(crossLeaf, crossIntermediate, crossSigned), bundle: cs(unrelated), want: metav1.ConditionFalse, missing: "CN=Old Root"},
		{name: "expired and valid members", served: cs(renewedLeaf, renewedIntermediate), bundle: cs(unrelated, expiredRoot, renewedRoot), want: metav1.ConditionTrue},
		{name: "only the expired member", served: cs(renewedLeaf, renewedIntermediate), bundle: cs(expiredRoot), want: metav1.ConditionTrue, path: []string{"CN=webhook.ns.svc", "CN=Renewed Intermediate", "CN=Renewed Root"}},
		{name: "self-signed leaf in bundle", served: cs(selfSigned), bundle: cs(root, selfSigned), want: metav1.ConditionTrue, path: []string{"CN=self.ns.svc"}},
		{name: "self-signed leaf not in bundle", served: cs(selfSigned), bundle: cs(root), want: metav1.ConditionFalse, missing: "CN=self.ns.svc"},
	}
}

func cs(certs ...*certtest.Certificate) []*certtest.Certificate { return certs }

func parsedOf(certs []*certtest.Certificate) []*x509.Certificate {
	out := make([]*x509.Certificate, len(certs))
	for i, c := range certs {
		out[i] = c.Certificate
	}
	return out
}

func subjects(path []*x509.Certificate) []string {
	out := make([]string, len(path))
	for i, c := range path {
		out[i] = subjectOf(c)
	}
	return out
}

// TestVerifyTrustAgreesWithOpenSSL compares every verdict with
// `openssl verify -partial_chain -no_check_time`, and the path with the
// chain openssl shows where only one path exists.
func TestVerifyTrustAgreesWithOpenSSL(t *testing.T) {
	for _, c := range trustCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := VerifyTrust(parsedOf(c.served), parsedOf(c.bundle))
			if got.Status != c.want {
				t.Fatalf("status %s (%s), want %s", got.Status, got.Message, c.want)
			}
			verified, chain := opensslVerify(t, c.served, c.bundle)
			if verified != (c.want == metav1.ConditionTrue) {
				t.Fatalf("openssl verify says verified=%v, want status %s; openssl printed:\n%s", verified, c.want, chain)
			}
			switch got.Status {
			case metav1.ConditionTrue:
				if got.Path[len(got.Path)-1] != c.bundle[got.Anchor].Certificate {
					t.Errorf("anchor %d is not the path's last certificate", got.Anchor)
				}
				if c.path != nil {
					if s := subjects(got.Path); strings.Join(s, "|") != strings.Join(c.path, "|") {
						t.Errorf("path %q, want %q", s, c.path)
					}
					if s := opensslChainSubjects(chain); strings.Join(s, "|") != strings.Join(c.path, "|") {
						t.Errorf("openssl's chain %q, want %q", s, c.path)
					}
				}
			case metav1.ConditionFalse:
				if got.MissingIssuer != c.missing {
					t.Errorf("missing issuer %q, want %q (%s)", got.MissingIssuer, c.missing, got.Message)
				}
				if !strings.Contains(got.Message, c.missing) {
					t.Errorf("message %q does not name %q", got.Message, c.missing)
				}
			}
		})
	}
}

// opensslVerify runs `openssl verify -CAfile bundle -untrusted rest leaf`,
// dates aside, and returns whether it verified and what it printed.
func opensslVerify(t *testing.T, served, bundle []*certtest.Certificate) (bool, string) {
	t.Helper()
	args := []string{"verify", "-partial_chain", "-no_check_time", "-show_chain", "-nameopt", "RFC2253", "-CAfile", writeTemp(t, "bundle.pem", certtest.ChainPEM(bundle...))}
	if len(served) > 1 {
		args = append(args, "-untrusted", writeTemp(t, "untrusted.pem", certtest.ChainPEM(served[1:]...)))
	}
	args = append(args, writeTemp(t, "leaf.pem", served[0].PEM()))
	out, err := exec.Command(certtest.OpenSSLBinary(t), args...).CombinedOutput()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("openssl verify: %v", err)
	}
	return err == nil, string(out)
}

// opensslChainSubjects reads "depth=N: CN=... (untrusted)" lines.
func opensslChainSubjects(out string) []string {
	var subjects []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "depth=") {
			continue
		}
		_, subject, _ := strings.Cut(line, ": ")
		subjects = append(subjects, strings.TrimSuffix(subject, " (untrusted)"))
	}
	return subjects
}

// TestVerifyTrustPrefersTheLongestValidPath: with an expired and a renewed
// copy of the root in the caBundle, the path and its dates end at the
// renewed one.
func TestVerifyTrustPrefersTheLongestValidPath(t *testing.T) {
	var c trustCase
	for _, candidate := range trustCases(t) {
		if candidate.name == "expired and valid members" {
			c = candidate
		}
	}
	got := VerifyTrust(parsedOf(c.served), parsedOf(c.bundle))
	if got.Anchor != 2 {
		t.Fatalf("anchor %d, want the renewed root (2): %s", got.Anchor, got.Message)
	}
	notBefore, expiringSoonAt, notAfter, ok := PathValidity(got.Path, DefaultOptions())
	leaf := c.served[0].Certificate
	if !ok || !notAfter.Equal(leaf.NotAfter) || !notBefore.Equal(c.bundle[2].Certificate.NotBefore) {
		t.Errorf("validity %v..%v, want the renewed root's notBefore %v to the leaf's notAfter %v", notBefore, notAfter, c.bundle[2].Certificate.NotBefore, leaf.NotAfter)
	}
	if want := leaf.NotAfter.Add(-720 * time.Hour); !expiringSoonAt.Equal(want) {
		t.Errorf("expiringSoonAt %v, want %v", expiringSoonAt, want)
	}
}

func TestVerifyTrustWithoutServedChainIsUnknown(t *testing.T) {
	if got := VerifyTrust(nil, parsedOf(cs(newRootCA("Root")))); got.Status != metav1.ConditionUnknown {
		t.Errorf("status %s, want Unknown", got.Status)
	}
}

// TestVerifyTrustIsBounded: a served chain of many certificates that all
// claim the same issuer name costs at most maxTrustChecks signature checks.
func TestVerifyTrustIsBounded(t *testing.T) {
	root := newRootCA("Loop")
	served := []*x509.Certificate{certtest.Must(root.NewLeaf(certtest.Spec{CommonName: "leaf"})).Certificate}
	impostors := make([]*certtest.Certificate, 300)
	for i := range impostors {
		impostors[i] = certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Loop", KeyAlgorithm: certtest.ECDSA}))
		served = append(served, impostors[i].Certificate)
	}
	search := trustSearch{served: served, bundle: nil, anchor: -1}
	search.from(served[:1])
	if search.checks > maxTrustChecks {
		t.Errorf("%d checks, want at most %d", search.checks, maxTrustChecks)
	}
	if got := VerifyTrust(served, parsedOf(cs(root))); got.Status != metav1.ConditionTrue {
		t.Errorf("status %s, want True: the leaf's own issuer is in the bundle (%s)", got.Status, got.Message)
	}
}
