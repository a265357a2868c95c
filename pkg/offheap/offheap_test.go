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
