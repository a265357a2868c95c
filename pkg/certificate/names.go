package certificate

import (
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The formatter below reproduces `openssl x509 -nameopt RFC2253,-esc_msb`
// byte for byte, so operators can compare our output with openssl's:
// RDNs in reverse order, and within a multi-valued RDN its attributes in
// reverse encoded order too (openssl walks the flattened entry list
// backwards), joined with "," and "+"; every object openssl knows by the
// name it prints (openSSLObjectNames, generated from openssl's own object
// list by hack/update-oidnames.sh); unknown ones as dotted OID with the
// value's DER in hex.

// attributeTypeAndValue keeps the value's raw DER, which unknown attributes print.
type attributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// relativeNameSET: encoding/asn1 treats a slice type named *SET as SET OF.
type relativeNameSET []attributeTypeAndValue

// ASN.1 universal string tags and the bytes per character openssl reads them with.
var stringTagWidths = map[int]int{
	asn1.TagUTF8String:      0, // UTF-8
	asn1.TagNumericString:   1,
	asn1.TagPrintableString: 1,
	asn1.TagT61String:       1,
	asn1.TagIA5String:       1,
	asn1.TagUTCTime:         1,
	asn1.TagGeneralizedTime: 1,
	26:                      1, // VisibleString (ISO646String)
	28:                      4, // UniversalString
	asn1.TagBMPString:       2,
}

// formatName renders a DER-encoded Name (a certificate's RawSubject or RawIssuer).
// It returns the common name too, since callers want both.
func formatName(der []byte) (rfc2253, commonName string, err error) {
	var rdns []relativeNameSET
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil {
		return "", "", fmt.Errorf("decode name: %w", err)
	}
	if len(rest) > 0 {
		return "", "", fmt.Errorf("decode name: trailing data")
	}
	var out strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		for j := len(rdns[i]) - 1; j >= 0; j-- {
			// Separators go between attributes written, so an empty RDN adds none.
			if j < len(rdns[i])-1 {
				out.WriteByte('+')
			} else if out.Len() > 0 {
				out.WriteByte(',')
			}
			attribute := rdns[i][j]
			oid := attribute.Type.String()
			shortName, known := openSSLObjectNames[oid]
			if !known {
				// openssl dumps the value of an attribute it does not know as DER hex.
				out.WriteString(oid)
				out.WriteString("=#")
				writeUpperHex(&out, attribute.Value.FullBytes)
				continue
			}
			out.WriteString(shortName)
			out.WriteByte('=')
			value, ok := decodeString(attribute.Value)
			if !ok {
				out.WriteByte('#')
				writeUpperHex(&out, attribute.Value.FullBytes)
				continue
			}
			writeEscaped(&out, value)
			if oid == "2.5.4.3" && commonName == "" {
				commonName = value
			}
		}
	}
	return out.String(), commonName, nil
}

// decodeString turns an ASN.1 string value into UTF-8 as openssl reads it:
// one-byte types as Latin-1, BMPString as UCS-2, UniversalString as UCS-4.
func decodeString(value asn1.RawValue) (string, bool) {
	if value.Class != asn1.ClassUniversal || value.IsCompound {
		return "", false
	}
	width, ok := stringTagWidths[value.Tag]
	if !ok {
		return "", false
	}
	content := value.Bytes
	switch width {
	case 0:
		if !utf8.Valid(content) {
			return "", false
		}
		return string(content), true
	case 1:
		var b strings.Builder
		for _, c := range content {
			b.WriteRune(rune(c))
		}
		return b.String(), true
	default:
		if len(content)%width != 0 {
			return "", false
		}
		var b strings.Builder
		for i := 0; i < len(content); i += width {
			var r rune
			if width == 2 {
				r = rune(binary.BigEndian.Uint16(content[i:]))
			} else {
				r = rune(binary.BigEndian.Uint32(content[i:]))
			}
			if !utf8.ValidRune(r) {
				return "", false
			}
			b.WriteRune(r)
		}
		return b.String(), true
	}
}

// writeEscaped applies RFC 2253 escaping as openssl does without ESC_MSB:
// ,+"\<>; get a backslash, a leading # or space and a trailing space too,
// control characters become \XX, and non-ASCII stays raw UTF-8.
func writeEscaped(out *strings.Builder, value string) {
	for i := 0; i < len(value); i++ {
		c := value[i]
		first, last := i == 0, i == len(value)-1
		switch {
		case strings.IndexByte(`,+"\<>;`, c) >= 0:
			out.WriteByte('\\')
			out.WriteByte(c)
		// openssl checks "last" after "first", so a one-character value
		// escapes a space but not a '#'.
		case c == ' ' && (first || last), c == '#' && first && !last:
			out.WriteByte('\\')
			out.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(out, "\\%02X", c)
		default:
			out.WriteByte(c)
		}
	}
}

func writeUpperHex(out *strings.Builder, data []byte) {
	const digits = "0123456789ABCDEF"
	for _, b := range data {
		out.WriteByte(digits[b>>4])
		out.WriteByte(digits[b&0x0f])
	}
}
