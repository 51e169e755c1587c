// Package header encodes, decodes and validates the fixed 36-byte Parsec wire header.
//
// The layout (all multi-byte fields little-endian, no padding):
//
//	offset size field
//	     0    4 magic number 0x5EC0A710
//	     4    2 header size: 30, the bytes after this field
//	     6    1 major version: 1
//	     7    1 minor version: 0
//	     8    2 flags
//	    10    1 provider
//	    11    8 session handle
//	    19    1 content type
//	    20    1 accept type   (requests only)
//	    21    1 auth type     (requests only)
//	    22    4 content length
//	    26    2 auth length   (requests only)
//	    28    4 opcode
//	    32    2 status        (responses only)
//	    34    1 reserved, 0
//	    35    1 reserved, 0
//
// (*Header).UnmarshalBinary is the hot path: it decodes into caller-owned memory with fixed
// offsets and allocates nothing on success. Decode is the by-value convenience form.
package header

import (
	"encoding/binary"
	"io"
	"slices"

	"github.com/parsecwire/parsecwire/status"
)

const (
	// Size is the size of the version 1.0 header in bytes.
	Size = 36
	// Magic is the magic number every frame starts with (bytes 10 A7 C0 5E on the wire).
	Magic uint32 = 0x5EC0A710
	// PrefixSize is the part of the header that is the same in every version: the magic
	// number and the header-size field. The header-size field counts the bytes after it.
	PrefixSize = 6
	// RestSize is the value of the header-size field in version 1.0: Size - PrefixSize.
	RestSize = Size - PrefixSize
	// VersionMajor and VersionMinor are the wire-protocol version this package speaks.
	VersionMajor = 1
	VersionMinor = 0
)

// Header is a decoded Parsec header. It is a plain comparable value. The constant fields
// (magic, header size, version, reserved bytes) are not stored: they are checked on decode
// and written on encode.
//
// The fields are ordered for size, not wire order: 32 bytes instead of 40, which is what a
// by-value copy costs.
type Header struct {
	Session       uint64      // session handle
	ContentLength uint32      // bytes of body that follow the header
	Opcode        uint32      // operation
	Flags         uint16      // currently unused, 0
	AuthLength    uint16      // requests: bytes of authentication after the body
	Status        status.Code // responses: the status; 0 in requests
	Provider      uint8       // provider ID; 0 is the core provider
	ContentType   uint8       // 0 is protobuf
	AcceptType    uint8       // requests: wanted content type of the response
	AuthType      uint8       // requests: authentication type
}

// UnmarshalBinary decodes a response header from the first Size bytes of b and validates it
// against the default status table (status.Current). It does not retain b.
//
// On a status outside the table every field of h has been decoded (h.Status holds the raw
// value) and the error, a *FieldError for FieldStatus, matches status.InvalidEncoding: a
// stream reader can still skip the frame by its lengths. On any other error the contents of
// h are unspecified.
func (h *Header) UnmarshalBinary(b []byte) error { return h.Unmarshal(b, status.Current) }

// Unmarshal is UnmarshalBinary with the set of status codes to accept: status.Seed for
// validating against the seed document alone.
func (h *Header) Unmarshal(b []byte, codes status.Set) error {
	// One comparison covers magic, header size and version (the first 8 bytes, the part
	// every version shares) and one the reserved bytes; the exact fault is worked out off
	// the hot path, in the reference's order.
	if len(b) < Size || binary.LittleEndian.Uint64(b) != prefix || b[offReserved1]|b[offReserved2] != 0 {
		return fault(b)
	}
	h.UnmarshalRaw((*[Size]byte)(b))
	if !codes.Contains(h.Status) {
		return &FieldError{Field: FieldStatus, Offset: offStatus, Found: uint64(h.Status),
			Expected: uint64(codes), Code: status.InvalidEncoding}
	}
	return nil
}

// prefix is the first 8 bytes of every valid version 1.0 header, read little-endian: magic,
// header size 30, version 1.0.
const prefix = uint64(Magic) | RestSize<<32 | VersionMajor<<48 | VersionMinor<<56

// UnmarshalRequest decodes a header with every check that applies to a request: magic,
// header size, version and reserved bytes. The status field is decoded but not checked, as
// the reference implementation does for requests.
//
// The checks run in the reference implementation's order, and the first failure wins:
// magic (InvalidHeader), then the header size (the bytes it announces must be in b,
// else ConnectionError with io.ErrUnexpectedEOF; then it must be 30, else InvalidHeader),
// then the version (VersionTooBig), then the reserved bytes (InvalidHeader).
func (h *Header) UnmarshalRequest(b []byte) error {
	if len(b) < Size || binary.LittleEndian.Uint64(b) != prefix || b[offReserved1]|b[offReserved2] != 0 {
		return fault(b)
	}
	h.UnmarshalRaw((*[Size]byte)(b))
	return nil
}

// UnmarshalRaw decodes the variable fields of the header in p and checks nothing: the
// constant fields are not read and the status may be outside any table. It is AppendRaw's
// inverse, for readers that check the constant fields their own way (wire.Scanner compares
// them with two loads before it decodes, and must not build an error for a fault it will
// report later) and for tools that want what a broken header says. It is small enough to be
// inlined.
func (h *Header) UnmarshalRaw(p *[Size]byte) {
	h.Flags = binary.LittleEndian.Uint16(p[offFlags:])
	h.Provider = p[offProvider]
	h.Session = binary.LittleEndian.Uint64(p[offSession:])
	h.ContentType = p[offContentType]
	h.AcceptType = p[offAcceptType]
	h.AuthType = p[offAuthType]
	h.ContentLength = binary.LittleEndian.Uint32(p[offContentLength:])
	h.AuthLength = binary.LittleEndian.Uint16(p[offAuthLength:])
	h.Opcode = binary.LittleEndian.Uint32(p[offOpcode:])
	h.Status = status.Code(binary.LittleEndian.Uint16(p[offStatus:]))
}

// fault returns the error for a b whose constant fields are wrong or that is too short, in
// the reference's order of checks.
func fault(b []byte) error {
	if len(b) < Size {
		return short(b)
	}
	if m := binary.LittleEndian.Uint32(b[offMagic:]); m != Magic {
		return &FieldError{Field: FieldMagic, Offset: offMagic, Found: uint64(m), Expected: uint64(Magic), Code: status.InvalidHeader}
	}
	if hs := binary.LittleEndian.Uint16(b[offHeaderSize:]); hs != RestSize {
		return headerSize(hs, len(b))
	}
	if b[offVersionMajor] != VersionMajor || b[offVersionMinor] != VersionMinor {
		return &FieldError{Field: FieldVersion, Offset: offVersionMajor,
			Found:    uint64(b[offVersionMajor])<<8 | uint64(b[offVersionMinor]),
			Expected: VersionMajor<<8 | VersionMinor, Code: status.VersionTooBig}
	}
	if b[offReserved1] != 0 {
		return &FieldError{Field: FieldReserved1, Offset: offReserved1, Found: uint64(b[offReserved1]), Code: status.InvalidHeader}
	}
	return &FieldError{Field: FieldReserved2, Offset: offReserved2, Found: uint64(b[offReserved2]), Code: status.InvalidHeader}
}

// Decode decodes and validates a response header from the first Size bytes of b. It is the
// convenience form of UnmarshalBinary. On hot paths decode into a Header you keep: returning
// the 32-byte value costs about three times the decode itself on amd64, because the copy of
// the result reads with 16-byte loads what the decode has just written field by field, and
// the processor cannot forward those stores to the loads (see the README's benchmarks).
func Decode(b []byte) (Header, error) {
	var h Header
	err := h.UnmarshalBinary(b)
	return h, err
}

// short classifies a b shorter than Size the way the reference classifies a stream that
// holds exactly b: a wrong magic number is still InvalidHeader, and a header-size field that
// fits in b but is not 30 is still InvalidHeader; everything else is a truncated frame.
func short(b []byte) error {
	if len(b) >= 4 {
		if m := binary.LittleEndian.Uint32(b); m != Magic {
			return &FieldError{Field: FieldMagic, Offset: offMagic, Found: uint64(m), Expected: uint64(Magic), Code: status.InvalidHeader}
		}
	}
	if len(b) >= PrefixSize {
		return headerSize(binary.LittleEndian.Uint16(b[offHeaderSize:]), len(b))
	}
	return Truncated(len(b), Size, io.ErrUnexpectedEOF)
}

// headerSize classifies a header-size field hs other than 30 (or any hs when n < Size) in a
// frame of which n bytes are at hand. The reference first reads the hs bytes announced, so a
// frame that does not hold them is truncated before it is wrong.
func headerSize(hs uint16, n int) error {
	if PrefixSize+int(hs) > n {
		err := Truncated(n, PrefixSize+int(hs), io.ErrUnexpectedEOF)
		if hs != RestSize {
			// The bytes missing are the ones a wrong header size announced: name that field.
			err.Field = FieldHeaderSize
		}
		return err
	}
	return &FieldError{Field: FieldHeaderSize, Offset: offHeaderSize, Found: uint64(hs), Expected: RestSize, Code: status.InvalidHeader}
}

// Truncated returns the error for a frame that ends, or whose read fails with cause, after
// have of the need bytes it should hold: a ConnectionError, as the reference classifies it,
// that also matches cause (io.ErrUnexpectedEOF, or a read error such as a deadline).
func Truncated(have, need int, cause error) *FieldError {
	return &FieldError{Field: FieldAt(have), Offset: have, Found: uint64(have), Expected: uint64(need),
		Code: status.ConnectionError, Err: cause}
}

// AppendBinary appends the 36-byte encoding of h to b: magic, header size 30, version 1.0,
// h's fields and zero reserved bytes. It refuses a status outside the table with an error
// matching status.InvalidEncoding, and then returns b unchanged. It implements
// encoding.BinaryAppender and does not retain or modify b[:len(b)].
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	if !h.Status.Known() {
		return b, &FieldError{Field: FieldStatus, Offset: offStatus, Found: uint64(h.Status), Code: status.InvalidEncoding}
	}
	n := len(b)
	b = slices.Grow(b, Size)[:n+Size]
	h.put((*[Size]byte)(b[n:]))
	return b, nil
}

// MarshalBinary returns the 36-byte encoding of h. It is AppendBinary on a new slice.
func (h Header) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(make([]byte, 0, Size))
}

// AppendRaw appends the encoding of h without checking its status, for tools that must emit
// broken frames on purpose (fuzzers, hostile test servers).
func (h Header) AppendRaw(b []byte) []byte {
	n := len(b)
	b = slices.Grow(b, Size)[:n+Size]
	h.put((*[Size]byte)(b[n:]))
	return b
}

func (h *Header) put(p *[Size]byte) {
	binary.LittleEndian.PutUint32(p[offMagic:], Magic)
	binary.LittleEndian.PutUint16(p[offHeaderSize:], RestSize)
	p[offVersionMajor] = VersionMajor
	p[offVersionMinor] = VersionMinor
	binary.LittleEndian.PutUint16(p[offFlags:], h.Flags)
	p[offProvider] = h.Provider
	binary.LittleEndian.PutUint64(p[offSession:], h.Session)
	p[offContentType] = h.ContentType
	p[offAcceptType] = h.AcceptType
	p[offAuthType] = h.AuthType
	binary.LittleEndian.PutUint32(p[offContentLength:], h.ContentLength)
	binary.LittleEndian.PutUint16(p[offAuthLength:], h.AuthLength)
	binary.LittleEndian.PutUint32(p[offOpcode:], h.Opcode)
	binary.LittleEndian.PutUint16(p[offStatus:], uint16(h.Status))
	p[offReserved1] = 0
	p[offReserved2] = 0
}

// CheckResponse applies the reference implementation's semantic checks of a response header,
// in its order: an unknown provider is ProviderDoesNotExist, a content type other than
// protobuf is ContentTypeNotSupported, an unknown opcode is OpcodeDoesNotExist. The
// reference applies them after it has read the body and before it checks the status;
// parsecwire applies them only when asked (strict mode), because new providers and opcodes
// appear over time.
func (h *Header) CheckResponse() error {
	if _, ok := ProviderName(h.Provider); !ok {
		return &FieldError{Field: FieldProvider, Offset: offProvider, Found: uint64(h.Provider), Code: status.ProviderDoesNotExist}
	}
	if h.ContentType != ContentProtobuf {
		return &FieldError{Field: FieldContentType, Offset: offContentType, Found: uint64(h.ContentType), Expected: ContentProtobuf, Code: status.ContentTypeNotSupported}
	}
	if _, ok := OpcodeName(h.Opcode); !ok {
		return &FieldError{Field: FieldOpcode, Offset: offOpcode, Found: uint64(h.Opcode), Code: status.OpcodeDoesNotExist}
	}
	return nil
}

// CheckRequest applies the reference implementation's semantic checks of a request header,
// in its order: content type (ContentTypeNotSupported), accept type
// (AcceptTypeNotSupported), auth type (AuthenticatorDoesNotExist), opcode
// (OpcodeDoesNotExist), provider (ProviderDoesNotExist). A service applies them after it has
// read the body and the authentication bytes.
func (h *Header) CheckRequest() error {
	if h.ContentType != ContentProtobuf {
		return &FieldError{Field: FieldContentType, Offset: offContentType, Found: uint64(h.ContentType), Expected: ContentProtobuf, Code: status.ContentTypeNotSupported}
	}
	if h.AcceptType != ContentProtobuf {
		return &FieldError{Field: FieldAcceptType, Offset: offAcceptType, Found: uint64(h.AcceptType), Expected: ContentProtobuf, Code: status.AcceptTypeNotSupported}
	}
	if _, ok := AuthTypeName(h.AuthType); !ok {
		return &FieldError{Field: FieldAuthType, Offset: offAuthType, Found: uint64(h.AuthType), Code: status.AuthenticatorDoesNotExist}
	}
	if _, ok := OpcodeName(h.Opcode); !ok {
		return &FieldError{Field: FieldOpcode, Offset: offOpcode, Found: uint64(h.Opcode), Code: status.OpcodeDoesNotExist}
	}
	if _, ok := ProviderName(h.Provider); !ok {
		return &FieldError{Field: FieldProvider, Offset: offProvider, Found: uint64(h.Provider), Code: status.ProviderDoesNotExist}
	}
	return nil
}
