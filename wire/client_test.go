package wire_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// testServer answers requests on a Unix socket in a temporary directory with answer, which
// returns the response header and body for a request. It serves every request on a
// connection until the client closes it.
func testServer(t *testing.T, answer func(h header.Header, body []byte) (header.Header, []byte, bool)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parsec.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				rd, w := wire.NewReader(conn), wire.NewWriter(conn)
				rd.SetStrict(true)
				for {
					var h header.Header
					body, _, err := rd.NextRequest(&h)
					if err != nil {
						if s, ok := status.Of(err); ok && s != status.ConnectionError {
							// As the reference service: a response from the status alone.
							_ = w.WriteResponse(header.Header{Opcode: header.OpPing, Status: s}, nil)
						}
						return
					}
					rh, rb, ok := answer(h, body)
					if !ok {
						continue // silence: wait for more bytes, as the Parsec mock does
					}
					if err := w.WriteResponse(rh, rb); err != nil {
						return
					}
				}
			}()
		}
	}()
	return path
}

var okBody = []byte{0x08, 0x01}

// echo answers like a Parsec service: the request's provider, session and opcode.
func echo(h header.Header, body []byte) (header.Header, []byte, bool) {
	return header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode}, append([]byte{0x08}, body...), true
}

func TestRoundTrip(t *testing.T) {
	path := testServer(t, echo)
	c, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	defer c.Close()
	req := header.Header{Provider: 1, Session: 77, Opcode: header.OpListOpcodes}
	var resp header.Header
	for i := 0; i < 3; i++ {
		body, err := c.RoundTrip(context.Background(), req, []byte{0x01}, nil, &resp)
		require.NoError(t, err)
		assert.Equal(t, []byte{0x08, 0x01}, body)
		assert.Equal(t, uint64(77), resp.Session)
		assert.Equal(t, status.Success, resp.Status)
	}
	// The count covers the whole process, the server too; answer from a fixed body.
	fixed := testServer(t, func(h header.Header, _ []byte) (header.Header, []byte, bool) {
		return header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode}, okBody, true
	})
	c, err = wire.Dial(context.Background(), fixed)
	require.NoError(t, err)
	defer c.Close()
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := c.RoundTrip(context.Background(), req, []byte{0x01}, nil, &resp); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "a round trip allocates nothing in steady state")
}

func TestRoundTripStatusBeforeOpcode(t *testing.T) {
	// The service cannot read the request (unknown opcode) and answers from the status alone:
	// provider 0, session 0, opcode 1. The client must report the status, not a mismatch.
	path := testServer(t, echo)
	c, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	defer c.Close()
	var resp header.Header
	_, err = c.RoundTrip(context.Background(), header.Header{Provider: 1, Session: 3, Opcode: 99}, nil, nil, &resp)
	require.Error(t, err)
	assert.ErrorIs(t, err, status.OpcodeDoesNotExist)
	assert.NotErrorIs(t, err, wire.ErrMismatch)
	var se *wire.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, uint32(99), se.Opcode)
	assert.Contains(t, err.Error(), "OpcodeDoesNotExist")
	assert.Equal(t, uint32(1), resp.Opcode, "the response header comes back with the error")
}

func TestRoundTripMismatch(t *testing.T) {
	path := testServer(t, func(h header.Header, body []byte) (header.Header, []byte, bool) {
		h2, b, ok := echo(h, body)
		h2.Opcode = header.OpPing
		return h2, b, ok
	})
	c, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	defer c.Close()
	var resp header.Header
	_, err = c.RoundTrip(context.Background(), header.Header{Opcode: header.OpListProviders}, nil, nil, &resp)
	assert.ErrorIs(t, err, wire.ErrMismatch)
	var me *wire.MismatchError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, header.FieldOpcode, me.Field)
}

func TestRoundTripDeadlineAndCancel(t *testing.T) {
	path := testServer(t, func(header.Header, []byte) (header.Header, []byte, bool) { return header.Header{}, nil, false })
	c, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	defer c.Close()
	var resp header.Header

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.RoundTrip(ctx, header.Header{Opcode: 1}, nil, nil, &resp)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, status.ConnectionError)

	c2, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	defer c2.Close()
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err = c2.RoundTrip(ctx, header.Header{Opcode: 1}, nil, nil, &resp)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

func TestConnDeadlineSurfaces(t *testing.T) {
	path := testServer(t, func(header.Header, []byte) (header.Header, []byte, bool) { return header.Header{}, nil, false })
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	var h header.Header
	_, err = wire.NewReader(conn).Next(&h)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.ErrorIs(t, err, status.ConnectionError)
	var ne net.Error
	assert.True(t, errors.As(err, &ne) && ne.Timeout())
}

func TestEndpoint(t *testing.T) {
	t.Setenv(wire.EndpointEnv, "")
	p, err := wire.Endpoint()
	require.NoError(t, err)
	assert.Equal(t, "/run/parsec/parsec.sock", p)
	t.Setenv(wire.EndpointEnv, "unix:/tmp/x.sock")
	p, err = wire.Endpoint()
	require.NoError(t, err)
	assert.Equal(t, "/tmp/x.sock", p)
	p, err = wire.ParseEndpoint("unix:///run/p.sock")
	require.NoError(t, err)
	assert.Equal(t, "/run/p.sock", p)
	_, err = wire.ParseEndpoint("tcp://127.0.0.1:1")
	assert.Error(t, err)
	_, err = wire.ParseEndpoint("unix:")
	assert.Error(t, err)

	path := testServer(t, echo)
	t.Setenv(wire.EndpointEnv, "unix:"+path)
	c, err := wire.Dial(context.Background(), "")
	require.NoError(t, err, "Dial follows PARSEC_SERVICE_ENDPOINT")
	c.Close()
}

func TestRoundTripClosedWithoutAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			conn.Close()
		}
	}()
	c, err := wire.Dial(context.Background(), path)
	require.NoError(t, err)
	defer c.Close()
	var resp header.Header
	_, err = c.RoundTrip(context.Background(), header.Header{Opcode: 1}, nil, nil, &resp)
	require.Error(t, err)
	assert.ErrorIs(t, err, status.ConnectionError, "a connection closed instead of an answer")
}
