package operation

import (
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// ForFrame returns the message the body of a frame holds when a Parsec peer reads it: a
// request's, or a Success response's, of an opcode the schema describes, with content type
// protobuf. The body of any other frame is not read as an operation's (a response that is
// not Success carries its status alone, and Parsec clients do not decode its body), and
// ForFrame returns false.
func ForFrame(h *header.Header, d Dir) (*MessageDesc, bool) {
	if h.ContentType != header.ContentProtobuf || (d == Response && h.Status != status.Success) {
		return nil, false
	}
	return Lookup(h.Opcode, d)
}

// ValidateFrame judges the body of a frame whose header h has been read, as the reference
// judges it: Validate when ForFrame says the body is read, nil otherwise.
func ValidateFrame(h *header.Header, d Dir, body []byte) error {
	if _, ok := ForFrame(h, d); !ok {
		return nil
	}
	return Validate(h.Opcode, d, body)
}

// DecodeFrame decodes the body of a frame whose header h has been read: Decode when ForFrame
// says the body is read; nil, nil otherwise.
func DecodeFrame(h *header.Header, d Dir, body []byte) (Fields, error) {
	return DecodeOptions{}.DecodeFrame(h, d, body)
}

// DecodeFrame is the package's DecodeFrame with the options.
func (o DecodeOptions) DecodeFrame(h *header.Header, d Dir, body []byte) (Fields, error) {
	if _, ok := ForFrame(h, d); !ok {
		return nil, nil
	}
	return o.Decode(h.Opcode, d, body)
}
