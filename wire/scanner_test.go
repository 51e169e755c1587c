package wire

// An internal test file (package wire, not wire_test): OSS-Fuzz's go-118-fuzz-build cannot
// build fuzz targets of external test packages, and FuzzScanner lives here.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
func checkScan(t testing.TB, c scanConfig, data []byte) {
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
		if !assert.Equal(t, rerr, f.Err, "frame %d at offset %d: verdict", n, off) {
			t.FailNow()
		}
		if f.Decoded {
			require.Equal(t, h, f.Header, "frame %d at offset %d: header", n, off)
		}
		if rerr == nil {
			require.True(t, f.Decoded)
			if !f.Dropped {
				require.Equal(t, len(body), len(f.Body))
				require.True(t, bytes.Equal(body, f.Body), "frame %d: body", n)
				require.True(t, bytes.Equal(auth, f.Auth), "frame %d: auth", n)
			} else {
				require.Greater(t, int(f.Len), c.keep)
			}
			require.Equal(t, consumed, f.Len, "frame %d: length", n)
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
			require.Equal(t, int64(header.Size)+int64(f.Header.ContentLength)+authLen(c, f), f.Len)
		case isFE && (fe.Field == header.FieldReserved1 || fe.Field == header.FieldReserved2) && le32(data[off+22:]) <= limit:
			n := int(le32(data[off+22:]))
			if c.requests {
				n += int(data[off+26]) | int(data[off+27])<<8
			}
			want = min(off+header.Size+n, end)
			require.Equal(t, int64(header.Size+n), f.Len)
		default:
			resync = off
		}
	}
	if errors.Is(s.Err(), errBroken) {
		return
	}
	require.NoError(t, s.Err())
	if resync >= 0 {
		require.Equal(t, -1, nextMagic(data[:end], resync+1), "the scan stopped before a magic number")
		require.Equal(t, int64(end-resync), s.Tail(), "bytes skipped at the end")
		return
	}
	require.GreaterOrEqual(t, want, end, "the scan stopped early at %d of %d", want, end)
}

func authLen(c scanConfig, f *Frame) int64 {
	if c.requests {
		return int64(f.Header.AuthLength)
	}
	return 0
}

// samples is a mix of valid and broken frames: every kind of fault the Scanner resyncs or
// skips after.
func samples(t testing.TB) [][]byte {
	ok, err := AppendResponse(nil, header.Header{Opcode: 1, Provider: 1, Session: 3}, []byte{8, 1})
	require.NoError(t, err)
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

func TestScannerMatchesReader(t *testing.T) {
	smp := samples(t)
	configs := []scanConfig{
		{}, {strict: true}, {seed: true}, {limit: 64}, {requests: true}, {requests: true, strict: true, limit: 4},
		{keep: 40}, {keep: 40, limit: 64, strict: true},
		{wrap: iotest.OneByteReader}, {wrap: iotest.HalfReader}, {wrap: iotest.DataErrReader},
	}
	var all []byte
	for _, b := range smp {
		all = append(all, b...)
	}
	for ci, c := range configs {
		// Each sample alone, cut at every byte, and all of them in a row, in both orders.
		for _, b := range smp {
			for cut := 0; cut <= len(b); cut++ {
				checkScan(t, c, b[:cut])
			}
		}
		checkScan(t, c, all)
		for i := range smp {
			var rot []byte
			for j := range smp {
				rot = append(rot, smp[(i+j)%len(smp)]...)
			}
			checkScan(t, c, rot)
			// A read error at every byte of the stream's first frames.
			if ci < 3 {
				for k := 1; k < 120; k += 7 {
					c := c
					c.errAt = k
					checkScan(t, c, rot)
				}
			}
		}
	}
}

func TestScannerResync(t *testing.T) {
	ok, _ := AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
	garbage := []byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0}
	data := append(append(append([]byte{}, garbage...), ok...), 1, 2, 3, 4, 5)
	s := NewScanner(bytes.NewReader(data))
	require.True(t, s.Scan())
	f := s.Frame()
	assert.True(t, errors.Is(f.Err, status.InvalidHeader))
	assert.Equal(t, int64(0), f.Offset)
	require.True(t, s.Scan())
	f = s.Frame()
	require.NoError(t, f.Err)
	assert.Equal(t, int64(7), f.Offset)
	assert.Equal(t, int64(7), f.Skipped, "the bytes from the fault to this frame")
	assert.Equal(t, []byte{8, 1}, f.Body)
	require.True(t, s.Scan(), "the trailing bytes are a fault")
	assert.True(t, errors.Is(s.Frame().Err, status.InvalidHeader))
	assert.False(t, s.Scan())
	assert.NoError(t, s.Err())
	assert.Equal(t, int64(5), s.Tail())
	assert.Equal(t, int64(len(data)), s.Offset())
}

// countReader counts Read calls and the bytes they asked for.
type countReader struct {
	r     io.Reader
	calls int
}

func (c *countReader) Read(p []byte) (int, error) {
	c.calls++
	return c.r.Read(p)
}

func TestScannerBoundedMemory(t *testing.T) {
	t.Run("a body above the held size is dropped, not held", func(t *testing.T) {
		body := bytes.Repeat([]byte{7}, 1<<20)
		fr, _ := AppendResponse(nil, header.Header{Opcode: 1}, body)
		ok, _ := AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
		s := NewScanner(bytes.NewReader(append(fr, ok...)))
		s.Buffer(nil, 64<<10)
		require.True(t, s.Scan())
		f := s.Frame()
		require.NoError(t, f.Err)
		assert.True(t, f.Dropped)
		assert.Nil(t, f.Body)
		assert.Equal(t, int64(len(fr)), f.Len)
		require.True(t, s.Scan())
		assert.Equal(t, int64(len(fr)), s.Frame().Offset)
		assert.LessOrEqual(t, cap(s.buf), lookahead)
	})
	t.Run("a large announced body grows the buffer as bytes arrive", func(t *testing.T) {
		h := header.Header{Opcode: 1, ContentLength: DefaultLimit}.AppendRaw(nil)
		s := NewScanner(bytes.NewReader(append(h, make([]byte, 1000)...)))
		require.True(t, s.Scan())
		assert.True(t, errors.Is(s.Frame().Err, status.ConnectionError))
		assert.LessOrEqual(t, cap(s.buf), 4*minBuffer, "1036 bytes arrived of the 1 MiB announced")
	})
	t.Run("a refused body is skipped in pieces", func(t *testing.T) {
		fr, _ := AppendResponse(nil, header.Header{Opcode: 1}, make([]byte, 3<<20))
		s := NewScanner(bytes.NewReader(fr))
		require.True(t, s.Scan())
		assert.True(t, errors.Is(s.Frame().Err, status.BodySizeExceedsLimit))
		assert.False(t, s.Scan())
		assert.LessOrEqual(t, cap(s.buf), minBuffer)
		assert.Equal(t, int64(len(fr)), s.Offset())
	})
	t.Run("a stream of magic numbers is read in large pieces", func(t *testing.T) {
		data := bytes.Repeat([]byte{0x10, 0xa7, 0xc0, 0x5e}, 1<<18) // 1 MiB; each announces 42,768 header bytes
		cr := &countReader{r: bytes.NewReader(data)}
		s := NewScanner(cr)
		n := 0
		for s.Scan() {
			n++
			assert.True(t, errors.Is(s.Frame().Err, status.InvalidHeader))
		}
		assert.Equal(t, 1, n, "one fault; the magic numbers after it are garbage, skipped")
		assert.Equal(t, int64(len(data)), s.Tail())
		assert.Less(t, cr.calls, 200)
		assert.LessOrEqual(t, cap(s.buf), 2*lookahead)
	})
}

func TestReaderDiscardsInLargeReads(t *testing.T) {
	hdr := header.Header{Opcode: 1}.AppendRaw(nil)
	hdr[4], hdr[5] = 0xff, 0xff
	data := append(hdr, make([]byte, 0xffff)...)
	cr := &countReader{r: bytes.NewReader(data)}
	rd := NewReader(cr)
	var h header.Header
	_, err := rd.Next(&h)
	assert.True(t, errors.Is(err, status.InvalidHeader))
	assert.Equal(t, int64(6+0xffff), rd.Offset(), "exactly the announced bytes")
	assert.LessOrEqual(t, cr.calls, 4, "magic, size field, then the 65,535 bytes in one go")
}

// TestScannerOnConn: on a connection the Scanner returns a frame as soon as it is there,
// reports a deadline as a ConnectionError fault that unwraps to it, and stops.
func TestScannerOnConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	ok, _ := AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
	go func() { _, _ = server.Write(append(ok, ok[:10]...)) }()
	s := NewScanner(client)
	require.True(t, s.Scan(), "a whole frame arrived: no wait for more")
	require.NoError(t, s.Frame().Err)
	assert.Equal(t, []byte{8, 1}, s.Frame().Body)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	require.True(t, s.Scan())
	f := s.Frame()
	assert.True(t, errors.Is(f.Err, status.ConnectionError))
	assert.True(t, errors.Is(f.Err, os.ErrDeadlineExceeded), "%v", f.Err)
	assert.Equal(t, int64(len(ok)), f.Offset)
	assert.False(t, s.Scan())
	assert.True(t, errors.Is(s.Err(), os.ErrDeadlineExceeded))
}

// TestScannerStopsAtFault: after a fault the Scanner has read only what its verdict needed.
func TestScannerStopsAtFault(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	bad := header.Header{Opcode: 1}.AppendRaw(nil)
	bad[0] = 0
	go func() { _, _ = server.Write(bad) }()
	s := NewScanner(client)
	require.True(t, s.Scan())
	assert.True(t, errors.Is(s.Frame().Err, status.InvalidHeader), "the verdict without waiting for more")
}

// pending is a reader that says ErrPending when it has nothing, as a capture engine's
// per-connection reader does.
type pending struct{ data []byte }

func (p *pending) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, ErrPending
	}
	n := copy(b, p.data)
	p.data = p.data[n:]
	return n, nil
}

func TestScannerPending(t *testing.T) {
	var stream []byte
	for _, b := range samples(t) {
		stream = append(stream, b...)
	}
	// snap copies a frame without what the next Scan reuses.
	snap := func(f Frame) Frame {
		f.Body, f.Auth = nil, nil
		if f.Err != nil {
			f.Err = errors.New(f.Err.Error())
		}
		return f
	}
	whole := NewScanner(bytes.NewReader(stream))
	var want []Frame
	for whole.Scan() {
		want = append(want, snap(*whole.Frame()))
	}
	// The same stream fed in pieces of every size gives the same frames.
	for piece := 1; piece < 50; piece += 3 {
		p := &pending{}
		s := NewScanner(p)
		var got []Frame
		for i := 0; i <= len(stream); i += piece {
			p.data = append(p.data, stream[i:min(i+piece, len(stream))]...)
			for s.Scan() {
				got = append(got, snap(*s.Frame()))
			}
			require.ErrorIs(t, s.Err(), ErrPending)
		}
		s.r = bytes.NewReader(nil) // the end of the stream
		for s.Scan() {
			got = append(got, snap(*s.Frame()))
		}
		require.NoError(t, s.Err())
		require.Equal(t, want, got, "pieces of %d bytes", piece)
	}
}

// FuzzScanner: any bytes, read as responses or requests with any settings and through a
// hostile reader: every frame the Scanner reports has the verdict, header and body that
// wire.Reader gives for the stream starting at its offset, and the Scanner moves on exactly
// by the frame's lengths when they are trusted, else to the next magic number.
func FuzzScanner(f *testing.F) {
	for _, b := range samples(f) {
		f.Add(b, uint16(0), uint16(0))
	}
	var all []byte
	for _, b := range samples(f) {
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
