package offheap

import "syscall"

// mapBytes maps size bytes of anonymous private memory, zeroed by the kernel
// and backed by pages only as they are written.
func mapBytes(size int) ([]byte, bool) {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false // the heap will do
	}
	return b[:0], true
}

func unmapBytes(b []byte) {
	_ = syscall.Munmap(b)
}
