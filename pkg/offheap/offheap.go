package offheap

import (
	"io"
	"sync"
)

// Buffer is a byte slice to append to, outside the heap once it is large.
// The zero Buffer is empty and ready; Free releases it.
type Buffer struct {
	// B is the bytes so far. Append with Reserve first: a plain append past
	// cap(B) moves the bytes to the heap (correct, only no longer off it).
	B []byte
	// mapped is what was mapped for B, for Free; nil while B is on the heap.
	mapped []byte
}

// minMapped is the smallest buffer mapped outside the heap: below it two
// system calls are not worth their cost. A protobuf list passes it at ≈ 120
// statuses (the e2e tests' lists of 300 do).
const minMapped = 256 << 10

// Reserve makes room for at least n more bytes in B.
func (b *Buffer) Reserve(n int) {
	if cap(b.B)-len(b.B) >= n {
		return
	}
	size := max(2*cap(b.B), len(b.B)+n)
	var next []byte
	mapped := false
	if size >= minMapped {
		next, mapped = mapBytes(size)
	}
	if !mapped {
		next = make([]byte, 0, size)
	}
	next = append(next[:0], b.B...)
	b.Free()
	b.B = next
	if mapped {
		b.mapped = next[:cap(next)]
	}
}

// Free releases what was mapped; B is empty after it.
func (b *Buffer) Free() {
	if b.mapped != nil {
		unmapBytes(b.mapped)
		b.mapped = nil
	}
	b.B = nil
}

// chunkSize is how much WriteTo copies to the heap for one Write.
const chunkSize = 32 << 10

var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// WriteTo writes B to w through a heap copy of at most 32 KiB at a time, so
// that w never sees memory that Free unmaps.
func (b *Buffer) WriteTo(w io.Writer) (int64, error) {
	chunk := chunks.Get().(*[chunkSize]byte)
	defer chunks.Put(chunk)
	var written int64
	for rest := b.B; len(rest) > 0; {
		n := copy(chunk[:], rest)
		m, err := w.Write(chunk[:n])
		written += int64(m)
		if err != nil {
			return written, err
		}
		rest = rest[n:]
	}
	return written, nil
}
