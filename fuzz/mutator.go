package fuzz

import (
	"bytes"
	"math/rand/v2"
	"slices"
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
// alone: the same frame and seed always give the same mutation. Every mutation changes what the
// peer receives: the bytes, or for KindDribble how they arrive (see Mutation.Changes).
func MutateResponse(frame []byte, seed uint64) Mutation {
	rng := rand.New(rand.NewPCG(seed, 0x5EC0A710))
	m := mutate(frame, ResponseKinds[rng.IntN(len(ResponseKinds))], rng, wire.DefaultLimit)
	m.Trailing, m.Verdict = judge(m.Frame, false, wire.DefaultLimit)
	return m
}

// MutateRequest returns a mutation of the valid request frame, chosen and shaped by seed
// alone. limit is the service's body limit, so that content lengths just above it are tried.
// Every mutation changes what the peer receives, as with MutateResponse.
func MutateRequest(frame []byte, seed uint64, limit uint32) Mutation {
	rng := rand.New(rand.NewPCG(seed, 0xA710))
	m := mutate(frame, RequestKinds[rng.IntN(len(RequestKinds))], rng, limit)
	m.Trailing, m.Verdict = judge(m.Frame, true, limit)
	return m
}

// MutateKind applies one chosen kind of mutation, for tests and for tools that want one. A
// frame too short for the kind gets another (see mutate), and Kind says which.
func MutateKind(frame []byte, kind Kind, seed uint64, request bool, limit uint32) Mutation {
	m := mutate(frame, kind, rand.New(rand.NewPCG(seed, 1)), limit)
	m.Trailing, m.Verdict = judge(m.Frame, request, limit)
	return m
}

// Changes reports whether m changes what a peer receives compared with sending original in
// one write: different bytes, or the same bytes written in several pieces (KindDribble, which
// tests the peer's reassembly of short reads).
func (m Mutation) Changes(original []byte) bool {
	return !bytes.Equal(m.Frame, original) || (m.Chunk > 0 && m.Chunk < len(m.Frame))
}

// judge reads frame with the codec and returns the bytes after the frame and its verdict.
func judge(frame []byte, request bool, limit uint32) (int, error) {
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
	return src.Len(), wire.FrameDue(err)
}

// fieldKinds are the kinds that rewrite one header field.
var fieldKinds = map[Kind]bool{KindMagic: true, KindHeaderSize: true, KindVersion: true, KindFlags: true,
	KindProvider: true, KindSession: true, KindContentType: true, KindAcceptType: true, KindAuthType: true,
	KindContentLength: true, KindAuthLength: true, KindOpcode: true, KindStatus: true, KindReserved: true}

// mutate applies kind to a copy of frame. A frame too short for the kind gets one that can
// change it: no header field below header.Size bytes (a byte flip instead), nothing to flip,
// cut or dribble in an empty frame (trailing bytes instead), no pieces of a single byte (a flip).
func mutate(frame []byte, kind Kind, rng *rand.Rand, limit uint32) Mutation {
	b := append([]byte{}, frame...)
	if len(b) < header.Size && fieldKinds[kind] {
		kind = KindByteFlip
	}
	if len(b) == 0 && kind != KindTrailing {
		kind = KindTrailing
	}
	if len(b) == 1 && kind == KindDribble {
		kind = KindByteFlip
	}
	m := Mutation{Kind: kind}
	body := 0
	if len(b) >= header.Size {
		body = len(b) - header.Size
	}
	switch kind {
	case KindMagic:
		m.Desc = setOther(b, header.FieldMagic, rng, 0x10A7C05E, 0, 0x5EC0A711, 0xFFFFFFFF, uint64(rng.Uint32()))
	case KindHeaderSize:
		m.Desc = setOther(b, header.FieldHeaderSize, rng, 0, 29, 31, 36, 0xFFFF, uint64(rng.IntN(0x10000)))
	case KindVersion:
		m.Desc = setOther(b, header.FieldVersion, rng, 0x0002, 0x0101, 0x0000, 0x00FF, uint64(rng.IntN(0x10000)))
	case KindFlags:
		m.Desc = setOther(b, header.FieldFlags, rng, 1, 0x8000, 0xFFFF)
	case KindProvider:
		m.Desc = setOther(b, header.FieldProvider, rng, 0, 1, 5, 6, 0xFF)
	case KindSession:
		m.Desc = setOther(b, header.FieldSession, rng, 0, 1, 1<<63, ^uint64(0), rng.Uint64())
	case KindContentType:
		m.Desc = setOther(b, header.FieldContentType, rng, 1, 2, 0xFF)
	case KindAcceptType:
		m.Desc = setOther(b, header.FieldAcceptType, rng, 1, 2, 0xFF)
	case KindAuthType:
		m.Desc = setOther(b, header.FieldAuthType, rng, 0, 1, 4, 5, 0xFF)
	case KindContentLength:
		m.Desc = setOther(b, header.FieldContentLength, rng, uint64(body)+1, uint64(body)+uint64(rng.IntN(64))+2,
			uint64(limit), uint64(limit)+1, 0xFFFFFFFF, uint64(rng.IntN(body+1)))
	case KindAuthLength:
		m.Desc = setOther(b, header.FieldAuthLength, rng, 1, 16, 0xFFFF, uint64(rng.IntN(0x10000)))
	case KindOpcode:
		m.Desc = setOther(b, header.FieldOpcode, rng, 0, 22, 23, 29, 33, 0xFFFFFFFF, uint64(rng.Uint32()))
	case KindStatus:
		border := make([]uint64, len(BorderStatuses))
		for i, v := range BorderStatuses {
			border[i] = uint64(v)
		}
		m.Desc = setOther(b, header.FieldStatus, rng, border...)
	case KindReserved:
		f := header.FieldReserved1
		if rng.IntN(2) == 1 {
			f = header.FieldReserved2
		}
		v := uint64(1 + rng.IntN(255))
		if cur := fieldValue(b, f); v == cur {
			v = (cur + 1 + uint64(rng.IntN(255))) % 256 // any of the other 255 values
		}
		m.Desc = setField(b, f, v)
	case KindTruncate:
		n := rng.IntN(len(b)) // always shorter: len(b) > 0 here
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
		// Distinct bytes, each flipped by a non-zero mask, so the frame always changes and the
		// description lists each change once.
		n := min(1+rng.IntN(3), len(b))
		var flipped [3]int
		for i := 0; i < n; i++ {
			at := rng.IntN(len(b))
			for slices.Contains(flipped[:i], at) {
				at = rng.IntN(len(b))
			}
			flipped[i] = at
			mask := byte(1 + rng.IntN(255))
			b[at] ^= mask
			if m.Desc != "" {
				m.Desc += ", "
			}
			m.Desc += "byte " + strconv.Itoa(at) + " ^= 0x" + strconv.FormatUint(uint64(mask), 16)
		}
	case KindDribble:
		// Pieces shorter than the frame: a piece as long as the frame would be one write.
		m.Chunk = 1 + rng.IntN(min(4, len(b)-1))
		m.Desc = "unchanged, written " + strconv.Itoa(m.Chunk) + " byte(s) at a time"
	}
	m.Frame = b
	return m
}

// setOther sets field f of the header in b to one of vs (each cut to the field's width), drawn
// at random, or when that is the value already there to another of them, and describes it.
func setOther(b []byte, f header.Field, rng *rand.Rand, vs ...uint64) string {
	mask := ^uint64(0) >> (64 - 8*f.Len())
	cur := fieldValue(b, f)
	v := vs[rng.IntN(len(vs))] & mask
	if v == cur {
		var others []uint64
		for _, o := range vs {
			if o&mask != cur {
				others = append(others, o&mask)
			}
		}
		v = others[rng.IntN(len(others))] // every list has two distinct fixed values
	}
	return setField(b, f, v)
}

// fieldValue reads field f of the header in b: little-endian, but the version as
// major<<8 | minor.
func fieldValue(b []byte, f header.Field) uint64 {
	off, n := f.Offset(), f.Len()
	if f == header.FieldVersion {
		return uint64(b[off])<<8 | uint64(b[off+1])
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[off+i])
	}
	return v
}

// setField writes v, which fits the field, into f of the header in b and describes the change.
func setField(b []byte, f header.Field, v uint64) string {
	off, n := f.Offset(), f.Len()
	old := fieldValue(b, f)
	if f == header.FieldVersion { // written major, minor: v is major<<8 | minor
		b[off], b[off+1] = byte(v>>8), byte(v)
		return f.String() + " " + strconv.Itoa(int(old>>8)) + "." + strconv.Itoa(int(old&0xFF)) +
			" -> " + strconv.Itoa(int(v>>8)) + "." + strconv.Itoa(int(v&0xFF))
	}
	for i := 0; i < n; i++ {
		b[off+i] = byte(v >> (8 * i))
	}
	if f == header.FieldMagic {
		return f.String() + " 0x" + strconv.FormatUint(old, 16) + " -> 0x" + strconv.FormatUint(v, 16)
	}
	return f.String() + " " + strconv.FormatUint(old, 10) + " -> " + strconv.FormatUint(v, 10)
}
