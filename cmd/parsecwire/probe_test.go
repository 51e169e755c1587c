package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/probe"
)

// brokenServer answers each connection with handle, one defect per server.
func brokenServer(t *testing.T, handle func(conn net.Conn, h header.Header, err error)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "broken.sock")
	ln, err := net.Listen("unix", sock)
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
				conn.SetDeadline(time.Now().Add(3 * time.Second))
				rd := wire.NewReader(conn)
				var h header.Header
				_, _, err := rd.NextRequest(&h)
				handle(conn, h, err)
			}()
		}
	}()
	return sock
}

func echoOf(h header.Header) header.Header {
	return header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode, ContentType: h.AcceptType}
}

func TestProbeFindsEachDefect(t *testing.T) {
	cases := []struct {
		name   string
		kind   string
		handle func(conn net.Conn, h header.Header, err error)
	}{
		{"unknown status", probe.UnknownStatus, func(conn net.Conn, h header.Header, _ error) {
			r := echoOf(h)
			r.Status = 1144
			conn.Write(r.AppendRaw(nil))
		}},
		{"wrong opcode echo", probe.NoEcho, func(conn net.Conn, h header.Header, _ error) {
			r := echoOf(h)
			r.Opcode++
			w := wire.NewWriter(conn)
			w.WriteResponse(r, nil)
		}},
		{"no answer", probe.NoResponse, func(conn net.Conn, _ header.Header, _ error) {
			time.Sleep(time.Second)
		}},
		{"truncated answer", probe.ClosedEarly, func(conn net.Conn, h header.Header, _ error) {
			b, _ := wire.AppendResponse(nil, echoOf(h), []byte{8, 1})
			conn.Write(b[:20])
		}},
		{"garbage", probe.BadResponse, func(conn net.Conn, _ header.Header, _ error) {
			conn.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n...................."))
		}},
		{"wrong version", probe.BadResponse, func(conn net.Conn, h header.Header, _ error) {
			b, _ := wire.AppendResponse(nil, echoOf(h), nil)
			b[6] = 2
			conn.Write(b)
		}},
		{"trailing bytes", probe.Trailing, func(conn net.Conn, h header.Header, _ error) {
			b, _ := wire.AppendResponse(nil, echoOf(h), nil)
			conn.Write(append(b, 0, 0, 0))
		}},
		{"always success", probe.WrongStatus, func(conn net.Conn, h header.Header, _ error) {
			b, _ := wire.AppendResponse(nil, echoOf(h), nil)
			conn.Write(b)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sock := brokenServer(t, tc.handle)
			n := "4"
			if tc.kind == probe.WrongStatus {
				n = "40" // the base requests are all readable: mutations make bad ones
			}
			r := cli(t, "", "probe", "-socket", sock, "-n", n, "-timeout", "300ms", "-json")
			assert.Equal(t, exitInvalid, r.code, r.stderr)
			kinds := map[string]int{}
			for _, o := range jsonLines(t, r.stdout) {
				kinds[o["finding"].(string)]++
			}
			assert.Greater(t, kinds[tc.kind], 0, "findings %v", kinds)
		})
	}
}

func TestProbeAgainstServe(t *testing.T) {
	ts := startServe(t, "-quiet")
	// serve answers like a real service (a real digest, a random-bytes limit): framing.
	r := cli(t, "", "probe", "-socket", ts.socket, "-n", "300", "-seed", "5", "-expect", "framing")
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "300 requests")
	assert.Contains(t, r.stdout, "findings: 0")
}

func TestProbeReproducible(t *testing.T) {
	ts := startServe(t, "-quiet")
	run := func(args ...string) []map[string]any {
		r := cli(t, "", append([]string{"probe", "-socket", ts.socket, "-json", "-expect", "framing"}, args...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		return jsonLines(t, r.stdout)
	}
	a, b := run("-n", "60", "-seed", "9"), run("-n", "60", "-seed", "9")
	require.Len(t, a, 60)
	for i := range a {
		assert.Equal(t, a[i]["request"], b[i]["request"], "request %d", i)
		assert.Equal(t, a[i]["mutation"], b[i]["mutation"])
		for _, k := range []string{"index", "mutation", "request", "status", "status_name", "expected", "finding", "detail"} {
			assert.Contains(t, a[i], k)
		}
	}
	other := run("-n", "60", "-seed", "10")
	differ := 0
	for i := range a {
		if a[i]["request"] != other[i]["request"] {
			differ++
		}
	}
	assert.Greater(t, differ, 30)
	one := run("-seed", "9", "-replay", "37")
	require.Len(t, one, 1)
	assert.Equal(t, a[37]["request"], one[0]["request"], "-replay resends the same bytes")
	assert.Equal(t, float64(37), one[0]["index"])
}

func TestProbeUsage(t *testing.T) {
	r := cli(t, "", "probe", "-socket", filepath.Join(t.TempDir(), "none.sock"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "cannot reach")
	assert.Equal(t, exitUsage, cli(t, "", "probe", "-expect", "maybe").code)
	ts := startServe(t, "-quiet")
	t.Setenv(wire.EndpointEnv, "unix:"+ts.socket)
	r = cli(t, "", "probe", "-n", "5")
	assert.Equal(t, exitOK, r.code, "the socket comes from PARSEC_SERVICE_ENDPOINT")
	r = cli(t, "", "probe", "-h")
	assert.Contains(t, r.stdout, "Examples:")
}

// TestProbeAgainstReference probes the reference server (fuzz/reference, the Parsec front
// end's logic on parsec-interface): no findings, and every class of request check seen.
func TestProbeAgainstReference(t *testing.T) {
	bin := os.Getenv("PARSECWIRE_REFERENCE")
	if bin == "" {
		bin, _ = filepath.Abs("../../fuzz/reference/target/release/parsecwire-reference")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI builds the reference oracle: %v", err)
		}
		t.Skipf("reference oracle not built (fuzz/reference/build.sh): %v", err)
	}
	n := "2000"
	if testing.Short() {
		n = "200"
	}
	sock := filepath.Join(t.TempDir(), "ref.sock")
	cmd := exec.Command(bin, "serve", sock)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := cli(t, "", "probe", "-socket", sock, "-n", n, "-seed", "1", "-json")
	assert.Equal(t, exitOK, r.code, r.stderr)
	seen := map[status.Code]bool{}
	for _, o := range jsonLines(t, r.stdout) {
		assert.Equal(t, "", o["finding"], "%v", o)
		if v, ok := o["status"].(float64); ok {
			seen[status.Code(v)] = true
		}
	}
	for _, c := range []status.Code{status.Success, status.InvalidHeader, status.VersionTooBig, status.BodySizeExceedsLimit,
		status.ConnectionError, status.ContentTypeNotSupported, status.AcceptTypeNotSupported,
		status.AuthenticatorDoesNotExist, status.OpcodeDoesNotExist, status.ProviderDoesNotExist} {
		assert.True(t, seen[c], "status %v seen", c)
	}
	t.Log(r.stderr)
}

// TestProbeBusyService: a service whose listen queue is full refuses connects with EAGAIN.
// probe retries, then reports the requests as busy, which is no finding about an answer.
func TestProbeBusyService(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "busy.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}))
	require.NoError(t, syscall.Listen(fd, 0))
	filled := false
	for range 16 {
		c, err := net.Dial("unix", sock)
		if errors.Is(err, syscall.EAGAIN) {
			filled = true
			break
		}
		require.NoError(t, err)
		defer c.Close()
	}
	require.True(t, filled, "the listen queue fills")

	r := cli(t, "", "probe", "-socket", sock, "-n", "3", "-timeout", "200ms", "-json")
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	lines := jsonLines(t, r.stdout)
	require.Len(t, lines, 3)
	for _, o := range lines {
		assert.Equal(t, true, o["busy"], "%v", o)
		assert.Equal(t, "", o["finding"])
		assert.Contains(t, o["detail"], "EAGAIN")
	}
	assert.Contains(t, r.stderr, "findings: 0; busy: 3 requests not sent")
}
