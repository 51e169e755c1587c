package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	socket         string
	stdout, stderr *syncBuffer
	stop           func() int
}

// startServe runs parsecwire serve in-process on a socket in a temporary folder.
func startServe(t *testing.T, args ...string) *testServer {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "parsec.sock")
	return startMain(t, "serve", serveMain, sock, append([]string{"-socket", sock}, args...))
}

// startMain runs a command that listens on sock (serve, tap) in-process until stop.
func startMain(t *testing.T, name string, main func(context.Context, []string, io.Writer, io.Writer, chan<- string) int,
	sock string, args []string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{socket: sock, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() { done <- main(ctx, args, ts.stdout, ts.stderr, ready) }()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("%s exited %d: %s", name, code, ts.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start", name)
	}
	var once sync.Once
	code := -1
	ts.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { ts.stop() })
	return ts
}

// exchange sends raw bytes on a new connection and returns everything the server sends
// until it closes the connection.
func exchange(t *testing.T, sock string, req []byte) []byte {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Write(req)
	require.NoError(t, err)
	got, _ := io.ReadAll(conn) // a reset after the answer is not an error here
	return got
}

func caseFrames(t *testing.T, file string) (req, resp []byte) {
	data, err := os.ReadFile(filepath.Join("../../testdata/mock", file))
	require.NoError(t, err)
	cases, err := wiretest.ParseCases(file, data)
	require.NoError(t, err)
	require.Len(t, cases, 1)
	return cases[0].Request, cases[0].Response
}

func TestServeScripted(t *testing.T) {
	ts := startServe(t, "-cases", "../../testdata/mock")
	for _, f := range []string{"ping.test.yaml", "list_providers.test.yaml", "admin_error.test.yaml", "not_found.test.yaml"} {
		req, resp := caseFrames(t, f)
		assert.Equal(t, resp, exchange(t, ts.socket, req), f)
	}
	// A request no case matches gets a well-formed echo with PsaErrorNotSupported.
	req, err := wire.AppendRequest(nil, header.Header{Provider: 1, Session: 5, Opcode: header.OpListOpcodes}, []byte{8, 1}, nil)
	require.NoError(t, err)
	got := exchange(t, ts.socket, req)
	h, err := header.Decode(got)
	require.NoError(t, err)
	assert.Equal(t, header.Header{Provider: 1, Session: 5, Opcode: header.OpListOpcodes, Status: status.PsaErrorNotSupported}, h)
	assert.Len(t, got, header.Size)

	assert.Equal(t, exitOK, ts.stop())
	assert.Contains(t, ts.stderr.String(), "matched no case")
	assert.Contains(t, ts.stdout.String(), "5 connections, 5 requests")
	_, err = os.Stat(ts.socket)
	assert.True(t, os.IsNotExist(err), "shutdown removes the socket")
}

func TestServeBadRequests(t *testing.T) {
	ts := startServe(t, "-timeout", "200ms")
	cases := []struct {
		name string
		req  []byte
		code status.Code
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: parsec\r\n\r\n"), status.InvalidHeader},
		{"oversized body", func() []byte {
			b, _ := wire.AppendRequest(nil, header.Header{Opcode: 1}, nil, nil)
			b[25] = 0x10 // 256 MiB
			return b
		}(), status.BodySizeExceedsLimit},
		{"version 2.0", func() []byte {
			b, _ := wire.AppendRequest(nil, header.Header{Opcode: 1}, nil, nil)
			b[6] = 2
			return b
		}(), status.VersionTooBig},
		{"unknown opcode", func() []byte {
			b, _ := wire.AppendRequest(nil, header.Header{Opcode: 999, Session: 4}, nil, nil)
			return b
		}(), status.OpcodeDoesNotExist},
	}
	for _, tc := range cases {
		got := exchange(t, ts.socket, tc.req)
		h, err := header.Decode(got)
		require.NoError(t, err, tc.name)
		assert.Equal(t, header.Header{Opcode: header.OpPing, Status: tc.code}, h, "%s: the reference's status-only answer", tc.name)
	}
	// A client that sends nothing is dropped after the timeout, without an answer.
	conn, err := net.Dial("unix", ts.socket)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	n, err := conn.Read(make([]byte, 1))
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF, "closed by the server at its timeout, not by our deadline")
}

func TestServeKeepAlive(t *testing.T) {
	ts := startServe(t, "-keep-alive")
	conn, err := net.Dial("unix", ts.socket)
	require.NoError(t, err)
	c := wire.NewClient(conn)
	defer c.Close()
	for i := 0; i < 3; i++ {
		var resp header.Header
		body, err := c.RoundTrip(context.Background(), header.Header{Session: uint64(i), Opcode: header.OpPing}, nil, nil, &resp)
		require.NoError(t, err, "request %d on one connection", i)
		assert.Equal(t, []byte{8, 1}, body)
	}
}

// hostileRun sends the same requests in order to a hostile server and returns what came back.
func hostileRun(t *testing.T, seed string) ([][]byte, string) {
	ts := startServe(t, "-mutate", seed, "-cases", "../../testdata/mock")
	var out [][]byte
	for i := 0; i < 40; i++ {
		req, _ := caseFrames(t, []string{"ping.test.yaml", "not_found.test.yaml"}[i%2])
		out = append(out, exchange(t, ts.socket, req))
	}
	ts.stop()
	return out, ts.stderr.String()
}

func TestServeHostileReproducible(t *testing.T) {
	a, logA := hostileRun(t, "42")
	b, logB := hostileRun(t, "42")
	c, _ := hostileRun(t, "43")
	assert.Equal(t, a, b, "the same seed and requests give the same answers")
	assert.NotEqual(t, a, c, "another seed gives other answers")
	linesOf := func(log string) []string {
		var out []string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, "sent mutation") {
				out = append(out, l)
			}
		}
		return out
	}
	assert.Len(t, linesOf(logA), 40, "every mutation is logged")
	assert.Equal(t, linesOf(logA), linesOf(logB))
	_, resp := caseFrames(t, "ping.test.yaml")
	changed := 0
	for i, got := range a {
		if i%2 == 0 && !bytes.Equal(got, resp) {
			changed++
		}
	}
	assert.Greater(t, changed, 5, "most answers are mutated")
}

func TestServeConcurrentClients(t *testing.T) {
	ts := startServe(t, "-quiet")
	clients, each := 50, 200
	if testing.Short() {
		clients, each = 10, 20
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	stopNoise := make(chan struct{})
	var noise sync.WaitGroup
	noise.Add(1)
	go func() { // garbage and clients that disconnect mid-frame, all along
		defer noise.Done()
		half, _ := wire.AppendRequest(nil, header.Header{Opcode: 1}, []byte{1, 2, 3, 4}, nil)
		for i := 0; ; i++ {
			select {
			case <-stopNoise:
				return
			default:
			}
			conn, err := net.Dial("unix", ts.socket)
			if err != nil {
				continue
			}
			if i%2 == 0 {
				conn.Write([]byte("\xff\xfe garbage"))
			} else {
				conn.Write(half[:20])
			}
			conn.Close()
			time.Sleep(time.Millisecond)
		}
	}()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := range each {
				cl, err := wire.Dial(context.Background(), ts.socket)
				if err != nil {
					errs <- err
					return
				}
				req := header.Header{Provider: uint8(c % 6), Session: uint64(c)<<32 | uint64(i), Opcode: header.OpListProviders}
				var resp header.Header
				_, err = cl.RoundTrip(context.Background(), req, nil, nil, &resp)
				cl.Close()
				if err != nil {
					errs <- fmt.Errorf("client %d request %d: %w", c, i, err)
					return
				}
				if resp.Session != req.Session {
					errs <- fmt.Errorf("client %d request %d: got session %x", c, i, resp.Session)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(stopNoise)
	noise.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ts.stop()
	assert.Contains(t, ts.stdout.String(), fmt.Sprintf("Success %d", clients*each))
}

func TestServeUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, exitUsage, serveMain(context.Background(), []string{"-cases", t.TempDir()}, &out, &errb, nil))
	assert.Contains(t, errb.String(), "no test case")
	r := cli(t, "", "serve", "-h")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "Examples:")
	bad := writeFile(t, "x.yaml", []byte("test_data:\n  request: "+base64.StdEncoding.EncodeToString([]byte{1})+"\n"))
	assert.Equal(t, exitUsage, serveMain(context.Background(), []string{"-cases", filepath.Dir(bad)}, &out, &errb, nil))
}

func TestServeSocketFlags(t *testing.T) {
	ts := startServe(t, "-mode", "0640", "-max-conns", "8")
	st, err := os.Stat(ts.socket)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.Contains(t, ts.stderr.String(), "at most 8 connections at once")

	// A second server on the same path: refused, and the first goes on.
	var out, errb bytes.Buffer
	assert.Equal(t, exitUsage, serveMain(context.Background(), []string{"-socket", ts.socket}, &out, &errb, nil))
	assert.Contains(t, errb.String(), "another server is listening there")
	req, err := wire.AppendRequest(nil, header.Header{Opcode: header.OpPing}, nil, nil)
	require.NoError(t, err)
	assert.Len(t, exchange(t, ts.socket, req), header.Size+2)

	for _, bad := range [][]string{{"-mode", "rw"}, {"-mode", "1777"}, {"-max-conns", "0"}} {
		errb.Reset()
		assert.Equal(t, exitUsage, serveMain(context.Background(), append([]string{"-socket", filepath.Join(t.TempDir(), "s")}, bad...), &out, &errb, nil), "%v", bad)
		assert.Contains(t, errb.String(), bad[0])
	}
	ts.stop()
	assert.Contains(t, ts.stdout.String(), "1 connections, 1 requests; responses by status: Success 1")
}
