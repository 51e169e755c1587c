package wire

import (
	"bytes"
	"testing"

	"github.com/parsecwire/parsecwire/header"
)

// BenchmarkScanner reads 4 MiB of frames of one body size through a Scanner, as validate
// reads a raw capture. Compare with BenchmarkUnmarshalBinary (bench_test.go, the decode
// alone) in the same run: go test -run '^$' -bench 'Scanner|UnmarshalBinary' . ./wire
func BenchmarkScanner(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"empty", 0}, {"256B", 256}, {"64KiB", 64 << 10}} {
		b.Run(size.name, func(b *testing.B) {
			fr, err := AppendResponse(nil, header.Header{Provider: 1, Session: 7, Opcode: 12}, make([]byte, size.n))
			if err != nil {
				b.Fatal(err)
			}
			per := max(1, (4<<20)/len(fr))
			data := bytes.Repeat(fr, per)
			rd := bytes.NewReader(data)
			s := NewScanner(rd)
			s.Buffer(make([]byte, 1<<20), 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(fr)))
			n := 0
			for b.Loop() {
				if !s.Scan() {
					rd.Reset(data)
					s.Reset(rd)
					s.Scan()
				}
				if s.Frame().Err != nil {
					b.Fatal(s.Frame().Err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
