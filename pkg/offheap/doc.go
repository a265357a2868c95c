// Package offheap holds large, short-lived byte buffers outside the Go heap.
//
// A protobuf list is marshalled whole before it is written (its length comes
// first), about 2 KiB per object. Held on the heap, such a buffer raises the
// garbage collector's goal by its own size again (GOGC=100), so a list of 10 000
// grew certstatus's RSS by twice the buffer (docs/benchmarks.md). Mapped
// outside the heap, the buffer costs its own size, and only while it lives.
//
// The bytes must never hold Go pointers, and nothing may keep a slice of a
// buffer after Free: Free unmaps it, and a later read faults. Hand a buffer to
// code that might keep it (an io.Writer may, in spite of its contract) only
// through WriteTo, which copies.
package offheap
