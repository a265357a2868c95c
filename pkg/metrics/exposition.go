package metrics

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// family is one metric family of the certificate series.
type family struct {
	name, help string
	labels     []string
	// verbatim is how many leading label values never need escaping:
	// Kubernetes names and data keys (validated by kube-apiserver to
	// [-._a-zA-Z0-9]) and the fixed state names.
	verbatim int
}

// sink receives the certificate series, family by family: every sample of
// a family follows its begin. values are only valid during the call.
type sink interface {
	begin(f *family)
	sample(f *family, value float64, values []string)
}

// textSink writes the Prometheus text format (version 0.0.4) as it goes:
// a scrape of 10 000 Secrets allocates no per-series objects.
type textSink struct {
	w       *bufio.Writer
	scratch []byte
}

func newTextSink(w io.Writer) *textSink {
	return &textSink{w: bufio.NewWriterSize(w, 64<<10), scratch: make([]byte, 0, 64)}
}

func (t *textSink) begin(f *family) {
	t.w.WriteString("# HELP ")
	t.w.WriteString(f.name)
	t.w.WriteByte(' ')
	writeEscaped(t.w, f.help, false)
	t.w.WriteString("\n# TYPE ")
	t.w.WriteString(f.name)
	t.w.WriteString(" gauge\n")
}

func (t *textSink) sample(f *family, value float64, values []string) {
	t.w.WriteString(f.name)
	if len(f.labels) > 0 {
		t.w.WriteByte('{')
		for i, label := range f.labels {
			if i > 0 {
				t.w.WriteByte(',')
			}
			t.w.WriteString(label)
			t.w.WriteString(`="`)
			if i < f.verbatim {
				t.w.WriteString(values[i])
			} else {
				writeEscaped(t.w, values[i], true)
			}
			t.w.WriteByte('"')
		}
		t.w.WriteByte('}')
	}
	t.w.WriteByte(' ')
	t.scratch = appendValue(t.scratch[:0], value)
	t.w.Write(t.scratch)
	t.w.WriteByte('\n')
}

func (t *textSink) flush() error { return t.w.Flush() }

func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// writeEscaped escapes as the text format requires: a backslash and a
// newline always, a double quote in label values. Invalid UTF-8 (which
// Prometheus rejects, failing the whole scrape) becomes U+FFFD.
func writeEscaped(w *bufio.Writer, s string, quote bool) {
	if plain(s) {
		w.WriteString(s)
		return
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\':
				w.WriteString(`\\`)
			case c == '\n':
				w.WriteString(`\n`)
			case c == '"' && quote:
				w.WriteString(`\"`)
			default:
				w.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.WriteString("\uFFFD")
		} else {
			w.WriteString(s[i : i+size])
		}
		i += size
	}
}

// plain tells whether s is ASCII that needs no escape, as nearly every
// name and label value is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\\' || c == '\n' || c == '"' {
			return false
		}
	}
	return true
}
