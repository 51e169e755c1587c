package operation

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// Check names a rule of the reference's converter on a field's value, beyond its kind.
type Check uint8

// The rules the converter applies.
const (
	CheckNone          Check = iota
	CheckUint8               // the value is narrowed to 8 bits: above 255 is refused
	CheckUUID                // a UUID in text form
	CheckOpcode              // an opcode the reference knows
	CheckProvider            // a provider ID the reference knows
	CheckAuthenticator       // an authenticator ID the reference knows
)

// The schema describes exactly the opcodes the reference knows (a test holds it to header's
// names), so a list of opcodes is checked against the table, not a map.

// errRequiredCode is the status the converter returns for a mandatory field left unset.
const errRequiredCode = status.InvalidEncoding

// checkScalar applies the converter's rules to one value of a field that is not a message:
// val is a varint's bytes or a payload, nil when the field is absent. index is the element's
// index in a repeated field, -1 otherwise.
func (w *walker) checkScalar(f *FieldDesc, index int, val []byte) error {
	var x uint64
	if f.Kind.WireType() == protowire.VarintType && len(val) > 0 {
		x, _ = protowire.ConsumeVarint(val)
	}
	if f.Kind == KindEnum {
		n := int32(x)
		v, ok := f.Enum.Value(n)
		switch {
		case !ok:
			return w.failField(val, f, index, f.Enum.Unknown, "not a value of "+f.Enum.Name, itoa(int64(n)))
		case v.Refused != 0:
			return w.failField(val, f, index, v.Refused, "the converter refuses this value", v.Name)
		}
		return nil
	}
	switch f.Check {
	case CheckUint8:
		if uint32(x) > 0xFF {
			return w.failField(val, f, index, status.InvalidEncoding, "above 255, the largest value of the 8-bit field it is converted to", itoa(int64(uint32(x))))
		}
	case CheckOpcode:
		if op := uint32(x); op >= maxOpcode || byOpcode[op] == nil {
			return w.failField(val, f, index, status.OpcodeDoesNotExist, "not an opcode the reference knows", itoa(int64(uint32(x))))
		}
	case CheckProvider:
		if _, ok := header.ProviderName(uint8(x)); !ok || uint32(x) > 0xFF {
			return w.failField(val, f, index, status.ProviderDoesNotExist, "not a provider the reference knows", itoa(int64(uint32(x))))
		}
	case CheckAuthenticator:
		if _, ok := header.AuthTypeName(uint8(x)); !ok || uint32(x) > 0xFF {
			return w.failField(val, f, index, status.AuthenticatorDoesNotExist, "not an authenticator the reference knows", itoa(int64(uint32(x))))
		}
	case CheckUUID:
		if !validUUID(val) {
			return w.failField(val, f, index, status.WrongProviderUuid, "not a UUID", quote(val))
		}
	}
	return nil
}

// checkList applies a rule on a repeated field as a whole.
func (w *walker) checkList(f *FieldDesc, m *MessageDesc, v view, i int) error { return nil }

// checkMessage applies a message's own rule, after those of its fields.
func (w *walker) checkMessage(m *MessageDesc, v view, s *scan) error { return nil }

// validUUID reports whether s is a UUID in one of the text forms the reference's parser
// (the uuid crate) takes: 32 hex digits; the hyphenated 8-4-4-4-12 form; that form in braces;
// or that form after a lowercase "urn:uuid:". Hex digits may be of either case.
func validUUID(s []byte) bool {
	switch len(s) {
	case 32:
		for _, c := range s {
			if !isHex(c) {
				return false
			}
		}
		return true
	case 36:
		return hyphenated(s)
	case 38:
		return s[0] == '{' && s[37] == '}' && hyphenated(s[1:37])
	case 45:
		return string(s[:9]) == "urn:uuid:" && hyphenated(s[9:])
	}
	return false
}

func hyphenated(s []byte) bool {
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func quote(b []byte) string {
	const max = 48
	s := b
	if len(s) > max {
		s = s[:max]
	}
	q := appendQuoted(nil, s)
	if len(b) > max {
		q = append(q, "..."...)
	}
	return string(q)
}
