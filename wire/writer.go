package wire

import (
	"io"
	"math"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// AppendResponse appends a response frame to b: h with its content length set from body and
// its request-only fields (accept type, auth type, auth length) zero, as the specification
// asks and the reference writes them, then body. A status outside the table is refused with
// an error matching status.InvalidEncoding, and b is returned unchanged.
func AppendResponse(b []byte, h header.Header, body []byte) ([]byte, error) {
	if uint64(len(body)) > math.MaxUint32 {
		return b, &header.FieldError{Field: header.FieldContentLength, Offset: header.FieldContentLength.Offset(),
			Found: uint64(len(body)), Expected: math.MaxUint32, Code: status.ResponseTooLarge}
	}
	h.ContentLength = uint32(len(body))
	h.AcceptType, h.AuthType, h.AuthLength = 0, 0, 0
	b, err := h.AppendBinary(b)
	if err != nil {
		return b, err
	}
	return append(b, body...), nil
}

// AppendRequest appends a request frame to b: h with its content length and auth length set
// from body and auth and its status zero, then body, then auth. auth longer than 65535 bytes
// cannot be framed and is refused.
func AppendRequest(b []byte, h header.Header, body, auth []byte) ([]byte, error) {
	if uint64(len(body)) > math.MaxUint32 {
		return b, &header.FieldError{Field: header.FieldContentLength, Offset: header.FieldContentLength.Offset(),
			Found: uint64(len(body)), Expected: math.MaxUint32, Code: status.BodySizeExceedsLimit}
	}
	if len(auth) > math.MaxUint16 {
		return b, &header.FieldError{Field: header.FieldAuthLength, Offset: header.FieldAuthLength.Offset(),
			Found: uint64(len(auth)), Expected: math.MaxUint16, Code: status.BodySizeExceedsLimit}
	}
	h.ContentLength = uint32(len(body))
	h.AuthLength = uint16(len(auth))
	h.Status = status.Success
	b = h.AppendRaw(b)
	b = append(b, body...)
	return append(b, auth...), nil
}

// Writer writes whole frames to an io.Writer, each with one Write call from a buffer it
// reuses: one system call per frame on a socket, no allocation in steady state.
// A Writer is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteResponse writes a response frame (see AppendResponse).
func (w *Writer) WriteResponse(h header.Header, body []byte) error {
	b, err := AppendResponse(w.buf[:0], h, body)
	if err != nil {
		return err
	}
	w.buf = b
	_, err = w.w.Write(b)
	return err
}

// WriteRequest writes a request frame (see AppendRequest).
func (w *Writer) WriteRequest(h header.Header, body, auth []byte) error {
	b, err := AppendRequest(w.buf[:0], h, body, auth)
	if err != nil {
		return err
	}
	w.buf = b
	_, err = w.w.Write(b)
	return err
}
