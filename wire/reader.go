// Package wire frames whole Parsec messages (header, body, authentication bytes) on byte
// streams: a Reader for responses and requests that consumes exactly one frame at a time (for
// sockets), a Scanner that reads the frames and faults of a stream of any size with its own
// buffer and resynchronises after a bad frame (for captures, and for services reading
// requests), a Writer and append-style encoders, and a Client for one request/response round
// trip on the service's Unix socket, whose Call sends an operation built from named fields
// and decodes its result (package operation).
package wire

import (
	"errors"
	"io"
	"sync"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// DefaultLimit is the default body-size limit of a Reader: 1 MiB, the Parsec service's
// default body_len_limit.
const DefaultLimit = 1 << 20

// Reader reads Parsec frames, one after another, from an io.Reader: a connection to the
// service, a capture file. It reads exactly the bytes of each frame and never past its end,
// so a frame that is bad but whose lengths can be trusted (an unknown status, a body above
// the limit once Skip is called) leaves the stream in sync for the next one.
//
// It checks in the reference implementation's order, and the first failure wins: magic
// (InvalidHeader); the header size, whose announced bytes are consumed first (a stream that
// ends there is ConnectionError; a size other than 30, InvalidHeader); version
// (VersionTooBig); reserved bytes (InvalidHeader); content length above the limit
// (BodySizeExceedsLimit, the body neither read nor allocated); the body (a short read is
// ConnectionError and io.ErrUnexpectedEOF); in strict mode the semantic checks of
// header.CheckResponse; and last the status (InvalidEncoding).
//
// The body Next returns is the Reader's own buffer, reused for the next frame: it is valid
// until the next call on the Reader. ReadResponse returns a copy. The buffer grows to the
// largest body read, never beyond the limit (plus, for requests, the 64 KiB that an auth
// length can announce), and beyond 4 KiB only as fast as the bytes arrive: a peer that
// announces a large body or 64 KiB of auth bytes and sends less costs what it sent.
//
// The Reader makes one Read call per part of a frame (magic number, size field, the rest of
// the header, the body) so that it never reads past the frame; on a connection, put a
// bufio.Reader under it, as Client does, to save the system calls.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	r      io.Reader
	limit  uint32
	codes  status.Set
	strict bool

	hdr     [header.Size]byte
	buf     []byte
	off     int64  // bytes consumed from r
	start   int64  // offset of the current frame's first byte
	pending uint64 // body (and auth) bytes of a frame refused for its size, for Skip
}

// NewReader returns a Reader of r with the default limit (DefaultLimit), the default status
// table (status.Current) and strict mode off.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, limit: DefaultLimit}
}

// Reset makes the Reader read from r, keeping its settings and its buffer.
func (r *Reader) Reset(rd io.Reader) {
	r.r, r.off, r.start, r.pending = rd, 0, 0, 0
}

// SetLimit sets the largest content length the Reader accepts. A frame that announces more
// is refused with BodySizeExceedsLimit before anything is allocated for it.
func (r *Reader) SetLimit(n uint32) { r.limit = n }

// Limit returns the body-size limit.
func (r *Reader) Limit() uint32 { return r.limit }

// SetCodes sets the status codes a response may carry (status.Seed for the seed table only).
func (r *Reader) SetCodes(s status.Set) { r.codes = s }

// SetStrict turns on the reference implementation's semantic checks: header.CheckResponse
// for responses (known provider, protobuf content type, known opcode) and
// header.CheckRequest for requests.
func (r *Reader) SetStrict(on bool) { r.strict = on }

// Offset returns the number of bytes the Reader has consumed from its io.Reader.
func (r *Reader) Offset() int64 { return r.off }

// FrameOffset returns the offset, in the stream, of the first byte of the frame the last
// call read or tried to read. Offsets in a *header.FieldError count from there.
func (r *Reader) FrameOffset() int64 { return r.start }

// Next reads the next response into h and returns its body, which stays valid until the
// next call on the Reader. At the end of the stream, between frames, it returns io.EOF.
//
// On an error that leaves the frame's lengths trusted, h is filled in: a status outside the
// table (the whole frame has been consumed), a content length above the limit (call Skip to
// consume the body and stay in sync), and in strict mode the semantic checks.
func (r *Reader) Next(h *header.Header) ([]byte, error) {
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	statusErr := h.Unmarshal(r.hdr[:], r.codes)
	if statusErr != nil {
		if fe, ok := statusErr.(*header.FieldError); !ok || fe.Field != header.FieldStatus {
			return nil, statusErr
		}
	}
	body, err := r.readBody(h.ContentLength, 0)
	if err != nil {
		return nil, err
	}
	if r.strict {
		if err := h.CheckResponse(); err != nil {
			return body, err
		}
	}
	return body, statusErr
}

// NextRequest reads the next request into h and returns its body and authentication bytes,
// valid until the next call on the Reader. It follows the reference service: magic, header
// size, version, reserved bytes, the limit on the content length, the body and the
// authentication bytes (short: ConnectionError), then, in strict mode, header.CheckRequest
// (content type, accept type, auth type, opcode, provider). The status field of a request
// is not checked. A service, or a judge of one, sets strict mode to classify requests
// exactly as the reference service does.
func (r *Reader) NextRequest(h *header.Header) (body, auth []byte, err error) {
	if err := r.readHeader(); err != nil {
		return nil, nil, err
	}
	if err := h.UnmarshalRequest(r.hdr[:]); err != nil {
		return nil, nil, err
	}
	b, err := r.readBody(h.ContentLength, h.AuthLength)
	if err != nil {
		return nil, nil, err
	}
	body, auth = b[:h.ContentLength:h.ContentLength], b[h.ContentLength:]
	if r.strict {
		return body, auth, h.CheckRequest()
	}
	return body, auth, nil
}

// Response is a decoded response whose body the caller owns.
type Response struct {
	Header header.Header
	Body   []byte
}

// ReadResponse reads the next response like Next, and returns it with a copy of its body.
// On an error that leaves the header decoded (see Next), the Response holds it.
func (r *Reader) ReadResponse() (Response, error) {
	var resp Response
	body, err := r.Next(&resp.Header)
	if len(body) > 0 {
		resp.Body = append([]byte{}, body...)
	}
	return resp, err
}

// Skip consumes the body (and a request's authentication bytes) of a frame that Next or
// NextRequest refused with BodySizeExceedsLimit, without holding it in memory, so that the
// next frame can be read.
// It does nothing when no such body is pending.
func (r *Reader) Skip() error {
	for r.pending > 0 {
		chunk := r.hdr[:]
		if r.pending < uint64(len(chunk)) {
			chunk = chunk[:r.pending]
		}
		n, err := io.ReadFull(r.r, chunk)
		r.off += int64(n)
		r.pending -= uint64(n)
		if err != nil {
			have := int(r.off - r.start)
			need := have + int(r.pending)
			r.pending = 0
			return header.Truncated(have, need, cause(err))
		}
	}
	return nil
}

// readHeader reads one header into r.hdr, consuming exactly the bytes the frame announces.
func (r *Reader) readHeader() error {
	r.pending = 0
	r.start = r.off
	n, err := io.ReadFull(r.r, r.hdr[:4])
	r.off += int64(n)
	if err != nil {
		if n == 0 && err == io.EOF {
			return io.EOF
		}
		return header.Truncated(n, header.Size, cause(err))
	}
	// The magic number is checked before the size field is read, as the reference does, so
	// a stream of garbage costs 4 bytes and not more.
	if le32(r.hdr[:4]) != header.Magic {
		return &header.FieldError{Field: header.FieldMagic, Found: uint64(le32(r.hdr[:4])),
			Expected: uint64(header.Magic), Code: status.InvalidHeader}
	}
	if err := r.fill(4, header.PrefixSize); err != nil {
		return err
	}
	hs := int(r.hdr[4]) | int(r.hdr[5])<<8
	if hs == header.RestSize {
		return r.fill(header.PrefixSize, header.Size)
	}
	// Consume the announced bytes, as the reference does: in large reads through a shared
	// buffer, not 30 at a time (a stream of magic numbers announces 42 KB per 4 bytes).
	if got, err := r.discard(hs); err != nil {
		// The bytes missing are the ones a wrong header size announced: name that field.
		fe := header.Truncated(header.PrefixSize+got, header.PrefixSize+hs, cause(err))
		fe.Field = header.FieldHeaderSize
		return fe
	}
	return &header.FieldError{Field: header.FieldHeaderSize, Offset: header.FieldHeaderSize.Offset(),
		Found: uint64(hs), Expected: header.RestSize, Code: status.InvalidHeader}
}

// discardPool holds the buffers through which discard consumes announced header bytes: at
// most 65,535 of them, so one buffer takes them in one io.ReadFull, and a Reader that never
// meets a wrong header size holds none.
var discardPool = sync.Pool{New: func() any { return new([0xffff]byte) }}

// discard consumes exactly n <= 65535 bytes from the stream and returns how many it got.
func (r *Reader) discard(n int) (int, error) {
	buf := discardPool.Get().(*[0xffff]byte)
	got, err := io.ReadFull(r.r, buf[:n])
	discardPool.Put(buf)
	r.off += int64(got)
	return got, err
}

// fill reads r.hdr[from:to].
func (r *Reader) fill(from, to int) error {
	n, err := io.ReadFull(r.r, r.hdr[from:to])
	r.off += int64(n)
	if err != nil {
		return header.Truncated(from+n, header.Size, cause(err))
	}
	return nil
}

// firstStep is the largest buffer allocated for a body and its authentication bytes before
// any of them has arrived: a peer that announces a body within the limit, or 64 KiB of auth
// bytes whatever the limit, and sends nothing costs this much. maxStep bounds each later
// chunk, so what is held beyond the bytes that arrived stays under maxStep.
const (
	firstStep = 4 << 10
	maxStep   = 4 << 20
)

// readBody checks the content length against the limit and reads cl+al bytes into the
// reused buffer.
func (r *Reader) readBody(cl uint32, al uint16) ([]byte, error) {
	if cl > r.limit {
		r.pending = uint64(cl) + uint64(al)
		return nil, &header.FieldError{Field: header.FieldContentLength, Offset: header.FieldContentLength.Offset(),
			Found: uint64(cl), Expected: uint64(r.limit), Code: status.BodySizeExceedsLimit}
	}
	n := int(cl) + int(al)
	if cap(r.buf) >= n {
		b := r.buf[:n]
		got, err := io.ReadFull(r.r, b)
		r.off += int64(got)
		if err != nil {
			return nil, header.Truncated(header.Size+got, header.Size+n, cause(err))
		}
		return b, nil
	}
	return r.grow(n)
}

// grow reads an n-byte body larger than the buffer into chunks allocated as the bytes
// arrive, doubling from firstStep up to maxStep, and joins them into one buffer of exactly
// n bytes, kept for the next frames. A body that never completes (a peer that stops, a
// deadline) costs what arrived plus one chunk, and its chunks are dropped with the error:
// no copy of a growing buffer, no allocation ahead of the bytes. Chunks are not copied
// while they fill, so the time spent between two reads stays small whatever the size, and a
// read deadline holds.
func (r *Reader) grow(n int) ([]byte, error) {
	first := make([]byte, min(n, firstStep))
	got, err := io.ReadFull(r.r, first)
	r.off += int64(got)
	if err != nil {
		return nil, header.Truncated(header.Size+got, header.Size+n, cause(err))
	}
	if got == n {
		r.buf = first
		return first, nil
	}
	chunks := [][]byte{first}
	for step := 2 * firstStep; got < n; step = min(2*step, maxStep) {
		c := make([]byte, min(step, n-got))
		k, err := io.ReadFull(r.r, c)
		r.off += int64(k)
		got += k
		if err != nil {
			return nil, header.Truncated(header.Size+got, header.Size+n, cause(err))
		}
		chunks = append(chunks, c)
	}
	b := make([]byte, 0, n)
	for _, c := range chunks {
		b = append(b, c...)
	}
	r.buf = b
	return b, nil
}

// FrameDue turns the io.EOF that Next and NextRequest return for a stream that ends cleanly
// between frames into the error for a frame that was due and never came: a ConnectionError
// matching io.ErrUnexpectedEOF, as the reference classifies a stream that ends before the
// magic number. Use it where exactly one frame is expected (an answer, a request). Other
// errors are returned as they are.
func FrameDue(err error) error {
	if err == io.EOF {
		return header.Truncated(0, header.Size, io.ErrUnexpectedEOF)
	}
	return err
}

// cause turns the io.EOF of a stream that ends inside a frame into io.ErrUnexpectedEOF and
// keeps every other read error (a deadline, a reset) as it is.
func cause(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
