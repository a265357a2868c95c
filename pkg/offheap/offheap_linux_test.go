package offheap

import (
	"runtime"
	"testing"
)

// On Linux a large buffer is not on the heap, so it does not raise the
// garbage collector's goal: the point of the package.
func TestLargeBufferIsOffHeap(t *testing.T) {
	const size = 16 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var b Buffer
	b.Reserve(size)
	for i := 0; i < size; i++ {
		b.B = append(b.B, byte(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	defer b.Free()
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > size/8 {
		t.Fatalf("the heap grew by %d bytes for a %d-byte buffer", grew, size)
	}
	if b.mapped == nil || len(b.B) != size {
		t.Fatalf("the buffer holds %d bytes, mapped: %v", len(b.B), b.mapped != nil)
	}
}
