package wire_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

func response(t testing.TB, h header.Header, body []byte) []byte {
	t.Helper()
	b, err := wire.AppendResponse(nil, h, body)
	require.NoError(t, err)
	return b
}

// raw builds a response frame without any check, then lets mod break it.
func raw(h header.Header, body []byte, mod func(b []byte)) []byte {
	h.ContentLength = uint32(len(body))
	b := append(h.AppendRaw(nil), body...)
	if mod != nil {
		mod(b)
	}
	return b
}

type frame struct {
	h    header.Header
	body []byte
}

func frames() []frame {
	return []frame{
		{header.Header{Opcode: 28, Status: status.AdminOperation}, nil},
		{header.Header{Opcode: 1, Provider: 1, Session: 42}, []byte{0x08, 0x01}},
		{header.Header{Opcode: 12, Provider: 3, Status: status.PsaErrorDoesNotExist}, nil},
		{header.Header{Opcode: 8, Session: 7}, bytes.Repeat([]byte{0xab}, 300)},
	}
}

func stream(t testing.TB) []byte {
	var s []byte
	for _, f := range frames() {
		s = append(s, response(t, f.h, f.body)...)
	}
	return s
}

func readAll(t *testing.T, r io.Reader) {
	t.Helper()
	rd := wire.NewReader(r)
	var off int64
	for i, f := range frames() {
		var h header.Header
		body, err := rd.Next(&h)
		require.NoError(t, err, "frame %d", i)
		want := f.h
		want.ContentLength = uint32(len(f.body))
		assert.Equal(t, want, h, "frame %d", i)
		assert.Equal(t, len(f.body), len(body))
		if len(f.body) > 0 {
			assert.Equal(t, f.body, body)
		}
		assert.Equal(t, off, rd.FrameOffset())
		off += int64(header.Size + len(f.body))
		assert.Equal(t, off, rd.Offset())
	}
	var h header.Header
	_, err := rd.Next(&h)
	assert.Equal(t, io.EOF, err, "a stream that ends between frames ends cleanly")
}

func TestReaderStream(t *testing.T) {
	s := stream(t)
	t.Run("whole", func(t *testing.T) { readAll(t, bytes.NewReader(s)) })
	t.Run("one byte at a time", func(t *testing.T) { readAll(t, iotest.OneByteReader(bytes.NewReader(s))) })
	t.Run("half reads", func(t *testing.T) { readAll(t, iotest.HalfReader(bytes.NewReader(s))) })
	t.Run("data with EOF", func(t *testing.T) { readAll(t, iotest.DataErrReader(bytes.NewReader(s))) })
}

func TestReaderErrorMidRead(t *testing.T) {
	s := stream(t)
	rd := wire.NewReader(iotest.TimeoutReader(bytes.NewReader(s)))
	var h header.Header
	_, err := rd.Next(&h)
	require.Error(t, err, "the second read times out")
	assert.ErrorIs(t, err, iotest.ErrTimeout)
	assert.ErrorIs(t, err, status.ConnectionError)
	assert.NotErrorIs(t, err, io.ErrUnexpectedEOF)

	boom := errors.New("boom")
	rd = wire.NewReader(iotest.ErrReader(boom))
	_, err = rd.Next(&h)
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, err, status.ConnectionError)
}

// TestCutEverywhere cuts a frame with a body at every byte: each cut is a ConnectionError
// that also matches io.ErrUnexpectedEOF, at the offset of the cut, with every byte consumed.
func TestCutEverywhere(t *testing.T) {
	f := response(t, header.Header{Opcode: 13, Provider: 1}, bytes.Repeat([]byte{7}, 20))
	for n := 1; n < len(f); n++ {
		rd := wire.NewReader(bytes.NewReader(f[:n]))
		var h header.Header
		_, err := rd.Next(&h)
		require.Error(t, err, "cut at %d", n)
		assert.ErrorIs(t, err, status.ConnectionError, "cut at %d", n)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", n)
		var fe *header.FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, n, fe.Offset, "cut at %d", n)
		assert.Equal(t, int64(n), rd.Offset())
	}
}

func TestBodyLimit(t *testing.T) {
	huge := raw(header.Header{Opcode: 1}, nil, func(b []byte) { b[22], b[23], b[24], b[25] = 0xff, 0xff, 0xff, 0xff })
	next := response(t, header.Header{Opcode: 9}, nil)
	data := append(huge, next...)
	src := bytes.NewReader(data)
	rd := wire.NewReader(src)
	var h header.Header
	allocs := testing.AllocsPerRun(10, func() {
		src.Reset(data)
		rd.Reset(src)
		_, err := rd.Next(&h)
		require.ErrorIs(t, err, status.BodySizeExceedsLimit)
	})
	assert.LessOrEqual(t, allocs, 1.0, "only the error is allocated, never the refused body")
	assert.Equal(t, uint32(0xffffffff), h.ContentLength, "the header comes back with the error")
	var fe *header.FieldError
	var err error
	rd.Reset(bytes.NewReader(append(huge, next...)))
	_, err = rd.Next(&h)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, header.FieldContentLength, fe.Field)
	assert.Equal(t, 22, fe.Offset)
	assert.Equal(t, uint64(wire.DefaultLimit), fe.Expected)
	assert.Contains(t, err.Error(), "4294967295")
	err = rd.Skip()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body is not there")

	// A body within its lengths but above a small limit is skipped and the next frame read.
	small := response(t, header.Header{Opcode: 13}, bytes.Repeat([]byte{1}, 100))
	rd = wire.NewReader(bytes.NewReader(append(small, next...)))
	rd.SetLimit(64)
	_, err = rd.Next(&h)
	require.ErrorIs(t, err, status.BodySizeExceedsLimit)
	require.NoError(t, rd.Skip())
	_, err = rd.Next(&h)
	require.NoError(t, err)
	assert.Equal(t, uint32(9), h.Opcode)
}

func TestHeaderSizeFFFF(t *testing.T) {
	f := raw(header.Header{Opcode: 1}, nil, func(b []byte) { b[4], b[5] = 0xff, 0xff })
	rd := wire.NewReader(bytes.NewReader(f))
	var h header.Header
	_, err := rd.Next(&h)
	assert.ErrorIs(t, err, status.ConnectionError, "65535 bytes announced, 30 there")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, int64(len(f)), rd.Offset())

	long := append(f, make([]byte, 0xffff-30)...)
	long = append(long, response(t, header.Header{Opcode: 9}, nil)...)
	rd = wire.NewReader(bytes.NewReader(long))
	_, err = rd.Next(&h)
	assert.ErrorIs(t, err, status.InvalidHeader, "the announced bytes are there: the size is wrong")
	assert.Equal(t, int64(6+0xffff), rd.Offset(), "the announced bytes are consumed, as the reference does")
	_, err = rd.Next(&h)
	assert.NoError(t, err)
}

func TestUnknownStatusKeepsSync(t *testing.T) {
	bad := raw(header.Header{Opcode: 4, Provider: 1}, []byte{1, 2, 3}, func(b []byte) { b[32], b[33] = 0x78, 0x04 })
	good := response(t, header.Header{Opcode: 9}, nil)
	rd := wire.NewReader(bytes.NewReader(append(bad, good...)))
	var h header.Header
	body, err := rd.Next(&h)
	require.ErrorIs(t, err, status.InvalidEncoding)
	assert.Equal(t, []byte{1, 2, 3}, body, "the body of a frame with an unknown status is read")
	assert.Equal(t, status.Code(1144), h.Status)
	assert.Equal(t, int64(len(bad)), rd.Offset())
	_, err = rd.Next(&h)
	require.NoError(t, err)
	assert.Equal(t, uint32(9), h.Opcode)
}

func TestReaderChecks(t *testing.T) {
	cases := []struct {
		name     string
		frame    []byte
		code     status.Code
		consumed int
	}{
		{"magic", raw(header.Header{}, []byte{1}, func(b []byte) { b[3] = 0 }), status.InvalidHeader, 4},
		{"magic in a short stream", []byte{1, 2, 3, 4, 5}, status.InvalidHeader, 4},
		{"header size 29", raw(header.Header{}, nil, func(b []byte) { b[4] = 29 }), status.InvalidHeader, 35},
		{"version", raw(header.Header{}, []byte{1}, func(b []byte) { b[6] = 2 }), status.VersionTooBig, 36},
		{"reserved", raw(header.Header{}, []byte{1}, func(b []byte) { b[34] = 1 }), status.InvalidHeader, 36},
		{"version before reserved", raw(header.Header{}, nil, func(b []byte) { b[7] = 1; b[35] = 1 }), status.VersionTooBig, 36},
		{"limit before status", raw(header.Header{}, nil, func(b []byte) { b[25] = 1; b[33] = 0xff }), status.BodySizeExceedsLimit, 36},
		{"truncated body before status", raw(header.Header{}, nil, func(b []byte) { b[22] = 5; b[33] = 0xff }), status.ConnectionError, 36},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rd := wire.NewReader(bytes.NewReader(tc.frame))
			var h header.Header
			_, err := rd.Next(&h)
			assert.ErrorIs(t, err, tc.code)
			got, ok := status.Of(err)
			assert.True(t, ok)
			assert.Equal(t, tc.code, got)
			assert.Equal(t, int64(tc.consumed), rd.Offset())
		})
	}
}

func TestStrict(t *testing.T) {
	bad := raw(header.Header{Provider: 9, ContentType: 1, Opcode: 99}, []byte{1}, func(b []byte) { b[33] = 0xff })
	rd := wire.NewReader(bytes.NewReader(bad))
	var h header.Header
	_, err := rd.Next(&h)
	assert.ErrorIs(t, err, status.InvalidEncoding, "without strict mode, only the status is wrong")

	rd = wire.NewReader(bytes.NewReader(bad))
	rd.SetStrict(true)
	_, err = rd.Next(&h)
	assert.ErrorIs(t, err, status.ProviderDoesNotExist, "strict checks come before the status")

	ok := response(t, header.Header{Provider: 9, Opcode: 1}, nil)
	rd = wire.NewReader(bytes.NewReader(ok))
	rd.SetStrict(true)
	_, err = rd.Next(&h)
	assert.ErrorIs(t, err, status.ProviderDoesNotExist)
}

func TestSeedCodes(t *testing.T) {
	f := response(t, header.Header{Opcode: 1, Status: status.DeprecatedPrimitive}, nil)
	rd := wire.NewReader(bytes.NewReader(f))
	rd.SetCodes(status.Seed)
	var h header.Header
	_, err := rd.Next(&h)
	assert.ErrorIs(t, err, status.InvalidEncoding)
}

func TestReadResponseCopies(t *testing.T) {
	s := stream(t)
	rd := wire.NewReader(bytes.NewReader(s))
	first, err := rd.ReadResponse()
	require.NoError(t, err)
	second, err := rd.ReadResponse()
	require.NoError(t, err)
	third, err := rd.ReadResponse()
	require.NoError(t, err)
	assert.Nil(t, third.Body)
	assert.Equal(t, uint32(28), first.Header.Opcode)
	assert.Equal(t, []byte{0x08, 0x01}, second.Body)
	_, err = rd.ReadResponse()
	require.NoError(t, err)
	assert.Equal(t, []byte{0x08, 0x01}, second.Body, "a copied body survives later reads")
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	s := stream(t)
	src := bytes.NewReader(s)
	rd := wire.NewReader(src)
	var h header.Header
	read := func() {
		src.Reset(s)
		rd.Reset(src)
		for {
			if _, err := rd.Next(&h); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				return
			}
		}
	}
	read() // grows the body buffer once
	assert.Zero(t, testing.AllocsPerRun(50, read))
}

// countingReader records how far its reader has been read.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestNeverReadsPastTheFrame(t *testing.T) {
	s := stream(t)
	cr := &countingReader{r: bytes.NewReader(s)}
	rd := wire.NewReader(cr)
	var h header.Header
	for range frames() {
		_, err := rd.Next(&h)
		require.NoError(t, err)
		assert.Equal(t, rd.Offset(), int64(cr.n))
	}
}

func TestRequests(t *testing.T) {
	req := header.Header{Provider: 1, Session: 5, Opcode: 9, AuthType: header.AuthDirect}
	b, err := wire.AppendRequest(nil, req, []byte{1, 2, 3}, []byte("app"))
	require.NoError(t, err)
	assert.Len(t, b, header.Size+6)
	rd := wire.NewReader(bytes.NewReader(b))
	var h header.Header
	body, auth, err := rd.NextRequest(&h)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, body)
	assert.Equal(t, []byte("app"), auth)
	req.ContentLength, req.AuthLength = 3, 3
	assert.Equal(t, req, h)

	// The status of a request is not checked; its semantic fields are, after the auth bytes.
	b2 := raw(header.Header{Opcode: 99}, nil, func(b []byte) { b[32], b[33] = 0xff, 0xff })
	rd = wire.NewReader(bytes.NewReader(b2))
	_, _, err = rd.NextRequest(&h)
	assert.NoError(t, err, "outside strict mode only the frame is checked")
	rd = wire.NewReader(bytes.NewReader(b2))
	rd.SetStrict(true)
	_, _, err = rd.NextRequest(&h)
	assert.ErrorIs(t, err, status.OpcodeDoesNotExist)

	_, err = wire.AppendRequest(nil, req, nil, make([]byte, 70000))
	assert.Error(t, err, "an auth length above 65535 cannot be framed")

	cut := b[:len(b)-1]
	rd = wire.NewReader(bytes.NewReader(cut))
	_, _, err = rd.NextRequest(&h)
	assert.ErrorIs(t, err, status.ConnectionError, "short auth bytes")
}

// writeCounter counts Write calls.
type writeCounter struct {
	bytes.Buffer
	calls int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestWriter(t *testing.T) {
	var out writeCounter
	w := wire.NewWriter(&out)
	h := header.Header{Opcode: 1, AcceptType: 5, AuthType: 2, AuthLength: 9, ContentLength: 999}
	require.NoError(t, w.WriteResponse(h, []byte{8, 1}))
	assert.Equal(t, 1, out.calls, "one Write per frame")
	rd := wire.NewReader(bytes.NewReader(out.Bytes()))
	var got header.Header
	body, err := rd.Next(&got)
	require.NoError(t, err)
	assert.Equal(t, []byte{8, 1}, body)
	assert.Equal(t, header.Header{Opcode: 1, ContentLength: 2}, got, "request-only fields are written as 0")

	require.ErrorIs(t, w.WriteResponse(header.Header{Status: 1144}, nil), status.InvalidEncoding)
	assert.Equal(t, 1, out.calls, "nothing written for a refused frame")

	require.NoError(t, w.WriteRequest(header.Header{Opcode: 1, Status: 17}, nil, []byte{1}))
	assert.Equal(t, 2, out.calls)
	assert.Equal(t, []byte{0, 0}, out.Bytes()[38+32:38+34], "a request's status is written as 0")
	allocs := testing.AllocsPerRun(100, func() { _ = w.WriteResponse(h, []byte{8, 1}) })
	assert.Zero(t, allocs)
}

// TestAnnouncedBodyCostsWhatArrives: a peer that announces a body at the limit and sends
// little makes the reader allocate about what arrived, not what was announced.
func TestAnnouncedBodyCostsWhatArrives(t *testing.T) {
	f := raw(header.Header{Opcode: 1}, bytes.Repeat([]byte{1}, 10), func(b []byte) { b[22], b[23], b[24] = 0, 0, 0x10 }) // 1 MiB announced
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	rd := wire.NewReader(bytes.NewReader(f))
	var h header.Header
	_, err := rd.Next(&h)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	runtime.ReadMemStats(&ms)
	assert.Less(t, ms.TotalAlloc-before, uint64(256<<10), "allocated %d bytes for 10 that arrived", ms.TotalAlloc-before)

	// A body that does arrive is read whole, however it grows.
	big := bytes.Repeat([]byte{7}, 700_000)
	full := response(t, header.Header{Opcode: 13}, big)
	rd = wire.NewReader(iotest.HalfReader(bytes.NewReader(append(full, full...))))
	for i := 0; i < 2; i++ {
		body, err := rd.Next(&h)
		require.NoError(t, err)
		assert.Equal(t, big, body)
		assert.Equal(t, len(big), cap(body), "the buffer is exactly the body")
	}
}

func TestSkipRequestBodyAndAuth(t *testing.T) {
	big, err := wire.AppendRequest(nil, header.Header{Opcode: 1}, bytes.Repeat([]byte{1}, 100), []byte("auth"))
	require.NoError(t, err)
	next, err := wire.AppendRequest(nil, header.Header{Opcode: 9}, nil, nil)
	require.NoError(t, err)
	rd := wire.NewReader(bytes.NewReader(append(big, next...)))
	rd.SetLimit(10)
	var h header.Header
	_, _, err = rd.NextRequest(&h)
	require.ErrorIs(t, err, status.BodySizeExceedsLimit)
	require.NoError(t, rd.Skip())
	assert.Equal(t, int64(len(big)), rd.Offset(), "Skip consumes the body and the auth bytes")
	_, _, err = rd.NextRequest(&h)
	require.NoError(t, err)
	assert.Equal(t, uint32(9), h.Opcode)
}

func TestFrameDue(t *testing.T) {
	rd := wire.NewReader(bytes.NewReader(nil))
	var h header.Header
	_, err := rd.Next(&h)
	require.Equal(t, io.EOF, err, "a stream may end between frames")
	err = wire.FrameDue(err)
	assert.ErrorIs(t, err, status.ConnectionError, "where a frame was due, it is a ConnectionError")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Nil(t, wire.FrameDue(nil))
	assert.ErrorIs(t, wire.FrameDue(status.InvalidHeader), status.InvalidHeader)
}
