package operation

import (
	"encoding/base64"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestAppendBase64 compares the encoder with encoding/base64 at the sizes where its paths
// change (the 6-byte groups, the split among CPUs) on 1 to 5 CPUs, after a prefix whose
// capacity is exact, short or ample: a part written into an array that a later append
// replaced would be lost, and the comparison would see it.
func TestAppendBase64(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 5*base64Split+64)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	var sizes []int
	for _, at := range []int{0, base64Split, 2 * base64Split, 3 * base64Split, 5 * base64Split} {
		for d := -7; d <= 7; d++ {
			if n := at + d; n >= 0 && n <= len(src) {
				sizes = append(sizes, n)
			}
		}
	}
	for _, procs := range []int{1, 2, 3, 5} {
		runtime.GOMAXPROCS(procs)
		for _, n := range sizes {
			for _, spare := range []int{0, 3, 1 << 20} {
				prefix := append(make([]byte, 0, 5+spare), "abcde"...)
				want := base64.StdEncoding.AppendEncode([]byte("abcde"), src[:n])
				if got := appendBase64(prefix, src[:n]); string(got) != string(want) {
					t.Fatalf("GOMAXPROCS %d, %d bytes, spare %d: the encoding differs from encoding/base64", procs, n, spare)
				}
			}
		}
	}
}
