package wire

// FuzzScanner and what it needs, in a file of their own: OSS-Fuzz's go-118-fuzz-build compiles
// the target's file alone, with "testing" swapped for its shim, so nothing here may use
// testify or another test file's declarations, and it is an internal test file (package
// wire, not wire_test), which the tool needs too.

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// scanConfig is one way of reading a stream: the settings both the Scanner and the Reader
// get, the hostile reader under the Scanner, and the Scanner's largest held frame.
type scanConfig struct {
	requests, strict, seed bool
	limit                  uint32
	keep                   int                       // 0: the default
	errAt                  int                       // > 0: the stream fails with errBroken after errAt bytes
	wrap                   func(io.Reader) io.Reader // a hostile reader, or nil
}

var errBroken = errors.New("connection reset (test)")

// failAt returns data, then errBroken when fail is set, else io.EOF.
type failAt struct {
	data []byte
	fail bool
}

func (f *failAt) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		if f.fail {
			return 0, errBroken
		}
		return 0, io.EOF
	}
	k := copy(p, f.data)
	f.data = f.data[k:]
	return k, nil
}

// referenceVerdict reads the first frame of data with a Reader, as Next or NextRequest does.
func referenceVerdict(c scanConfig, data []byte, fail bool) (h header.Header, body, auth []byte, consumed int64, err error) {
	rd := NewReader(&failAt{data, fail})
	if c.limit > 0 {
		rd.SetLimit(c.limit)
	}
	if c.seed {
		rd.SetCodes(status.Seed)
	}
	rd.SetStrict(c.strict)
	if c.requests {
		body, auth, err = rd.NextRequest(&h)
	} else {
		body, err = rd.Next(&h)
	}
	return h, body, auth, rd.Offset(), err
}

func newTestScanner(c scanConfig, data []byte, fail bool) *Scanner {
	var r io.Reader = &failAt{data, fail}
	if c.wrap != nil {
		r = c.wrap(r)
	}
	s := NewScanner(r)
	s.SetRequests(c.requests)
	if c.limit > 0 {
		s.SetLimit(c.limit)
	}
	if c.seed {
		s.SetCodes(status.Seed)
	}
	s.SetStrict(c.strict)
	if c.keep > 0 {
		s.Buffer(nil, c.keep)
	}
	return s
}

// nextMagic returns the offset of the first magic number followed by a header size of 30
// at or after from, or -1.
func nextMagic(data []byte, from int) int {
	for i := from; i+6 <= len(data); i++ {
		if le32(data[i:]) == header.Magic && data[i+4] == 30 && data[i+5] == 0 {
			return i
		}
	}
	return -1
}

// checkScan reads data with a Scanner and compares every frame with the verdict of a Reader
// on the stream that starts at that frame's offset: the same error (field, offset, found,
// expected, status, cause), the same header and body; then checks where the Scanner went
// next: right after a frame whose lengths are trusted, else at the next magic number after
// the fault's first byte (followed by a header size of 30), with the bytes skipped counted.
func checkScan(t *testing.T, c scanConfig, data []byte) {
	end := len(data)
	fail := c.errAt > 0 && c.errAt <= len(data)
	if fail {
		end = c.errAt
	}
	s := newTestScanner(c, data[:end], fail)
	limit := c.limit
	if limit == 0 {
		limit = DefaultLimit
	}
	want := 0 // where the next frame must start
	resync := -1
	for n := 0; s.Scan(); n++ {
		if n > len(data)+1 {
			t.Fatalf("%d frames from %d bytes", n, len(data))
		}
		f := s.Frame()
		off := int(f.Offset)
		if resync >= 0 {
			want = nextMagic(data[:end], resync+1)
			if want < 0 {
				want = end
			}
			if f.Skipped != int64(want-resync) {
				t.Fatalf("frame %d at %d: skipped %d, want %d (resync from %d)", n, off, f.Skipped, want-resync, resync)
			}
		} else if f.Skipped != 0 {
			t.Fatalf("frame %d at %d: skipped %d without a resync", n, off, f.Skipped)
		}
		if off != want {
			t.Fatalf("frame %d at offset %d, want %d", n, off, want)
		}
		resync = -1
		h, body, auth, consumed, rerr := referenceVerdict(c, data[off:end], fail)
		if !reflect.DeepEqual(rerr, f.Err) {
			t.Fatalf("frame %d at offset %d: verdict %v, the Reader's %v", n, off, f.Err, rerr)
		}
		if f.Decoded && h != f.Header {
			t.Fatalf("frame %d at offset %d: header %+v, the Reader's %+v", n, off, f.Header, h)
		}
		if rerr == nil {
			switch {
			case !f.Decoded:
				t.Fatalf("frame %d: a valid frame not decoded", n)
			case !f.Dropped && (!bytes.Equal(body, f.Body) || !bytes.Equal(auth, f.Auth)):
				t.Fatalf("frame %d: body %x auth %x, the Reader's %x %x", n, f.Body, f.Auth, body, auth)
			case f.Dropped && int(f.Len) <= c.keep:
				t.Fatalf("frame %d: a %d-byte frame dropped, above %d only", n, f.Len, c.keep)
			case consumed != f.Len:
				t.Fatalf("frame %d: length %d, the Reader consumed %d", n, f.Len, consumed)
			}
		}
		var fe *header.FieldError
		isFE := errors.As(f.Err, &fe)
		switch {
		case f.Err == nil:
			want = off + int(f.Len)
		case isFE && fe.Code == status.ConnectionError && (fe.Field != header.FieldHeaderSize || fe.Expected == header.Size):
			want = end // the stream ended or failed inside this frame (not in announced header bytes)
		case isFE && errors.Is(f.Err, errBroken):
			want = end
		case f.Decoded:
			// An unknown status, a refused length, a strict fault: skipped by its lengths.
			want = min(off+int(f.Len), end)
			if l := int64(header.Size) + int64(f.Header.ContentLength) + authLen(c, f); l != f.Len {
				t.Fatalf("frame %d: length %d, its header says %d", n, f.Len, l)
			}
		case isFE && (fe.Field == header.FieldReserved1 || fe.Field == header.FieldReserved2) && le32(data[off+22:]) <= limit:
			n := int(le32(data[off+22:]))
			if c.requests {
				n += int(data[off+26]) | int(data[off+27])<<8
			}
			want = min(off+header.Size+n, end)
			if int64(header.Size+n) != f.Len {
				t.Fatalf("frame at %d: length %d, its header says %d", off, f.Len, header.Size+n)
			}
		default:
			resync = off
		}
	}
	if errors.Is(s.Err(), errBroken) {
		return
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if resync >= 0 {
		if m := nextMagic(data[:end], resync+1); m != -1 {
			t.Fatalf("the scan stopped before the magic number at %d", m)
		}
		if s.Tail() != int64(end-resync) {
			t.Fatalf("%d bytes skipped at the end, want %d", s.Tail(), end-resync)
		}
		return
	}
	if want < end {
		t.Fatalf("the scan stopped early at %d of %d", want, end)
	}
}

func authLen(c scanConfig, f *Frame) int64 {
	if c.requests {
		return int64(f.Header.AuthLength)
	}
	return 0
}

// samples is a mix of valid and broken frames: every kind of fault the Scanner resyncs or
// skips after.
func samples() [][]byte {
	ok, _ := AppendResponse(nil, header.Header{Opcode: 1, Provider: 1, Session: 3}, []byte{8, 1})
	empty, _ := AppendResponse(nil, header.Header{Opcode: 28, Status: status.AdminOperation}, nil)
	req, _ := AppendRequest(nil, header.Header{Opcode: 9, AuthType: 1}, []byte{1, 2, 3}, []byte("app"))
	unknown := header.Header{Opcode: 12, Status: 1144}.AppendRaw(nil)
	big, _ := AppendResponse(nil, header.Header{Opcode: 13}, bytes.Repeat([]byte{0x10}, 100))
	mod := func(b []byte, f func([]byte)) []byte {
		b = append([]byte{}, b...)
		f(b)
		return b
	}
	return [][]byte{
		ok, empty, req, unknown, big,
		mod(ok, func(b []byte) { b[0] = 0 }),                   // magic
		mod(ok, func(b []byte) { b[4] = 31 }),                  // header size, announced bytes there
		mod(ok, func(b []byte) { b[4], b[5] = 0xff, 0xff }),    // header size 65535
		mod(ok, func(b []byte) { b[6] = 2 }),                   // version
		mod(ok, func(b []byte) { b[34] = 1 }),                  // reserved
		mod(big, func(b []byte) { b[35] = 1; b[25] = 0x80 }),   // reserved, length beyond the limit
		mod(ok, func(b []byte) { b[10] = 9 }),                  // provider (strict)
		mod(ok, func(b []byte) { b[28] = 99 }),                 // opcode (strict)
		mod(empty, func(b []byte) { b[32] = 21 }),              // not in the seed table
		mod(ok, func(b []byte) { b[24] = 0x10 }),               // body above the limit
		{0xde, 0xad, 0x10, 0xa7, 0xc0},                         // garbage with half a magic number
		{0x10, 0xa7, 0xc0, 0x5e, 0x10, 0xa7, 0xc0, 0x5e, 0x10}, // magic numbers
	}
}

// FuzzScanner: any bytes, read as responses or requests with any settings and through a
// hostile reader: every frame the Scanner reports has the verdict, header and body that
// wire.Reader gives for the stream starting at its offset, and the Scanner moves on exactly
// by the frame's lengths when they are trusted, else to the next magic number.
func FuzzScanner(f *testing.F) {
	for _, b := range samples() {
		f.Add(b, uint16(0), uint16(0))
	}
	var all []byte
	for _, b := range samples() {
		all = append(all, b...)
	}
	f.Add(all, uint16(0x0f), uint16(0))
	f.Add(all, uint16(0x31), uint16(50))
	f.Fuzz(func(t *testing.T, data []byte, flags, errAt uint16) {
		c := scanConfig{requests: flags&1 != 0, strict: flags&2 != 0, seed: flags&4 != 0, errAt: int(errAt)}
		if flags&8 != 0 {
			c.limit = uint32(flags>>8) + 1
		}
		if flags&16 != 0 {
			c.keep = int(flags>>8) + 36
		}
		switch flags >> 5 & 3 {
		case 1:
			c.wrap = iotest.OneByteReader
		case 2:
			c.wrap = iotest.HalfReader
		case 3:
			c.wrap = iotest.DataErrReader
		}
		checkScan(t, c, data)
	})
}
