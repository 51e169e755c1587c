package operation

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// withEncoders runs f with the vector encoder on (where the CPU has it) and off, so that
// both paths of appendBase64 are held to encoding/base64 on every machine that has both.
func withEncoders(t testing.TB, f func(name string)) {
	saved := haveAVX2
	defer func() { haveAVX2 = saved }()
	if saved {
		f("avx2")
	}
	haveAVX2 = false
	f("portable")
}

func TestAppendBase64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 70000)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	// Every index value in every position of a block, and the lengths around the block
	// and loop boundaries (24, 28, 6, 8) and the padding cases.
	pattern := make([]byte, 3*256)
	for i := range 256 {
		pattern[3*i], pattern[3*i+1], pattern[3*i+2] = byte(i), byte(255-i), byte(i*7)
	}
	withEncoders(t, func(name string) {
		for n := range 400 {
			for _, in := range [][]byte{src[:n], src[1 : 1+n], pattern[:min(n, len(pattern))]} {
				checkBase64(t, name, []byte("prefix"), in)
			}
		}
		for _, n := range []int{65536, 65535, 65534, 65533, 69999, 24*1000 + 4, 24*1000 + 3} {
			checkBase64(t, name, nil, src[:n])
		}
	})
}

func checkBase64(t *testing.T, name string, prefix, src []byte) {
	t.Helper()
	want := base64.StdEncoding.AppendEncode(bytes.Clone(prefix), src)
	if got := appendBase64(bytes.Clone(prefix), src); !bytes.Equal(got, want) {
		t.Fatalf("%s encoder, %d bytes: got\n%s\nwant\n%s", name, len(src), got, want)
	}
}

// TestAppendBase64EveryGroup encodes every 3-byte group in each position a group can take
// in an encoder's block: 8 in the vector encoder's 24 bytes, 2 in the portable loop's 6.
func TestAppendBase64EveryGroup(t *testing.T) {
	all := make([]byte, 3<<24)
	for g := range 1 << 24 {
		all[3*g], all[3*g+1], all[3*g+2] = byte(g>>16), byte(g>>8), byte(g)
	}
	want := base64.StdEncoding.EncodeToString(all)
	var got []byte
	withEncoders(t, func(name string) {
		positions := 2
		if haveAVX2 {
			positions = 8
		}
		for shift := range positions {
			got = appendBase64(got[:0], all[3*shift:])
			if string(got) != want[4*shift:] {
				t.Fatalf("%s encoder, every group shifted by %d groups: output differs from encoding/base64", name, shift)
			}
		}
	})
}

func TestAppendBase64Random(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 1024)
	withEncoders(t, func(name string) {
		for range 5000 {
			for i := range src {
				src[i] = byte(r.Uint32())
			}
			from := r.IntN(64)
			checkBase64(t, name, []byte("x"), src[from:from+r.IntN(len(src)-from)])
		}
	})
}

func BenchmarkAppendBase64(b *testing.B) {
	src := make([]byte, 64<<10)
	for i := range src {
		src[i] = byte(i * 31)
	}
	dst := make([]byte, 0, base64.StdEncoding.EncodedLen(len(src)))
	withEncoders(b, func(name string) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				dst = appendBase64(dst[:0], src)
			}
		})
	})
	b.Run("encoding/base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
}
