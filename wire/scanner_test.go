package wire

// An internal test file (package wire): the Scanner's tests, which share scanner_fuzz_test.go's
// checkScan with FuzzScanner.

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

func TestScannerMatchesReader(t *testing.T) {
	smp := samples()
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
	for _, b := range samples() {
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
