package fuzz

import (
	"encoding/binary"
	"math/rand/v2"

	gofuzz "github.com/google/gofuzz"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// RawFrame is a response frame with every byte of its header under control, the constant
// fields too, so that generated frames can carry one fault or several.
type RawFrame struct {
	Magic      uint32
	HeaderSize uint16
	Major      uint8
	Minor      uint8
	Header     header.Header
	Reserved1  uint8
	Reserved2  uint8
	Body       []byte
}

// Bytes encodes the frame as it is: lengths and all, without any check.
func (f RawFrame) Bytes() []byte {
	b := f.Header.AppendRaw(nil)
	binary.LittleEndian.PutUint32(b[0:], f.Magic)
	binary.LittleEndian.PutUint16(b[4:], f.HeaderSize)
	b[6], b[7], b[34], b[35] = f.Major, f.Minor, f.Reserved1, f.Reserved2
	return append(b, f.Body...)
}

// NewFuzzer returns a gofuzz Fuzzer, reproducible for a seed, whose values lean toward the
// edges that matter: status values at and around the table's borders, content lengths around
// limit, header sizes and versions one off, reserved bytes set. About half of the frames it
// makes are valid, so that the faults stay one at a time often enough to be told apart.
func NewFuzzer(seed uint64, limit uint32) *gofuzz.Fuzzer {
	src := rand.New(rand.NewPCG(seed, 0x9a75ec))
	return gofuzz.New().RandSource(randSource{src}).NilChance(0).Funcs(
		func(c *status.Code, cc gofuzz.Continue) {
			switch cc.Intn(4) {
			case 0:
				*c = status.Code(cc.Uint32())
			case 1:
				all := status.All()
				*c = all[cc.Intn(len(all))]
			default:
				*c = status.Code(BorderStatuses[cc.Intn(len(BorderStatuses))])
			}
		},
		func(h *header.Header, cc gofuzz.Continue) {
			cc.FuzzNoCustom(h)
			cc.Fuzz(&h.Status)
			switch cc.Intn(5) {
			case 0:
				h.ContentLength = limit - 1 + uint32(cc.Intn(3)) // limit-1, limit, limit+1
			case 1:
				h.ContentLength = uint32(cc.Intn(64))
			}
		},
		func(f *RawFrame, cc gofuzz.Continue) {
			cc.Fuzz(&f.Header)
			f.Magic, f.HeaderSize, f.Major, f.Minor = header.Magic, header.RestSize, 1, 0
			f.Body = make([]byte, cc.Intn(48))
			cc.Read(f.Body)
			if cc.Intn(2) == 0 {
				f.Header.ContentLength = uint32(len(f.Body))
			}
			if cc.Intn(2) == 0 {
				return
			}
			switch cc.Intn(6) {
			case 0:
				f.Magic = []uint32{0x10A7C05E, 0x5EC0A711, 0, cc.Uint32()}[cc.Intn(4)]
			case 1:
				f.HeaderSize = []uint16{29, 31, 0, 0xFFFF, uint16(cc.Uint32())}[cc.Intn(5)]
			case 2:
				f.Major, f.Minor = []uint8{0, 1, 2}[cc.Intn(3)], []uint8{0, 1, 0xFF}[cc.Intn(3)]
			case 3:
				f.Reserved1 = uint8(cc.Intn(256))
			case 4:
				f.Reserved2 = uint8(cc.Intn(256))
			case 5:
				f.Body = f.Body[:cc.Intn(len(f.Body)+1)] // shorter than announced, maybe
			}
		},
	)
}

// randSource adapts math/rand/v2 to the math/rand Source gofuzz takes.
type randSource struct{ r *rand.Rand }

func (s randSource) Int63() int64 { return s.r.Int64() }
func (s randSource) Seed(int64)   {}
