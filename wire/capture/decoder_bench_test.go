package capture

import (
	"bytes"
	"testing"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/wire"
)

// benchInputs are the streams of the CLI's speed goals, 4 MiB each.
func benchInputs(b *testing.B) map[string][]byte {
	ok, err := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 7, Opcode: 12, Status: 1140}, nil)
	if err != nil {
		b.Fatal(err)
	}
	big, _ := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 7, Opcode: 13}, make([]byte, 64<<10))
	hs := header.Header{Opcode: 1}.AppendRaw(nil)
	hs[4], hs[5] = 0xff, 0xff
	return map[string][]byte{
		"header-only": bytes.Repeat(ok, (4<<20)/len(ok)),
		"64KiB":       bytes.Repeat(big, 64),
		"magic":       bytes.Repeat([]byte{0x10, 0xa7, 0xc0, 0x5e}, 1<<20),
		"hs65535":     bytes.Repeat(hs, (4<<20)/len(hs)),
	}
}

// BenchmarkDecoder runs the Decoder over raw streams, counting the records it emits, as
// validate does without printing.
func BenchmarkDecoder(b *testing.B) {
	for name, data := range benchInputs(b) {
		b.Run(name, func(b *testing.B) {
			d := NewDecoder(Config{})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := d.Run("bench", NewRaw(bytes.NewReader(data)), func(r *Record) error { n++; return nil }, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
