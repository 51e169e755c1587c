package operation

import (
	"encoding/hex"
	"encoding/json"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Fields is a decoded message: an ordered list of named fields, in the schema's number
// order. Decode fills in every field that is not a message (with its default value when the
// body leaves it out, as protobuf reads it), every message field the body sets, and the
// member of a oneof that is set.
//
// A Field's Value has a Go type that follows the field's kind:
//
//	kind     single  repeated
//	bool     bool    []bool
//	uint32   uint32  []uint32
//	uint64   uint64  []uint64
//	enum     Enum    []Enum
//	string   string  []string
//	bytes    []byte  [][]byte
//	message  Fields  []Fields
//
// Append takes the same types, and for convenience an int for any number, a string (the
// value's name) or an int for an enum, and a string for bytes.
type Fields []Field

// Field is one named field of a decoded message.
type Field struct {
	Name  string
	Value any
}

// Enum is the value of an enum field: its number and, when the enum defines it, its name.
type Enum struct {
	Number int32
	Name   string
}

// String returns the value's name, or its number when the enum does not define it.
func (e Enum) String() string {
	if e.Name != "" {
		return e.Name
	}
	return strconv.Itoa(int(e.Number))
}

// Get returns the value of the field named name, or nil.
func (fs Fields) Get(name string) any {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}

// Decode decodes body, a body of opcode op in direction d, into its tree of fields. It
// returns the error Validate returns, and the tree whenever the body is valid protobuf: a
// body whose values the converter refuses is still decoded, so that a reader can see the
// value at fault.
func Decode(op uint32, d Dir, body []byte) (Fields, error) {
	return DecodeOptions{}.Decode(op, d, body)
}

// DecodeOptions changes how Decode builds the tree.
type DecodeOptions struct {
	// Alias makes the tree's bytes values share body's memory instead of copying it, for a
	// caller that is done with the tree before body changes (a printer of a stream, whose
	// frames are valid until the next one): a 64 KiB field then costs no copy.
	Alias bool
}

// Decode is the package's Decode with the options.
func (o DecodeOptions) Decode(op uint32, d Dir, body []byte) (Fields, error) {
	m, ok := Lookup(op, d)
	if !ok {
		return nil, unknownOpcode(op, d)
	}
	w := walker{body: body, op: op, dir: d, alias: o.Alias}
	if err := w.parse(m, body, recursionLimit); err != nil {
		return nil, err
	}
	fs := w.decode(m, w.root(body))
	return fs, w.check(m, w.root(body))
}

// decode builds the tree of the message m seen through v.
func (w *walker) decode(m *MessageDesc, v view) Fields {
	var s scan
	w.scan(m, v, &s)
	fs := Fields{}
	for i := range m.Fields {
		f := &m.Fields[i]
		o := &s.f[i]
		switch {
		case f.Oneof && i != s.member:
		case f.Repeated:
			fs = append(fs, Field{f.Name, w.decodeList(m, v, i)})
		case f.Kind == KindMessage:
			if o.n == 0 {
				continue
			}
			from := 0
			if f.Oneof {
				from = s.from
			}
			sv := w.sub(m, v, i, from)
			fs = append(fs, Field{f.Name, w.decode(f.Message, sv)})
			w.nspan = sv.lo
		default:
			fs = append(fs, Field{f.Name, w.scalar(f, o.last)})
		}
	}
	return fs
}

// decodeList gathers every element of repeated field i of m within v.
func (w *walker) decodeList(m *MessageDesc, v view, i int) any {
	f := &m.Fields[i]
	var list []any
	for r := v.lo; r < v.hi; r++ {
		for b := w.payload(r); len(b) > 0; {
			j, val, n := next(m, b)
			b = b[n:]
			switch {
			case j != i:
			case f.Kind == KindMessage:
				lo := w.nspan
				w.addSpan(val)
				list = append(list, w.decode(f.Message, view{lo, lo + 1}))
				w.nspan = lo
			case f.Kind.WireType() == protowire.VarintType:
				for p := val; len(p) > 0; {
					_, k := protowire.ConsumeVarint(p)
					list = append(list, w.scalar(f, p[:k]))
					p = p[k:]
				}
			default:
				list = append(list, w.scalar(f, val))
			}
		}
	}
	return typedList(f.Kind, list)
}

// typedList turns a list of element values into the slice type Fields documents.
func typedList(k Kind, list []any) any {
	switch k {
	case KindBool:
		return convertList[bool](list)
	case KindUint32:
		return convertList[uint32](list)
	case KindUint64:
		return convertList[uint64](list)
	case KindEnum:
		return convertList[Enum](list)
	case KindString:
		return convertList[string](list)
	case KindBytes:
		return convertList[[]byte](list)
	}
	return convertList[Fields](list)
}

func convertList[T any](list []any) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = v.(T)
	}
	return out
}

// scalar decodes the value of a field that is not a message: val is a varint's bytes or a
// payload, nil when the field is absent (its default value).
func (w *walker) scalar(f *FieldDesc, val []byte) any {
	var x uint64
	if f.Kind.WireType() == protowire.VarintType && len(val) > 0 {
		x, _ = protowire.ConsumeVarint(val)
	}
	switch f.Kind {
	case KindBool:
		return x != 0
	case KindUint32:
		return uint32(x)
	case KindUint64:
		return x
	case KindEnum:
		e := Enum{Number: int32(x)}
		if v, ok := f.Enum.Value(e.Number); ok {
			e.Name = v.Name
		}
		return e
	case KindString:
		return string(val)
	}
	if w.alias {
		return val
	}
	return append([]byte{}, val...)
}

// textBytes is the longest bytes value the readable form prints whole.
const textBytes = 64

// AppendText appends the readable form of fs: one "name: value" line per field, each
// starting with indent, a nested message indented two more spaces, a repeated field as a
// list ("- " items for messages, "[1, 2]" for numbers), bytes in hex (above 64 bytes, the
// first 32 and the length) and enums by name.
func (fs Fields) AppendText(b []byte, indent string) []byte {
	for _, f := range fs {
		b = append(b, indent...)
		b = append(b, f.Name...)
		b = append(b, ':')
		switch v := f.Value.(type) {
		case Fields:
			b = append(b, '\n')
			b = v.AppendText(b, indent+"  ")
			continue
		case []Fields:
			if len(v) == 0 {
				b = append(b, " []\n"...)
				continue
			}
			b = append(b, '\n')
			for _, item := range v {
				if len(item) == 0 {
					b = append(b, indent...)
					b = append(b, "  - {}\n"...)
					continue
				}
				text := item.AppendText(nil, indent+"    ")
				// The first line of an item carries the list marker.
				b = append(b, indent...)
				b = append(b, "  - "...)
				b = append(b, text[len(indent)+4:]...)
			}
			continue
		}
		b = append(b, ' ')
		b = appendValue(b, f.Value, false)
		b = append(b, '\n')
	}
	return b
}

// String returns the readable form of fs (AppendText with no indent).
func (fs Fields) String() string { return string(fs.AppendText(nil, "")) }

// appendValue appends a value that is not a message: quoted strings and hex bytes in JSON
// form when json is set.
func appendValue(b []byte, v any, json bool) []byte {
	switch v := v.(type) {
	case bool:
		return strconv.AppendBool(b, v)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		if json {
			// As the session handle in decode's JSON: a 64-bit number does not survive
			// readers that hold numbers in doubles.
			b = append(b, '"')
			b = strconv.AppendUint(b, v, 10)
			return append(b, '"')
		}
		return strconv.AppendUint(b, v, 10)
	case Enum:
		if json && v.Name == "" {
			return strconv.AppendInt(b, int64(v.Number), 10)
		}
		if json {
			return appendJSONString(b, v.Name)
		}
		return append(b, v.String()...)
	case string:
		if json {
			return appendJSONString(b, v)
		}
		return strconv.AppendQuote(b, v)
	case []byte:
		if json {
			// Base64, as protobuf's JSON mapping writes bytes (and a third smaller than hex).
			b = append(b, '"')
			b = appendBase64(b, v)
			return append(b, '"')
		}
		if len(v) == 0 {
			return append(b, `""`...)
		}
		if len(v) > textBytes {
			// A readable form: a 64 KiB field on one line is read by no one (JSON has it all).
			b = hex.AppendEncode(b, v[:textBytes/2])
			b = append(b, " ... ("...)
			b = strconv.AppendInt(b, int64(len(v)), 10)
			return append(b, " bytes)"...)
		}
		return hex.AppendEncode(b, v)
	case Fields:
		return v.AppendJSON(b)
	}
	return appendList(b, v, json)
}

func appendList(b []byte, v any, json bool) []byte {
	b = append(b, '[')
	n := 0
	each := func(x any) {
		if n > 0 {
			b = append(b, ", "...)
			if json {
				b = b[:len(b)-1]
			}
		}
		b = appendValue(b, x, json)
		n++
	}
	switch v := v.(type) {
	case []bool:
		for _, x := range v {
			each(x)
		}
	case []uint32:
		for _, x := range v {
			each(x)
		}
	case []uint64:
		for _, x := range v {
			each(x)
		}
	case []Enum:
		for _, x := range v {
			each(x)
		}
	case []string:
		for _, x := range v {
			each(x)
		}
	case [][]byte:
		for _, x := range v {
			each(x)
		}
	case []Fields:
		for _, x := range v {
			each(x)
		}
	}
	return append(b, ']')
}

// MarshalJSON writes fs as a JSON object keyed by the schema's field names, in order, as
// protobuf's JSON mapping writes values: bytes in base64, enums by name (by number when the
// enum does not define it), uint64 as a decimal string.
func (fs Fields) MarshalJSON() ([]byte, error) { return fs.AppendJSON(nil), nil }

// AppendJSON appends the JSON form of fs (see MarshalJSON) to b.
func (fs Fields) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		b = appendValue(b, f.Value, true)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string (strconv's quoting is Go's, not JSON's).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// appendQuoted appends b as a Go-quoted string, for error messages.
func appendQuoted(dst, b []byte) []byte { return strconv.AppendQuote(dst, string(b)) }
