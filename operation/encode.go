package operation

import (
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/status"
)

// Append appends the encoding of fs, a body of opcode op in direction d, to b. The encoding
// is canonical, the one the reference writes: fields in number order, scalars at their
// default value left out (but a oneof member is always written), repeated numbers packed.
// Fields may come in any order; a name the message does not have, a value of the wrong type
// or two members of one oneof are refused (an error matching status.SerializingBodyFailed)
// and b is returned unchanged. Append does not judge the values: encode a refused value on
// purpose and Validate reports it.
func Append(b []byte, op uint32, d Dir, fs Fields) ([]byte, error) {
	m, ok := Lookup(op, d)
	if !ok {
		return b, unknownOpcode(op, d)
	}
	out, err := appendMessage(b, m, fs, "")
	if err != nil {
		return b, &FieldError{Opcode: op, Dir: d, Path: err.path, Offset: -1, Reason: err.reason, Code: status.SerializingBodyFailed}
	}
	return out, nil
}

// Encode returns the encoding of fs (Append to a new slice).
func Encode(op uint32, d Dir, fs Fields) ([]byte, error) { return Append(nil, op, d, fs) }

type encodeError struct{ path, reason string }

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func appendMessage(b []byte, m *MessageDesc, fs Fields, path string) ([]byte, *encodeError) {
	for _, f := range fs {
		if m.FieldByName(f.Name) == nil {
			return b, &encodeError{join(path, f.Name), "no such field in " + m.Name}
		}
	}
	member := ""
	for i := range m.Fields {
		fd := &m.Fields[i]
		v, set := lookupValue(fs, fd.Name)
		if !set {
			continue
		}
		if fd.Oneof {
			if member != "" {
				return b, &encodeError{join(path, fd.Name), "two members of the " + m.Oneof + " oneof: " + member + " is set too"}
			}
			member = fd.Name
		}
		var err *encodeError
		b, err = appendField(b, fd, v, join(path, fd.Name))
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

func lookupValue(fs Fields, name string) (any, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

func appendField(b []byte, fd *FieldDesc, v any, path string) ([]byte, *encodeError) {
	if fd.Repeated {
		return appendRepeated(b, fd, v, path)
	}
	switch fd.Kind {
	case KindMessage:
		sub, ok := v.(Fields)
		if !ok {
			return b, typeError(fd, v, path)
		}
		var err *encodeError
		b = protowire.AppendTag(b, fd.Number, protowire.BytesType)
		b, err = appendDelimited(b, func(b []byte) ([]byte, *encodeError) { return appendMessage(b, fd.Message, sub, path) })
		return b, err
	case KindString, KindBytes:
		s, ok := bytesOf(v)
		if !ok || (fd.Kind == KindString && !isString(v)) {
			return b, typeError(fd, v, path)
		}
		if len(s) == 0 && !fd.Oneof {
			return b, nil
		}
		b = protowire.AppendTag(b, fd.Number, protowire.BytesType)
		return protowire.AppendBytes(b, s), nil
	}
	x, err := varintOf(fd, v, path)
	if err != nil {
		return b, err
	}
	if x == 0 && !fd.Oneof {
		return b, nil
	}
	b = protowire.AppendTag(b, fd.Number, protowire.VarintType)
	return protowire.AppendVarint(b, x), nil
}

// appendDelimited appends a length and the bytes fn appends: fn writes after a one-byte
// length, which moves when the payload needs a longer one.
func appendDelimited(b []byte, fn func([]byte) ([]byte, *encodeError)) ([]byte, *encodeError) {
	at := len(b)
	b = append(b, 0)
	b, err := fn(b)
	if err != nil {
		return b, err
	}
	n := len(b) - at - 1
	size := protowire.SizeVarint(uint64(n))
	if size > 1 {
		b = append(b, make([]byte, size-1)...)
		copy(b[at+size:], b[at+1:at+1+n])
	}
	protowire.AppendVarint(b[:at], uint64(n))
	return b, nil
}

func appendRepeated(b []byte, fd *FieldDesc, v any, path string) ([]byte, *encodeError) {
	items, ok := elements(v)
	if !ok {
		return b, typeError(fd, v, path)
	}
	if len(items) == 0 {
		return b, nil
	}
	if fd.Kind.WireType() == protowire.VarintType {
		b = protowire.AppendTag(b, fd.Number, protowire.BytesType)
		return appendDelimited(b, func(b []byte) ([]byte, *encodeError) {
			for i, x := range items {
				u, err := varintOf(fd, x, path+"["+itoa(int64(i))+"]")
				if err != nil {
					return b, err
				}
				b = protowire.AppendVarint(b, u)
			}
			return b, nil
		})
	}
	for i, x := range items {
		p := path + "[" + itoa(int64(i)) + "]"
		if fd.Kind == KindMessage {
			sub, ok := x.(Fields)
			if !ok {
				return b, typeError(fd, x, p)
			}
			var err *encodeError
			b = protowire.AppendTag(b, fd.Number, protowire.BytesType)
			b, err = appendDelimited(b, func(b []byte) ([]byte, *encodeError) { return appendMessage(b, fd.Message, sub, p) })
			if err != nil {
				return b, err
			}
			continue
		}
		s, ok := bytesOf(x)
		if !ok || (fd.Kind == KindString && !isString(x)) {
			return b, typeError(fd, x, p)
		}
		b = protowire.AppendTag(b, fd.Number, protowire.BytesType)
		b = protowire.AppendBytes(b, s)
	}
	return b, nil
}

// elements spreads a repeated field's value (any slice type Fields documents, or []any).
func elements(v any) ([]any, bool) {
	var out []any
	switch v := v.(type) {
	case []any:
		return v, true
	case []bool:
		for _, x := range v {
			out = append(out, x)
		}
	case []uint32:
		for _, x := range v {
			out = append(out, x)
		}
	case []uint64:
		for _, x := range v {
			out = append(out, x)
		}
	case []int:
		for _, x := range v {
			out = append(out, x)
		}
	case []Enum:
		for _, x := range v {
			out = append(out, x)
		}
	case []string:
		for _, x := range v {
			out = append(out, x)
		}
	case [][]byte:
		for _, x := range v {
			out = append(out, x)
		}
	case []Fields:
		for _, x := range v {
			out = append(out, x)
		}
	default:
		return nil, false
	}
	return out, true
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

func bytesOf(v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return []byte(v), true
	case []byte:
		return v, true
	}
	return nil, false
}

var errRange = errors.New("out of range")

// varintOf returns the varint a scalar value is written as.
func varintOf(fd *FieldDesc, v any, path string) (uint64, *encodeError) {
	var x uint64
	var err error
	switch v := v.(type) {
	case bool:
		if fd.Kind != KindBool {
			return 0, typeError(fd, v, path)
		}
		if v {
			x = 1
		}
		return x, nil
	case Enum:
		if fd.Kind != KindEnum {
			return 0, typeError(fd, v, path)
		}
		return uint64(int64(v.Number)), nil // an int32 is written sign-extended to 64 bits
	case string:
		if fd.Kind != KindEnum {
			return 0, typeError(fd, v, path)
		}
		ev, ok := fd.Enum.ByName(v)
		if !ok {
			return 0, &encodeError{path, "no value " + v + " in " + fd.Enum.Name}
		}
		return uint64(int64(ev.Number)), nil
	case uint32:
		x = uint64(v)
	case uint64:
		x = v
	case int:
		if v < 0 && fd.Kind != KindEnum {
			err = errRange
		}
		x = uint64(int64(v))
	default:
		return 0, typeError(fd, v, path)
	}
	switch fd.Kind {
	case KindUint32:
		if x > math.MaxUint32 {
			err = errRange
		}
	case KindEnum:
		if int64(x) < math.MinInt32 || int64(x) > math.MaxInt32 {
			err = errRange
		}
	case KindUint64:
	default:
		return 0, typeError(fd, v, path)
	}
	if err != nil {
		return 0, &encodeError{path, "value out of range for a " + fd.Kind.String()}
	}
	return x, nil
}

func typeError(fd *FieldDesc, v any, path string) *encodeError {
	want := fd.Kind.String()
	if fd.Repeated {
		want = "list of " + want
	}
	return &encodeError{path, "a " + typeName(v) + " cannot be a " + want}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "bool"
	case int:
		return "int"
	case uint32:
		return "uint32"
	case uint64:
		return "uint64"
	case string:
		return "string"
	case []byte:
		return "[]byte"
	case Enum:
		return "Enum"
	case Fields:
		return "Fields"
	}
	return "value of another type"
}
