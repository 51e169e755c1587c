//go:build amd64 && !purego

package operation

// haveAVX2 reports whether the CPU and the operating system support AVX2: the CPU sets
// the AVX2 bit, and the OS saves the YMM registers on a context switch (XCR0 bits 1 and 2,
// readable once OSXSAVE is set).
var haveAVX2 = func() bool {
	_, _, c, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if c&osxsave == 0 || c&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<5) != 0
}()

// encodeBlocks encodes the longest prefix of src that the AVX2 encoder can take, 24 bytes
// to 32 characters at a time, and says how far it went in src and dst. The encoder reads
// 4 bytes past each block (its second 16-byte load starts 12 bytes in), so it stops while
// 4 bytes remain.
func encodeBlocks(dst, src []byte) (in, out int) {
	if !haveAVX2 || len(src) < 28 {
		return 0, 0
	}
	blocks := (len(src) - 4) / 24
	_ = dst[blocks*32-1]
	encodeAVX2(&dst[0], &src[0], blocks)
	return blocks * 24, blocks * 32
}

// encodeAVX2 writes the base64 of 24*blocks bytes at src to 32*blocks bytes at dst; it
// reads src up to 24*blocks+4 bytes.
//
//go:noescape
func encodeAVX2(dst, src *byte, blocks int)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv() (lo, hi uint32)
