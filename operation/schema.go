package operation

import (
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/status"
)

// Kind is the type of a field as the wire format and the reference's converter see it.
type Kind uint8

// The kinds of field the Parsec operations use.
const (
	KindBool    Kind = iota + 1 // bool: a varint, any non-zero value is true
	KindUint32                  // uint32: a varint, truncated to 32 bits
	KindUint64                  // uint64: a varint
	KindEnum                    // an int32 varint whose values an EnumDesc names
	KindString                  // length-delimited UTF-8
	KindBytes                   // length-delimited bytes
	KindMessage                 // a length-delimited message a MessageDesc describes
)

var kindNames = [...]string{KindBool: "bool", KindUint32: "uint32", KindUint64: "uint64",
	KindEnum: "enum", KindString: "string", KindBytes: "bytes", KindMessage: "message"}

// String returns the protobuf name of the kind ("uint32").
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// WireType is the wire type a single value of this kind is written with (a run of packed
// repeated numbers is length-delimited).
func (k Kind) WireType() protowire.Type {
	switch k {
	case KindString, KindBytes, KindMessage:
		return protowire.BytesType
	}
	return protowire.VarintType
}

// MessageDesc describes a protobuf message of the Parsec operations: its fields in number
// order and what the reference's converter requires of it.
type MessageDesc struct {
	// Name is the message's full protobuf name ("list_providers.ProviderInfo").
	Name   string
	Fields []FieldDesc
	// Oneof names the message's oneof when it has one ("variant"), and Required says the
	// converter refuses a message in which none of its members is set. The members are the
	// fields whose Oneof flag is set.
	Oneof         string
	OneofRequired bool
	// Check is a rule on the whole converted message, applied after the rules of its fields.
	Check Check
}

// FieldDesc describes one field of a message.
type FieldDesc struct {
	Number   protowire.Number
	Name     string
	Kind     Kind
	Repeated bool
	Oneof    bool         // a member of the message's oneof
	Message  *MessageDesc // KindMessage
	Enum     *EnumDesc    // KindEnum
	// Required says the converter refuses the message when this (message) field is absent.
	Required bool
	// Check is what the converter requires of the value beyond its wire format.
	Check Check
}

// EnumDesc describes a protobuf enum.
type EnumDesc struct {
	Name   string
	Values []EnumValueDesc
	// Unknown is the status the converter returns for a number the enum does not define.
	Unknown status.Code
}

// EnumValueDesc is one value of an enum.
type EnumValueDesc struct {
	Number int32
	Name   string
	// Refused is the status the converter returns for this value when it refuses it (the
	// _NONE values that "should not be used"), or 0 when it accepts it.
	Refused status.Code
}

// Value returns the enum's value of number n.
func (e *EnumDesc) Value(n int32) (EnumValueDesc, bool) {
	for _, v := range e.Values {
		if v.Number == n {
			return v, true
		}
	}
	return EnumValueDesc{}, false
}

// ByName returns the enum's value named name.
func (e *EnumDesc) ByName(name string) (EnumValueDesc, bool) {
	for _, v := range e.Values {
		if v.Name == name {
			return v, true
		}
	}
	return EnumValueDesc{}, false
}

// Field returns the field of number n, or nil.
func (m *MessageDesc) Field(n protowire.Number) *FieldDesc {
	for i := range m.Fields {
		if m.Fields[i].Number == n {
			return &m.Fields[i]
		}
	}
	return nil
}

// FieldByName returns the field named name, or nil.
func (m *MessageDesc) FieldByName(name string) *FieldDesc {
	for i := range m.Fields {
		if m.Fields[i].Name == name {
			return &m.Fields[i]
		}
	}
	return nil
}
