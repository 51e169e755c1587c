package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// ErrPending is what an io.Reader under a Scanner returns when it has no bytes yet but will
// have more later: a capture whose connections interleave feeds each connection's Scanner
// as its segments arrive. Scan then returns false and Err returns ErrPending, with the frame
// in progress kept; once the reader has more, Scan resumes it.
var ErrPending = errors.New("wire: no bytes available yet")

// Frame is what Scanner.Scan found at one place of the stream: a frame, valid or not.
type Frame struct {
	// Offset is the stream offset of the frame's first byte. Offsets in a
	// *header.FieldError count from there.
	Offset int64
	// Len is the number of bytes the frame occupies: 36 plus its content length (plus its
	// auth length for a request) when its lengths are trusted; otherwise the bytes the
	// verdict needed (4 for a wrong magic number, 6 plus the announced header size...).
	Len int64
	// Header holds the decoded header when Decoded is set, an unknown status included.
	Header header.Header
	// Decoded says that the header's constant fields were valid and Header holds its fields.
	Decoded bool
	// Body and Auth (requests) alias the Scanner's buffer: valid until the next Scan.
	// They are nil when Dropped is set or the frame was refused before its body was read.
	Body, Auth []byte
	// Dropped says that the body (and auth bytes) did not fit in the Scanner's buffer: they
	// were read, counted and discarded. The verdict is the same as if they had been held.
	Dropped bool
	// Err is nil for a valid frame; otherwise the fault, a *header.FieldError matching the
	// Parsec status that classifies it, exactly as Reader.Next (NextRequest) would return it
	// for a stream that starts at Offset. Like Body it is valid until the next Scan, which
	// may reuse it: to keep it, keep a copy of the FieldError (errors.As, then *fe).
	Err error
	// Skipped counts the bytes before Offset that no frame accounts for: after a fault whose
	// lengths could not be trusted the Scanner resumed at this frame's magic number, and the
	// fault was at Offset - Skipped. 0 when the frame follows the previous one directly.
	Skipped int64
	// Request says the frame was read as a request.
	Request bool
}

// Scanner reads the frames of a stream of any size, one per Scan, like bufio.Scanner reads
// lines. Faults are frames too: after one whose lengths can be trusted (an unknown status,
// a body above the limit, a reserved byte set, a strict-mode fault) the Scanner skips
// exactly that frame; after one whose lengths cannot (magic, header size, version, a header
// size whose announced bytes are missing) it resumes at the next magic number after the
// fault's first byte that is followed by a header size of 30, and says how many bytes it
// skipped (Frame.Skipped, Tail). Magic numbers followed by another size are skipped with
// the rest: a run of them is garbage, reported once, not once per 4 bytes.
//
// Its verdict on a frame is the one Reader.Next (NextRequest when SetRequests is on) gives
// for a stream starting at that frame's offset, in the reference implementation's order of
// checks: magic, header size (its announced bytes consumed first: a stream that ends before
// them is ConnectionError), version, reserved bytes, the limit, the body (and auth bytes;
// short is ConnectionError), the strict checks, the status.
//
// The Scanner owns a buffer: a frame already in it costs one bounds-checked slice, and the
// body it hands out aliases it, valid until the next Scan. The buffer starts small and grows
// only as bytes arrive, to at most the largest frame the limit allows (see Buffer): a body
// larger than that is read and discarded, not held (Frame.Dropped).
//
// It calls Read only when the frame in progress needs more bytes, never to fill the buffer
// while a whole frame is buffered, so on a connection it does not block past a frame that
// has arrived. A read error (a deadline, a reset) is reported as a ConnectionError fault
// that unwraps to the cause, then Scan returns false and Err returns the cause. A caller may
// stop after any frame: the Scanner has read nothing beyond what that frame's verdict needed.
//
// A Scanner is not safe for concurrent use.
type Scanner struct {
	r        io.Reader
	limit    uint32
	codes    status.Set
	strict   bool
	requests bool

	buf    []byte // buf[lo:hi] are buffered bytes not yet consumed
	lo, hi int
	max    int   // the buffer never grows beyond max bytes
	keep   int   // a frame larger than keep has its body dropped, not held; keep <= max
	base   int64 // stream offset of buf[0]
	rerr   error // the error of the last Read, io.EOF at the end: sticky but for ErrPending

	f    Frame
	busy bool              // set when Scan must take its slow path: work left, strict mode, done
	fe   header.FieldError // the fault of the current frame, reused: see Frame.Err
	err  error             // what Err returns
	done bool

	// Work left by the previous frame, done by the next Scan so that a caller who stops
	// after a frame never waits for it.
	skip    int64 // bytes to discard: a refused body, skipped by its length
	resync  bool  // look for the next magic number
	gapFrom int64 // offset of the fault a resync started from
	gap     int64 // bytes a finished resync skipped, for the next frame's Skipped
	tail    int64 // bytes skipped at the end of the stream with no magic number after them

	// A frame whose body is being discarded because it does not fit in the buffer: it may
	// span several Scans when the reader says ErrPending.
	drop     int64 // body bytes still to discard
	dropHave int64 // body bytes discarded so far
	dropHdr  header.Header
	dropErr  error // the status fault deferred until after the body
	dropOff  int64
}

// minBuffer is the buffer a Scanner starts with.
const minBuffer = 4 << 10

// lookahead is the most a header can announce: the reference reads all of it before it
// rejects a header size other than 30, and the Scanner keeps it buffered so that it can
// resume inside it.
const lookahead = header.PrefixSize + 0xffff

// NewScanner returns a Scanner of r with the default limit (DefaultLimit), the default
// status table (status.Current), strict mode off, reading responses.
func NewScanner(r io.Reader) *Scanner {
	s := &Scanner{r: r, limit: DefaultLimit}
	s.max = s.frameMax()
	s.keep = s.max
	return s
}

// frameMax is the largest frame the limit allows, or the largest header size lookahead.
func (s *Scanner) frameMax() int {
	n := header.Size + int(s.limit)
	if s.requests {
		n += 0xffff
	}
	return max(n, lookahead)
}

// SetLimit sets the largest content length the Scanner accepts (BodySizeExceedsLimit above
// it). It also sets the buffer's largest size to the largest frame the limit allows, unless
// Buffer set a smaller one.
func (s *Scanner) SetLimit(n uint32) {
	fit := s.keep == s.frameMax()
	s.limit = n
	if fit {
		s.max, s.keep = s.frameMax(), s.frameMax()
	}
}

// SetCodes sets the status codes a response may carry (status.Seed for the seed table only).
func (s *Scanner) SetCodes(c status.Set) { s.codes = c }

// SetStrict turns on the reference's semantic checks (header.CheckResponse,
// header.CheckRequest), as Reader.SetStrict does.
func (s *Scanner) SetStrict(on bool) { s.strict, s.busy = on, on || s.busy }

// SetRequests makes the Scanner read requests (header, body, auth bytes, the checks of
// Reader.NextRequest) instead of responses.
func (s *Scanner) SetRequests(on bool) {
	fit := s.keep == s.frameMax()
	s.requests = on
	if fit {
		s.max, s.keep = s.frameMax(), s.frameMax()
	}
}

// Buffer sets the buffer the Scanner starts with and the largest frame it holds, as
// bufio.Scanner.Buffer does; buf nil keeps the buffer the Scanner has, maxFrame <= 0 the
// default, the largest frame the limit allows. A frame larger than maxFrame is still judged, its body read and discarded
// (Frame.Dropped). The buffer itself may still grow to 65,541 bytes: a header can announce
// that much, the reference consumes it before its verdict, and the Scanner resumes inside
// it after the fault. Call Buffer before Scan.
func (s *Scanner) Buffer(buf []byte, maxFrame int) {
	if buf != nil {
		s.buf = buf[:cap(buf)]
	}
	if maxFrame <= 0 {
		maxFrame = s.frameMax()
	}
	s.keep = maxFrame
	s.max = max(maxFrame, lookahead, len(s.buf))
}

// Reset makes the Scanner read a new stream from r, with offsets from 0, keeping its
// settings and its buffer.
func (s *Scanner) Reset(r io.Reader) {
	buf, settings := s.buf, *s
	*s = Scanner{r: r, limit: settings.limit, codes: settings.codes, strict: settings.strict,
		requests: settings.requests, max: settings.max, keep: settings.keep, buf: buf, busy: settings.strict}
}

// Frame returns the frame the last successful Scan found. It and the slices in it are
// valid until the next Scan.
func (s *Scanner) Frame() *Frame { return &s.f }

// Err returns the error that ended the scan: nil at the end of the stream, the read error
// otherwise (also reported as a fault frame), or ErrPending when the reader had no bytes yet.
func (s *Scanner) Err() error { return s.err }

// Offset returns the stream offset of the first byte not yet consumed: the end of the last
// frame (or of the bytes its verdict needed, when a resync follows).
func (s *Scanner) Offset() int64 { return s.base + int64(s.lo) }

// Tail returns the bytes at the end of the stream that were skipped after the last fault
// without finding another magic number. Valid once Scan has returned false.
func (s *Scanner) Tail() int64 { return s.tail }

// Resyncing reports whether the last frame's lengths could not be trusted, so that the next
// Scan starts by looking for a magic number (followed by a header size of 30): the bytes it skips are the next frame's
// Skipped, or Tail at the end of the stream.
func (s *Scanner) Resyncing() bool { return s.resync }

// Resync makes the next Scan look for a magic number first, as after a fault whose lengths
// cannot be trusted: for a stream that resumes after bytes a capture lost. The bytes skipped
// are counted from the current offset.
func (s *Scanner) Resync() {
	s.resync, s.gapFrom, s.busy = true, s.Offset(), true
}

// Buffered returns the bytes read from the io.Reader and not yet consumed.
func (s *Scanner) Buffered() int { return s.hi - s.lo }

// Scan finds the next frame, which Frame then returns. It returns false at the end of the
// stream, after a read error (reported first as a fault frame), or when the reader returns
// ErrPending (call Scan again once it has more bytes).
func (s *Scanner) Scan() bool {
	if !s.busy && s.fast() {
		return true
	}
	ok := s.scan()
	s.busy = s.done || s.err != nil || s.skip > 0 || s.resync || s.drop > 0 || s.dropHave > 0 || s.strict
	return ok
}

// fast reads a whole valid frame that is already buffered: one decode and one slice. The
// constant fields are compared first so that a fault costs no error built and dropped.
func (s *Scanner) fast() bool {
	b := s.buf[s.lo:s.hi]
	if len(b) < header.Size || le64(b) != prefix || b[34]|b[35] != 0 {
		return false
	}
	f := &s.f
	f.Header.UnmarshalRaw((*[header.Size]byte)(b))
	if !s.requests && !s.codes.Contains(f.Header.Status) || f.Header.ContentLength > s.limit {
		return false
	}
	n := uint64(f.Header.ContentLength)
	al := uint64(0)
	if s.requests {
		al = uint64(f.Header.AuthLength)
	}
	if n+al > uint64(len(b)-header.Size) || header.Size+n+al > uint64(s.keep) {
		return false
	}
	end := header.Size + int(n)
	f.Offset, f.Len, f.Decoded, f.Dropped, f.Request = s.base+int64(s.lo), int64(header.Size+n+al), true, false, s.requests
	// Pointer stores pay a write-barrier check: the ones that are usually nil already are
	// skipped then.
	if f.Err != nil {
		f.Err = nil
	}
	f.Body = b[header.Size:end:end]
	if s.requests {
		f.Auth = b[end : end+int(al) : end+int(al)]
	} else if f.Auth != nil {
		f.Auth = nil
	}
	f.Skipped, s.gap = s.gap, 0
	s.consume(end + int(al))
	return true
}

// scan is Scan's path for everything but a whole valid frame in the buffer.
func (s *Scanner) scan() bool {
	if s.done {
		return false
	}
	s.err = nil
	if s.drop > 0 || s.dropHave > 0 {
		return s.dropBody()
	}
	if s.skip > 0 && !s.skipBytes() {
		return s.stop()
	}
	if s.resync && !s.findMagic() {
		return s.stop()
	}
	if !s.strict && s.fast() {
		return true
	}
	if s.slow() {
		s.gap = 0
		return true
	}
	return false
}

// stop ends a Scan that found nothing: at the end, on a read error, or pending.
func (s *Scanner) stop() bool {
	switch s.rerr {
	case nil, io.EOF:
		s.done = s.rerr == io.EOF
	case ErrPending:
		s.rerr = nil
		s.err = ErrPending
	default:
		// A read error between frames: report it where it happened, then end.
		s.fault(s.Offset(), 0, header.Truncated(0, header.Size, s.rerr))
		s.f.Skipped, s.gap = s.gap, 0
		s.err, s.done = s.rerr, true
		return true
	}
	return false
}

// need makes sure that n bytes from buf[lo] are buffered, reading only as many times as
// that takes. It returns false when the stream ends or fails before (s.rerr says why).
func (s *Scanner) need(n int) bool {
	empty := 0
	for s.hi-s.lo < n {
		if s.rerr != nil {
			return false
		}
		if s.hi == len(s.buf) {
			s.room(n)
		}
		m, err := s.r.Read(s.buf[s.hi:])
		s.hi += m
		switch {
		case err != nil:
			s.rerr = err
		case m == 0:
			if empty++; empty >= 100 {
				s.rerr = io.ErrNoProgress
			}
		}
	}
	return true
}

// room makes space after buf[hi] for a frame of n bytes starting at buf[lo]: it moves the
// buffered bytes to the front, and grows the buffer, doubling, only when they fill it.
func (s *Scanner) room(n int) {
	if s.lo > 0 {
		copy(s.buf, s.buf[s.lo:s.hi])
		s.base += int64(s.lo)
		s.hi -= s.lo
		s.lo = 0
		if s.hi < len(s.buf) {
			return
		}
	}
	// n <= s.max always: larger frames are dropped, not buffered.
	nb := make([]byte, min(max(2*len(s.buf), minBuffer), s.max))
	copy(nb, s.buf[:s.hi])
	s.buf = nb
}

// have returns the bytes buffered from buf[lo], at most n.
func (s *Scanner) have(n int) int { return min(s.hi-s.lo, n) }

// cause is the error that stopped need, as the Reader reports it.
func (s *Scanner) cause() error {
	if s.rerr == ErrPending {
		return ErrPending
	}
	return cause(s.rerr)
}

// reuse returns fe in the Scanner's own FieldError: a stream of garbage is millions of
// faults, and an allocation each would cost more than finding them.
func (s *Scanner) reuse(fe header.FieldError) error {
	s.fe = fe
	return &s.fe
}

// fault fills the current frame as a fault of n bytes at off.
func (s *Scanner) fault(off, n int64, err error) {
	s.f = Frame{Offset: off, Len: n, Err: err, Request: s.requests, Skipped: s.gap}
}

// slow reads one frame in the reference's order of checks.
func (s *Scanner) slow() bool {
	off := s.base + int64(s.lo)
	s.f = Frame{Offset: off, Request: s.requests, Skipped: s.gap}
	if !s.need(4) {
		if s.hi == s.lo && (s.rerr == io.EOF || s.rerr == ErrPending) {
			return s.stop()
		}
		return s.short(header.Truncated(s.have(4), header.Size, s.cause()))
	}
	b := s.buf[s.lo:s.hi]
	if m := le32(b); m != header.Magic {
		s.fault(off, 4, s.reuse(header.FieldError{Field: header.FieldMagic, Found: uint64(m),
			Expected: uint64(header.Magic), Code: status.InvalidHeader}))
		return s.untrusted(off)
	}
	if !s.need(header.PrefixSize) {
		return s.short(header.Truncated(s.have(header.PrefixSize), header.Size, s.cause()))
	}
	hs := int(s.buf[s.lo+4]) | int(s.buf[s.lo+5])<<8
	if hs != header.RestSize {
		if !s.need(header.PrefixSize + hs) {
			if s.rerr == ErrPending {
				return s.stop()
			}
			fe := header.Truncated(s.have(header.PrefixSize+hs), header.PrefixSize+hs, s.cause())
			fe.Field = header.FieldHeaderSize
			s.fault(off, int64(s.have(header.PrefixSize+hs)), fe)
			return s.untrustedEnd(off)
		}
		s.fault(off, int64(header.PrefixSize+hs), s.reuse(header.FieldError{Field: header.FieldHeaderSize,
			Offset: header.FieldHeaderSize.Offset(), Found: uint64(hs), Expected: header.RestSize, Code: status.InvalidHeader}))
		return s.untrusted(off)
	}
	if !s.need(header.Size) {
		return s.short(header.Truncated(s.have(header.Size), header.Size, s.cause()))
	}
	b = s.buf[s.lo : s.lo+header.Size]
	h := &s.f.Header
	var statusErr error
	if s.requests {
		statusErr = h.UnmarshalRequest(b)
	} else {
		statusErr = h.Unmarshal(b, s.codes)
	}
	if statusErr != nil {
		fe, ok := statusErr.(*header.FieldError)
		if !ok || fe.Field != header.FieldStatus {
			s.fault(off, header.Size, statusErr)
			if ok && (fe.Field == header.FieldReserved1 || fe.Field == header.FieldReserved2) {
				// A 1.0 header but for a reserved byte: its lengths are in place, and the
				// frame is skipped by them when they are within the limit.
				cl := uint32(b[22]) | uint32(b[23])<<8 | uint32(b[24])<<16 | uint32(b[25])<<24
				if cl <= s.limit {
					n := int64(cl)
					if s.requests {
						n += int64(b[26]) | int64(b[27])<<8
					}
					s.f.Len = header.Size + n
					s.consume(header.Size)
					s.skip = n
					return true
				}
			}
			return s.untrusted(off)
		}
	}
	s.f.Decoded = true
	cl, al := int64(h.ContentLength), int64(0)
	if s.requests {
		al = int64(h.AuthLength)
	}
	s.f.Len = header.Size + cl + al
	if h.ContentLength > s.limit {
		s.f.Err = s.reuse(header.FieldError{Field: header.FieldContentLength, Offset: header.FieldContentLength.Offset(),
			Found: uint64(h.ContentLength), Expected: uint64(s.limit), Code: status.BodySizeExceedsLimit})
		s.consume(header.Size)
		s.skip = cl + al
		return true
	}
	n := header.Size + int(cl+al)
	if n > s.keep {
		s.consume(header.Size)
		s.drop, s.dropHave, s.dropHdr, s.dropErr, s.dropOff = cl+al, 0, *h, statusErr, off
		return s.dropBody()
	}
	if !s.need(n) {
		if s.rerr == ErrPending {
			return s.stop()
		}
		got := s.have(n)
		s.f.Err = header.Truncated(got, n, s.cause())
		s.consume(got)
		return s.end()
	}
	b = s.buf[s.lo : s.lo+n : s.lo+n]
	s.f.Body = b[header.Size : header.Size+cl : header.Size+cl]
	if s.requests {
		s.f.Auth = b[header.Size+cl:]
	}
	s.consume(n)
	s.f.Err = s.verdict(statusErr)
	return true
}

// verdict applies the checks that follow the body: strict mode, then the status.
func (s *Scanner) verdict(statusErr error) error {
	if s.strict {
		var err error
		if s.requests {
			err = s.f.Header.CheckRequest()
		} else {
			err = s.f.Header.CheckResponse()
		}
		if err != nil {
			return err
		}
	}
	return statusErr
}

// dropBody discards the body of a frame too large for the buffer, then gives its verdict.
func (s *Scanner) dropBody() bool {
	for s.drop > 0 {
		if s.hi == s.lo && !s.need(1) {
			break
		}
		n := min(int64(s.hi-s.lo), s.drop)
		s.consume(int(n))
		s.drop -= n
		s.dropHave += n
	}
	if s.drop > 0 && s.rerr == ErrPending {
		return s.stop()
	}
	s.f = Frame{Offset: s.dropOff, Header: s.dropHdr, Decoded: true, Dropped: true, Request: s.requests,
		Skipped: s.gap, Len: header.Size + s.dropHave + s.drop}
	s.gap = 0
	have, want := header.Size+s.dropHave, header.Size+s.dropHave+s.drop
	s.drop, s.dropHave = 0, 0
	if have < want {
		s.f.Err = header.Truncated(int(have), int(want), s.cause())
		return s.end()
	}
	s.f.Err = s.verdict(s.dropErr)
	return true
}

// consume drops n buffered bytes.
func (s *Scanner) consume(n int) {
	s.lo += n
	if s.lo == s.hi {
		// Nothing buffered: start at the front again, so a reader of whole frames never
		// has to move bytes.
		s.base += int64(s.lo)
		s.lo, s.hi = 0, 0
	}
}

// short reports a stream that ends (or fails) inside a header: nothing follows.
func (s *Scanner) short(err error) bool {
	if s.rerr == ErrPending {
		return s.stop()
	}
	s.fault(s.f.Offset, int64(s.hi-s.lo), err)
	s.consume(s.hi - s.lo)
	return s.end()
}

// end marks the stream finished after the current frame, which is reported.
func (s *Scanner) end() bool {
	s.done = true
	if s.rerr != io.EOF && s.rerr != nil {
		s.err = s.rerr
	}
	return true
}

// untrusted reports the current fault and resumes, on the next Scan, at the next magic
// number after its first byte.
func (s *Scanner) untrusted(off int64) bool {
	s.consume(1)
	s.resync, s.gapFrom = true, off
	return true
}

// untrustedEnd is untrusted for a fault at the end of the stream (a header size whose bytes
// are missing): the bytes after its first may still hold frames.
func (s *Scanner) untrustedEnd(off int64) bool {
	if s.rerr != io.EOF {
		// A read error: the stream cannot be trusted further.
		s.consume(s.hi - s.lo)
		return s.end()
	}
	return s.untrusted(off)
}

// skipBytes discards the body of a frame refused by its length. It returns false when the
// stream ended before.
func (s *Scanner) skipBytes() bool {
	for s.skip > 0 {
		if s.hi == s.lo && !s.need(1) {
			if s.rerr == io.EOF {
				// The refused frame runs past the end: it was reported, nothing follows.
				s.skip = 0
			}
			return false
		}
		n := int(min(int64(s.hi-s.lo), s.skip))
		s.consume(n)
		s.skip -= int64(n)
	}
	return true
}

// start is what a resync looks for: a magic number followed by a header size of 30. A magic
// number alone is 4 bytes of evidence, and a stream of garbage that repeats it (a stream of
// magic numbers, a run of headers announcing 65,535 bytes) would be one fault per few bytes,
// each printed, each skipped a few bytes at a time; with the header size, a resync skips
// such a run whole and reports it once, as bytes skipped.
var start = []byte{0x10, 0xa7, 0xc0, 0x5e, header.RestSize, 0}

// prefix is the first 8 bytes of every version 1.0 header, read little-endian: magic,
// header size 30, version 1.0.
const prefix = uint64(header.Magic) | header.RestSize<<32 | header.VersionMajor<<48 | header.VersionMinor<<56

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// findMagic discards bytes up to the next magic number followed by a header size of 30
// (start). It returns false when the stream ends (or fails, or is pending) first.
func (s *Scanner) findMagic() bool {
	for {
		b := s.buf[s.lo:s.hi]
		if i := bytes.Index(b, start); i >= 0 {
			s.consume(i)
			s.gap = s.Offset() - s.gapFrom
			s.resync = false
			return true
		}
		// Keep the last bytes that may begin the pattern.
		if keep := len(start) - 1; len(b) > keep {
			s.consume(len(b) - keep)
		}
		if s.rerr != nil {
			break
		}
		s.need(s.hi - s.lo + 1)
	}
	if s.rerr == ErrPending {
		return false
	}
	s.consume(s.hi - s.lo)
	s.tail = s.Offset() - s.gapFrom
	s.gap = s.tail // for the fault of a read error, reported where it struck
	s.resync = false
	return false
}
