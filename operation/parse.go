package operation

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/status"
)

// The wire pass: is the body a protobuf that the reference's decoder (prost 0.11) reads
// without error? Every fault here is DeserializingBodyFailed, whatever the value it held,
// because the reference decodes the whole body before it converts any field.

// recursionLimit is prost's RECURSION_LIMIT: a message field or a group nested this deep is
// refused.
const recursionLimit = 100

// maxDepth bounds the path a walker keeps: deeper than the deepest schema message, which is
// all the path ever names (unknown fields, groups included, are skipped without a step).
const maxDepth = 16

// step is one element of a field path: a field and, for a repeated one, the index of the
// element (-1 otherwise).
type step struct {
	f     *FieldDesc
	index int
}

// walker holds the state of one pass over a body: the body itself (offsets are counted from
// its first byte) and the path of fields from the top message to the one being read.
type walker struct {
	body  []byte
	op    uint32
	dir   Dir
	path  [maxDepth]step
	depth int
	alias bool // Decode: bytes values share the body's memory
	// The payloads of the views of the value pass (see view): the first ones in an array,
	// so that a walker on the stack holds them without allocating, the rest (a body that
	// writes a message field many times) in more.
	spans [32]span
	nspan int
	more  []span
}

// span is a payload: body[start:end].
type span struct{ start, end int }

// addSpan appends payload b, a sub-slice of the body, to the views' store.
func (w *walker) addSpan(b []byte) {
	s := span{w.offset(b), w.offset(b) + len(b)}
	if w.nspan < len(w.spans) {
		w.spans[w.nspan] = s
	} else {
		w.more = append(w.more[:w.nspan-len(w.spans)], s)
	}
	w.nspan++
}

// payload returns payload i of the views' store.
func (w *walker) payload(i int) []byte {
	s := w.spans[min(i, len(w.spans)-1)]
	if i >= len(w.spans) {
		s = w.more[i-len(w.spans)]
	}
	return w.body[s.start:s.end]
}

// offset returns the offset of b, a sub-slice of the body, from the body's first byte.
func (w *walker) offset(b []byte) int { return cap(w.body) - cap(b) }

func (w *walker) push(f *FieldDesc, index int) {
	if w.depth < maxDepth {
		w.path[w.depth] = step{f, index}
	}
	w.depth++
}

func (w *walker) pop() { w.depth-- }

// fail builds the error for a fault at b (a sub-slice of the body, or nil for its end).
func (w *walker) fail(at []byte, code status.Code, reason string, found string) *FieldError {
	off := len(w.body)
	if at != nil {
		off = w.offset(at)
	}
	return &FieldError{Opcode: w.op, Dir: w.dir, Path: w.pathString(nil, 0), Offset: off,
		Reason: reason, Found: found, Code: code}
}

// failField is fail for a fault in field f (not yet on the path) of the current message.
func (w *walker) failField(at []byte, f *FieldDesc, index int, code status.Code, reason, found string) *FieldError {
	e := w.fail(at, code, reason, found)
	e.Path = w.pathString(f, index)
	return e
}

// pathString renders the path, with f (and its index) appended when not nil:
// "keys[0].attributes.key_type".
func (w *walker) pathString(f *FieldDesc, index int) string {
	var b []byte
	for i := 0; i < min(w.depth, maxDepth); i++ {
		b = appendStep(b, w.path[i])
	}
	if f != nil {
		b = appendStep(b, step{f, index})
	}
	return string(b)
}

func appendStep(b []byte, s step) []byte {
	if len(b) > 0 {
		b = append(b, '.')
	}
	b = append(b, s.f.Name...)
	if s.index >= 0 {
		b = append(b, '[')
		b = appendInt(b, int64(s.index))
		b = append(b, ']')
	}
	return b
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// consumeKey reads a field key as prost's decode_key does: a varint of at most 32 bits, a
// wire type from 0 to 5, a field number of at least 1. n < 0 is a fault, and reason says
// which.
func consumeKey(b []byte) (num protowire.Number, typ protowire.Type, n int, reason string) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, n, "truncated or overlong field key"
	}
	if v > 1<<32-1 {
		return 0, 0, -1, "field key above 32 bits"
	}
	num, typ = protowire.Number(v>>3), protowire.Type(v&7)
	if typ > protowire.Fixed32Type {
		return 0, 0, -1, "invalid wire type " + string(rune('0'+typ))
	}
	if num == 0 {
		return 0, 0, -1, "field number 0"
	}
	return num, typ, n, ""
}

// parse checks that b is an encoding of m that prost reads without error. budget is prost's
// recursion budget left at this message (recursionLimit at the top).
func (w *walker) parse(m *MessageDesc, b []byte, budget int) error {
	var counts [maxFields]int
	for len(b) > 0 {
		field := b
		num, typ, n, reason := consumeKey(b)
		if n < 0 {
			return w.fail(field, status.DeserializingBodyFailed, reason, "")
		}
		b = b[n:]
		i := m.index(num)
		if i < 0 {
			n, at, reason := skipField(num, typ, b, budget)
			if at == nil {
				at = field
			}
			if n < 0 {
				return w.fail(at, status.DeserializingBodyFailed, "unknown field "+itoa(int64(num))+": "+reason, "")
			}
			b = b[n:]
			continue
		}
		f := &m.Fields[i]
		index := -1
		if f.Repeated {
			index = counts[i]
		}
		if f.Repeated && f.Kind.WireType() == protowire.VarintType && typ == protowire.BytesType {
			// A packed run: varints back to back, ending exactly at the end of the run.
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return w.failField(b, f, index, status.DeserializingBodyFailed, "length runs past the end of the message", "")
			}
			for p := v; len(p) > 0; {
				_, k := protowire.ConsumeVarint(p)
				if k < 0 {
					return w.failField(p, f, counts[i], status.DeserializingBodyFailed, "packed values do not end on a value boundary", "")
				}
				p = p[k:]
				counts[i]++
			}
			b = b[n:]
			continue
		}
		if want := f.Kind.WireType(); typ != want {
			return w.failField(field, f, index, status.DeserializingBodyFailed,
				"wire type "+WireTypeName(typ)+", expected "+WireTypeName(want)+" for a "+f.Kind.String(), "")
		}
		counts[i]++
		if typ == protowire.VarintType {
			_, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return w.failField(b, f, index, status.DeserializingBodyFailed, "truncated or overlong varint", "")
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return w.failField(b, f, index, status.DeserializingBodyFailed, "length runs past the end of the message", "")
		}
		switch f.Kind {
		case KindString:
			if !utf8.Valid(v) {
				return w.failField(v[firstInvalidUTF8(v):], f, index, status.DeserializingBodyFailed, "invalid UTF-8 in a string", "")
			}
		case KindMessage:
			if budget <= 0 {
				return w.failField(field, f, index, status.DeserializingBodyFailed, "nested deeper than the recursion limit", "")
			}
			w.push(f, index)
			if err := w.parse(f.Message, v, budget-1); err != nil {
				return err
			}
			w.pop()
		}
		b = b[n:]
	}
	return nil
}

// skipField skips the value of an unknown field as prost's skip_field does, groups
// included. It returns the bytes consumed, or n < 0 with where and why it failed (at nil: at
// the field's key).
func skipField(num protowire.Number, typ protowire.Type, b []byte, budget int) (n int, at []byte, reason string) {
	if budget <= 0 {
		return -1, b, "nested deeper than the recursion limit"
	}
	switch typ {
	case protowire.VarintType:
		_, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return -1, b, "truncated or overlong varint"
		}
		return n, nil, ""
	case protowire.Fixed32Type, protowire.Fixed64Type:
		size := 4
		if typ == protowire.Fixed64Type {
			size = 8
		}
		if len(b) < size {
			return -1, b[len(b):], "value runs past the end of the message"
		}
		return size, nil, ""
	case protowire.BytesType:
		l, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return -1, b, "truncated or overlong length"
		}
		if l > uint64(len(b)-n) {
			return -1, b, "length runs past the end of the message"
		}
		return n + int(l), nil, ""
	case protowire.StartGroupType:
		used := 0
		for {
			key := b[used:]
			inum, ityp, k, reason := consumeKey(key)
			if k < 0 {
				return -1, key, reason
			}
			used += k
			if ityp == protowire.EndGroupType {
				if inum != num {
					return -1, key, "end of group " + itoa(int64(inum)) + " inside group " + itoa(int64(num))
				}
				return used, nil, ""
			}
			k, at, reason := skipField(inum, ityp, b[used:], budget-1)
			if k < 0 {
				if at == nil {
					at = key
				}
				return -1, at, reason
			}
			used += k
		}
	}
	return -1, nil, "end of a group that was not started"
}

// WireTypeName names a wire type as error messages write it ("length-delimited").
func WireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	case protowire.Fixed32Type:
		return "fixed32"
	}
	return itoa(int64(t))
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return 0
}

func itoa(v int64) string { return string(appendInt(nil, v)) }
