package fuzz

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// The native fuzz targets. Each is a plain target with no global state, no network and no
// file outside testdata/, so OSS-Fuzz and ClusterFuzzLite build and run them as they are. They
// live in package fuzz itself, not fuzz_test: go-118-fuzz-build compiles this file as an
// ordinary file of the package, with "testing" swapped for its shim, so everything a target
// uses is here or in the package (TestTargetsBuildUnderLibFuzzer lists the rules).
// Seeds: f.Add below and testdata/fuzz/FuzzX/ (which includes every sample frame of the
// repository's testdata/).

func seedFrames() [][]byte {
	ok := header.Header{Provider: 1, Session: 7, Opcode: 28, Status: status.AdminOperation}.AppendRaw(nil)
	withBody, _ := wire.AppendResponse(nil, header.Header{Opcode: 1}, []byte{8, 1})
	bad := append([]byte{}, ok...)
	bad[32], bad[33] = 0x78, 0x04
	return [][]byte{ok, withBody, bad, ok[:20], {}}
}

// classes are the statuses a header decode error may match, exactly one of them.
var classes = []status.Code{status.InvalidHeader, status.VersionTooBig, status.InvalidEncoding, status.ConnectionError}

// FuzzHeaderDecode: any bytes never panic; a success re-encodes to exactly the first 36
// bytes; a failure matches exactly one classifying status (a short input: ConnectionError
// together with io.ErrUnexpectedEOF).
func FuzzHeaderDecode(f *testing.F) {
	for _, b := range seedFrames() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h header.Header
		err := h.UnmarshalBinary(b)
		if err == nil {
			out, err := h.AppendBinary(nil)
			if err != nil {
				t.Fatalf("re-encode of a decoded header: %v", err)
			}
			if !bytes.Equal(out, b[:header.Size]) {
				t.Fatalf("re-encode differs:\n in %x\nout %x", b[:header.Size], out)
			}
			return
		}
		checkOneClass(t, err)
		if errors.Is(err, status.ConnectionError) != errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("a short input is ConnectionError and io.ErrUnexpectedEOF together: %v", err)
		}
	})
}

func checkOneClass(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, c := range classes {
		if errors.Is(err, c) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error matches %d classifying statuses, want 1: %v", n, err)
	}
	var fe *header.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error is not a *header.FieldError: %T %v", err, err)
	}
}

// FuzzDifferential: the fast decoder and the plain one agree on every input: the same
// verdict, and on success the same fields.
func FuzzDifferential(f *testing.F) {
	for _, b := range seedFrames() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, verdict := PlainDecode(b)
		h, err := header.Decode(b)
		got := OK
		if err != nil {
			c, _ := status.Of(err)
			got = Verdict(c.String())
		}
		if got != verdict {
			t.Fatalf("verdicts differ on %x: fast %s (%v), plain %s", b, got, err, verdict)
		}
		if err != nil {
			return
		}
		want := header.Header{Flags: p.Flags, Provider: p.Provider, Session: p.Session, ContentType: p.ContentType,
			AcceptType: p.AcceptType, AuthType: p.AuthType, ContentLength: p.ContentLength, AuthLength: p.AuthLength,
			Opcode: p.Opcode, Status: status.Code(p.Status)}
		if h != want {
			t.Fatalf("fields differ on %x:\nfast  %+v\nplain %+v", b, h, want)
		}
	})
}

// countingReader counts the bytes its reader delivered.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzStream: any byte stream through wire.Reader, with a fuzzed small limit and a fuzzed
// way of reading (one byte at a time, halves, an error mid-stream): no panic; the bytes the
// reader reports consumed are exactly what it read, frame by frame; it never holds a body
// above the limit; a frame it accepts re-encodes to exactly the bytes it consumed.
func FuzzStream(f *testing.F) {
	for _, b := range seedFrames() {
		f.Add(b, uint16(16), uint8(0))
		f.Add(append(append([]byte{}, b...), b...), uint16(4), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, mode uint8) {
		var r io.Reader = bytes.NewReader(data)
		failAt := -1
		switch mode % 4 {
		case 1:
			r = iotest.OneByteReader(r)
		case 2:
			r = iotest.HalfReader(r)
		case 3:
			failAt = int(mode) % (len(data) + 1)
			r = io.MultiReader(io.LimitReader(r, int64(failAt)), iotest.ErrReader(errors.New("mid-stream failure")))
		}
		cr := &countingReader{r: r}
		rd := wire.NewReader(cr)
		rd.SetLimit(uint32(limit))
		if rd.Limit() != uint32(limit) {
			t.Fatalf("limit %d set, %d reported", limit, rd.Limit())
		}
		for frames := 0; frames < 1000; frames++ {
			start := rd.Offset()
			var h header.Header
			body, err := rd.Next(&h)
			if rd.Offset() != int64(cr.n) {
				t.Fatalf("reader reports %d bytes consumed, read %d", rd.Offset(), cr.n)
			}
			if cap(body) > int(limit) {
				t.Fatalf("holds a %d-byte buffer with a limit of %d", cap(body), limit)
			}
			if err == io.EOF {
				return
			}
			if err == nil {
				frame := data[start:rd.Offset()]
				out := append(h.AppendRaw(nil), body...)
				if !bytes.Equal(out, frame) {
					t.Fatalf("accepted frame re-encodes differently:\n in %x\nout %x", frame, out)
				}
				continue
			}
			if _, ok := status.Of(err); !ok {
				t.Fatalf("error without a classifying status: %v", err)
			}
			if errors.Is(err, status.BodySizeExceedsLimit) {
				if h.ContentLength <= uint32(limit) {
					t.Fatalf("refused a body of %d with a limit of %d", h.ContentLength, limit)
				}
				if err := rd.Skip(); err != nil {
					return
				}
				continue
			}
			if errors.Is(err, status.InvalidEncoding) {
				continue // the frame was consumed whole: the stream is in sync
			}
			return // the stream cannot be trusted past this frame
		}
	})
}

// FuzzStatus: any u16 decodes exactly when it is in the table; every known code's name and
// alias look back up to the code.
func FuzzStatus(f *testing.F) {
	for _, v := range BorderStatuses {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v uint16) {
		c, err := status.Decode(v)
		if (err == nil) != PlainKnownStatus(v) {
			t.Fatalf("Decode(%d) = %v, plain table says known=%v", v, err, PlainKnownStatus(v))
		}
		if err != nil {
			if !errors.Is(err, status.InvalidEncoding) {
				t.Fatalf("unknown %d: %v does not match InvalidEncoding", v, err)
			}
			return
		}
		for _, name := range []string{c.String(), c.Alias()} {
			if name == "" {
				continue
			}
			back, ok := status.Lookup(name)
			if !ok || back != c {
				t.Fatalf("Lookup(%q) = %v, %v; want %v", name, back, ok, c)
			}
		}
		if status.Seed.Contains(c) && !status.Current.Contains(c) {
			t.Fatalf("%v is in the seed set but not the current one", c)
		}
	})
}

// FuzzRoundTrip: a header built from fuzzed fields comes back from AppendRaw through
// UnmarshalRaw whatever its status, and encodes and decodes to itself when its
// status is known, and is refused with InvalidEncoding when it is not.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint16(0), uint8(0), uint64(0), uint8(0), uint8(0), uint8(0), uint32(0), uint16(0), uint32(1), uint16(0))
	f.Add(uint16(0xffff), uint8(9), uint64(1<<63), uint8(1), uint8(2), uint8(3), uint32(0xffffffff), uint16(7), uint32(28), uint16(1144))
	f.Fuzz(func(t *testing.T, flags uint16, provider uint8, session uint64, ct, at, auth uint8, cl uint32, al uint16, op uint32, st uint16) {
		h := header.Header{Flags: flags, Provider: provider, Session: session, ContentType: ct, AcceptType: at,
			AuthType: auth, ContentLength: cl, AuthLength: al, Opcode: op, Status: status.Code(st)}
		var raw header.Header
		raw.UnmarshalRaw((*[header.Size]byte)(h.AppendRaw(nil)))
		if raw != h {
			t.Fatalf("raw round trip:\n in %+v\nout %+v", h, raw)
		}
		b, err := h.MarshalBinary()
		if !h.Status.Known() {
			if !errors.Is(err, status.InvalidEncoding) {
				t.Fatalf("status %d encoded: %v", st, err)
			}
			return
		}
		if err != nil || len(b) != header.Size {
			t.Fatalf("encode: %v, %d bytes", err, len(b))
		}
		got, err := header.Decode(b)
		if err != nil || got != h {
			t.Fatalf("round trip: %v\n in %+v\nout %+v", err, h, got)
		}
	})
}

// FuzzMutator: any valid response or request (with a fuzzed body and status, or auth bytes)
// and seed give a mutation that is reproducible, changes what the peer receives, has a
// description, and whose verdict is the codec's classifying status for its bytes.
func FuzzMutator(f *testing.F) {
	f.Add(uint64(0), []byte{8, 1}, uint16(1140), false, uint16(64))
	f.Add(uint64(99), []byte{}, uint16(0), true, uint16(0))
	f.Fuzz(func(t *testing.T, seed uint64, body []byte, st uint16, request bool, limit uint16) {
		h := header.Header{Opcode: 1, Status: status.Code(st)}
		var frame []byte
		var err error
		if request {
			h.Status, h.AuthType = 0, uint8(st)&1 // direct authentication, or none
			auth := body[:len(body)/2*int(h.AuthType)]
			frame, err = wire.AppendRequest(nil, h, body[len(auth):], auth)
		} else {
			if !h.Status.Known() {
				h.Status = 0
			}
			frame, err = wire.AppendResponse(nil, h, body)
		}
		if err != nil {
			t.Fatal(err)
		}
		mutate := func() Mutation {
			if request {
				return MutateRequest(frame, seed, uint32(limit))
			}
			return MutateResponse(frame, seed)
		}
		m1, m2 := mutate(), mutate()
		if !bytes.Equal(m1.Frame, m2.Frame) || m1.Desc != m2.Desc || m1.Kind != m2.Kind || m1.Chunk != m2.Chunk {
			t.Fatalf("seed %d gives two mutations: %v / %v", seed, m1, m2)
		}
		if m1.Desc == "" {
			t.Fatalf("mutation without a description: %v", m1)
		}
		if !m1.Changes(frame) {
			t.Fatalf("seed %d: %v leaves %x as it was", seed, m1, frame)
		}
		rd := wire.NewReader(bytes.NewReader(m1.Frame))
		lim := uint32(wire.DefaultLimit)
		if request {
			lim = uint32(limit)
			rd.SetStrict(true)
		}
		rd.SetLimit(lim)
		var got header.Header
		if request {
			_, _, err = rd.NextRequest(&got)
		} else {
			_, err = rd.Next(&got)
		}
		err = wire.FrameDue(err)
		want, _ := status.Of(err)
		verdict, _ := status.Of(m1.Verdict)
		if (err == nil) != (m1.Verdict == nil) || want != verdict {
			t.Fatalf("verdict %v, codec says %v", m1.Verdict, err)
		}
	})
}
