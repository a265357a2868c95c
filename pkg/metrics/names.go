package metrics

import "strings"

// nameFields are the attributes of an RFC 2253 name that the x509
// exporter's labels carry, in label order: C, ST, L, O, OU, CN.
type nameFields [6]string

var nameFieldAttributes = [...]string{"C", "ST", "L", "O", "OU", "CN"}

// parseName picks C, ST, L, O, OU and CN out of a name in RFC 2253 form
// (as the analysis prints it, openssl's -nameopt RFC2253,-esc_msb), undoing
// its backslash escapes. Repeated attributes (two OUs) are joined with ","
// in the certificate's order. Values without escapes are substrings
// of name: no allocation.
func parseName(name string) nameFields {
	var fields nameFields
	for rest := name; rest != ""; {
		var part string
		part, rest = nextUnescaped(rest)
		attribute, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		for i, wanted := range nameFieldAttributes {
			if attribute == wanted {
				value = unescape(value)
				// RFC 2253 lists the RDNs last first: prepend to
				// restore the certificate's order.
				if fields[i] == "" {
					fields[i] = value
				} else {
					fields[i] = value + "," + fields[i]
				}
			}
		}
	}
	return fields
}

// nextUnescaped splits s at its first "," or "+" not escaped by a backslash:
// RDNs and the members of a multi-valued RDN are treated alike.
func nextUnescaped(s string) (part, rest string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',', '+':
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unescape undoes RFC 2253 escapes: a backslash before a special
// character, or before two hex digits for a control character.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				b.WriteByte(hexValue(s[i+1])<<4 | hexValue(s[i+2]))
				i += 2
				continue
			}
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f'
}

func hexValue(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
