// Package wiretest runs a Parsec service on a Unix socket, for testing Parsec clients: a
// scripted one (the mock service's test cases), a hostile one (every answer mutated), or one
// whose answers a test writes itself as a Handler, as net/http/httptest does for HTTP.
//
//	srv := wiretest.NewServer(wiretest.Default) // a temporary socket; srv.Path, srv.Endpoint()
//	defer srv.Close()                            // answers what was accepted, then stops
//
// The server is the one `parsecwire serve` runs: it reads requests with wire.Reader in strict
// mode, as the reference service does, answers a request it cannot read with the reference's
// status-only response (a Handler sees only readable requests; Default answers a body the
// reference's converter refuses with the converter's status, and the rest with result bodies
// valid by the operation schema), and is hardened for hostile clients (a cap on connections, memory
// bounded by what arrives, accept errors retried, a socket path never taken from a live
// server). It also holds Tap, a recording and validating proxy between a client and a
// service, and CaptureWriter, which writes the traffic as pcapng.
package wiretest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/fuzz"
	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
)

// Defaults of a Server's settings.
const (
	// DefaultMaxConns bounds the connections served at once. With the default limit the
	// memory held for requests stays below DefaultMaxConns * (1 MiB + 64 KiB + ReadBuffer),
	// about 280 MiB, and only when that many clients have actually sent that much.
	DefaultMaxConns = 256
	DefaultTimeout  = 3 * time.Second // a request must arrive within this
	DefaultGrace    = 5 * time.Second // Close waits this long for accepted connections
	DefaultMode     = 0o666           // as the Parsec service's socket: its folder does the access control
	DefaultMaxLog   = 10000           // entries Requests keeps
	// ReadBuffer is the size of the buffer each connection is read through: a request
	// whose header size announces 65535 bytes costs five reads, not two thousand.
	ReadBuffer = 16 << 10
)

// Entry is one exchange in the request log.
type Entry struct {
	Seq    uint64        // the request's sequence number
	Conn   uint64        // the connection's number, from 0
	Header header.Header // the request's header, when it was readable (Err == nil)
	Err    error         // why the request could not be read; nil when the Handler had it
	// Dropped is set when the connection was closed without an answer: nothing arrived
	// before the timeout, the handler wrote nothing, or the client was gone.
	Dropped bool
	Sent    int    // bytes of the answer written
	Status  uint16 // the status field of the bytes written, when they reached it (Sent >= 34)
	Note    string // what was done: "Ping answered Success", "sent mutation ..."
}

// String is the entry's log line, without a trailing newline.
func (e Entry) String() string {
	s := "request " + strconv.FormatUint(e.Seq, 10) + ": "
	switch {
	case e.Err != nil && e.Note != "":
		return s + e.Note
	case e.Err != nil:
		return s + "unreadable (" + e.Err.Error() + ")"
	case e.Dropped && e.Note == "":
		return s + opName(e.Header.Opcode) + ": no answer"
	case e.Note == "" && e.Sent >= 34:
		return s + opName(e.Header.Opcode) + " answered " + statusName(e.Status)
	case e.Note == "":
		return s + opName(e.Header.Opcode) + ": sent " + strconv.Itoa(e.Sent) + " bytes"
	}
	return s + e.Note
}

// Stats counts what a Server did. The counts are of what clients were sent: an answer is
// counted when any of its bytes were written, by the status field of those bytes (an answer
// cut before it, by a mutation or by a failed write, is counted apart).
type Stats struct {
	Connections uint64            // connections accepted
	Answered    uint64            // answers of which bytes were written
	Dropped     uint64            // connections closed without an answer (see Entry.Dropped)
	ByStatus    map[uint16]uint64 // answers by the status field sent
	Cut         uint64            // answers that end before the status field
	ByMutation  map[fuzz.Kind]uint64
	AcceptFails uint64 // failed accepts (out of file descriptors), each retried
}

// String is the summary `parsecwire serve` prints.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d connections, %d requests; responses by status: %s", s.Connections, s.Answered, StatusCounts(s.ByStatus))
	if s.Cut > 0 {
		fmt.Fprintf(&b, "; %d cut before the status", s.Cut)
	}
	if s.Dropped > 0 {
		fmt.Fprintf(&b, "; %d connections closed unanswered", s.Dropped)
	}
	if s.ByMutation != nil {
		keys := make([]string, 0, len(s.ByMutation))
		var total uint64
		for k, n := range s.ByMutation {
			keys = append(keys, fmt.Sprintf("%s %d", k, n))
			total += n
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "; %d mutations sent: %s", total, orNone(strings.Join(keys, ", ")))
	}
	if s.AcceptFails > 0 {
		fmt.Fprintf(&b, "; %d accept failures retried", s.AcceptFails)
	}
	return b.String()
}

// StatusCounts formats counts by status value in the table's order, names for known
// values and numbers for the others: "Success 3, InvalidHeader 1, 1144 2".
func StatusCounts(m map[uint16]uint64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = statusName(uint16(k)) + " " + strconv.FormatUint(m[uint16(k)], 10)
	}
	return orNone(strings.Join(parts, ", "))
}

// statusName is the name of a known status, the number of another.
func statusName(v uint16) string {
	if c := status.Code(v); c.Known() {
		return c.String()
	}
	return strconv.Itoa(int(v))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Server is a Parsec service on a Unix socket. Make one with NewServer, or with
// NewUnstartedServer to change its settings before Start; the fields must not change
// after that.
type Server struct {
	// Path is the socket's path. NewUnstartedServer sets a fresh temporary one, removed with
	// its folder by Close.
	Path string
	// Listener, when set before Start, is accepted on instead of listening on Path.
	Listener net.Listener
	Handler  Handler
	// Limit is the body-size limit of requests (wire.DefaultLimit, as the Parsec service).
	Limit uint32
	// Timeout bounds the wait for each request's bytes and each answer's write (0: no
	// bound). A connection that sends nothing within it is closed without an answer; one
	// that stops inside a request is answered ConnectionError, as the reference does.
	Timeout time.Duration
	// KeepAlive serves further requests on a connection; the Parsec service answers one
	// and closes it.
	KeepAlive bool
	// MaxConns bounds the connections served at once (0: DefaultMaxConns). Past it the
	// server stops accepting: new clients wait in the kernel's listen queue, costing the
	// server no file descriptor and no memory, and are served in turn; when that queue is
	// full too, their connect fails with EAGAIN, which a client can tell from a dead
	// service.
	MaxConns int
	// Grace is how long Close lets accepted connections be answered before closing them.
	Grace time.Duration
	// Mode is the socket's permission bits, set whatever the umask (0: DefaultMode).
	Mode os.FileMode
	// Log, when set, receives every exchange of the request log as it ends, one call at a
	// time.
	Log func(Entry)
	// ErrorLog, when set, receives the server's own troubles (accept failures), one line
	// per burst.
	ErrorLog func(string)
	// MaxLog is the number of most recent entries Requests returns; 0 keeps none.
	MaxLog int

	ln       net.Listener
	lock     *os.File
	lockPath string
	tempDir  string
	closing  chan struct{}
	closed   bool           // set by Close, under mu: no Serve loop starts after it
	acceptWG sync.WaitGroup // the Serve loops
	connWG   sync.WaitGroup // the connections
	slots    chan struct{}

	raw func(c net.Conn, id uint64) // Tap: a connection handled as bytes, not as requests

	mu      sync.Mutex
	conns   map[*conn]struct{}
	log     []Entry
	stats   Stats
	seq     uint64
	nconn   uint64
	logMu   sync.Mutex
	closeMu sync.Once
}

// NewServer starts a Server on a temporary socket with h (Default when nil) and the default
// settings. The caller must call Close.
func NewServer(h Handler) *Server {
	s := NewUnstartedServer(h)
	s.Start()
	return s
}

// NewUnstartedServer returns a Server on a temporary socket with h (Default when nil) and
// the default settings, not yet listening: change its fields, then call Start.
func NewUnstartedServer(h Handler) *Server {
	dir, err := os.MkdirTemp("", "parsecwire")
	if err != nil {
		panic("wiretest: " + err.Error())
	}
	s := New(h)
	s.Path, s.tempDir = filepath.Join(dir, "parsec.sock"), dir
	s.MaxLog = DefaultMaxLog
	return s
}

// New returns a Server with h (Default when nil) and the default settings, without a path
// and keeping no log: set Path, then call Listen and Serve, as `parsecwire serve` does.
func New(h Handler) *Server {
	if h == nil {
		h = Default
	}
	return &Server{Handler: h, Limit: wire.DefaultLimit, Timeout: DefaultTimeout, MaxConns: DefaultMaxConns,
		Grace: DefaultGrace, Mode: DefaultMode}
}

// Start listens and serves in the background. It panics when the socket cannot be made,
// as httptest does: it is meant for tests.
func (s *Server) Start() {
	if err := s.Listen(); err != nil {
		panic("wiretest: " + err.Error())
	}
	go func() { _ = s.Serve() }()
}

// Endpoint returns the socket as PARSEC_SERVICE_ENDPOINT spells it: unix:PATH.
func (s *Server) Endpoint() string { return "unix:" + s.Path }

// Dial returns a wire.Client connected to the server.
func (s *Server) Dial(ctx context.Context) (*wire.Client, error) { return wire.Dial(ctx, s.Path) }

// ErrBusy is returned by Listen when a live server holds the socket path.
var ErrBusy = errors.New("another server is listening there")

// Listen makes the socket at Path, unless Listener is set. An existing socket is removed
// only when it is provably stale: Listen holds an exclusive flock on PATH.lock for the
// server's life, so a parsecwire server still running keeps it, and a socket that refuses
// connections (ECONNREFUSED) has nobody listening. A live server, even one too busy to
// accept (its listen queue full: EAGAIN), is never displaced: ErrBusy.
func (s *Server) Listen() error {
	if s.closing == nil {
		s.closing = make(chan struct{})
		s.conns = map[*conn]struct{}{}
		n := s.MaxConns
		if n <= 0 {
			n = DefaultMaxConns
		}
		s.slots = make(chan struct{}, n)
	}
	if s.Listener != nil {
		s.ln = s.Listener
		return nil
	}
	if s.Path == "" {
		return errors.New("no socket path")
	}
	lock, err := lockFile(s.Path + ".lock")
	if err != nil {
		return err
	}
	if err := removeStale(s.Path); err != nil {
		unlock(lock, s.Path+".lock")
		return err
	}
	ln, err := net.Listen("unix", s.Path)
	if err != nil {
		unlock(lock, s.Path+".lock")
		return err
	}
	mode := s.Mode.Perm()
	if mode == 0 {
		mode = DefaultMode // a socket nobody may connect to is no service
	}
	if err := os.Chmod(s.Path, mode); err != nil {
		ln.Close()
		unlock(lock, s.Path+".lock")
		return err
	}
	s.ln, s.lock, s.lockPath = ln, lock, s.Path+".lock"
	return nil
}

// lockFile takes an exclusive flock on path, made if needed, and checks that the file
// locked is still the one at path: a server that exits removes its lock file, and one that
// opened it just before must not lock a file nobody else can see.
func lockFile(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%s: %w (it holds %s)", strings.TrimSuffix(path, ".lock"), ErrBusy, path)
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &now) == nil && held.Dev == now.Dev && held.Ino == now.Ino {
			return f, nil
		}
		f.Close() // removed or replaced while we locked it: take the new one
	}
}

func unlock(f *os.File, path string) {
	// Removed while locked, so that the next server to lock it finds the path free or new.
	os.Remove(path)
	f.Close()
}

// removeStale removes a socket at path that nobody listens on. We hold the lock, so no
// parsecwire server does; another program might (the Parsec service itself).
func removeStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("%s: %w", path, ErrBusy)
	case errors.Is(err, syscall.ECONNREFUSED):
		return os.Remove(path) // a socket left by a server that was killed
	case errors.Is(err, syscall.EAGAIN):
		return fmt.Errorf("%s: %w (its listen queue is full)", path, ErrBusy)
	}
	return fmt.Errorf("%s: cannot tell whether a server listens there: %w", path, err)
}

// burstQuiet is how long accepts must go without a failure for the next failure to start a
// new burst, logged again.
const burstQuiet = 5 * time.Second

// Serve accepts connections until Close, and serves each in its own goroutine. Accept
// failures (out of file descriptors: EMFILE, ENFILE) are retried after a pause that doubles
// from 5 ms to 1 s, as net/http does, and logged once per burst (when it starts, and at the
// first success after it), then only counted in Stats; Serve returns only when
// the server closes, or when its listener is closed by someone else.
func (s *Server) Serve() error {
	if s.ln == nil {
		return errors.New("wiretest: Serve before Listen")
	}
	// Close waits for this loop, so that a connection it accepts as Close begins is
	// handed over, and answered, rather than lost.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.acceptWG.Add(1)
	s.mu.Unlock()
	defer s.acceptWG.Done()
	var delay time.Duration
	var burst, logged uint64 // failures in this burst, and when its recovery was logged
	var burstStart, lastFail time.Time
	for {
		select {
		case s.slots <- struct{}{}:
		case <-s.closing:
			return nil
		}
		c, err := s.ln.Accept()
		if err != nil {
			<-s.slots
			select {
			case <-s.closing:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			s.mu.Lock()
			s.stats.AcceptFails++
			s.mu.Unlock()
			now := time.Now()
			if burst == 0 || now.Sub(lastFail) > burstQuiet {
				if burst > 0 {
					s.errorf("accept: the previous burst ended after %d failures in %v", burst, lastFail.Sub(burstStart).Round(time.Millisecond))
				}
				burst, logged, burstStart = 0, 0, now
				s.errorf("accept: %v; retrying, with pauses up to 1s, until it succeeds", err)
			}
			burst++
			lastFail = now
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.closing:
				t.Stop()
				return nil
			}
			continue
		}
		if burst > 0 && logged == 0 {
			s.errorf("accept: succeeded again after %d failures in %v; failures less than %v apart are counted, not logged",
				burst, time.Since(burstStart).Round(time.Millisecond), burstQuiet)
			logged = burst
		}
		delay = 0
		s.start(c, true)
	}
}

// start serves an accepted connection in its own goroutine; slot says whether it holds one
// of the MaxConns slots.
func (s *Server) start(c net.Conn, slot bool) {
	s.mu.Lock()
	cn := &conn{s: s, c: c, id: s.nconn}
	s.nconn++
	s.stats.Connections++
	s.conns[cn] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() {
			c.Close()
			s.mu.Lock()
			delete(s.conns, cn)
			s.mu.Unlock()
			if slot {
				<-s.slots
			}
			s.connWG.Done()
		}()
		if s.raw != nil {
			s.raw(c, cn.id)
			return
		}
		cn.serve()
	}()
}

// drainWait bounds the wait for one more queued connection when Close empties the listen
// queue: queued connections are accepted at once, so it is spent only when none is left.
const drainWait = 20 * time.Millisecond

// drain accepts, beyond MaxConns, the connections still in the listen queue of a socket
// nobody can connect to any more: their clients' connect succeeded, so they are served.
func (s *Server) drain(ul *net.UnixListener) {
	for {
		if err := ul.SetDeadline(time.Now().Add(drainWait)); err != nil {
			return
		}
		c, err := ul.Accept()
		if err != nil {
			return // empty (the deadline), or out of descriptors: the rest are reset
		}
		s.start(c, false)
	}
}

func (s *Server) errorf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.logMu.Lock()
		s.ErrorLog(fmt.Sprintf(format, args...))
		s.logMu.Unlock()
	}
}

// Close stops accepting (the socket is removed first, so no new client connects), accepts
// the connections still waiting in the listen queue, lets every connection be answered
// (within Grace: a connection still unanswered then is closed), waits for them, and removes
// the lock file and the temporary folder. Close does not return before every handler has
// returned.
func (s *Server) Close() {
	s.closeMu.Do(func() {
		if s.closing == nil {
			return
		}
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
		// Our own socket is unlinked first, so that no client can connect any more, and
		// the accept loop woken; those already queued are then accepted and answered.
		// Unlinked by us and not by Close: by then another server may own the path.
		ul, own := s.ln.(*net.UnixListener)
		own = own && s.Listener == nil
		if own {
			ul.SetUnlinkOnClose(false)
			os.Remove(s.Path)
			_ = ul.SetDeadline(time.Unix(1, 0))
		} else if s.ln != nil {
			s.ln.Close()
		}
		s.acceptWG.Wait()
		if own {
			s.drain(ul)
			ul.Close()
		}
		done := make(chan struct{})
		go func() { s.connWG.Wait(); close(done) }()
		s.mu.Lock()
		for c := range s.conns {
			c.shutdown()
		}
		s.mu.Unlock()
		t := time.NewTimer(s.Grace)
		select {
		case <-done:
			t.Stop()
		case <-t.C:
			s.mu.Lock()
			for c := range s.conns {
				c.c.Close()
			}
			s.mu.Unlock()
			<-done
		}
		if s.lock != nil {
			unlock(s.lock, s.lockPath)
		}
		if s.tempDir != "" {
			os.RemoveAll(s.tempDir)
		}
	})
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = make(map[uint16]uint64, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	if s.stats.ByMutation != nil {
		st.ByMutation = make(map[fuzz.Kind]uint64, len(s.stats.ByMutation))
		for k, v := range s.stats.ByMutation {
			st.ByMutation[k] = v
		}
	}
	return st
}

// Requests returns the request log: the most recent MaxLog exchanges to end, in the order of
// their sequence numbers.
func (s *Server) Requests() []Entry {
	s.mu.Lock()
	out := append([]Entry(nil), s.log...)
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// record ends an exchange: counts, log, callback.
func (s *Server) record(e Entry, mutation fuzz.Kind) {
	s.mu.Lock()
	if e.Dropped {
		s.stats.Dropped++
	} else {
		s.stats.Answered++
		if e.Sent >= 34 {
			if s.stats.ByStatus == nil {
				s.stats.ByStatus = map[uint16]uint64{}
			}
			s.stats.ByStatus[e.Status]++
		} else {
			s.stats.Cut++
		}
		if mutation != "" {
			if s.stats.ByMutation == nil {
				s.stats.ByMutation = map[fuzz.Kind]uint64{}
			}
			s.stats.ByMutation[mutation]++
		}
	}
	if s.MaxLog > 0 {
		if len(s.log) >= s.MaxLog {
			s.log = append(s.log[:0], s.log[len(s.log)-s.MaxLog+1:]...)
		}
		s.log = append(s.log, e)
	}
	s.mu.Unlock()
	if s.Log != nil {
		s.logMu.Lock()
		s.Log(e)
		s.logMu.Unlock()
	}
}

// deadline is the deadline of a read or write that starts now: none when Timeout is 0.
func (s *Server) deadline() time.Time {
	if s.Timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(s.Timeout)
}

func (s *Server) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.seq
	s.seq++
	return n
}

// conn is one accepted connection.
type conn struct {
	s  *Server
	c  net.Conn
	id uint64

	mu       sync.Mutex
	idle     bool // between two requests of a keep-alive connection
	stopping bool
}

// shutdown is called by Close: a connection waiting for its first request (or inside one)
// is answered as usual, one idle between keep-alive requests is woken and closed.
func (c *conn) shutdown() {
	c.mu.Lock()
	c.stopping = true
	if c.idle {
		_ = c.c.SetReadDeadline(time.Unix(1, 0))
	}
	c.mu.Unlock()
}

func (c *conn) setIdle(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = idle
	return c.stopping
}

// readers are reused across connections: the read buffer and the request body buffer.
var readers = sync.Pool{New: func() any {
	br := bufio.NewReaderSize(nil, ReadBuffer)
	return &connReader{br: br, rd: wire.NewReader(br)}
}}

type connReader struct {
	br  *bufio.Reader
	rd  *wire.Reader
	req Request // reused: a steady keep-alive exchange allocates nothing
	w   connWriter
}

func (c *conn) serve() {
	s := c.s
	cr := readers.Get().(*connReader)
	cr.br.Reset(c.c)
	cr.rd.Reset(cr.br)
	cr.rd.SetLimit(s.Limit)
	cr.rd.SetStrict(true)
	big := false
	defer func() {
		cr.br.Reset(nil)
		cr.rd.Reset(nil)
		if !big { // a buffer grown by a large body is left to the collector
			readers.Put(cr)
		}
	}()
	w := &cr.w
	w.c = c.c
	defer func() { w.c = nil }()
	for served := 0; ; served++ {
		_ = c.c.SetReadDeadline(s.deadline())
		if served > 0 && c.setIdle(true) {
			return // closing: no new request on a kept-alive connection
		}
		req := &cr.req
		*req = Request{}
		body, auth, err := cr.rd.NextRequest(&req.Header)
		c.setIdle(false)
		if served > 0 && cr.rd.Offset() == cr.rd.FrameOffset() && err != nil && (err == io.EOF || errors.Is(err, os.ErrDeadlineExceeded)) {
			return // a keep-alive client closed or went quiet between requests
		}
		if int(req.Header.ContentLength)+int(req.Header.AuthLength) > 64<<10 {
			big = true
		}
		seq := s.nextSeq()
		e := Entry{Seq: seq, Conn: c.id, Header: req.Header}
		_ = c.c.SetWriteDeadline(s.deadline())
		w.reset()
		if err != nil {
			e.Err = wire.FrameDue(err)
			e.Header = header.Header{}
			if cr.rd.Offset() == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				e.Dropped, e.Note = true, "nothing received for "+s.Timeout.String()+": dropped"
				s.record(e, "")
				return
			}
			code, _ := status.Of(e.Err)
			_ = w.WriteResponse(StatusOnly(code), nil)
			e.Note = "unreadable (" + e.Err.Error() + "): answered " + code.String()
			c.finish(&e, w, "")
			return // as the reference: the connection is closed after such an answer
		}
		req.Body, req.Auth, req.Seq = body, auth, seq
		w.note = w.note[:0]
		s.Handler.ServeParsec(w, req)
		e.Note = strings.Join(w.note, ": ")
		c.finish(&e, w, w.mutation)
		if e.Dropped || w.closeAfter || !s.KeepAlive || w.err != nil {
			return
		}
	}
}

// finish fills in what was sent and records the exchange.
func (c *conn) finish(e *Entry, w *connWriter, kind fuzz.Kind) {
	e.Sent = w.n
	if w.n >= 34 {
		e.Status = uint16(w.head[32]) | uint16(w.head[33])<<8
	}
	if w.err != nil {
		e.Note += " (" + strconv.Itoa(w.n) + " bytes delivered: " + w.err.Error() + ")"
	}
	// What reached the client's socket is what the client received: an answer cut by a
	// failed write counts as the bytes that went, and one that never started as none.
	if w.n == 0 {
		e.Dropped = true
		kind = ""
	}
	c.s.record(*e, kind)
}

// connWriter is the ResponseWriter of a connection: it writes through at once and keeps
// the first bytes of the answer, whose status field the server counts.
type connWriter struct {
	c          net.Conn
	buf        []byte
	head       [header.Size]byte
	n          int
	err        error
	note       []string
	closeAfter bool
	mutation   fuzz.Kind
}

func (w *connWriter) reset() {
	w.n, w.err, w.closeAfter, w.mutation, w.note = 0, nil, false, "", w.note[:0]
}

func (w *connWriter) WriteResponse(h header.Header, body []byte) error {
	b, err := wire.AppendResponse(w.buf[:0], h, body)
	if err != nil {
		return err
	}
	w.buf = b
	_, err = w.Write(b)
	return err
}

func (w *connWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.c.Write(p)
	if w.n < len(w.head) {
		copy(w.head[w.n:], p[:n])
	}
	w.n += n
	w.err = err
	return n, err
}

func (w *connWriter) Note(s string) { w.note = append(w.note, s) }

// mutated tells the summary which mutation the answer got (Mutate calls it).
func (w *connWriter) mutated(k fuzz.Kind) { w.mutation = k }

func (w *connWriter) CloseAfter() { w.closeAfter = true }
