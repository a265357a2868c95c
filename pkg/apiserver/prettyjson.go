package apiserver

import (
	"bytes"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// prettyJSONCodec is jsonCodec indented as the generic server's pretty JSON
// serializer writes (json.MarshalIndent, two spaces, no final newline).
// kube-apiserver's negotiation picks the pretty serializer for every request
// whose User-Agent starts with curl, Wget or Mozilla/5.0 (and for ?pretty=1):
// through the generic serializer such a list was built in full, converted,
// marshalled and indented in memory (≈ 120 MB in flight for 10 000 objects)
// and took 4–5× the CPU of the same list for any other client. The bytes are
// the same (TestPrettyJSONCodecMatchesGeneric).
type prettyJSONCodec struct {
	jsonCodec
	id runtime.Identifier
}

func newPrettyJSONCodec(compact runtime.Encoder, gv schema.GroupVersion) prettyJSONCodec {
	c := newJSONCodec(compact, gv)
	return prettyJSONCodec{jsonCodec: c, id: runtime.Identifier("certstatus-pretty-json:" + gv.String() + ":" + string(compact.Identifier()))}
}

func (c prettyJSONCodec) Identifier() runtime.Identifier { return c.id }

func (c prettyJSONCodec) Encode(obj runtime.Object, w io.Writer) error {
	if co, ok := obj.(runtime.CacheableObject); ok {
		obj = co.GetObject()
	}
	iw := &indentWriter{w: w}
	if err := c.encode(obj, iw); err != nil {
		return err
	}
	return iw.flush()
}

// indentWriter indents compact JSON as encoding/json's Indent does with an
// empty prefix and two spaces, as it streams through: whitespace outside
// strings is dropped, a newline and the depth's indent follow every '{',
// '[' and ',' (but "{}" and "[]" stay as they are) and come before every '}'
// and ']', and a space follows every ':'.
type indentWriter struct {
	w   io.Writer
	buf []byte
	// depth is the nesting; open is set after '{' or '[' until the next
	// byte says whether the object or array is empty.
	depth            int
	open             bool
	inString, escape bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if iw.inString {
			if iw.escape {
				iw.escape = false
				iw.buf = append(iw.buf, c)
				continue
			}
			// Most of the output is inside strings: copy up to the next
			// byte that matters at once.
			if n := bytes.IndexAny(p[i:], `"\\`); n > 0 {
				iw.buf = append(iw.buf, p[i:i+n]...)
				i += n - 1
				continue
			} else if n < 0 {
				iw.buf = append(iw.buf, p[i:]...)
				break
			}
			iw.buf = append(iw.buf, c)
			if c == '\\' {
				iw.escape = true
			} else {
				iw.inString = false
			}
			continue
		}
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			continue
		}
		if iw.open && c != '}' && c != ']' {
			iw.open = false
			iw.depth++
			iw.newline()
		}
		switch c {
		case '"':
			iw.inString = true
			iw.buf = append(iw.buf, c)
		case '{', '[':
			iw.open = true
			iw.buf = append(iw.buf, c)
		case ',':
			iw.buf = append(iw.buf, c)
			iw.newline()
		case ':':
			iw.buf = append(iw.buf, c, ' ')
		case '}', ']':
			if iw.open {
				iw.open = false
			} else {
				iw.depth--
				iw.newline()
			}
			iw.buf = append(iw.buf, c)
		default:
			iw.buf = append(iw.buf, c)
		}
	}
	if len(iw.buf) >= flushAt {
		return len(p), iw.flush()
	}
	return len(p), nil
}

func (iw *indentWriter) newline() {
	iw.buf = append(iw.buf, '\n')
	for range iw.depth {
		iw.buf = append(iw.buf, ' ', ' ')
	}
}

func (iw *indentWriter) flush() error {
	if len(iw.buf) == 0 {
		return nil
	}
	_, err := iw.w.Write(iw.buf)
	iw.buf = iw.buf[:0]
	return err
}
