package fuzz

import (
	"bytes"
	"math/rand/v2"
	"strconv"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// Kind names a mutation.
type Kind string

// The mutations. Field mutations rewrite one header field; the others cut, extend or flip the
// frame; Dribble leaves the bytes alone and changes how they are delivered.
const (
	KindMagic         Kind = "magic"
	KindHeaderSize    Kind = "header-size"
	KindVersion       Kind = "version"
	KindFlags         Kind = "flags"
	KindProvider      Kind = "provider"
	KindSession       Kind = "session"
	KindContentType   Kind = "content-type"
	KindAcceptType    Kind = "accept-type"
	KindAuthType      Kind = "auth-type"
	KindContentLength Kind = "content-length"
	KindAuthLength    Kind = "auth-length"
	KindOpcode        Kind = "opcode"
	KindStatus        Kind = "status"
	KindReserved      Kind = "reserved"
	KindTruncate      Kind = "truncate"  // cut at any byte; the connection is closed after it
	KindTrailing      Kind = "trailing"  // garbage after the frame
	KindByteFlip      Kind = "byte-flip" // flip bits of a few random bytes
	KindDribble       Kind = "dribble"   // the frame unchanged, written in small pieces
)

// ResponseKinds are the mutations MutateResponse chooses from.
var ResponseKinds = []Kind{KindStatus, KindMagic, KindHeaderSize, KindVersion, KindFlags, KindReserved,
	KindContentLength, KindTruncate, KindTrailing, KindByteFlip, KindDribble}

// RequestKinds are the mutations MutateRequest chooses from: every header field, and the rest.
var RequestKinds = []Kind{KindMagic, KindHeaderSize, KindVersion, KindFlags, KindProvider, KindSession,
	KindContentType, KindAcceptType, KindAuthType, KindContentLength, KindAuthLength, KindOpcode,
	KindStatus, KindReserved, KindTruncate, KindTrailing, KindByteFlip, KindDribble}

// BorderStatuses are status values at and around the edges of the table.
var BorderStatuses = []uint16{0, 1, 20, 21, 22, 23, 999, 1000, 1131, 1132, 1133, 1143, 1144, 1145,
	1151, 1152, 1153, 1154, 2000, 65535}

// Mutation is one mutated frame, what was done to it, and how to deliver it.
type Mutation struct {
	Frame []byte // the bytes to send
	Kind  Kind
	Desc  string // what was changed, e.g. "status 0 -> 1144"
	Chunk int    // write Frame in pieces of this many bytes; 0: in one write
	Close bool   // close the connection after Frame (a frame cut short must not be followed)
	// Verdict is the codec's verdict on Frame read as a response (MutateResponse) or as a
	// request in strict mode with the limit given (MutateRequest): nil when it is valid.
	Verdict error
	// Trailing is the number of bytes after the first frame.
	Trailing int
}

// String describes the mutation in one line.
func (m Mutation) String() string {
	s := string(m.Kind) + ": " + m.Desc
	if m.Verdict != nil {
		if c, ok := status.Of(m.Verdict); ok {
			return s + " [" + c.String() + "]"
		}
	}
	return s + " [valid]"
}

// MutateResponse returns a mutation of the valid response frame, chosen and shaped by seed
// alone: the same frame and seed always give the same mutation.
func MutateResponse(frame []byte, seed uint64) Mutation {
	rng := rand.New(rand.NewPCG(seed, 0x5EC0A710))
	m := mutate(frame, ResponseKinds[rng.IntN(len(ResponseKinds))], rng, wire.DefaultLimit)
	m.Verdict, m.Trailing = judge(m.Frame, false, wire.DefaultLimit)
	return m
}

// MutateRequest returns a mutation of the valid request frame, chosen and shaped by seed
// alone. limit is the service's body limit, so that content lengths just above it are tried.
func MutateRequest(frame []byte, seed uint64, limit uint32) Mutation {
	rng := rand.New(rand.NewPCG(seed, 0xA710))
	m := mutate(frame, RequestKinds[rng.IntN(len(RequestKinds))], rng, limit)
	m.Verdict, m.Trailing = judge(m.Frame, true, limit)
	return m
}

// MutateKind applies one chosen kind of mutation, for tests and for tools that want one.
func MutateKind(frame []byte, kind Kind, seed uint64, request bool, limit uint32) Mutation {
	m := mutate(frame, kind, rand.New(rand.NewPCG(seed, 1)), limit)
	m.Verdict, m.Trailing = judge(m.Frame, request, limit)
	return m
}

// judge reads frame with the codec and returns its verdict and the bytes after the frame.
func judge(frame []byte, request bool, limit uint32) (error, int) {
	src := bytes.NewReader(frame)
	rd := wire.NewReader(src)
	rd.SetLimit(limit)
	var h header.Header
	var err error
	if request {
		rd.SetStrict(true)
		_, _, err = rd.NextRequest(&h)
	} else {
		_, err = rd.Next(&h)
	}
	return wire.FrameDue(err), src.Len()
}

func mutate(frame []byte, kind Kind, rng *rand.Rand, limit uint32) Mutation {
	b := append([]byte{}, frame...)
	m := Mutation{Kind: kind}
	if len(b) < header.Size && kind != KindTruncate && kind != KindTrailing && kind != KindByteFlip && kind != KindDribble {
		kind, m.Kind = KindByteFlip, KindByteFlip
	}
	body := 0
	if len(b) >= header.Size {
		body = len(b) - header.Size
	}
	switch kind {
	case KindMagic:
		v := pick(rng, 0x10A7C05E, 0, 0x5EC0A711, 0xFFFFFFFF, uint64(rng.Uint32()))
		m.Desc = setField(b, header.FieldMagic, v)
	case KindHeaderSize:
		v := pick(rng, 0, 29, 31, 36, 0xFFFF, uint64(rng.IntN(0x10000)))
		m.Desc = setField(b, header.FieldHeaderSize, v)
	case KindVersion:
		v := pick(rng, 0x0002, 0x0101, 0x0000, 0x00FF, uint64(rng.IntN(0x10000)))
		m.Desc = setField(b, header.FieldVersion, v)
	case KindFlags:
		m.Desc = setField(b, header.FieldFlags, pick(rng, 1, 0x8000, 0xFFFF))
	case KindProvider:
		m.Desc = setField(b, header.FieldProvider, pick(rng, 0, 1, 5, 6, 0xFF))
	case KindSession:
		m.Desc = setField(b, header.FieldSession, pick(rng, 0, 1, 1<<63, ^uint64(0), rng.Uint64()))
	case KindContentType:
		m.Desc = setField(b, header.FieldContentType, pick(rng, 1, 2, 0xFF))
	case KindAcceptType:
		m.Desc = setField(b, header.FieldAcceptType, pick(rng, 1, 2, 0xFF))
	case KindAuthType:
		m.Desc = setField(b, header.FieldAuthType, pick(rng, 0, 1, 4, 5, 0xFF))
	case KindContentLength:
		v := pick(rng, uint64(body)+1, uint64(body)+uint64(rng.IntN(64))+2, uint64(limit), uint64(limit)+1,
			0xFFFFFFFF, uint64(rng.IntN(body+1)))
		m.Desc = setField(b, header.FieldContentLength, v)
	case KindAuthLength:
		m.Desc = setField(b, header.FieldAuthLength, pick(rng, 1, 16, 0xFFFF, uint64(rng.IntN(0x10000))))
	case KindOpcode:
		m.Desc = setField(b, header.FieldOpcode, pick(rng, 0, 22, 23, 29, 33, 0xFFFFFFFF, uint64(rng.Uint32())))
	case KindStatus:
		m.Desc = setField(b, header.FieldStatus, uint64(BorderStatuses[rng.IntN(len(BorderStatuses))]))
	case KindReserved:
		f := header.FieldReserved1
		if rng.IntN(2) == 1 {
			f = header.FieldReserved2
		}
		m.Desc = setField(b, f, uint64(1+rng.IntN(255)))
	case KindTruncate:
		n := rng.IntN(max(len(b), 1))
		m.Desc = "cut to " + strconv.Itoa(n) + " of " + strconv.Itoa(len(b)) + " bytes"
		b, m.Close = b[:n], true
	case KindTrailing:
		extra := make([]byte, 1+rng.IntN(40))
		for i := range extra {
			extra[i] = byte(rng.Uint32())
		}
		if rng.IntN(3) == 0 && len(frame) > 0 {
			extra = append(extra[:0], frame...) // a whole second frame
		}
		m.Desc = strconv.Itoa(len(extra)) + " bytes after the frame"
		b = append(b, extra...)
	case KindByteFlip:
		n := 1 + rng.IntN(3)
		m.Desc = ""
		for i := 0; i < n && len(b) > 0; i++ {
			at := rng.IntN(len(b))
			mask := byte(1 + rng.IntN(255))
			b[at] ^= mask
			if m.Desc != "" {
				m.Desc += ", "
			}
			m.Desc += "byte " + strconv.Itoa(at) + " ^= 0x" + strconv.FormatUint(uint64(mask), 16)
		}
	case KindDribble:
		m.Chunk = 1 + rng.IntN(4)
		m.Desc = "unchanged, written " + strconv.Itoa(m.Chunk) + " byte(s) at a time"
	}
	m.Frame = b
	return m
}

func pick(rng *rand.Rand, vs ...uint64) uint64 { return vs[rng.IntN(len(vs))] }

// setField writes v little-endian into f of the header in b and describes the change.
func setField(b []byte, f header.Field, v uint64) string {
	off, n := f.Offset(), f.Len()
	var old uint64
	for i := n - 1; i >= 0; i-- {
		old = old<<8 | uint64(b[off+i])
	}
	if f == header.FieldVersion { // written major, minor: v is major<<8 | minor
		was := strconv.Itoa(int(b[off])) + "." + strconv.Itoa(int(b[off+1]))
		b[off], b[off+1] = byte(v>>8), byte(v)
		return f.String() + " " + was + " -> " + strconv.Itoa(int(v>>8)) + "." + strconv.Itoa(int(v&0xFF))
	}
	for i := 0; i < n; i++ {
		b[off+i] = byte(v >> (8 * i))
	}
	if f == header.FieldMagic {
		return f.String() + " 0x" + strconv.FormatUint(old, 16) + " -> 0x" + strconv.FormatUint(v, 16)
	}
	return f.String() + " " + strconv.FormatUint(old, 10) + " -> " + strconv.FormatUint(v, 10)
}
