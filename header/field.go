package header

import (
	"strconv"

	"github.com/parsecwire/parsecwire/status"
)

// Field names a part of a Parsec frame: one of the header's fields, or the body or the
// authentication bytes that follow it.
type Field uint8

// The fields of a frame, in wire order.
const (
	FieldMagic Field = iota
	FieldHeaderSize
	FieldVersion // major (offset 6) and minor (offset 7) together
	FieldFlags
	FieldProvider
	FieldSession
	FieldContentType
	FieldAcceptType
	FieldAuthType
	FieldContentLength
	FieldAuthLength
	FieldOpcode
	FieldStatus
	FieldReserved1
	FieldReserved2
	FieldBody // the ContentLength bytes after the header
	FieldAuth // a request's AuthLength bytes after the body
)

// Byte offsets of the header's fields, from the first byte of the frame.
const (
	offMagic         = 0
	offHeaderSize    = 4
	offVersionMajor  = 6
	offVersionMinor  = 7
	offFlags         = 8
	offProvider      = 10
	offSession       = 11
	offContentType   = 19
	offAcceptType    = 20
	offAuthType      = 21
	offContentLength = 22
	offAuthLength    = 26
	offOpcode        = 28
	offStatus        = 32
	offReserved1     = 34
	offReserved2     = 35
)

var fields = [...]struct {
	name   string
	offset int
	size   int
}{
	FieldMagic:         {"magic", offMagic, 4},
	FieldHeaderSize:    {"header size", offHeaderSize, 2},
	FieldVersion:       {"version", offVersionMajor, 2},
	FieldFlags:         {"flags", offFlags, 2},
	FieldProvider:      {"provider", offProvider, 1},
	FieldSession:       {"session", offSession, 8},
	FieldContentType:   {"content type", offContentType, 1},
	FieldAcceptType:    {"accept type", offAcceptType, 1},
	FieldAuthType:      {"auth type", offAuthType, 1},
	FieldContentLength: {"content length", offContentLength, 4},
	FieldAuthLength:    {"auth length", offAuthLength, 2},
	FieldOpcode:        {"opcode", offOpcode, 4},
	FieldStatus:        {"status", offStatus, 2},
	FieldReserved1:     {"reserved1", offReserved1, 1},
	FieldReserved2:     {"reserved2", offReserved2, 1},
	FieldBody:          {"body", Size, 0},
	FieldAuth:          {"auth", Size, 0},
}

// String returns the field's name as the specification writes it ("content length").
func (f Field) String() string {
	if int(f) < len(fields) {
		return fields[f].name
	}
	return "Field(" + strconv.Itoa(int(f)) + ")"
}

// Offset returns the field's byte offset from the start of the frame. The body starts at
// Size; a request's authentication bytes start after the body, so Offset returns Size for
// them too.
func (f Field) Offset() int {
	if int(f) < len(fields) {
		return fields[f].offset
	}
	return 0
}

// Len returns the field's size in bytes; 0 for the body and authentication, whose sizes the
// header gives.
func (f Field) Len() int {
	if int(f) < len(fields) {
		return fields[f].size
	}
	return 0
}

// FieldAt returns the header field that holds byte offset off of a frame (FieldBody for
// offsets past the header).
func FieldAt(off int) Field {
	for f := FieldMagic; f <= FieldReserved2; f++ {
		if off < fields[f].offset+fields[f].size {
			return f
		}
	}
	return FieldBody
}

// FieldError reports a frame that breaks the Parsec wire protocol: which field, at which byte
// offset of the frame, what was found, what was expected, and the Parsec status that
// classifies the fault (the one the reference implementation returns for it).
//
// errors.Is(err, status.InvalidHeader) (or the Code concerned) holds for a FieldError, and
// errors.Is(err, io.ErrUnexpectedEOF) holds when the frame was cut short. errors.As with a
// *FieldError gives the details.
type FieldError struct {
	Field    Field
	Offset   int         // byte offset of the fault from the start of the frame
	Found    uint64      // the value found; for a short frame, the bytes that were there
	Expected uint64      // the value expected; for a short frame, the bytes needed; for FieldStatus, the status.Set checked
	Code     status.Code // the Parsec status that classifies the fault
	Err      error       // the underlying cause, if any: io.ErrUnexpectedEOF, a read error
}

// Error describes the fault, e.g.
// "parsec frame: magic at offset 0: found 0x12345678, expected 0x5ec0a710 (InvalidHeader)".
func (e *FieldError) Error() string {
	s := "parsec frame: " + e.Field.String() + " at offset " + strconv.Itoa(e.Offset) + ": "
	switch {
	case e.Err != nil:
		s += "have " + strconv.FormatUint(e.Found, 10) + " of " + strconv.FormatUint(e.Expected, 10) + " bytes"
	case e.Field == FieldMagic:
		s += "found 0x" + strconv.FormatUint(e.Found, 16) + ", expected 0x" + strconv.FormatUint(e.Expected, 16)
	case e.Field == FieldVersion:
		s += "found " + version(e.Found) + ", expected " + version(e.Expected)
	case e.Field == FieldStatus:
		s += "found " + strconv.FormatUint(e.Found, 10) + ", expected a code in the "
		if e.Expected == uint64(status.Seed) {
			s += "seed "
		}
		s += "status table"
	case e.Code == status.BodySizeExceedsLimit:
		s += "found " + strconv.FormatUint(e.Found, 10) + ", expected at most " + strconv.FormatUint(e.Expected, 10)
	case e.Code == status.ProviderDoesNotExist, e.Code == status.OpcodeDoesNotExist,
		e.Code == status.AuthenticatorDoesNotExist:
		s += "found " + strconv.FormatUint(e.Found, 10) + ", expected a known " + e.Field.String()
	default:
		s += "found " + strconv.FormatUint(e.Found, 10) + ", expected " + strconv.FormatUint(e.Expected, 10)
	}
	s += " (" + e.Code.String() + ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Status returns the Parsec status that classifies the fault.
func (e *FieldError) Status() status.Code { return e.Code }

// Is reports whether target is the classifying status. errors.Is then follows Unwrap to the
// underlying cause. (Is and Unwrap rather than Unwrap() []error: that would allocate a slice
// on every errors.Is, and fuzzers and validators match millions of these.)
func (e *FieldError) Is(target error) bool {
	c, ok := target.(status.Code)
	return ok && c == e.Code
}

// As sets a *status.Code target to the classifying status.
func (e *FieldError) As(target any) bool {
	if p, ok := target.(*status.Code); ok {
		*p = e.Code
		return true
	}
	return false
}

// Unwrap returns the underlying cause (io.ErrUnexpectedEOF, a read error), or nil.
func (e *FieldError) Unwrap() error { return e.Err }

// Version returns the major and minor version of a FieldVersion error's frame.
func (e *FieldError) Version() (major, minor uint8) {
	return uint8(e.Found >> 8), uint8(e.Found)
}

func version(v uint64) string {
	return strconv.Itoa(int(uint8(v>>8))) + "." + strconv.Itoa(int(uint8(v)))
}
