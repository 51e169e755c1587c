package fuzz

import (
	"math/rand/v2"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
)

// Bodies: valid bodies generated from the operation schema, and mutations of bodies driven by
// it. Both reach an operation's handlers, not only a service's front end.

// The body mutations: each rewrites one field of a body (at any depth, the enclosing
// messages' lengths kept right) or, for a body with no field to work on, its end.
const (
	KindBodyRemove    Kind = "body-remove"    // a field left out
	KindBodyDuplicate Kind = "body-duplicate" // a field written twice
	KindBodyWireType  Kind = "body-wire-type" // a field written with another wire type
	KindBodyEnum      Kind = "body-enum"      // an enum field set to a value the enum lacks
	KindBodyLength    Kind = "body-length"    // a length that runs past the end of its message
	KindBodyUTF8      Kind = "body-utf8"      // a string that is not UTF-8
	KindBodyValue     Kind = "body-value"     // a checked value (provider, opcode, UUID) the converter refuses
	KindBodyUnknown   Kind = "body-unknown"   // an unknown field added, which must be skipped
	KindBodyGarbage   Kind = "body-garbage"   // bytes that do not parse appended
)

// BodyKinds are the mutations MutateBody chooses from.
var BodyKinds = []Kind{KindBodyRemove, KindBodyDuplicate, KindBodyWireType, KindBodyEnum,
	KindBodyLength, KindBodyUTF8, KindBodyValue, KindBodyUnknown, KindBodyGarbage}

// RandomFields returns a body of opcode op in direction d, generated from the schema by seed
// alone, whose every value the reference's converter accepts. It returns nil for an opcode
// the schema does not describe.
func RandomFields(op uint32, d operation.Dir, seed uint64) operation.Fields {
	m, ok := operation.Lookup(op, d)
	if !ok {
		return nil
	}
	g := generator{rng: rand.New(rand.NewPCG(seed, 0xB0D7))}
	return g.message(m, 0)
}

// RandomBody is RandomFields encoded.
func RandomBody(op uint32, d operation.Dir, seed uint64) []byte {
	fs := RandomFields(op, d, seed)
	if fs == nil {
		return nil
	}
	b, err := operation.Encode(op, d, fs)
	if err != nil {
		panic("fuzz: a generated body does not encode: " + err.Error()) // a bug in the generator
	}
	return b
}

type generator struct{ rng *rand.Rand }

func (g generator) message(m *operation.MessageDesc, depth int) operation.Fields {
	fs := operation.Fields{}
	member := -1
	if m.Oneof != "" {
		var members []int
		for i, f := range m.Fields {
			if f.Oneof {
				members = append(members, i)
			}
		}
		if m.OneofRequired || g.rng.IntN(4) > 0 {
			member = members[g.rng.IntN(len(members))]
		}
	}
	for i := range m.Fields {
		f := &m.Fields[i]
		switch {
		case f.Oneof && i != member:
		case f.Repeated:
			n := g.rng.IntN(4)
			if depth > 0 {
				n = g.rng.IntN(3)
			}
			var list []any
			for range n {
				list = append(list, g.value(f, depth))
			}
			fs = append(fs, operation.Field{Name: f.Name, Value: list})
		case f.Kind == operation.KindMessage && !f.Required && !f.Oneof && g.rng.IntN(3) == 0:
			// An optional message left out.
		default:
			fs = append(fs, operation.Field{Name: f.Name, Value: g.value(f, depth)})
		}
	}
	return fs
}

// value returns a value of field f that the converter accepts.
func (g generator) value(f *operation.FieldDesc, depth int) any {
	r := g.rng
	switch f.Kind {
	case operation.KindMessage:
		return g.message(f.Message, depth+1)
	case operation.KindBool:
		return r.IntN(2) == 1
	case operation.KindEnum:
		var ok []operation.EnumValueDesc
		for _, v := range f.Enum.Values {
			if v.Refused == 0 {
				ok = append(ok, v)
			}
		}
		return operation.Enum{Number: ok[r.IntN(len(ok))].Number}
	case operation.KindString:
		if f.Check == operation.CheckUUID {
			return randomUUID(r)
		}
		return randomString(r)
	case operation.KindBytes:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case operation.KindUint64:
		return pickU64(r, 0, 1, 32, 1<<20, 1<<63, ^uint64(0), r.Uint64())
	}
	// uint32, with the converter's checks.
	switch f.Check {
	case operation.CheckUint8:
		return uint32(pickU64(r, 0, 1, 255, uint64(r.IntN(256))))
	case operation.CheckOpcode:
		ops := operation.Opcodes()
		return ops[r.IntN(len(ops))]
	case operation.CheckProvider:
		return uint32(r.IntN(6))
	case operation.CheckAuthenticator:
		return uint32(r.IntN(5))
	}
	return uint32(pickU64(r, 0, 1, 128, 256, 2048, 0xFFFFFFFF, uint64(r.Uint32())))
}

func pickU64(r *rand.Rand, vs ...uint64) uint64 { return vs[r.IntN(len(vs))] }

// randomString mixes ASCII, multi-byte UTF-8 and the empty string.
func randomString(r *rand.Rand) string {
	pieces := []string{"", "key", "my-key-1", "ü", "鍵", "🔑", " ", "\x00", "parsec", "/tmp/x"}
	s := ""
	for range r.IntN(4) {
		s += pieces[r.IntN(len(pieces))]
	}
	return s
}

// randomUUID writes a random UUID in one of the four text forms the reference parses.
func randomUUID(r *rand.Rand) string {
	const hexdigits = "0123456789abcdefABCDEF"
	var d [32]byte
	for i := range d {
		d[i] = hexdigits[r.IntN(len(hexdigits))]
	}
	h := string(d[:8]) + "-" + string(d[8:12]) + "-" + string(d[12:16]) + "-" + string(d[16:20]) + "-" + string(d[20:])
	switch r.IntN(6) {
	case 0:
		return string(d[:])
	case 1:
		return "{" + h + "}"
	case 2:
		return "urn:uuid:" + h
	}
	return h
}

// MutateBody returns a mutation of body, a body of opcode op in direction d, chosen and
// shaped by seed alone: the same body and seed always give the same mutation, and the
// mutation always differs from body. Its Frame holds the mutated body (not a frame) and its
// Verdict is operation.Validate's.
func MutateBody(op uint32, d operation.Dir, body []byte, seed uint64) Mutation {
	rng := rand.New(rand.NewPCG(seed, 0xB0D1))
	m, ok := operation.Lookup(op, d)
	if !ok {
		return garbage(op, d, body, rng)
	}
	occ := occurrences(m, body)
	kinds := make([]Kind, 0, len(BodyKinds))
	for _, k := range BodyKinds {
		if k == KindBodyUnknown || k == KindBodyGarbage || len(eligible(occ, k)) > 0 {
			kinds = append(kinds, k)
		}
	}
	kind := kinds[rng.IntN(len(kinds))]
	var out Mutation
	switch kind {
	case KindBodyUnknown:
		out = unknownField(body, rng)
	case KindBodyGarbage:
		out = garbage(op, d, body, rng)
	default:
		cands := eligible(occ, kind)
		out = rewrite(m, body, cands[rng.IntN(len(cands))], kind, rng)
	}
	out.Kind = kind
	out.Verdict = operation.Validate(op, d, out.Frame)
	return out
}

// occurrence is one field written in a body, at any depth.
type occurrence struct {
	path  string
	f     *operation.FieldDesc
	start int            // offset of its key in the body
	end   int            // offset after its value
	typ   protowire.Type // the wire type it is written with
	value []byte         // its value: a varint's bytes or a payload
	num   protowire.Number
}

// occurrences lists every known field written in body, depth first. A body that does not
// parse yields the fields before the fault.
func occurrences(m *operation.MessageDesc, body []byte) []occurrence {
	var out []occurrence
	var walk func(m *operation.MessageDesc, b []byte, base int, path string)
	walk = func(m *operation.MessageDesc, b []byte, base int, path string) {
		counts := map[protowire.Number]int{}
		for off := 0; off < len(b); {
			num, typ, n := protowire.ConsumeField(b[off:])
			if n < 0 {
				return
			}
			_, _, k := protowire.ConsumeTag(b[off:])
			f := m.Field(num)
			if f != nil {
				p := path
				if p != "" {
					p += "."
				}
				p += f.Name
				if f.Repeated {
					p += "[" + strconv.Itoa(counts[num]) + "]"
					counts[num]++
				}
				val := b[off+k : off+n]
				if typ == protowire.BytesType {
					val, _ = protowire.ConsumeBytes(b[off+k:])
				}
				out = append(out, occurrence{path: p, f: f, start: base + off, end: base + off + n, typ: typ, value: val, num: num})
				if f.Kind == operation.KindMessage && typ == protowire.BytesType {
					walk(f.Message, val, base+off+n-len(val), p)
				}
			}
			off += n
		}
	}
	walk(m, body, 0, "")
	return out
}

// eligible returns the occurrences a kind of mutation can work on.
func eligible(occ []occurrence, k Kind) []occurrence {
	var out []occurrence
	for _, o := range occ {
		switch k {
		case KindBodyRemove, KindBodyDuplicate, KindBodyWireType:
		case KindBodyEnum:
			if o.f.Kind != operation.KindEnum || o.typ != protowire.VarintType {
				continue
			}
		case KindBodyLength:
			if o.typ != protowire.BytesType {
				continue
			}
		case KindBodyUTF8:
			if o.f.Kind != operation.KindString || o.typ != protowire.BytesType {
				continue
			}
		case KindBodyValue:
			if o.f.Check == operation.CheckNone || o.typ != o.f.Kind.WireType() {
				continue
			}
		default:
			continue
		}
		out = append(out, o)
	}
	return out
}

// rewrite applies a field mutation to occurrence o of body, and re-encodes every message
// that encloses it with its new length.
func rewrite(m *operation.MessageDesc, body []byte, o occurrence, kind Kind, rng *rand.Rand) Mutation {
	field := body[o.start:o.end]
	var repl []byte
	var desc string
	switch kind {
	case KindBodyRemove:
		desc = o.path + " removed"
	case KindBodyDuplicate:
		repl = append(append([]byte{}, field...), field...)
		desc = o.path + " written twice"
	case KindBodyWireType:
		to := []protowire.Type{protowire.VarintType, protowire.Fixed64Type, protowire.BytesType, protowire.Fixed32Type, protowire.StartGroupType}
		var t protowire.Type
		for t = to[rng.IntN(len(to))]; t == o.typ; t = to[rng.IntN(len(to))] {
		}
		repl = protowire.AppendTag(nil, o.num, t)
		switch t {
		case protowire.VarintType:
			repl = protowire.AppendVarint(repl, uint64(len(o.value)))
		case protowire.Fixed64Type:
			repl = protowire.AppendFixed64(repl, rng.Uint64())
		case protowire.Fixed32Type:
			repl = protowire.AppendFixed32(repl, rng.Uint32())
		case protowire.BytesType:
			repl = protowire.AppendBytes(repl, o.value)
		case protowire.StartGroupType:
			repl = protowire.AppendTag(repl, o.num, protowire.EndGroupType)
		}
		desc = o.path + ": wire type " + operation.WireTypeName(o.typ) + " -> " + operation.WireTypeName(t)
	case KindBodyEnum:
		old, _ := protowire.ConsumeVarint(o.value)
		var v int64
		for {
			v = int64(pickU64(rng, uint64(len(o.f.Enum.Values)), 99, 0x7FFFFFFF)) // out of range
			if rng.IntN(3) == 0 {
				v = -1 - int64(rng.IntN(3))
			}
			if _, defined := o.f.Enum.Value(int32(v)); !defined && uint64(v) != old {
				break
			}
		}
		repl = protowire.AppendTag(nil, o.num, protowire.VarintType)
		repl = protowire.AppendVarint(repl, uint64(v))
		desc = o.path + ": " + enumName(o.f.Enum, int32(old)) + " -> " + strconv.FormatInt(v, 10) + " (not in " + o.f.Enum.Name + ")"
	case KindBodyLength:
		extra := 1 + rng.IntN(16)
		if rng.IntN(4) == 0 {
			extra = 1 << (20 + rng.IntN(10))
		}
		repl = protowire.AppendTag(nil, o.num, protowire.BytesType)
		repl = protowire.AppendVarint(repl, uint64(len(o.value)+extra))
		repl = append(repl, o.value...)
		desc = o.path + ": length " + strconv.Itoa(len(o.value)) + " -> " + strconv.Itoa(len(o.value)+extra) + " (past the end)"
	case KindBodyValue:
		repl = protowire.AppendTag(nil, o.num, o.typ)
		if o.f.Check == operation.CheckUUID {
			bad := []string{"", "not-a-uuid", "URN:UUID:00000000-0000-0000-0000-000000000000",
				"{0123456789abcdef0123456789abcdef}", "0123456789abcdef0123456789abcdeg", string(o.value) + "0"}
			v := bad[rng.IntN(len(bad))]
			if v == string(o.value) {
				v += "-"
			}
			repl = protowire.AppendBytes(repl, []byte(v))
			desc = o.path + ": " + strconv.Quote(string(o.value)) + " -> " + strconv.Quote(v)
			break
		}
		old, _ := protowire.ConsumeVarint(o.value)
		var v uint64
		for v = old; v == old; {
			switch o.f.Check {
			case operation.CheckUint8:
				v = pickU64(rng, 256, 300, 0xFFFFFFFF, 1<<32+1)
			case operation.CheckOpcode:
				v = pickU64(rng, 0, 22, 23, 29, 33, 0xFFFFFFFF, 1<<32+1)
			case operation.CheckProvider:
				v = pickU64(rng, 6, 255, 256+1, 1<<32+1)
			case operation.CheckAuthenticator:
				v = pickU64(rng, 5, 255, 256+1, 1<<32+2)
			}
		}
		repl = protowire.AppendVarint(repl, v)
		desc = o.path + ": " + strconv.FormatUint(old, 10) + " -> " + strconv.FormatUint(v, 10)
		if v>>32 != 0 {
			desc += " (read as " + strconv.FormatUint(uint64(uint32(v)), 10) + ": uint32 keeps the low 32 bits)"
		}
	case KindBodyUTF8:
		bad := [][]byte{{0xff}, {0xc0, 0x80}, {0xed, 0xa0, 0x80}, {0xf4, 0x90, 0x80, 0x80}, {0xe2, 0x82}}
		b := bad[rng.IntN(len(bad))]
		at := rng.IntN(len(o.value) + 1)
		s := append(append(append([]byte{}, o.value[:at]...), b...), o.value[at:]...)
		repl = protowire.AppendTag(nil, o.num, protowire.BytesType)
		repl = protowire.AppendBytes(repl, s)
		desc = o.path + ": invalid UTF-8 " + hexString(b) + " at byte " + strconv.Itoa(at)
	}
	return Mutation{Frame: splice(m, body, 0, o, repl), Desc: desc}
}

// splice returns b (a message m that starts at body offset base) with occurrence o replaced
// by repl, every message on the way re-encoded with its new length.
func splice(m *operation.MessageDesc, b []byte, base int, o occurrence, repl []byte) []byte {
	var out []byte
	for off := 0; off < len(b); {
		num, typ, n := protowire.ConsumeField(b[off:])
		if n < 0 {
			return append(out, b[off:]...)
		}
		start, end := base+off, base+off+n
		switch {
		case start == o.start && end == o.end:
			out = append(out, repl...)
		case start < o.start && o.end <= end && typ == protowire.BytesType:
			f := m.Field(num)
			_, _, k := protowire.ConsumeTag(b[off:])
			payload, _ := protowire.ConsumeBytes(b[off+k:])
			inner := splice(f.Message, payload, end-len(payload), o, repl)
			out = protowire.AppendTag(out, num, protowire.BytesType)
			out = protowire.AppendBytes(out, inner)
		default:
			out = append(out, b[off:off+n]...)
		}
		off += n
	}
	return out
}

// unknownField appends a field the schema does not know: a conforming reader skips it.
func unknownField(body []byte, rng *rand.Rand) Mutation {
	num := protowire.Number(pickU64(rng, 15, 99, 1000, 1<<29-1))
	b := append([]byte{}, body...)
	var what string
	switch rng.IntN(3) {
	case 0:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		b = protowire.AppendVarint(b, rng.Uint64())
		what = "varint"
	case 1:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte("parsecwire"))
		what = "length-delimited"
	default:
		b = protowire.AppendTag(b, num, protowire.StartGroupType)
		b = protowire.AppendTag(b, num, protowire.EndGroupType)
		what = "group"
	}
	return Mutation{Frame: b, Desc: "unknown " + what + " field " + strconv.Itoa(int(num)) + " appended"}
}

// garbage appends bytes that do not parse as a field.
func garbage(op uint32, d operation.Dir, body []byte, rng *rand.Rand) Mutation {
	junk := [][]byte{{0x00}, {0x80}, {0x07}, {0x0c}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}}
	j := junk[rng.IntN(len(junk))]
	b := append(append([]byte{}, body...), j...)
	return Mutation{Kind: KindBodyGarbage, Frame: b, Desc: hexString(j) + " appended",
		Verdict: operation.Validate(op, d, b)}
}

func enumName(e *operation.EnumDesc, n int32) string {
	if v, ok := e.Value(n); ok {
		return strconv.Itoa(int(n)) + " " + v.Name
	}
	return strconv.Itoa(int(n))
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// MutateFrameBody mutates the body of a frame (a response, or a request when request is set)
// with MutateBody and fixes the header's content length. The Mutation's Frame is the whole
// frame and its Verdict is the body's. It returns ok false for a frame whose header does not
// decode or whose opcode has no schema.
func MutateFrameBody(frame []byte, request bool, seed uint64) (Mutation, bool) {
	var h header.Header
	if err := h.UnmarshalRequest(frame); err != nil || len(frame) < header.Size+int(h.ContentLength) {
		return Mutation{}, false
	}
	d := operation.Response
	if request {
		d = operation.Request
	}
	if _, ok := operation.Lookup(h.Opcode, d); !ok {
		return Mutation{}, false
	}
	body := frame[header.Size : header.Size+int(h.ContentLength)]
	rest := frame[header.Size+int(h.ContentLength):] // a request's authentication bytes
	m := MutateBody(h.Opcode, d, body, seed)
	h.ContentLength = uint32(len(m.Frame))
	out := h.AppendRaw(nil)
	out = append(append(out, m.Frame...), rest...)
	m.Frame = out
	return m, true
}

// MutateAnswer returns a mutation of a valid response frame, chosen by seed alone: of its
// body, by the schema (MutateFrameBody), for one seed in three when a Parsec client reads
// that body (a Success response of a known opcode), else of its header and framing
// (MutateResponse). Test services use it to answer with a broken answer of either kind.
func MutateAnswer(frame []byte, seed uint64) Mutation {
	if seed%3 == 0 {
		var h header.Header
		if h.UnmarshalBinary(frame) == nil {
			if _, reads := operation.ForFrame(&h, operation.Response); reads {
				if m, ok := MutateFrameBody(frame, false, seed); ok {
					return m
				}
			}
		}
	}
	return MutateResponse(frame, seed)
}
