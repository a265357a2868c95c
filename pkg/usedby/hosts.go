package usedby

import (
	"net/netip"
	"strings"
)

// NormalizeHost is the form hosts are compared and shown in: lower case,
// without surrounding spaces or one trailing dot ("Web.Example.com." and
// "web.example.com" are the same host). Empty means no host.
func NormalizeHost(host string) string {
	host = strings.TrimSpace(host)
	host = strings.TrimSuffix(host, ".")
	return strings.ToLower(host)
}

// Covers tells whether a certificate with these DNS and IP subject
// alternative names is valid for host (already normalized), by RFC 6125:
// a DNS name matches itself case-insensitively, and a wildcard is only a
// whole left-most label "*" standing for exactly one non-empty label
// ("*.example.com" covers "a.example.com", not "example.com" nor
// "a.b.example.com"); partial-label wildcards ("w*.example.com") cover
// nothing but their own text. A host that is itself a wildcard (an Ingress
// may declare "*.example.com") is covered only by the same wildcard. An IP
// literal is covered by an equal IP address SAN only, as TLS clients check
// it. The common name is not consulted: clients ignore it when SANs exist,
// and Go's client ignores it always.
func Covers(dnsNames, ipAddresses []string, host string) bool {
	if host == "" {
		return false
	}
	if literal := strings.Trim(host, "[]"); mayBeIP(literal) {
		if ip, err := netip.ParseAddr(literal); err == nil {
			ip = ip.Unmap()
			for _, san := range ipAddresses {
				if sanIP, err := netip.ParseAddr(san); err == nil && sanIP.Unmap() == ip {
					return true
				}
			}
			return false
		}
	}
	for _, san := range dnsNames {
		if matchesDNSName(NormalizeHost(san), host) {
			return true
		}
	}
	return false
}

// mayBeIP tells whether netip.ParseAddr may accept s: an IPv6 address has
// a colon, an IPv4 one only digits and dots. Other hosts skip it, since its
// error allocates, and hosts are judged each time usedBy is built.
func mayBeIP(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// matchesDNSName matches one normalized SAN against one normalized host.
func matchesDNSName(san, host string) bool {
	if san == "" {
		return false
	}
	if san == host {
		return true
	}
	rest, wildcard := strings.CutPrefix(san, "*.")
	if !wildcard || rest == "" || strings.Contains(rest, "*") {
		return false
	}
	label, parent, ok := strings.Cut(host, ".")
	return ok && label != "" && label != "*" && parent == rest
}
