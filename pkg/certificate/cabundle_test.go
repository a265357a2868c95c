package certificate

import (
	"bytes"
	"strings"
	"testing"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func caBundlesInput(data map[string][]byte) Input {
	return Input{CABundles: true, Data: data, CreatedAt: changedAt}
}

// TestCABundlesAreBundles: every caBundle is a bundle, a self-signed
// serving certificate pasted as caBundle included; a value that is not PEM
// is an errors[] entry under its field path.
func TestCABundlesAreBundles(t *testing.T) {
	p := newPKI(t)
	selfSigned := certtest.Must(certtest.NewSelfSigned(certtest.Spec{CommonName: "hook.ns.svc", DNSNames: []string{"hook.ns.svc"},
		NotBefore: epoch.Add(-day), NotAfter: epoch.Add(365 * day)}))
	status := statusAt(t, caBundlesInput(map[string][]byte{
		"webhooks[a.example.com].clientConfig.caBundle": certtest.ChainPEM(p.root, selfSigned),
		"webhooks[b.example.com].clientConfig.caBundle": []byte("not a certificate"),
		"webhooks[c.example.com].clientConfig.caBundle": nil,
	}), epoch)
	if status.State != certstatus.StateValid || len(status.Certificates) != 2 {
		t.Fatalf("state %s with %d certificates, want a Valid bundle of 2: %+v", status.State, len(status.Certificates), status)
	}
	for _, c := range status.Certificates {
		if c.Role != certstatus.RoleCA || c.Key != "webhooks[a.example.com].clientConfig.caBundle" {
			t.Errorf("certificate %s has key %s and role %s, want the field path and CA", c.Subject, c.Key, c.Role)
		}
	}
	if len(status.Errors) != 1 || status.Errors[0].Key != "webhooks[b.example.com].clientConfig.caBundle" || !strings.Contains(status.Errors[0].Message, "not PEM") {
		t.Errorf("errors %+v, want one saying the b webhook's caBundle is not PEM", status.Errors)
	}
	if status.PrivateKey != nil && status.PrivateKey.Present {
		t.Errorf("privateKey %+v, want none", status.PrivateKey)
	}
}

func TestCABundlesWithoutCertificateAreNotListed(t *testing.T) {
	if _, listed := Analyze(caBundlesInput(map[string][]byte{"spec.caBundle": []byte("garbage")}), DefaultOptions()); listed {
		t.Error("a registration whose caBundle holds no PEM certificate is listed")
	}
	status := statusAt(t, caBundlesInput(map[string][]byte{"spec.caBundle": []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")}), epoch)
	if status.State != certstatus.StateInvalid || len(status.Errors) == 0 {
		t.Errorf("a broken certificate block: state %s errors %+v, want Invalid with errors", status.State, status.Errors)
	}
}

func TestParseCABundle(t *testing.T) {
	p := newPKI(t)
	got := ParseCABundle(append(append([]byte("junk\n"), p.root.PEM()...), append(p.leafKey, p.intermediate.PEM()...)...))
	if len(got) != 2 || !bytes.Equal(got[0].Raw, p.root.DER) || !bytes.Equal(got[1].Raw, p.intermediate.DER) {
		t.Errorf("parsed %d certificates, want the root and the intermediate", len(got))
	}
}

// TestServedChainIsKeptForServiceHosts: the DER of the served chain is
// kept, in served order, only for a leaf naming a host kube-apiserver
// dials (<service>.<namespace>.svc).
func TestServedChainIsKeptForServiceHosts(t *testing.T) {
	p := newPKI(t)
	for _, c := range []struct {
		dnsNames []string
		kept     bool
	}{
		{[]string{"web.example.com"}, false},
		{[]string{"web.example.com", "hook.ns.svc"}, true},
		{[]string{"*.ns.svc"}, true},
		{[]string{"HOOK.NS.SVC."}, true},
		// Never dialled by kube-apiserver, so never a serving Secret.
		{[]string{"hook.ns.svc.cluster.local"}, false},
		{[]string{"svc-00001.svc"}, false},
		{[]string{"a.b.ns.svc"}, false},
		{[]string{"hook.*.svc"}, false},
		{[]string{"svc.example.com"}, false},
	} {
		leaf := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "hook", DNSNames: c.dnsNames}))
		chain := analyze(t, tlsInput(certtest.ChainPEM(leaf, p.intermediate), certtest.Must(leaf.KeyPEM(certtest.PKCS8)), p.root.PEM())).ServedChain()
		if (chain != nil) != c.kept {
			t.Errorf("%v: kept %v, want %v", c.dnsNames, chain != nil, c.kept)
			continue
		}
		if c.kept && (len(chain) != 2 || !bytes.Equal(chain[0].Raw, leaf.DER) || !bytes.Equal(chain[1].Raw, p.intermediate.DER)) {
			t.Errorf("%v: served chain of %d certificates, want the leaf then the intermediate", c.dnsNames, len(chain))
		}
	}
	bundle := analyze(t, caBundlesInput(map[string][]byte{"spec.caBundle": p.root.PEM()}))
	if bundle.ServedChain() != nil {
		t.Error("a caBundle keeps a served chain")
	}
}
