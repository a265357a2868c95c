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
// kube-apiserver dials <service>.<namespace>.svc (webhooks, API services
// and conversion webhooks alike) and checks the certificate against that
// name, so the leaf must name a host of exactly that shape, or a wildcard
// *.<namespace>.svc. Names that cannot match it keep nothing: a two-label
// svc-1.svc, or web.ns.svc.cluster.local, which kube-apiserver never
// dials. A Secret named by cert-manager's inject-ca-from-secret without
// such a name is not verified (its leaf does not cover the name dialled,
// the calls fail anyway). Other Secrets pay one nil pointer.
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

// namesServiceHost reports whether a DNS name can cover the host
// kube-apiserver dials, <service>.<namespace>.svc: "web.ns.svc" or
// "*.ns.svc".
func namesServiceHost(dnsNames []string) bool {
	for _, name := range dnsNames {
		rest, ok := strings.CutSuffix(strings.ToLower(strings.TrimSuffix(name, ".")), ".svc")
		service, namespace, _ := strings.Cut(rest, ".")
		if ok && service != "" && namespace != "" && namespace != "*" && !strings.Contains(namespace, ".") {
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
