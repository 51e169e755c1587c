package fuzz

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// scriptedConn is a net.Conn that answers with fixed bytes and fails where told: no socket and
// no goroutine, so that FuzzClient behaves the same under libFuzzer, input after input, as
// under go test.
type scriptedConn struct {
	answer      *bytes.Reader
	written     []byte
	writeErr    error  // Write fails with it
	deadlineErr error  // SetDeadline fails with it
	onRead      func() // called before each Read
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	if c.onRead != nil {
		c.onRead()
	}
	return c.answer.Read(p)
}

func (c *scriptedConn) Write(p []byte) (int, error) {
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	c.written = append(c.written, p...)
	return len(p), nil
}

func (c *scriptedConn) Close() error                       { return nil }
func (c *scriptedConn) LocalAddr() net.Addr                { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (c *scriptedConn) RemoteAddr() net.Addr               { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (c *scriptedConn) SetDeadline(time.Time) error        { return c.deadlineErr }
func (c *scriptedConn) SetReadDeadline(t time.Time) error  { return c.deadlineErr }
func (c *scriptedConn) SetWriteDeadline(t time.Time) error { return c.deadlineErr }

var (
	errBrokenPipe = errors.New("scripted write failure")
	errNoDeadline = errors.New("scripted deadline failure")
)

// FuzzClient: wire.Client's round trip against a service that answers any bytes, with a write
// that may fail, a context that may be cancelled before or during the call, and a fuzzed
// limit: no panic; the request written is exactly the encoded request; success only for a
// valid Success answer that echoes the request's opcode, provider and session, with its body;
// a valid answer with another status is a *ServiceError matching that status; a failed write
// over a missing answer is a ConnectionError that wraps the write's error; a cancellation is
// reported as one; every other error carries a classifying status or is ErrMismatch.
func FuzzClient(f *testing.F) {
	ok, _ := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 9, Opcode: header.OpPing}, []byte{8, 1, 16, 0})
	refused, _ := wire.AppendResponse(nil, header.Header{Opcode: 1, Status: status.PsaErrorNotSupported}, nil)
	for mode := range uint8(16) {
		f.Add(ok, uint32(header.OpPing), uint8(1), uint64(9), mode, uint16(8))
	}
	f.Add(ok, uint32(header.OpPing), uint8(2), uint64(9), uint8(0), uint16(8))
	f.Add(ok, uint32(header.OpPing), uint8(1), uint64(10), uint8(0), uint16(8))
	f.Add(ok, uint32(2), uint8(1), uint64(9), uint8(0), uint16(8))
	f.Add(refused, uint32(header.OpPing), uint8(1), uint64(9), uint8(1), uint16(8))
	f.Add(ok[:20], uint32(header.OpPing), uint8(1), uint64(9), uint8(1), uint16(8))
	f.Fuzz(func(t *testing.T, answer []byte, opcode uint32, provider uint8, session uint64, mode uint8, limit uint16) {
		conn := &scriptedConn{answer: bytes.NewReader(answer)}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		switch mode % 4 {
		case 1:
			conn.writeErr = errBrokenPipe
		case 2:
			conn.deadlineErr = errNoDeadline
		case 3:
			conn.onRead = cancel // cancelled while the client reads the answer
		}
		if mode&4 != 0 {
			cancel() // cancelled before the call
		}
		c := wire.NewClient(conn)
		readLimit := uint32(wire.DefaultLimit)
		if mode&8 != 0 {
			readLimit = uint32(limit)
			c.Reader().SetLimit(readLimit)
		}
		req := header.Header{Opcode: opcode, Provider: provider, Session: session}
		reqBody := []byte{10, 2, 8, 1}
		var resp header.Header
		body, err := c.RoundTrip(ctx, req, reqBody, nil, &resp)

		// The answer as an independent read sees it.
		rd := wire.NewReader(bytes.NewReader(answer))
		rd.SetLimit(readLimit)
		var want header.Header
		wantBody, rerr := rd.Next(&want)
		rerr = wire.FrameDue(rerr)

		if mode&4 != 0 {
			if !errors.Is(err, context.Canceled) || len(conn.written) != 0 {
				t.Fatalf("a cancelled context: %v, %d bytes written", err, len(conn.written))
			}
			return
		}
		if mode%4 == 2 {
			if !errors.Is(err, errNoDeadline) {
				t.Fatalf("the connection refused the deadline: %v", err)
			}
			return
		}
		if mode%4 != 1 {
			sent, _ := wire.AppendRequest(nil, req, reqBody, nil)
			if !bytes.Equal(conn.written, sent) {
				t.Fatalf("wrote %x, want %x", conn.written, sent)
			}
		}
		if err == nil {
			if rerr != nil || want.Status != status.Success || want.Opcode != opcode || want.Provider != provider ||
				want.Session != session || !bytes.Equal(body, wantBody) || resp != want {
				t.Fatalf("success on %x (%v): %+v %x", answer, rerr, resp, body)
			}
			return
		}
		if err.Error() == "" {
			t.Fatalf("an error without a message: %#v", err)
		}
		switch {
		case rerr == nil && want.Status != status.Success:
			var se *wire.ServiceError
			if !errors.As(err, &se) || !errors.Is(err, want.Status) || se.Opcode != opcode {
				t.Fatalf("answer with status %v: %v", want.Status, err)
			}
		case rerr == nil:
			if !errors.Is(err, wire.ErrMismatch) {
				t.Fatalf("a Success answer that does not echo %+v: %v", req, err)
			}
		case mode%4 == 1:
			if !errors.Is(err, status.ConnectionError) || !errors.Is(err, errBrokenPipe) {
				t.Fatalf("a failed write and no answer: %v", err)
			}
			if c, ok := status.Of(err); !ok || c != status.ConnectionError {
				t.Fatalf("a failed write classifies as %v, %v", c, ok)
			}
		default:
			c, ok := status.Of(err)
			if want, _ := status.Of(rerr); !ok || c != want {
				t.Fatalf("client says %v (%v), an independent read %v", err, c, rerr)
			}
			if mode%4 == 3 && !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled during the read: %v", err)
			}
		}
	})
}
