package certificate

import (
	"crypto/x509"
	"strings"
	"unique"
)

// The Trusted check of API registrations verifies a serving Secret's served
// chain against the registration's caBundle, and the analysis keeps no
// DER. So the DER of the primary chain (public certificates only, nothing
// secret) is kept, but only where its leaf could serve a registration:
// kube-apiserver dials <service>.<namespace>.svc, so the leaf must have a
// DNS name in the cluster's service domain, one ending in ".svc" or
// holding ".svc." (<service>.<namespace>.svc.cluster.local). A Secret
// named by cert-manager's inject-ca-from-secret without such a name is
// not verified (its leaf does not cover the name dialled, the calls
// fail anyway). Other Secrets pay one nil pointer.
//
// The leaf's DER is its own; the issuers' DER is interned (unique), so the
// intermediate thousands of Secrets serve is kept once.
type servedChain struct {
	leaf    string
	issuers []unique.Handle[string]
}

// keepServedChain returns what to keep of chain (leaf first), nil when its
// leaf names no service host.
func keepServedChain(chain []chainMember) *servedChain {
	if len(chain) == 0 || !namesServiceHost(chain[0].cert.DNSNames) {
		return nil
	}
	kept := &servedChain{leaf: string(chain[0].cert.Raw)}
	if len(chain) > 1 {
		kept.issuers = make([]unique.Handle[string], len(chain)-1)
		for i, member := range chain[1:] {
			kept.issuers[i] = unique.Make(string(member.cert.Raw))
		}
	}
	return kept
}

// namesServiceHost reports whether a DNS name is in a cluster's service
// domain: "web.ns.svc", "*.ns.svc" or "web.ns.svc.cluster.local".
func namesServiceHost(dnsNames []string) bool {
	for _, name := range dnsNames {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		if strings.HasSuffix(name, ".svc") || strings.Contains(name, ".svc.") {
			return true
		}
	}
	return false
}

// ServedChain is the primary chain as served, leaf first, parsed again
// from the kept DER; nil when it was not kept (no leaf naming a service
// host, see servedChain). The certificates may be shared: callers must not
// modify them.
func (a *Analysis) ServedChain() []*x509.Certificate {
	if a.served == nil {
		return nil
	}
	out := make([]*x509.Certificate, 0, 1+len(a.served.issuers))
	for _, der := range append([]string{a.served.leaf}, handleValues(a.served.issuers)...) {
		cert, err := parseCertificate([]byte(der))
		if err != nil {
			return nil // not reached: the DER parsed when the Secret was analysed
		}
		out = append(out, cert)
	}
	return out
}

func handleValues(handles []unique.Handle[string]) []string {
	out := make([]string, len(handles))
	for i, h := range handles {
		out[i] = h.Value()
	}
	return out
}
