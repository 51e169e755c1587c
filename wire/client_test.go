package wire_test

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

// testServer answers requests on a wiretest.Server, the library's test service, with
// answer, which returns the response header and body for a request, or false for silence: no
// answer until the test ends. It serves every request on a connection until the client
// closes it.
func testServer(t *testing.T, answer func(h header.Header, body []byte) (header.Header, []byte, bool)) string {
	t.Helper()
	quiet := make(chan struct{})
	srv := wiretest.NewUnstartedServer(wiretest.HandlerFunc(func(w wiretest.ResponseWriter, r *wiretest.Request) {
		rh, rb, ok := answer(r.Header, r.Body)
		if !ok {
			<-quiet // silence, as the Parsec mock gives a request it has no case for
			return
		}
		_ = w.WriteResponse(rh, rb)
	}))
	srv.KeepAlive, srv.MaxLog = true, 0
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(quiet) })
	return srv.Path
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

// TestRoundTripEndlessBody: a service announces a 4 GiB body and sends 64 MiB of it, then
// nothing. With the limit lifted, the client reads until its deadline and no further, holds
// about what arrived while it reads (no buffer allocated ahead of the bytes, none copied as
// it grows), and releases it with the error.
func TestRoundTripEndlessBody(t *testing.T) {
	const sent = 64 << 20
	quiet := make(chan struct{})
	srv := wiretest.NewUnstartedServer(wiretest.HandlerFunc(func(w wiretest.ResponseWriter, r *wiretest.Request) {
		h := header.Header{Session: r.Header.Session, Opcode: r.Header.Opcode, ContentLength: math.MaxUint32}
		if _, err := w.Write(h.AppendRaw(nil)); err != nil {
			return
		}
		chunk := make([]byte, 1<<20)
		for i := 0; i < sent/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		<-quiet
	}))
	srv.Timeout = time.Minute
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(quiet) })

	c, err := srv.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()
	c.Reader().SetLimit(math.MaxUint32)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const limit = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	var resp header.Header
	_, err = c.RoundTrip(ctx, header.Header{Session: 1, Opcode: header.OpPing}, nil, nil, &resp)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.ErrorIs(t, err, status.ConnectionError)
	assert.Less(t, elapsed, limit+time.Second, "the read stops at the deadline")
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(2*sent), "allocated %d MiB for at most %d MiB that arrived", allocated>>20, sent>>20)
	runtime.GC()
	runtime.ReadMemStats(&after)
	assert.Less(t, int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(16<<20), "what was read is released with the error")
}
