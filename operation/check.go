package operation

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// The value pass: does the reference's converter accept the values? It sees a message as
// prost merged it, so this pass does too: a singular message field written twice is one
// message made of both payloads, a scalar written twice holds its last value, and a oneof
// holds the member written last, made of the occurrences of that member after the last
// occurrence of another. A message is therefore a view: the payloads that make it, in order,
// kept in the walker's store of payloads.

// maxFields bounds the fields of a schema message (a test holds the table to it).
const maxFields = 16

// view is a message as prost merged it: the walker's payloads lo to hi-1, read one after
// another.
// The payloads are sub-slices of the body in increasing order, so a position in a view is a
// body offset.
type view struct{ lo, hi int }

// root makes the view of the whole body.
func (w *walker) root(body []byte) view {
	w.nspan = 0
	w.addSpan(body)
	return view{0, 1}
}

// occurrence sums up the occurrences of one field in a view.
type occurrence struct {
	n    int    // how many times the field is written (a packed run counts once)
	last []byte // the last value: a varint's bytes, or a length-delimited payload
}

// scan sums up a view: each field's occurrences and, for the oneof, the member written last
// and the body offset from which its occurrences count.
type scan struct {
	f      [maxFields]occurrence
	member int
	from   int
}

// index returns the index in m.Fields of field number num, or -1.
func (m *MessageDesc) index(num protowire.Number) int {
	for i := range m.Fields {
		if m.Fields[i].Number == num {
			return i
		}
	}
	return -1
}

// next reads the field at the start of b, which the wire pass has accepted: its number, its
// value (a varint's bytes or a payload; nil for a skipped unknown field) and the bytes used.
func next(m *MessageDesc, b []byte) (i int, val []byte, n int) {
	num, typ, k, _ := consumeKey(b)
	if k < 0 {
		return -1, nil, len(b) // cannot happen after the wire pass; end the scan
	}
	i = m.index(num)
	switch {
	case i < 0:
		n, _, _ = skipField(num, typ, b[k:], recursionLimit)
	case typ == protowire.VarintType:
		_, n = protowire.ConsumeVarint(b[k:])
		val = b[k : k+n]
	default:
		val, n = protowire.ConsumeBytes(b[k:])
	}
	if n < 0 {
		return -1, nil, len(b)
	}
	return i, val, k + n
}

func (w *walker) scan(m *MessageDesc, v view, s *scan) {
	s.member = -1
	for r := v.lo; r < v.hi; r++ {
		for b := w.payload(r); len(b) > 0; {
			i, val, n := next(m, b)
			if i >= 0 {
				s.f[i].n++
				s.f[i].last = val
				if m.Fields[i].Oneof && s.member != i {
					s.member, s.from = i, w.offset(b)
				}
			}
			b = b[n:]
		}
	}
}

// sub appends to the walker's store the view of message field i of m within v: the payloads of its
// occurrences at body offset from or later.
func (w *walker) sub(m *MessageDesc, v view, i int, from int) view {
	lo := w.nspan
	for r := v.lo; r < v.hi; r++ {
		for b := w.payload(r); len(b) > 0; {
			j, val, n := next(m, b)
			if j == i && w.offset(b) >= from {
				w.addSpan(val)
			}
			b = b[n:]
		}
	}
	return view{lo, w.nspan}
}

// at returns where a view starts in the body, for the offset of a fault about the message as
// a whole (a missing field).
func (w *walker) at(v view) []byte {
	if v.hi > v.lo {
		return w.payload(v.lo)
	}
	return nil
}

// check applies the converter's rules to the message m seen through v, in the converter's
// order: the fields in number order, then the oneof, then the message's own rule.
func (w *walker) check(m *MessageDesc, v view) error {
	var s scan
	w.scan(m, v, &s)
	for i := range m.Fields {
		f := &m.Fields[i]
		if f.Oneof {
			continue
		}
		if err := w.checkField(m, v, &s, i, 0); err != nil {
			return err
		}
	}
	if m.Oneof != "" {
		if s.member < 0 {
			if m.OneofRequired {
				return w.fail(w.at(v), errRequiredCode, "no member of the "+m.Oneof+" oneof is set", "")
			}
		} else if err := w.checkField(m, v, &s, s.member, s.from); err != nil {
			return err
		}
	}
	return w.checkMessage(m, v, &s)
}

// checkField applies the rules of field i of m. from is the body offset from which its
// occurrences count (a oneof member).
func (w *walker) checkField(m *MessageDesc, v view, s *scan, i int, from int) error {
	f := &m.Fields[i]
	o := &s.f[i]
	switch {
	case f.Kind == KindMessage && f.Repeated:
		index := 0
		for r := v.lo; r < v.hi; r++ {
			for b := w.payload(r); len(b) > 0; {
				j, val, n := next(m, b)
				if j == i {
					lo := w.nspan
					w.addSpan(val)
					w.push(f, index)
					err := w.check(f.Message, view{lo, lo + 1})
					w.pop()
					w.nspan = lo
					if err != nil {
						return err
					}
					index++
				}
				b = b[n:]
			}
		}
		return nil
	case f.Kind == KindMessage:
		if o.n == 0 {
			if f.Required {
				return w.failField(w.at(v), f, -1, errRequiredCode, "mandatory field is not set", "")
			}
			return nil
		}
		sv := w.sub(m, v, i, from)
		w.push(f, -1)
		err := w.check(f.Message, sv)
		w.pop()
		w.nspan = sv.lo
		return err
	case f.Repeated:
		index := 0
		for r := v.lo; r < v.hi; r++ {
			for b := w.payload(r); len(b) > 0; {
				j, val, n := next(m, b)
				switch {
				case j != i:
				case f.Kind.WireType() == protowire.VarintType:
					// Varint elements come one by one or packed in a run; a single varint's
					// bytes read as a run of one.
					for p := val; len(p) > 0; index++ {
						_, k := protowire.ConsumeVarint(p)
						if err := w.checkScalar(f, index, p[:k]); err != nil {
							return err
						}
						p = p[k:]
					}
				default:
					if err := w.checkScalar(f, index, val); err != nil {
						return err
					}
					index++
				}
				b = b[n:]
			}
		}
		return w.checkList(f, m, v, i)
	default:
		return w.checkScalar(f, -1, o.last)
	}
}
