package offheap

import (
	"bytes"
	"testing"
)

// Bytes appended across every growth, from the heap to mapped memory and
// from one mapping to a larger one, are kept in order.
func TestReserveKeepsBytes(t *testing.T) {
	var b Buffer
	defer b.Free()
	var want []byte
	for i := 0; len(want) < 5*minMapped; i++ {
		piece := bytes.Repeat([]byte{byte(i)}, 1+i%4099)
		b.Reserve(len(piece))
		before := cap(b.B)
		b.B = append(b.B, piece...)
		if cap(b.B) != before {
			t.Fatalf("append moved the buffer after Reserve(%d)", len(piece))
		}
		want = append(want, piece...)
	}
	if !bytes.Equal(b.B, want) {
		t.Fatal("the buffer's bytes differ from what was appended")
	}
	if b.mapped == nil {
		t.Fatalf("a buffer of %d bytes is still on the heap", len(b.B))
	}
}

// WriteTo writes every byte, whatever the chunking.
func TestWriteTo(t *testing.T) {
	var b Buffer
	defer b.Free()
	b.Reserve(3*chunkSize + 5)
	for i := 0; i < 3*chunkSize+5; i++ {
		b.B = append(b.B, byte(i*7))
	}
	var out bytes.Buffer
	n, err := b.WriteTo(&out)
	if err != nil || n != int64(len(b.B)) || !bytes.Equal(out.Bytes(), b.B) {
		t.Fatalf("WriteTo wrote %d bytes (err %v), want the buffer's %d", n, err, len(b.B))
	}
}

func TestFreeEmpties(t *testing.T) {
	var b Buffer
	b.Reserve(2 * minMapped)
	b.B = append(b.B, "certstatus"...)
	b.Free()
	if b.B != nil || b.mapped != nil {
		t.Fatal("Free left the buffer holding memory")
	}
	b.Free() // twice is harmless
	b.Reserve(10)
	b.B = append(b.B, 'x')
	if string(b.B) != "x" {
		t.Fatal("a freed buffer is not reusable")
	}
}

// retainingWriter keeps the slices it is given, as an io.Writer must not
// but a response writer might (an HTTP/2 stream reset can leave a frame
// being written after Write returned).
type retainingWriter struct{ kept [][]byte }

func (w *retainingWriter) Write(p []byte) (int, error) {
	w.kept = append(w.kept, p)
	return len(p), nil
}

// What WriteTo handed out is still readable after Free: had it handed out
// the mapping itself, reading it here would fault and crash the test. (The
// bytes are not compared: WriteTo reuses its heap chunk, as any buffered
// writer does, so a writer that keeps slices keeps overwritten ones.)
func TestWriteToNeverHandsOutTheMapping(t *testing.T) {
	var b Buffer
	b.Reserve(2 * minMapped)
	for i := 0; i < 2*minMapped; i++ {
		b.B = append(b.B, byte(i%251))
	}
	if b.mapped == nil {
		t.Fatal("the buffer is not mapped")
	}
	var w retainingWriter
	n, err := b.WriteTo(&w)
	if err != nil || n != 2*minMapped {
		t.Fatalf("WriteTo wrote %d bytes: %v", n, err)
	}
	b.Free()
	kept := 0
	for _, p := range w.kept {
		for _, c := range p {
			kept += int(c) & 1
		}
	}
	t.Logf("read %d slices after Free (%d odd bytes)", len(w.kept), kept)
}
