package corpus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The raw form. go-118-fuzz-build's testing shim (github.com/AdamKorcz/go-118-fuzz-build/testing,
// F.Fuzz) hands the libFuzzer input to go-fuzz-headers' consumer and draws the target's
// arguments from it in order:
//
//   - uint8, int8: one byte; bool: one byte, true when it is even;
//   - uint32, int32: four bytes, big-endian;
//   - uint16, int16: two bytes, then a bool byte: little-endian when true, else big-endian;
//   - uint64, int64, uint, int, float64: eight bytes and an endianness byte; float32: four and one;
//   - []byte: a uint32 length L (0 means 30), then L bytes, where L is taken modulo the bytes
//     left unless it equals them; nothing left fails;
//   - string: a uint32 length, then exactly that many bytes, which must be there; a string may
//     not start at the end of the input, nor past its first 2,000,000 bytes.
//
// An input too short for every argument never reaches the target. EncodeRaw writes the raw
// input that gives back the values; DecodeRaw reads one as the shim does.

// maxStringStart is go-fuzz-headers' MaxTotalLen: no string starts past it.
const maxStringStart = 2000000

// EncodeRaw returns the raw libFuzzer input from which the shim draws exactly vals.
func EncodeRaw(vals []any) ([]byte, error) {
	// Backwards: a []byte's length prefix depends on how many bytes follow it.
	var suffix []byte
	for i := len(vals) - 1; i >= 0; i-- {
		var enc []byte
		switch t := vals[i].(type) {
		case []byte:
			left := len(t) + len(suffix)
			if left == 0 {
				suffix, left = []byte{0}, 1 // the consumer refuses a []byte at the very end
			}
			n := len(t)
			if n == 0 {
				n = 2 * left // 0 would mean 30; a multiple of what is left gives 0
			}
			enc = binary.BigEndian.AppendUint32(nil, uint32(n))
			enc = append(enc, t...)
		case string:
			if len(t) == 0 && len(suffix) == 0 {
				suffix = []byte{0} // a string may not start at the very end
			}
			enc = binary.BigEndian.AppendUint32(nil, uint32(len(t)))
			enc = append(enc, t...)
		case bool:
			enc = []byte{1}
			if t {
				enc[0] = 0
			}
		case uint8:
			enc = []byte{t}
		case int8:
			enc = []byte{byte(t)}
		case uint16:
			enc = append(binary.LittleEndian.AppendUint16(nil, t), 0)
		case int16:
			enc = append(binary.LittleEndian.AppendUint16(nil, uint16(t)), 0)
		case uint32:
			enc = binary.BigEndian.AppendUint32(nil, t)
		case int32:
			enc = binary.BigEndian.AppendUint32(nil, uint32(t))
		case uint64:
			enc = append(binary.LittleEndian.AppendUint64(nil, t), 0)
		case int64:
			enc = append(binary.LittleEndian.AppendUint64(nil, uint64(t)), 0)
		case uint:
			enc = append(binary.LittleEndian.AppendUint64(nil, uint64(t)), 0)
		case int:
			enc = append(binary.LittleEndian.AppendUint64(nil, uint64(t)), 0)
		case float32:
			enc = append(binary.LittleEndian.AppendUint32(nil, math.Float32bits(t)), 0)
		case float64:
			enc = append(binary.LittleEndian.AppendUint64(nil, math.Float64bits(t)), 0)
		default:
			return nil, fmt.Errorf("corpus: value %d: type %T is not a fuzz argument type", i, vals[i])
		}
		suffix = append(enc, suffix...)
	}
	if len(suffix) > maxStringStart {
		return nil, errors.New("corpus: input above go-fuzz-headers' 2,000,000-byte limit")
	}
	return suffix, nil
}

// ErrShort is DecodeRaw's error for an input the shim finds too short: the target never
// runs on it.
var ErrShort = errors.New("corpus: the input is too short for the target's arguments")

// consumer reads a raw input as go-fuzz-headers does.
type consumer struct {
	data []byte
	pos  uint32
}

func (c *consumer) bytes(n uint32) ([]byte, error) {
	if c.pos >= uint32(len(c.data)) || uint32(len(c.data))-c.pos < n {
		return nil, ErrShort
	}
	b := c.data[c.pos : c.pos+n]
	c.pos += n
	return b, nil
}

func (c *consumer) bool() (bool, error) {
	b, err := c.bytes(1)
	if err != nil {
		return false, err
	}
	return b[0]%2 == 0, nil
}

// ordered reads n bytes and the endianness byte that follows them.
func (c *consumer) ordered(n uint32) (binary.ByteOrder, []byte, error) {
	b, err := c.bytes(n)
	if err != nil {
		return nil, nil, err
	}
	le, err := c.bool()
	if err != nil {
		return nil, nil, err
	}
	if le {
		return binary.LittleEndian, b, nil
	}
	return binary.BigEndian, b, nil
}

func (c *consumer) u16() (uint16, error) {
	o, b, err := c.ordered(2)
	if err != nil {
		return 0, err
	}
	return o.Uint16(b), nil
}

func (c *consumer) u32() (uint32, error) {
	b, err := c.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

func (c *consumer) u64() (uint64, error) {
	o, b, err := c.ordered(8)
	if err != nil {
		return 0, err
	}
	return o.Uint64(b), nil
}

func (c *consumer) byteSlice() ([]byte, error) {
	n, err := c.u32()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		n = 30
	}
	left := uint32(len(c.data)) - c.pos
	if left == 0 {
		return nil, ErrShort
	}
	if n != left {
		n %= left
	}
	b := c.data[c.pos : c.pos+n]
	c.pos += n
	return append([]byte{}, b...), nil
}

func (c *consumer) string() (string, error) {
	if c.pos >= uint32(len(c.data)) {
		return "", ErrShort
	}
	n, err := c.u32()
	if err != nil {
		return "", err
	}
	if c.pos > maxStringStart || c.pos >= uint32(len(c.data)) || uint64(c.pos)+uint64(n) > uint64(len(c.data)) {
		return "", ErrShort
	}
	s := string(c.data[c.pos : c.pos+n])
	c.pos += n
	return s, nil
}

// DecodeRaw returns the arguments, of the given types (see Types), that the shim draws from
// data, or ErrShort when it draws too few to call the target.
func DecodeRaw(data []byte, types []string) ([]any, error) {
	c := &consumer{data: data}
	vals := make([]any, 0, len(types))
	for _, typ := range types {
		var v any
		var err error
		switch typ {
		case "[]byte":
			v, err = c.byteSlice()
		case "string":
			v, err = c.string()
		case "bool":
			v, err = c.bool()
		case "uint8", "int8":
			var b []byte
			if b, err = c.bytes(1); err == nil {
				v = b[0]
				if typ == "int8" {
					v = int8(b[0])
				}
			}
		case "uint16", "int16":
			var u uint16
			if u, err = c.u16(); err == nil {
				v = u
				if typ == "int16" {
					v = int16(u)
				}
			}
		case "uint32", "int32":
			var u uint32
			if u, err = c.u32(); err == nil {
				v = u
				if typ == "int32" {
					v = int32(u)
				}
			}
		case "float32":
			var o binary.ByteOrder
			var b []byte
			if o, b, err = c.ordered(4); err == nil {
				v = math.Float32frombits(o.Uint32(b))
			}
		case "uint64", "int64", "uint", "int", "float64":
			var u uint64
			if u, err = c.u64(); err == nil {
				v = map[string]any{"uint64": u, "int64": int64(u), "uint": uint(u), "int": int(u),
					"float64": math.Float64frombits(u)}[typ]
			}
		default:
			return nil, fmt.Errorf("corpus: type %q is not a fuzz argument type", typ)
		}
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	return vals, nil
}
