//go:build linux

package operation

import (
	"syscall"
	"testing"
)

// TestAppendBase64Bounds puts the input at the very end of a readable page, before a page
// the process may not read: an encoder that loads past the end of its input faults here
// instead of reading a neighbour's bytes unnoticed.
func TestAppendBase64Bounds(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	for i := range page {
		mem[i] = byte(i * 13)
	}
	withEncoders(t, func(name string) {
		for n := range 200 {
			checkBase64(t, name, nil, mem[page-n:page])
		}
	})
}
