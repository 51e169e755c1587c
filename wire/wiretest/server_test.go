package wiretest_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

func request(t *testing.T, h header.Header, body, auth []byte) []byte {
	t.Helper()
	b, err := wire.AppendRequest(nil, h, body, auth)
	require.NoError(t, err)
	return b
}

// exchange sends raw bytes on a new connection and returns everything the server sends
// until it closes the connection (a reset after the answer is not an error here).
func exchange(t *testing.T, path string, req []byte) []byte {
	t.Helper()
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, _ = conn.Write(req)
	got, _ := io.ReadAll(conn)
	return got
}

func TestDefaultAnswers(t *testing.T) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.Timeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	for _, tc := range []struct {
		name string
		req  []byte
		want header.Header
		body []byte
	}{
		{"ping", request(t, header.Header{Session: 3, Opcode: header.OpPing}, nil, nil),
			header.Header{Session: 3, Opcode: header.OpPing}, []byte{8, 1}},
		{"list providers, echoed", request(t, header.Header{Provider: 1, Session: 9, Opcode: header.OpListProviders}, nil, nil),
			header.Header{Provider: 1, Session: 9, Opcode: header.OpListProviders},
			encode(t, header.OpListProviders, operation.Fields{{Name: "providers", Value: wiretest.Providers}})},
		{"the opcodes of Mbed Crypto", request(t, header.Header{Opcode: header.OpListOpcodes}, []byte{0x08, 0x01}, nil),
			header.Header{Opcode: header.OpListOpcodes},
			encode(t, header.OpListOpcodes, operation.Fields{{Name: "opcodes", Value: []uint32{2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 24, 25, 32}}})},
		{"the real digest", request(t, header.Header{Provider: 1, Opcode: 15}, []byte{0x08, 0x07, 0x12, 0x03, 'a', 'b', 'c'}, nil),
			header.Header{Provider: 1, Opcode: 15},
			encode(t, 15, operation.Fields{{Name: "hash", Value: func() []byte { s := sha256.Sum256([]byte("abc")); return s[:] }()}})},
		{"random bytes as asked", request(t, header.Header{Provider: 1, Opcode: 13}, []byte{0x08, 0x05}, nil),
			header.Header{Provider: 1, Opcode: 13}, nil},
		{"a body the converter refuses: its status, echoed", request(t, header.Header{Provider: 1, Session: 4, Opcode: 15}, []byte{0x08, 0x00}, nil),
			header.Header{Provider: 1, Session: 4, Opcode: 15, Status: status.InvalidEncoding}, nil},
		{"a body that does not parse", request(t, header.Header{Opcode: header.OpPing}, []byte{0x00}, nil),
			header.Header{Opcode: header.OpPing, Status: status.DeserializingBodyFailed}, nil},
		{"garbage: status alone", []byte("GET / HTTP/1.1\r\n\r\n"), wiretest.StatusOnly(status.InvalidHeader), nil},
		{"version 2.0", func() []byte {
			b := request(t, header.Header{Opcode: 1}, nil, nil)
			b[6] = 2
			return b
		}(), wiretest.StatusOnly(status.VersionTooBig), nil},
		{"body above the limit", func() []byte {
			b := request(t, header.Header{Opcode: 1}, nil, nil)
			b[25] = 0x10
			return b
		}(), wiretest.StatusOnly(status.BodySizeExceedsLimit), nil},
		{"unknown provider", request(t, header.Header{Provider: 9, Opcode: 1}, nil, nil), wiretest.StatusOnly(status.ProviderDoesNotExist), nil},
		{"cut short", request(t, header.Header{Opcode: 1}, []byte{1, 2, 3}, nil)[:37], wiretest.StatusOnly(status.ConnectionError), nil},
	} {
		got := exchange(t, srv.Path, tc.req)
		rd := wire.NewReader(strings.NewReader(string(got)))
		var h header.Header
		body, err := rd.Next(&h)
		require.NoError(t, err, tc.name)
		if tc.name == "random bytes as asked" {
			fs, err := operation.Decode(13, operation.Response, body)
			require.NoError(t, err)
			assert.Len(t, fs.Get("random_bytes"), 5)
			tc.body = body
		}
		tc.want.ContentLength = uint32(len(tc.body))
		assert.Equal(t, tc.want, h, tc.name)
		assert.Equal(t, string(tc.body), string(body), tc.name)
		assert.NoError(t, operation.ValidateFrame(&h, operation.Response, body), "%s: a client can read the answer", tc.name)
		assert.Equal(t, int64(len(got)), rd.Offset(), "%s: one frame, then the connection closes", tc.name)
	}
	// A client that sends nothing is dropped, unanswered, after the timeout.
	assert.Empty(t, exchange(t, srv.Path, nil))
	srv.Close()
	st := srv.Stats()
	assert.Equal(t, uint64(13), st.Connections)
	assert.Equal(t, uint64(12), st.Answered)
	assert.Equal(t, uint64(1), st.Dropped)
	assert.Equal(t, uint64(5), st.ByStatus[uint16(status.Success)])
	log := srv.Requests()
	require.Len(t, log, 13)
	assert.Contains(t, log[5].String(), "PsaHashCompute answered InvalidEncoding")
	assert.Contains(t, log[12].String(), "nothing received for 200ms: dropped")
}

func TestKeepAliveAndLog(t *testing.T) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.KeepAlive = true
	srv.Start()
	defer srv.Close()
	c, err := srv.Dial(context.Background())
	require.NoError(t, err)
	for i := range 3 {
		var resp header.Header
		body, err := c.RoundTrip(context.Background(), header.Header{Session: uint64(i), Opcode: header.OpPing}, nil, nil, &resp)
		require.NoError(t, err, "request %d on one connection", i)
		assert.Equal(t, []byte{8, 1}, body)
	}
	// The idle keep-alive connection does not hold Close up: it is closed at once.
	srv.Grace = time.Hour
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited for an idle keep-alive connection")
	}
	c.Close()
	log := srv.Requests()
	require.Len(t, log, 3)
	for i, e := range log {
		assert.Equal(t, uint64(i), e.Seq)
		assert.Equal(t, uint64(0), e.Conn, "one connection")
		assert.Equal(t, uint64(i), e.Header.Session)
		assert.Equal(t, "request "+string(rune('0'+i))+": Ping answered Success", e.String())
	}
}

// TestCloseAnswersAccepted: every connection accepted before Close gets its answer, even
// when its request is still arriving when Close is called.
func TestCloseAnswersAccepted(t *testing.T) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.MaxLog = 0
	srv.Start()
	const n = 40
	req := request(t, header.Header{Opcode: header.OpPing}, nil, nil)
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("unix", srv.Path)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
		_, err = c.Write(req[:10])
		require.NoError(t, err)
		conns[i] = c
	}
	require.Eventually(t, func() bool { return srv.Stats().Connections == n }, 30*time.Second, time.Millisecond)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	// The socket file goes when Close stops accepting; the requests end after that.
	require.Eventually(t, func() bool { _, err := os.Stat(srv.Path); return err != nil }, 30*time.Second, time.Millisecond)
	for i, c := range conns {
		_, err := c.Write(req[10:])
		require.NoError(t, err)
		var h header.Header
		body, err := wire.NewReader(c).Next(&h)
		require.NoError(t, err, "connection %d", i)
		assert.Equal(t, []byte{8, 1}, body)
	}
	<-closed
	st := srv.Stats()
	assert.Equal(t, uint64(n), st.Answered)
	assert.Zero(t, st.Dropped)
}

// TestMaxConns: past the cap the server stops accepting; a waiting client is served when a
// slot frees, and nothing is lost.
func TestMaxConns(t *testing.T) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.MaxConns = 2
	srv.Start()
	defer srv.Close()
	var silent []net.Conn
	for range 2 {
		c, err := net.Dial("unix", srv.Path)
		require.NoError(t, err)
		defer c.Close()
		silent = append(silent, c)
	}
	require.Eventually(t, func() bool { return srv.Stats().Connections == 2 }, 30*time.Second, time.Millisecond)
	c, err := net.Dial("unix", srv.Path) // queued by the kernel: connect succeeds
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(request(t, header.Header{Opcode: header.OpPing}, nil, nil))
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "no answer while both slots are held")
	assert.Equal(t, uint64(2), srv.Stats().Connections, "the third connection is not accepted yet")

	silent[0].Close() // its slot frees: the waiting client is served
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	var h header.Header
	body, err := wire.NewReader(c).Next(&h)
	require.NoError(t, err)
	assert.Equal(t, []byte{8, 1}, body)
}

// flakyListener fails its first accepts as a process out of file descriptors does.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

func TestAcceptErrorsRetried(t *testing.T) {
	srv := wiretest.NewUnstartedServer(nil)
	ln, err := net.Listen("unix", srv.Path)
	require.NoError(t, err)
	fl := &flakyListener{Listener: ln}
	fl.fails.Store(6)
	srv.Listener = fl
	var mu sync.Mutex
	var lines []string
	srv.ErrorLog = func(s string) { mu.Lock(); lines = append(lines, s); mu.Unlock() }
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := srv.Dial(ctx)
	require.NoError(t, err)
	defer c.Close()
	var resp header.Header
	_, err = c.RoundTrip(ctx, header.Header{Opcode: header.OpPing}, nil, nil, &resp)
	require.NoError(t, err, "the server outlives a burst of accept failures")
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, lines, 2, "one line when the burst starts, one when it ends: %q", lines)
	assert.Contains(t, lines[0], "too many open files")
	assert.Contains(t, lines[1], "after 6 failures")
	assert.Equal(t, uint64(6), srv.Stats().AcceptFails)
}

// countingListener counts the reads and bytes of the connections it accepts.
type countingListener struct {
	net.Listener
	reads, bytes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.reads.Add(1)
	c.l.bytes.Add(int64(n))
	return n, err
}

func countingServer(t *testing.T, timeout time.Duration) (*wiretest.Server, *countingListener) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.Timeout = timeout
	ln, err := net.Listen("unix", srv.Path)
	require.NoError(t, err)
	cl := &countingListener{Listener: ln}
	srv.Listener = cl
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cl
}

// TestWrongHeaderSizeReadsInBulk: the 65535 bytes a wrong header size announces are consumed
// through the read buffer, in a handful of reads rather than one per 30 bytes.
func TestWrongHeaderSizeReadsInBulk(t *testing.T) {
	srv, cl := countingServer(t, wiretest.DefaultTimeout)
	req := make([]byte, 6+0xFFFF)
	copy(req, []byte{0x10, 0xa7, 0xc0, 0x5e, 0xff, 0xff})
	got := exchange(t, srv.Path, req)
	h, err := header.Decode(got)
	require.NoError(t, err)
	assert.Equal(t, wiretest.StatusOnly(status.InvalidHeader), h)
	assert.Equal(t, int64(len(req)), cl.bytes.Load())
	assert.LessOrEqual(t, cl.reads.Load(), int64(len(req)/wiretest.ReadBuffer+8), "reads for %d bytes", len(req))
}

// TestHeldRequestsCostWhatArrived: clients that announce a 1 MiB body, send 100 KiB of it and
// hold make the server hold about what they sent: each body once, allocated as it arrives.
func TestHeldRequestsCostWhatArrived(t *testing.T) {
	const clients, sent = 100, 100 << 10
	srv, cl := countingServer(t, time.Minute)
	h := header.Header{Opcode: header.OpPing, ContentLength: 1 << 20}
	req := append(h.AppendRaw(nil), make([]byte, sent)...)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range clients {
		c, err := net.Dial("unix", srv.Path)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write(req)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return cl.bytes.Load() == int64(clients*len(req)) }, time.Minute, time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d clients holding %d KiB each: the server holds %d KiB", clients, sent>>10, held>>10)
	assert.Less(t, held, int64(clients*2*sent), "held %d KiB for %d KiB that arrived", held>>10, clients*sent>>10)
}

// busySocket listens on path with a listen queue of one and fills it: a live server too busy
// to accept, whose clients' connects fail with EAGAIN.
func busySocket(t *testing.T, path string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}))
	require.NoError(t, syscall.Listen(fd, 0))
	for range 16 {
		c, err := net.Dial("unix", path)
		if errors.Is(err, syscall.EAGAIN) {
			return
		}
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the listen queue never filled")
}

func TestSocketPathTakenOnlyWhenStale(t *testing.T) {
	dir := t.TempDir()
	listen := func(path string) error {
		s := wiretest.New(nil)
		s.Path = path
		err := s.Listen()
		if err == nil {
			go func() { _ = s.Serve() }()
			t.Cleanup(s.Close)
		}
		return err
	}

	// A socket left by a server that was killed: nobody listens, it is replaced.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	require.NoError(t, listen(stale))
	assert.NotEmpty(t, exchange(t, stale, request(t, header.Header{Opcode: 1}, nil, nil)))

	// A live parsecwire server holds the lock: the second one refuses, the first goes on.
	err = listen(stale)
	require.ErrorIs(t, err, wiretest.ErrBusy)
	assert.NotEmpty(t, exchange(t, stale, request(t, header.Header{Opcode: 1}, nil, nil)))

	// Another program's live socket whose listen queue is full (EAGAIN): never displaced.
	busy := filepath.Join(dir, "busy.sock")
	busySocket(t, busy)
	err = listen(busy)
	require.ErrorIs(t, err, wiretest.ErrBusy)
	assert.Contains(t, err.Error(), "listen queue is full")
	st, err := os.Stat(busy)
	require.NoError(t, err, "the busy server's socket is still there")
	assert.NotZero(t, st.Mode()&os.ModeSocket)

	// A file that is not a socket is never removed.
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("x"), 0o644))
	require.Error(t, listen(plain))
	_, err = os.Stat(plain)
	assert.NoError(t, err)
}

func TestSocketMode(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	for _, mode := range []os.FileMode{wiretest.DefaultMode, 0o660, 0o600} {
		srv := wiretest.NewUnstartedServer(nil)
		srv.Mode = mode
		srv.Start()
		st, err := os.Stat(srv.Path)
		require.NoError(t, err)
		assert.Equal(t, mode, st.Mode().Perm(), "whatever the umask")
		srv.Close()
	}
}

// TestStatsEqualWhatClientsReceived: under mutation (answers cut at any byte, some to
// nothing, some dribbled) and with clients that vanish or send nothing, the counts are what
// the clients received.
func TestStatsEqualWhatClientsReceived(t *testing.T) {
	srv := wiretest.NewUnstartedServer(wiretest.Mutate(wiretest.Default, 7))
	srv.Timeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	var answered, dropped, cut uint64
	byStatus := map[uint16]uint64{}
	for i := range 80 {
		req := request(t, header.Header{Session: uint64(i), Opcode: []uint32{header.OpPing, header.OpListProviders}[i%2]}, nil, nil)
		var got []byte
		switch {
		case i%20 == 5: // sends nothing: dropped after the timeout
			got = exchange(t, srv.Path, nil)
		case i%20 == 9: // sends half a request and vanishes: nobody to answer
			c, err := net.Dial("unix", srv.Path)
			require.NoError(t, err)
			_, err = c.Write(req[:20])
			require.NoError(t, err)
			c.Close()
		default:
			got = exchange(t, srv.Path, req)
		}
		switch {
		case len(got) == 0:
			dropped++
		case len(got) >= 34:
			answered++
			byStatus[uint16(got[32])|uint16(got[33])<<8]++
		default:
			answered++
			cut++
		}
	}
	srv.Close()
	st := srv.Stats()
	assert.Equal(t, uint64(80), st.Connections)
	assert.Equal(t, answered, st.Answered)
	assert.Equal(t, dropped, st.Dropped)
	assert.Equal(t, cut, st.Cut)
	assert.Equal(t, byStatus, st.ByStatus)
	var mutations uint64
	for _, n := range st.ByMutation {
		mutations += n
	}
	assert.Equal(t, answered, mutations, "every answer sent was mutated")
	assert.Greater(t, st.ByMutation["truncate"], uint64(0), "the seed gives truncations: %v", st.ByMutation)
}

// TestCloseAnswersQueued: a client whose connect succeeded but who waits in the listen
// queue (every slot taken) is still served when Close comes.
func TestCloseAnswersQueued(t *testing.T) {
	srv := wiretest.NewUnstartedServer(nil)
	srv.MaxConns = 1
	srv.Timeout = time.Second
	srv.Start()
	silent, err := net.Dial("unix", srv.Path)
	require.NoError(t, err)
	defer silent.Close()
	require.Eventually(t, func() bool { return srv.Stats().Connections == 1 }, 30*time.Second, time.Millisecond)
	queued, err := net.Dial("unix", srv.Path)
	require.NoError(t, err)
	defer queued.Close()
	_, err = queued.Write(request(t, header.Header{Session: 5, Opcode: header.OpPing}, nil, nil))
	require.NoError(t, err)
	srv.Close()
	require.NoError(t, queued.SetReadDeadline(time.Now().Add(30*time.Second)))
	var h header.Header
	body, err := wire.NewReader(queued).Next(&h)
	require.NoError(t, err, "the queued client is answered")
	assert.Equal(t, uint64(5), h.Session)
	assert.Equal(t, []byte{8, 1}, body)
	st := srv.Stats()
	assert.Equal(t, uint64(2), st.Connections)
	assert.Equal(t, uint64(1), st.Answered)
	assert.Equal(t, uint64(1), st.Dropped, "the silent one, at its timeout")
}

func encode(t *testing.T, op uint32, fs operation.Fields) []byte {
	b, err := operation.Encode(op, operation.Response, fs)
	require.NoError(t, err)
	return b
}
